//! A command's side of its caller: its arguments (read through
//! `wasi:cli/environment`, which the `env` capability links) and its exit
//! status (`wasi:cli/exit`). Neither reaches anything outside the sandbox,
//! so neither needs a permission.

use wasmtime::component::Linker;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};

use super::{Capability, Import, InstanceSetup, LinkMode, PluginCapability, is_one_of};
use crate::error::Result;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Args;

impl<T: Send + 'static> Capability<T> for Args {
    fn name(&self) -> &'static str {
        "args"
    }

    fn provides(&self, import: &Import) -> bool {
        is_one_of(import, "wasi:cli", &["exit"])
    }

    fn for_plugin(&self, _plugin: &str, _grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Box::new(Args))
    }
}

impl<T: Send + 'static> PluginCapability<T> for Args {
    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        let cli = <StoreData<T> as WasiCliView>::cli;
        wasmtime_wasi::p2::bindings::cli::exit::add_to_linker::<_, WasiCli>(linker, cli)?;
        if mode.concurrent {
            wasmtime_wasi::p3::bindings::cli::exit::add_to_linker::<_, WasiCli>(linker, cli)?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        setup.wasi.args(setup.args);
        Ok(())
    }
}
