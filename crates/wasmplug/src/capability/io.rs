//! `wasi:io`: streams, pollables and their errors, the plumbing every other
//! WASI interface hands out. It reaches nothing by itself.

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::p2::bindings;

use super::{Capability, Import, LinkMode, PluginCapability, Stateless, is_one_of};
use crate::error::Result;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Io;

/// The store's resource table, which is all `wasi:io` works on.
struct HasTable;

impl HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

impl<T: Send + 'static> Capability<T> for Io {
    fn name(&self) -> &'static str {
        "io"
    }

    fn provides(&self, import: &Import) -> bool {
        is_one_of(import, "wasi:io", &["error", "poll", "streams"])
    }

    fn for_plugin(&self, _plugin: &str, _grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Stateless::boxed(link::<T>))
    }
}

fn link<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
    mode: LinkMode,
) -> wasmtime::Result<()> {
    let table = StoreData::<T>::table;
    bindings::io::error::add_to_linker::<_, HasTable>(linker, table)?;
    if mode.blocking {
        bindings::sync::io::poll::add_to_linker::<_, HasTable>(linker, table)?;
        bindings::sync::io::streams::add_to_linker::<_, HasTable>(linker, table)?;
    } else {
        bindings::io::poll::add_to_linker::<_, HasTable>(linker, table)?;
        bindings::io::streams::add_to_linker::<_, HasTable>(linker, table)?;
    }
    Ok(())
}
