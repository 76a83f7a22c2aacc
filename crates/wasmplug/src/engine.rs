//! The wasmtime engines of one host, and the clock that drives their epochs.
//!
//! Three settings are engine-wide in wasmtime and differ between plugins, so
//! a host keeps up to eight engines, each created on first use:
//!
//! - component-model concurrency costs about 250 ns on every call, so only
//!   plugins that need it (WASI 0.3 imports, async exports) get an engine
//!   with it; [`Flavor::candidates`] orders the choices, in one place;
//! - fuel metering changes the compiled code, so plugins that ask for a
//!   deterministic fuel limit get a metered engine;
//! - the pooling allocator makes instantiation cheaper but caps what an
//!   instance may hold, so a component too large for its slots gets an
//!   engine that allocates on demand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::{Error, Result};
use crate::limits::EPOCH_TICK;
use crate::source::top_level_imports;

/// Engine settings that apply to every plugin of a host.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EngineSettings {
    /// Maximum bytes of wasm stack a call may use.
    pub(crate) max_wasm_stack: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            max_wasm_stack: 512 * 1024,
        }
    }
}

/// What a plugin needs of its engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Flavor {
    /// Component-model concurrency (WASI 0.3, async exports, streams).
    pub(crate) concurrent: bool,
    /// Fuel metering.
    pub(crate) fuel: bool,
    /// Instances from the pooling allocator's slots rather than allocated on
    /// demand; a component too large for a slot runs on demand.
    pub(crate) pooled: bool,
}

impl Flavor {
    /// The flavors a component may run on, cheapest first. Imports of WASI
    /// 0.3 need concurrency from the start; async exports are found when a
    /// non-concurrent engine refuses the component, and components larger
    /// than a pool slot when a pooled engine does.
    pub(crate) fn candidates(bytes: &[u8], fuel: bool) -> Vec<Flavor> {
        let needs_concurrency = imports_wasi_0_3(bytes);
        let mut candidates = Vec::with_capacity(4);
        for pooled in [true, false] {
            for concurrent in [false, true] {
                if concurrent || !needs_concurrency {
                    candidates.push(Flavor {
                        concurrent,
                        fuel,
                        pooled,
                    });
                }
            }
        }
        candidates
    }

    fn slot(self) -> usize {
        usize::from(self.concurrent) * 4 + usize::from(self.fuel) * 2 + usize::from(self.pooled)
    }
}

/// Whether the component imports a WASI 0.3 interface.
fn imports_wasi_0_3(bytes: &[u8]) -> bool {
    top_level_imports(bytes)
        .iter()
        .any(|name| name.starts_with("wasi:") && name.contains("@0.3"))
}

/// The engines of a host, indexed by [`Flavor`].
pub(crate) struct Engines {
    settings: EngineSettings,
    slots: [OnceLock<Engine>; 8],
    /// Epoch ticks so far: a clock of [`EPOCH_TICK`]'s resolution that is
    /// read for the cost of a load, where reading the system's clock costs
    /// as much as a short call.
    ticks: AtomicU64,
}

impl Engines {
    /// Creates the engine set and starts the epoch ticker, which stops by
    /// itself once the set is dropped.
    pub(crate) fn new(settings: EngineSettings) -> Result<Arc<Self>> {
        let engines = Arc::new(Engines {
            settings,
            slots: Default::default(),
            ticks: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&engines);
        std::thread::Builder::new()
            .name("wasmplug-epoch".into())
            .spawn(move || tick_epochs(weak))
            .map_err(|e| Error::runtime_message(format!("cannot start the epoch thread: {e}")))?;
        Ok(engines)
    }

    /// Epoch ticks since the engines were made.
    pub(crate) fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    /// The engine of a flavor: with the pooling allocator when the address
    /// space allows reserving its pool, with on-demand allocation otherwise.
    pub(crate) fn get(&self, flavor: Flavor) -> Result<&Engine> {
        let slot = &self.slots[flavor.slot()];
        if let Some(engine) = slot.get() {
            return Ok(engine);
        }
        let engine = match Engine::new(&self.config(flavor)) {
            Ok(engine) => engine,
            Err(error) if flavor.pooled => {
                tracing::info!("pooling allocator unavailable, allocating on demand: {error:#}");
                self.get(Flavor {
                    pooled: false,
                    ..flavor
                })?
                .clone()
            }
            Err(error) => return Err(Error::runtime(error)),
        };
        Ok(slot.get_or_init(|| engine))
    }

    fn config(&self, flavor: Flavor) -> Config {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .concurrency_support(flavor.concurrent)
            .epoch_interruption(true)
            .consume_fuel(flavor.fuel)
            .max_wasm_stack(self.settings.max_wasm_stack);
        if flavor.pooled {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool()));
        }
        config
    }
}

/// Slots for many concurrent instances, sized for what language runtimes
/// produce: componentize-py and StarlingMonkey components have several
/// memories and large function tables. Only address space is reserved up
/// front; pages are committed as instances use them.
fn pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(1000)
        .total_core_instances(4000)
        .total_memories(2000)
        .total_tables(4000)
        .max_memories_per_module(4)
        .max_tables_per_module(8)
        .table_elements(1 << 20)
        .max_component_instance_size(8 << 20)
        .max_core_instance_size(8 << 20);
    pool
}

fn tick_epochs(engines: Weak<Engines>) {
    loop {
        std::thread::sleep(EPOCH_TICK);
        let Some(engines) = engines.upgrade() else {
            return;
        };
        engines.ticks.fetch_add(1, Ordering::Relaxed);
        for engine in engines.slots.iter().filter_map(OnceLock::get) {
            engine.increment_epoch();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wasi_0_3_imports_need_concurrency() {
        // The import comes after a nested module, which must be skipped over.
        let p3 = wat::parse_str(
            r#"(component (core module) (import "wasi:random/random@0.3.0" (instance)))"#,
        )
        .unwrap();
        let p2 = wat::parse_str(r#"(component (import "wasi:random/random@0.2.6" (instance)))"#)
            .unwrap();
        assert!(Flavor::candidates(&p3, false).iter().all(|f| f.concurrent));
        let candidates = Flavor::candidates(&p2, true);
        assert_eq!(candidates.len(), 4);
        assert!(!candidates[0].concurrent && candidates[0].pooled && candidates[0].fuel);
        assert!(!candidates[3].pooled && candidates[3].concurrent);
    }
}
