//! Sources for a new project that targets a world other than the default:
//! a stub for each export, which builds and fails at run time until the
//! author writes the body.

mod c;
mod go;
mod js;
mod python;
mod rust;

use std::path::Path;

use wasmplug::Language;
use wit_bindgen_core::wit_parser::{
    Function, FunctionKind, InterfaceId, Param, Resolve, TypeDefKind, TypeId, WorldItem, WorldKey,
};

use crate::error::Result;
use crate::world_check::Wit;

/// Writes the project's sources into `root`.
pub(crate) fn write(language: Language, wit: &Wit, root: &Path) -> Result<()> {
    match language {
        Language::Rust => rust::write(wit, root),
        Language::Python => python::write(wit, root),
        Language::Js => js::write(wit, root),
        Language::C => c::write(wit, root),
        Language::Go => go::write(wit, root),
    }
}

/// What a world exports, grouped the way bindings group it.
struct Exports<'a> {
    /// Functions the world exports by itself.
    functions: Vec<&'a Function>,
    interfaces: Vec<ExportedInterface<'a>>,
}

struct ExportedInterface<'a> {
    /// The interface's own name, e.g. `api`.
    name: String,
    /// Its package's namespace and name, when it has one.
    package: Option<(String, String)>,
    /// Functions that are not part of a resource.
    functions: Vec<&'a Function>,
    resources: Vec<Resource<'a>>,
}

struct Resource<'a> {
    name: String,
    constructor: Option<&'a Function>,
    /// Methods and static functions.
    functions: Vec<&'a Function>,
}

impl<'a> Exports<'a> {
    fn of(wit: &'a Wit) -> Self {
        let resolve = &wit.resolve;
        let mut exports = Exports {
            functions: Vec::new(),
            interfaces: Vec::new(),
        };
        for (key, item) in &resolve.worlds[wit.world].exports {
            match item {
                WorldItem::Function(function) => exports.functions.push(function),
                WorldItem::Interface { id, .. } => {
                    let name = match key {
                        WorldKey::Name(name) => name.clone(),
                        WorldKey::Interface(_) => {
                            resolve.interfaces[*id].name.clone().unwrap_or_default()
                        }
                    };
                    exports
                        .interfaces
                        .push(ExportedInterface::of(resolve, *id, name));
                }
                WorldItem::Type { .. } => {}
            }
        }
        exports
    }
}

impl<'a> ExportedInterface<'a> {
    fn of(resolve: &'a Resolve, id: InterfaceId, name: String) -> Self {
        let interface = &resolve.interfaces[id];
        let package = interface.package.map(|p| {
            let package = &resolve.packages[p].name;
            (package.namespace.clone(), package.name.clone())
        });
        let mut resources: Vec<Resource> = interface
            .types
            .iter()
            .filter(|(_, ty)| matches!(resolve.types[**ty].kind, TypeDefKind::Resource))
            .map(|(name, _)| Resource {
                name: name.clone(),
                constructor: None,
                functions: Vec::new(),
            })
            .collect();
        let mut functions = Vec::new();
        for function in interface.functions.values() {
            let Some(owner) = function.kind.resource() else {
                functions.push(function);
                continue;
            };
            let Some(resource) = resource_name(resolve, owner)
                .and_then(|name| resources.iter_mut().find(|r| r.name == name))
            else {
                continue;
            };
            match function.kind {
                FunctionKind::Constructor(_) => resource.constructor = Some(function),
                _ => resource.functions.push(function),
            }
        }
        ExportedInterface {
            name,
            package,
            functions,
            resources,
        }
    }
}

fn resource_name(resolve: &Resolve, ty: TypeId) -> Option<&str> {
    resolve.types[ty].name.as_deref()
}

/// Whether a resource function takes `self`.
fn is_method(function: &Function) -> bool {
    matches!(
        function.kind,
        FunctionKind::Method(_)
            | FunctionKind::AsyncMethod(_)
            | FunctionKind::MethodGetter(_)
            | FunctionKind::MethodSetter(_)
    )
}

/// The parameters a function's body sees: without `self` for methods.
fn own_params(function: &Function) -> impl Iterator<Item = &Param> {
    let skip = usize::from(is_method(function));
    function.params.iter().skip(skip)
}
