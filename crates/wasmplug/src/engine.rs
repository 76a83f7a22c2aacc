//! The wasmtime engines of one host, and the clock that drives their epochs.
//!
//! Fuel metering is an engine-wide compile setting, so a host keeps up to two
//! engines: the standard one (epoch deadlines) and a metered one for plugins
//! that ask for deterministic fuel limits. Each is created on first use.

use std::sync::{Arc, OnceLock, Weak};

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

/// The engines of a host.
pub(crate) struct Engines {
    settings: EngineSettings,
    standard: OnceLock<Engine>,
    metered: OnceLock<Engine>,
}

impl Engines {
    /// Creates the engine set and starts the epoch ticker, which stops by
    /// itself once the set is dropped.
    pub(crate) fn new(settings: EngineSettings) -> Result<Arc<Self>> {
        let engines = Arc::new(Engines {
            settings,
            standard: OnceLock::new(),
            metered: OnceLock::new(),
        });
        let weak = Arc::downgrade(&engines);
        std::thread::Builder::new()
            .name("wasmplug-epoch".into())
            .spawn(move || tick_epochs(weak))
            .map_err(|e| Error::Runtime(format!("cannot start the epoch thread: {e}")))?;
        Ok(engines)
    }

    /// The engine for a plugin, metered with fuel or not.
    pub(crate) fn get(&self, fuel: bool) -> Result<&Engine> {
        let slot = if fuel { &self.metered } else { &self.standard };
        if let Some(engine) = slot.get() {
            return Ok(engine);
        }
        let engine = Engine::new(&self.config(fuel)).map_err(Error::runtime)?;
        Ok(slot.get_or_init(|| engine))
    }

    fn config(&self, fuel: bool) -> Config {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(fuel)
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
        for engine in [engines.standard.get(), engines.metered.get()]
            .into_iter()
            .flatten()
        {
            engine.increment_epoch();
        }
    }
}
