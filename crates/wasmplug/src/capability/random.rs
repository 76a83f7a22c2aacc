//! Randomness (`wasi:random`). Without the `random` permission the guest
//! still links but gets a fixed sequence: nothing of the host's entropy,
//! and the same run every time.

use wasmtime::component::Linker;
use wasmtime_wasi::Deterministic;
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

use super::{Capability, Import, ImportStatus, InstanceSetup, LinkMode, PluginCapability};
use crate::error::Result;
use crate::permission::Permission;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Random;

impl<T: Send + 'static> Capability<T> for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn key(&self) -> Option<&'static str> {
        Some("random")
    }

    fn whole(&self) -> Option<Permission> {
        Some(Permission::Random)
    }

    fn provides(&self, import: &Import) -> bool {
        import.package() == "wasi:random"
    }

    fn for_plugin(&self, _plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Box::new(PluginRandom {
            real: grants.contains(&Permission::Random),
        }))
    }
}

struct PluginRandom {
    /// Granted: the host's entropy; otherwise a fixed sequence.
    real: bool,
}

impl<T: Send + 'static> PluginCapability<T> for PluginRandom {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        ImportStatus::whole(self.real, Permission::Random, "random")
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        use wasmtime_wasi::p2::bindings::random;
        let view = <StoreData<T> as WasiRandomView>::random;
        random::random::add_to_linker::<_, WasiRandom>(linker, view)?;
        random::insecure::add_to_linker::<_, WasiRandom>(linker, view)?;
        random::insecure_seed::add_to_linker::<_, WasiRandom>(linker, view)?;
        if mode.concurrent {
            wasmtime_wasi::p3::random::add_to_linker(linker)?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        if !self.real {
            let fixed = || Deterministic::new(vec![0x5a, 0x17, 0xc3, 0x88]);
            setup
                .wasi
                .secure_random(fixed())
                .insecure_random(fixed())
                .insecure_random_seed(0);
        }
        Ok(())
    }
}
