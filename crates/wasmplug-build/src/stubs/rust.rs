//! Rust stubs: `wit_bindgen::generate!` and one `impl` per exported
//! interface, with every type spelled by the path wit-bindgen 0.63 gives it.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use heck::{ToSnakeCase, ToUpperCamelCase};
use wit_bindgen_core::wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
    WorldId, WorldItem, WorldKey,
};

use super::{ExportedInterface, Exports, is_method, own_params};
use crate::error::Result;
use crate::files::write as write_file;
use crate::world_check::Wit;

pub(super) fn write(wit: &Wit, root: &Path) -> Result<()> {
    let path = root.join("src/lib.rs");
    write_file(&path, lib_rs(wit))?;
    // Only for whoever reads the stubs: they build unformatted too.
    let _ = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(&path)
        .output();
    Ok(())
}

fn lib_rs(wit: &Wit) -> String {
    let names = Names {
        resolve: &wit.resolve,
        world: wit.world,
    };
    let exports = Exports::of(wit);
    let world = wit.qualified_world_name();
    let mut out = format!(
        "//! The plugin's implementation of `{world}`. Each export starts as a\n\
         //! stub that panics: replace the bodies.\n\n\
         wit_bindgen::generate!({{\n    path: \"wit\",\n    world: \"{world}\",\n}});\n\n\
         struct Component;\n\n"
    );
    if !exports.functions.is_empty() {
        out.push_str("impl Guest for Component {\n");
        for function in &exports.functions {
            out.push_str(&names.function_stub(function));
        }
        out.push_str("}\n\n");
    }
    for interface in &exports.interfaces {
        names.interface_stubs(interface, &mut out);
    }
    out.push_str("export!(Component);\n");
    out
}

/// Where wit-bindgen puts each item of one world.
struct Names<'a> {
    resolve: &'a Resolve,
    world: WorldId,
}

impl Names<'_> {
    fn interface_stubs(&self, interface: &ExportedInterface, out: &mut String) {
        let module = interface_module(&interface.name, interface.package.as_ref(), true);
        let _ = writeln!(out, "impl {module}::Guest for Component {{");
        for resource in &interface.resources {
            let camel = resource.name.to_upper_camel_case();
            let _ = writeln!(out, "    type {camel} = {camel}Impl;");
        }
        for function in &interface.functions {
            out.push_str(&self.function_stub(function));
        }
        out.push_str("}\n\n");
        for resource in &interface.resources {
            let camel = resource.name.to_upper_camel_case();
            let _ = writeln!(out, "struct {camel}Impl;\n");
            let _ = writeln!(out, "impl {module}::Guest{camel} for {camel}Impl {{");
            for function in resource.constructor.iter().chain(&resource.functions) {
                out.push_str(&self.function_stub(function));
            }
            out.push_str("}\n\n");
        }
    }

    fn function_stub(&self, function: &Function) -> String {
        let name = match function.kind {
            FunctionKind::Constructor(_) => "new".to_string(),
            _ => identifier(&function.item_name().to_snake_case()),
        };
        let mut params: Vec<String> = Vec::new();
        if is_method(function) {
            params.push("&self".into());
        }
        let mut used: Vec<String> = Vec::new();
        for param in own_params(function) {
            let name = identifier(&param.name.to_snake_case());
            params.push(format!("{name}: {}", self.type_name(&param.ty)));
            used.push(name);
        }
        let result = match (&function.kind, &function.result) {
            (FunctionKind::Constructor(_), _) => " -> Self".to_string(),
            (_, Some(ty)) => format!(" -> {}", self.type_name(ty)),
            (_, None) => String::new(),
        };
        let mut body = String::new();
        if !used.is_empty() {
            let _ = writeln!(body, "        let _ = ({},);", used.join(", "));
        }
        let _ = writeln!(body, "        todo!(\"{}\")", function.name);
        format!(
            "    fn {name}({}){result} {{\n{body}    }}\n",
            params.join(", ")
        )
    }

    /// The type of an exported function's parameter or result.
    fn type_name(&self, ty: &Type) -> String {
        let id = match ty {
            Type::Bool => return "bool".into(),
            Type::U8 => return "u8".into(),
            Type::U16 => return "u16".into(),
            Type::U32 => return "u32".into(),
            Type::U64 => return "u64".into(),
            Type::S8 => return "i8".into(),
            Type::S16 => return "i16".into(),
            Type::S32 => return "i32".into(),
            Type::S64 => return "i64".into(),
            Type::F32 => return "f32".into(),
            Type::F64 => return "f64".into(),
            Type::Char => return "char".into(),
            Type::String => return "String".into(),
            Type::ErrorContext => return "wit_bindgen::ErrorContext".into(),
            Type::Id(id) => *id,
        };
        let def = &self.resolve.types[id];
        if def.name.is_some() {
            return self.named(id, "");
        }
        match &def.kind {
            TypeDefKind::List(inner) => format!("Vec<{}>", self.type_name(inner)),
            TypeDefKind::FixedLengthList(inner, n) => format!("[{}; {n}]", self.type_name(inner)),
            TypeDefKind::Option(inner) => format!("Option<{}>", self.type_name(inner)),
            TypeDefKind::Result(result) => {
                let side = |t: &Option<Type>| t.as_ref().map_or("()".into(), |t| self.type_name(t));
                format!("Result<{}, {}>", side(&result.ok), side(&result.err))
            }
            TypeDefKind::Tuple(tuple) => {
                let items: Vec<String> = tuple.types.iter().map(|t| self.type_name(t)).collect();
                format!("({},)", items.join(", "))
            }
            TypeDefKind::Handle(Handle::Own(resource)) => self.named(*resource, ""),
            TypeDefKind::Handle(Handle::Borrow(resource)) => {
                if self.is_exported(*resource) {
                    self.named(*resource, "Borrow<'_>")
                } else {
                    format!("&{}", self.named(*resource, ""))
                }
            }
            TypeDefKind::Type(inner) => self.type_name(inner),
            other => format!("() /* {} is not supported in stubs */", other.as_str()),
        }
    }

    /// A named type by its full path from the crate root, plus `suffix`.
    fn named(&self, id: TypeId, suffix: &str) -> String {
        let def = &self.resolve.types[id];
        let name = def
            .name
            .as_deref()
            .unwrap_or_default()
            .to_upper_camel_case();
        match def.owner {
            TypeOwner::Interface(interface) => {
                format!("{}::{name}{suffix}", self.interface_path(interface))
            }
            TypeOwner::World(_) | TypeOwner::None => format!("{name}{suffix}"),
        }
    }

    fn is_exported(&self, id: TypeId) -> bool {
        match self.resolve.types[id].owner {
            TypeOwner::Interface(interface) => self.export_key(interface).is_some(),
            _ => true,
        }
    }

    fn export_key(&self, interface: InterfaceId) -> Option<&WorldKey> {
        self.resolve.worlds[self.world]
            .exports
            .iter()
            .find(|(_, item)| matches!(item, WorldItem::Interface { id, .. } if *id == interface))
            .map(|(key, _)| key)
    }

    /// `exports::ns::pkg::iface` for an exported interface, `ns::pkg::iface`
    /// for an imported one.
    fn interface_path(&self, id: InterfaceId) -> String {
        let interface = &self.resolve.interfaces[id];
        let package = interface.package.map(|p| {
            let name = &self.resolve.packages[p].name;
            (name.namespace.clone(), name.name.clone())
        });
        let exported = self.export_key(id);
        let name = match exported {
            Some(WorldKey::Name(name)) => name.clone(),
            _ => interface.name.clone().unwrap_or_default(),
        };
        let package = match exported {
            Some(WorldKey::Name(_)) => None,
            _ => package,
        };
        interface_module(&name, package.as_ref(), exported.is_some())
    }
}

fn interface_module(name: &str, package: Option<&(String, String)>, exported: bool) -> String {
    let prefix = if exported { "exports::" } else { "" };
    let name = identifier(&name.to_snake_case());
    match package {
        Some((namespace, package)) => format!(
            "{prefix}{}::{}::{name}",
            identifier(&namespace.to_snake_case()),
            identifier(&package.to_snake_case())
        ),
        None => format!("{prefix}{name}"),
    }
}

/// wit-bindgen appends `_` to names that are Rust keywords.
fn identifier(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
        "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box",
        "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}
