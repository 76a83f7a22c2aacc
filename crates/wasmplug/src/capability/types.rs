//! Imported types (a world's `use` of one) and interfaces that hold only
//! types, such as a world's shared `types` interface: they confer nothing,
//! so each interface is linked as an empty instance without a permission,
//! and a type needs nothing linked at all. An instance with no exports is
//! not one of them: it names an interface of which nothing is used, and is
//! judged by its name like any other.

use wasmtime::component::Linker;
use wasmtime::component::types::ComponentItem;

use super::{Capability, Import, LinkMode, PluginCapability};
use crate::error::Result;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct TypesOnly;

impl<T: Send + 'static> Capability<T> for TypesOnly {
    fn name(&self) -> &'static str {
        "types"
    }

    fn provides(&self, import: &Import) -> bool {
        import.types_only
    }

    fn for_plugin(&self, _plugin: &str, _grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Box::new(TypesOnly))
    }
}

impl<T: Send + 'static> PluginCapability<T> for TypesOnly {
    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        _mode: LinkMode,
        imports: &[Import],
    ) -> wasmtime::Result<()> {
        for import in imports.iter().filter(|i| i.types_only) {
            if !matches!(import.ty, Some(ComponentItem::Type(_))) {
                linker.instance(&import.name)?;
            }
        }
        Ok(())
    }
}
