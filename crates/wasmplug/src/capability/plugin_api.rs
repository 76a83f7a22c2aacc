//! `wasmplug:plugin/host`: logging and configuration for every plugin of
//! the default world.
//!
//! It needs no permission because it reaches nothing outside the sandbox:
//! log lines are labelled with the plugin's name, escaped, and charged to
//! the call's output budget at the size the host writes, and `config`
//! answers only from the plugin's own configuration. Neither can wait.

use wasmtime::component::{HasSelf, Linker};

use super::{Capability, Import, LinkMode, PluginCapability, Stateless};
use crate::bindings::wasmplug::plugin::host::{self, Level};
use crate::error::Result;
use crate::limits::OutputLimitReached;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct PluginApi;

/// The interface, without its version.
const INTERFACE: &str = "wasmplug:plugin/host";

impl<T: Send + 'static> Capability<T> for PluginApi {
    fn name(&self) -> &'static str {
        "plugin"
    }

    fn provides(&self, import: &Import) -> bool {
        import.interface == INTERFACE
    }

    fn for_plugin(&self, _plugin: &str, _grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Stateless::boxed(link::<T>))
    }
}

fn link<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
    _mode: LinkMode,
) -> wasmtime::Result<()> {
    host::add_to_linker::<StoreData<T>, HasSelf<StoreData<T>>>(linker, |data| data)
}

impl<T: Send + 'static> host::Host for StoreData<T> {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let context = self.context();
        if !context.charge_line(message.len()) {
            return Err(wasmtime::Error::new(OutputLimitReached));
        }
        let level = match level {
            Level::Trace => tracing::Level::TRACE,
            Level::Debug => tracing::Level::DEBUG,
            Level::Info => tracing::Level::INFO,
            Level::Warn => tracing::Level::WARN,
            Level::Error => tracing::Level::ERROR,
        };
        super::stdio::emit(context.label(), level, "log", &message);
        Ok(())
    }

    fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.context().config.get(&key).cloned())
    }
}
