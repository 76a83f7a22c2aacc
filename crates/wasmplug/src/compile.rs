//! From component bytes to a compiled component: the cache first, then the
//! cheapest engine that takes the component, then the cache again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Component;

use crate::cache::ArtifactCache;
use crate::engine::{Engines, Flavor};
use crate::error::{Error, Result};
use crate::source::ComponentBytes;

/// Reported around a compilation, which for large plugins takes seconds; a
/// cache hit reports nothing.
#[derive(Debug, Clone)]
pub enum CompileEvent<'a> {
    Started { origin: &'a str, size: usize },
    Finished { origin: &'a str, elapsed: Duration },
}

/// Receives [`CompileEvent`]s, e.g. to show progress.
pub type CompileObserver = Arc<dyn Fn(&CompileEvent<'_>) + Send + Sync>;

pub(crate) struct Compiler<'a> {
    pub(crate) engines: &'a Engines,
    pub(crate) cache: Option<&'a ArtifactCache>,
    pub(crate) observer: Option<&'a CompileObserver>,
}

impl Compiler<'_> {
    /// The compiled component and the engine flavor it runs on.
    pub(crate) fn compile(
        &self,
        bytes: &ComponentBytes,
        fuel: bool,
    ) -> Result<(Flavor, Component)> {
        let candidates = Flavor::candidates(&bytes.bytes, fuel);
        if let Some(cache) = self.cache {
            for &flavor in &candidates {
                if let Some(component) = cache.load(self.engines.get(flavor)?, &bytes.sha256) {
                    return Ok((flavor, component));
                }
            }
        }
        self.notify(CompileEvent::Started {
            origin: &bytes.origin,
            size: bytes.bytes.len(),
        });
        let started = Instant::now();
        // An engine that cannot take the component refuses it while
        // validating, before any code generation, so trying the cheapest
        // flavor first costs little; the last, most permissive refusal is
        // the one reported.
        let mut outcome = Err(Error::Runtime("no engine to compile with".into()));
        for flavor in candidates {
            outcome = self
                .attempt(flavor, bytes)
                .map(|component| (flavor, component));
            if outcome.is_ok() {
                break;
            }
        }
        self.notify(CompileEvent::Finished {
            origin: &bytes.origin,
            elapsed: started.elapsed(),
        });
        if let (Some(cache), Ok((_, component))) = (self.cache, &outcome) {
            cache.store(component.engine(), &bytes.sha256, component);
        }
        outcome
    }

    fn attempt(&self, flavor: Flavor, bytes: &ComponentBytes) -> Result<Component> {
        Component::new(self.engines.get(flavor)?, &bytes.bytes).map_err(|e| {
            Error::InvalidComponent {
                origin: bytes.origin.clone(),
                reason: format!("{e:#}"),
            }
        })
    }

    fn notify(&self, event: CompileEvent<'_>) {
        if let Some(observer) = self.observer {
            observer(&event);
        }
    }
}
