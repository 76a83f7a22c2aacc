//! From component bytes to a compiled component: the cache first, then the
//! cheapest engine that takes the component, then the cache again.
//!
//! Compiling is bounded: Cranelift's time and memory grow with a
//! component's code, so a component larger than the host's bounds (in
//! bytes, or in functions, which a small file can hold hundreds of
//! thousands of) is refused before any code is generated. So is one that
//! does not validate: wasmtime checks function bodies only while
//! generating their code, and would do so once for every engine flavor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::{Artifact, ArtifactCache};
use crate::engine::{Engines, Flavor};
use crate::error::{Error, Result};
use crate::notice;
use crate::source::{ComponentBytes, Sha256Digest, validate};

/// Reported around a compilation, which for large plugins takes seconds; a
/// cache hit reports nothing.
#[derive(Debug, Clone)]
pub enum CompileEvent<'a> {
    Started { origin: &'a str, size: usize },
    Finished { origin: &'a str, elapsed: Duration },
}

/// Receives [`CompileEvent`]s, e.g. to show progress.
pub type CompileObserver = Arc<dyn Fn(&CompileEvent<'_>) + Send + Sync>;

/// The largest component a host compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CompileBounds {
    pub(crate) max_bytes: u64,
    pub(crate) max_functions: u64,
}

impl Default for CompileBounds {
    /// Room for the largest language runtimes (componentize-py's 18 MB with
    /// about 30,000 functions), not for a component built to stall Cranelift.
    fn default() -> Self {
        CompileBounds {
            max_bytes: 128 << 20,
            max_functions: 100_000,
        }
    }
}

pub(crate) struct Compiler<'a> {
    pub(crate) engines: &'a Engines,
    pub(crate) cache: Option<&'a ArtifactCache>,
    pub(crate) observer: Option<&'a CompileObserver>,
    pub(crate) bounds: CompileBounds,
}

/// What is compiled: a component or a core module, its digest (what the
/// cache binds the compiled artifact to) and where it came from.
pub(crate) struct Wasm<'a> {
    pub(crate) origin: &'a str,
    pub(crate) bytes: &'a [u8],
    pub(crate) digest: &'a Sha256Digest,
}

impl<'a> Wasm<'a> {
    /// The component of `source`: as given, or its preview1 module wrapped.
    pub(crate) fn component(source: &'a ComponentBytes) -> Self {
        Wasm {
            origin: &source.origin,
            bytes: &source.bytes,
            digest: &source.component_sha256,
        }
    }
}

impl Compiler<'_> {
    /// The compiled component (or module) and the engine flavor it runs on.
    ///
    /// Flavors are tried cheapest first, each from the cache and then by
    /// compiling, so an engine is made only when the cheaper ones cannot
    /// take it: a cache miss costs one engine, not one per flavor. Bytes
    /// that no engine could take are refused before the first compile; of
    /// the engines' own refusals, the last, most permissive, is reported.
    ///
    /// `satisfiable` checks the imports, from the validated types, before
    /// the first compile: a component whose imports cannot be linked costs
    /// no compile either.
    pub(crate) fn compile<A: Artifact>(
        &self,
        wasm: &Wasm<'_>,
        fuel: bool,
        satisfiable: &dyn Fn(&wasmparser::types::Types) -> Result<()>,
    ) -> Result<(Flavor, A)> {
        let mut started = None;
        let mut outcome = Err(Error::runtime_message("no engine to compile with"));
        for flavor in Flavor::candidates(wasm.bytes, fuel) {
            let engine = self.engines.get(flavor)?;
            if let Some(compiled) = self.cache.and_then(|c| c.load::<A>(engine, wasm.digest)) {
                outcome = Ok((flavor, compiled));
                break;
            }
            if started.is_none() {
                self.check_bounds(wasm)?;
                satisfiable(&validate(wasm.origin, wasm.bytes)?)?;
                notice::unoptimized_build();
                tracing::info!(
                    target: "wasmplug::compile",
                    origin = wasm.origin,
                    bytes = wasm.bytes.len(),
                    "compiling {} ({:.1} MB); the result is cached when the host has a cache",
                    wasm.origin,
                    wasm.bytes.len() as f64 / 1e6
                );
                self.notify(CompileEvent::Started {
                    origin: wasm.origin,
                    size: wasm.bytes.len(),
                });
                started = Some(Instant::now());
            }
            outcome = A::compile(engine, wasm.bytes)
                .map_err(|e| Error::InvalidComponent {
                    origin: wasm.origin.to_string(),
                    reason: format!("{e:#}"),
                })
                .map(|compiled| {
                    if let Some(cache) = self.cache {
                        cache.store(engine, wasm.digest, &compiled);
                    }
                    (flavor, compiled)
                });
            if outcome.is_ok() {
                break;
            }
        }
        if let Some(started) = started {
            let elapsed = started.elapsed();
            tracing::info!(
                target: "wasmplug::compile",
                origin = wasm.origin,
                "compiled {} in {:.1?}",
                wasm.origin,
                elapsed
            );
            self.notify(CompileEvent::Finished {
                origin: wasm.origin,
                elapsed,
            });
        }
        outcome
    }

    /// Refuses a component larger than the bounds, before compiling it.
    fn check_bounds(&self, wasm: &Wasm<'_>) -> Result<()> {
        let too_large = |measure, actual, limit| Error::ComponentTooLarge {
            origin: wasm.origin.to_string(),
            measure,
            actual,
            limit,
        };
        let size = wasm.bytes.len() as u64;
        if size > self.bounds.max_bytes {
            return Err(too_large("bytes", size, self.bounds.max_bytes));
        }
        let functions = count_functions(wasm.bytes);
        if functions > self.bounds.max_functions {
            return Err(too_large("functions", functions, self.bounds.max_functions));
        }
        Ok(())
    }

    fn notify(&self, event: CompileEvent<'_>) {
        if let Some(observer) = self.observer {
            observer(&event);
        }
    }
}

/// The functions defined in every core module of a component, nested ones
/// included, counted from their sections without reading their code. A
/// malformed component counts what was read before the damage, and fails
/// validation when compiled.
fn count_functions(bytes: &[u8]) -> u64 {
    let mut count = 0u64;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(wasmparser::Payload::FunctionSection(section)) => {
                count += u64::from(section.count());
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_counted_in_nested_modules() {
        let component = wat::parse_str(
            r#"(component
                (core module (func) (func))
                (component (core module (func) (func) (func))))"#,
        )
        .unwrap();
        assert_eq!(count_functions(&component), 5);
    }
}
