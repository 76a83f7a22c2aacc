//! From component bytes to a compiled component: the cache first, then the
//! cheapest engine that takes the component, then the cache again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Engine;
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
    ///
    /// Flavors are tried cheapest first, each from the cache and then by
    /// compiling, so an engine is made only when the cheaper ones cannot
    /// take the component: a cache miss costs one engine, not one per
    /// flavor. An engine that cannot take the component refuses it while
    /// validating, before any code generation; the last, most permissive
    /// refusal is the one reported.
    pub(crate) fn compile(
        &self,
        bytes: &ComponentBytes,
        fuel: bool,
    ) -> Result<(Flavor, Component)> {
        let mut started = None;
        let mut outcome = Err(Error::Runtime("no engine to compile with".into()));
        for flavor in Flavor::candidates(&bytes.bytes, fuel) {
            let engine = self.engines.get(flavor)?;
            if let Some(component) = self.cache.and_then(|c| c.load(engine, &bytes.sha256)) {
                outcome = Ok((flavor, component));
                break;
            }
            started.get_or_insert_with(|| {
                self.notify(CompileEvent::Started {
                    origin: &bytes.origin,
                    size: bytes.bytes.len(),
                });
                Instant::now()
            });
            outcome = self.attempt(engine, bytes).map(|component| {
                if let Some(cache) = self.cache {
                    cache.store(engine, &bytes.sha256, &component);
                }
                (flavor, component)
            });
            if outcome.is_ok() {
                break;
            }
        }
        if let Some(started) = started {
            self.notify(CompileEvent::Finished {
                origin: &bytes.origin,
                elapsed: started.elapsed(),
            });
        }
        outcome
    }

    fn attempt(&self, engine: &Engine, bytes: &ComponentBytes) -> Result<Component> {
        Component::new(engine, &bytes.bytes).map_err(|e| Error::InvalidComponent {
            origin: bytes.origin.clone(),
            reason: format!("{e:#}"),
        })
    }

    fn notify(&self, event: CompileEvent<'_>) {
        if let Some(observer) = self.observer {
            observer(&event);
        }
    }
}
