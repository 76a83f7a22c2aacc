//! What a component imports and exports, as names and as WIT.

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;
use wit_parser::decoding::DecodedWasm;
use wit_parser::{Resolve, WorldItem, WorldKey};

use crate::error::{Error, Result};
use crate::source::{ComponentBytes, validate};

/// A component described for people and tools.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    pub size: usize,
    pub sha256: String,
    /// Imported interfaces and functions, by name.
    pub imports: Vec<String>,
    /// Exported functions as `name` or `interface#name`.
    pub exports: Vec<String>,
    /// The component's world as WIT text.
    pub wit: String,
}

/// Decodes a component's type information without compiling it.
pub fn inspect(source: &ComponentBytes) -> Result<Inspection> {
    let invalid = |e: anyhow::Error| Error::InvalidComponent {
        origin: source.origin.clone(),
        reason: format!("{e:#}"),
    };
    validate(&source.origin, &source.bytes)?;
    let DecodedWasm::Component(resolve, world) =
        wit_parser::decoding::decode(&source.bytes).map_err(invalid)?
    else {
        return Err(Error::InvalidComponent {
            origin: source.origin.clone(),
            reason: "it is a WIT package, not a component".into(),
        });
    };
    let world_def = &resolve.worlds[world];
    let imports = world_def
        .imports
        .iter()
        .map(|(key, item)| item_name(&resolve, key, item))
        .collect();
    let mut exports = Vec::new();
    for (key, item) in &world_def.exports {
        let name = resolve.name_world_key(key);
        match item {
            WorldItem::Interface { id, .. } => exports.extend(
                resolve.interfaces[*id]
                    .functions
                    .keys()
                    .map(|f| format!("{name}#{f}")),
            ),
            WorldItem::Function(_) => exports.push(name),
            WorldItem::Type { .. } => {}
        }
    }
    Ok(Inspection {
        size: source.bytes.len(),
        sha256: source.sha256.to_string(),
        imports,
        exports,
        wit: print_world(&resolve, world).map_err(invalid)?,
    })
}

fn item_name(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> String {
    let name = resolve.name_world_key(key);
    match item {
        WorldItem::Function(_) => format!("{name} (function)"),
        _ => name,
    }
}

fn print_world(resolve: &Resolve, world: wit_parser::WorldId) -> anyhow::Result<String> {
    let main = resolve.worlds[world]
        .package
        .ok_or_else(|| anyhow::anyhow!("the decoded world has no package"))?;
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(resolve, main, &nested)?;
    Ok(printer.output.to_string())
}

/// Exported functions of a compiled component, as `name` or `interface#name`.
pub(crate) fn export_names(component: &Component, engine: &Engine) -> Vec<String> {
    let mut names = Vec::new();
    for (name, item) in component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(_) => names.push(name.to_string()),
            ComponentItem::ComponentInstance(instance) => names.extend(
                instance
                    .exports(engine)
                    .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                    .map(|(func, _)| format!("{name}#{func}")),
            ),
            _ => {}
        }
    }
    names
}
