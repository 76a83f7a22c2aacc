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
        let cheapest = Flavor::for_component(&bytes.bytes, fuel);
        let concurrent = Flavor {
            concurrent: true,
            ..cheapest
        };
        if let Some(cache) = self.cache {
            for flavor in [cheapest, concurrent] {
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
        // Async exports, streams and futures need concurrency; the plain
        // engine refuses them while validating, before any code generation.
        let (flavor, component) = match self.attempt(cheapest, bytes) {
            Err(_) if !cheapest.concurrent => (concurrent, self.attempt(concurrent, bytes)?),
            result => (cheapest, result?),
        };
        self.notify(CompileEvent::Finished {
            origin: &bytes.origin,
            elapsed: started.elapsed(),
        });
        if let Some(cache) = self.cache {
            cache.store(component.engine(), &bytes.sha256, &component);
        }
        Ok((flavor, component))
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
