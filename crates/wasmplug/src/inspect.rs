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
    /// Each exported function with its signature in WIT, e.g.
    /// `run: func(input: string) -> result<string, string>`.
    pub signatures: Vec<String>,
    /// The component's world as WIT text.
    pub wit: String,
}

impl Inspection {
    /// The imports that are not WASI's: what the plugin needs from its
    /// host's own world.
    pub fn world_imports(&self) -> impl Iterator<Item = &str> {
        self.imports
            .iter()
            .map(String::as_str)
            .filter(|i| !i.starts_with("wasi:"))
    }

    /// The WASI imports, one line per package and version with its
    /// interfaces, e.g. `wasi:cli@0.2.6: environment, exit, stdout`.
    pub fn wasi_summary(&self) -> Vec<String> {
        let mut packages: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
        for import in self.imports.iter().filter(|i| i.starts_with("wasi:")) {
            let (name, version) = import.split_once('@').unwrap_or((import, ""));
            let (package, interface) = name.split_once('/').unwrap_or((name, ""));
            let key = if version.is_empty() {
                package.to_string()
            } else {
                format!("{package}@{version}")
            };
            packages.entry(key).or_default().push(interface);
        }
        packages
            .into_iter()
            .map(|(package, interfaces)| format!("{package}: {}", interfaces.join(", ")))
            .collect()
    }
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
    let mut signatures = Vec::new();
    for (key, item) in &world_def.exports {
        let name = resolve.name_world_key(key);
        match item {
            WorldItem::Interface { id, .. } => {
                for (f, function) in &resolve.interfaces[*id].functions {
                    exports.push(format!("{name}#{f}"));
                    signatures.push(format!("{name}#{}", signature(&resolve, function)));
                }
            }
            WorldItem::Function(function) => {
                exports.push(name);
                signatures.push(signature(&resolve, function));
            }
            WorldItem::Type { .. } => {}
        }
    }
    Ok(Inspection {
        size: source.bytes.len(),
        sha256: source.sha256.to_string(),
        imports,
        exports,
        signatures,
        wit: print_world(&resolve, world).map_err(invalid)?,
    })
}

/// `name: func(a: t, ...) -> r`, as WIT writes a function.
fn signature(resolve: &Resolve, function: &wit_parser::Function) -> String {
    let params: Vec<String> = function
        .params
        .iter()
        .map(|param| format!("{}: {}", param.name, type_name(resolve, &param.ty)))
        .collect();
    let result = function
        .result
        .as_ref()
        .map(|ty| format!(" -> {}", type_name(resolve, ty)))
        .unwrap_or_default();
    format!(
        "{}: func({}){result}",
        function.item_name(),
        params.join(", ")
    )
}

/// A WIT type as WIT writes it: named types by their name.
fn type_name(resolve: &Resolve, ty: &wit_parser::Type) -> String {
    use wit_parser::{Type, TypeDefKind};
    let id = match ty {
        Type::Bool => return "bool".into(),
        Type::U8 => return "u8".into(),
        Type::U16 => return "u16".into(),
        Type::U32 => return "u32".into(),
        Type::U64 => return "u64".into(),
        Type::S8 => return "s8".into(),
        Type::S16 => return "s16".into(),
        Type::S32 => return "s32".into(),
        Type::S64 => return "s64".into(),
        Type::F32 => return "f32".into(),
        Type::F64 => return "f64".into(),
        Type::Char => return "char".into(),
        Type::String => return "string".into(),
        Type::ErrorContext => return "error-context".into(),
        Type::Id(id) => *id,
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    let inner = |ty: &wit_parser::Type| type_name(resolve, ty);
    match &def.kind {
        TypeDefKind::List(t) => format!("list<{}>", inner(t)),
        TypeDefKind::Option(t) => format!("option<{}>", inner(t)),
        TypeDefKind::Tuple(t) => format!(
            "tuple<{}>",
            t.types.iter().map(inner).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Result(r) => match (&r.ok, &r.err) {
            (Some(ok), Some(err)) => format!("result<{}, {}>", inner(ok), inner(err)),
            (Some(ok), None) => format!("result<{}>", inner(ok)),
            (None, Some(err)) => format!("result<_, {}>", inner(err)),
            (None, None) => "result".into(),
        },
        TypeDefKind::Handle(wit_parser::Handle::Own(r)) => type_name(resolve, &Type::Id(*r)),
        TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) => {
            format!("borrow<{}>", type_name(resolve, &Type::Id(*r)))
        }
        TypeDefKind::Type(t) => inner(t),
        TypeDefKind::Future(t) => match t {
            Some(t) => format!("future<{}>", inner(t)),
            None => "future".into(),
        },
        TypeDefKind::Stream(t) => match t {
            Some(t) => format!("stream<{}>", inner(t)),
            None => "stream".into(),
        },
        _ => "(a type)".into(),
    }
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
