//! `wasi:config/store`: the plugin's configuration, its manifest's
//! `[config]` with the host's values over it. The default world's `config`
//! function answers from the same values. Always given: the plugin reads
//! only what its manifest and its host chose to give it.

use std::collections::BTreeMap;

use wasmtime::component::Linker;
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};

use super::{Capability, Import, LinkMode, PluginCapability, Stateless};
use crate::error::Result;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Config;

/// One plugin's configuration, as both interfaces read it.
pub(crate) struct PluginConfig {
    values: BTreeMap<String, String>,
    wasi: WasiConfigVariables,
}

impl PluginConfig {
    pub(crate) fn new(values: BTreeMap<String, String>) -> Self {
        let wasi = values.iter().collect();
        PluginConfig { values, wasi }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&String> {
        self.values.get(key)
    }
}

impl<T: Send + 'static> Capability<T> for Config {
    fn name(&self) -> &'static str {
        "config"
    }

    fn provides(&self, import: &Import) -> bool {
        import.interface == "wasi:config/store"
    }

    fn for_plugin(&self, _plugin: &str, _grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Stateless::boxed(link))
    }
}

fn link<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
    _mode: LinkMode,
) -> wasmtime::Result<()> {
    wasmtime_wasi_config::add_to_linker(linker, |data: &mut StoreData<T>| {
        WasiConfig::from(&data.context().config.wasi)
    })
}
