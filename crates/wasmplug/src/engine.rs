//! The wasmtime engines of one host, and the clock that drives their epochs.
//!
//! Two settings are engine-wide in wasmtime and differ between plugins, so a
//! host keeps up to four engines, each created on first use:
//!
//! - component-model concurrency costs about 250 ns on every call, so only
//!   plugins that need it (WASI 0.3 imports, async exports) get an engine
//!   with it; [`Flavor::for_component`] makes that decision, in one place;
//! - fuel metering changes the compiled code, so plugins that ask for a
//!   deterministic fuel limit get a metered engine.

use std::sync::{Arc, OnceLock, Weak};

use wasmparser::{Parser, Payload};
use wasmtime::{Config, Engine};

use crate::error::{Error, Result};
use crate::limits::EPOCH_TICK;

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
}

impl Flavor {
    /// The cheapest flavor a component can run on, judged from its imports:
    /// any WASI 0.3 import needs concurrency. Async exports are found when
    /// the non-concurrent engine refuses the component (see `Plugin::load`).
    pub(crate) fn for_component(bytes: &[u8], fuel: bool) -> Self {
        Flavor {
            concurrent: imports_wasi_0_3(bytes),
            fuel,
        }
    }
}

fn imports_wasi_0_3(bytes: &[u8]) -> bool {
    Parser::new(0)
        .parse_all(bytes)
        .filter_map(|payload| match payload {
            Ok(Payload::ComponentImportSection(imports)) => Some(imports),
            _ => None,
        })
        .flatten()
        .flatten()
        .any(|import| {
            let name = import.name.name;
            name.starts_with("wasi:") && name.contains("@0.3")
        })
}

/// The engines of a host, indexed by [`Flavor`].
pub(crate) struct Engines {
    settings: EngineSettings,
    slots: [OnceLock<Engine>; 4],
}

impl Engines {
    /// Creates the engine set and starts the epoch ticker, which stops by
    /// itself once the set is dropped.
    pub(crate) fn new(settings: EngineSettings) -> Result<Arc<Self>> {
        let engines = Arc::new(Engines {
            settings,
            slots: Default::default(),
        });
        let weak = Arc::downgrade(&engines);
        std::thread::Builder::new()
            .name("wasmplug-epoch".into())
            .spawn(move || tick_epochs(weak))
            .map_err(|e| Error::Runtime(format!("cannot start the epoch thread: {e}")))?;
        Ok(engines)
    }

    /// The engine of a flavor.
    pub(crate) fn get(&self, flavor: Flavor) -> Result<&Engine> {
        let slot = &self.slots[usize::from(flavor.concurrent) * 2 + usize::from(flavor.fuel)];
        if let Some(engine) = slot.get() {
            return Ok(engine);
        }
        let engine = Engine::new(&self.config(flavor)).map_err(Error::runtime)?;
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
        config
    }
}

fn tick_epochs(engines: Weak<Engines>) {
    loop {
        std::thread::sleep(EPOCH_TICK);
        let Some(engines) = engines.upgrade() else {
            return;
        };
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
        let p3 = wat::parse_str(r#"(component (import "wasi:random/random@0.3.0" (instance)))"#)
            .unwrap();
        let p2 = wat::parse_str(r#"(component (import "wasi:random/random@0.2.6" (instance)))"#)
            .unwrap();
        assert!(Flavor::for_component(&p3, false).concurrent);
        assert!(!Flavor::for_component(&p2, false).concurrent);
    }
}
