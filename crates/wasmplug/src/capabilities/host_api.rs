//! `wasmplug:plugin/host`: logging and configuration for every plugin.
//!
//! It is linked without a grant because it reaches nothing outside the
//! sandbox: log lines are labelled with the plugin's name and charged to the
//! call's output budget, and `config` answers only from the plugin's own
//! configuration.

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::wasmplug::plugin::host::{self, Level};
use crate::limits::OutputLimitReached;
use crate::store::StoreData;

impl<T: Send + 'static> host::Host for StoreData<T> {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let context = self.context();
        if !context.budget.charge_output(message.len()) {
            return Err(wasmtime::Error::new(OutputLimitReached));
        }
        let plugin = &*context.name;
        match level {
            Level::Trace => tracing::trace!(target: "wasmplug::guest", plugin, "{message}"),
            Level::Debug => tracing::debug!(target: "wasmplug::guest", plugin, "{message}"),
            Level::Info => tracing::info!(target: "wasmplug::guest", plugin, "{message}"),
            Level::Warn => tracing::warn!(target: "wasmplug::guest", plugin, "{message}"),
            Level::Error => tracing::error!(target: "wasmplug::guest", plugin, "{message}"),
        }
        Ok(())
    }

    fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.context().config.get(&key).cloned())
    }
}

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
) -> wasmtime::Result<()> {
    host::add_to_linker::<StoreData<T>, HasSelf<StoreData<T>>>(linker, |data| data)
}
