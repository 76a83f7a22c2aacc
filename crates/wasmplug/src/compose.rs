//! Composition: a plugin's imports satisfied by the exports of other
//! components, made one component with `wac-graph`, so that a plugin can
//! be tried with a stand-in for its host's interfaces
//! (`wasmplug call --with host-stub.wasm`).
//!
//! Every import of the plugin that one of the components exports (the
//! first that does) is plugged into it; the plugin's exports are the
//! composition's. What neither satisfies, WASI among it, stays an import
//! of the composition, which the host links as any plugin's. The composed
//! component runs under what the plugin and every component it is composed
//! with were granted, each by its own manifest (see the load pipeline), so
//! composing never widens what either gets.

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

use crate::error::{Error, Result};
use crate::source::{ComponentBytes, Sha256Digest};

/// `plugin` with its imports plugged into `with`'s exports, as one
/// component; its identity stays the plugin's.
pub(crate) fn compose(plugin: ComponentBytes, with: &[ComponentBytes]) -> Result<ComponentBytes> {
    let failed = |reason: String| Error::InvalidComponent {
        origin: plugin.origin.clone(),
        reason: format!("cannot be composed: {reason}"),
    };
    let mut graph = CompositionGraph::new();
    let register = |graph: &mut CompositionGraph, name: &str, bytes: &ComponentBytes| {
        let package = Package::from_bytes(name, None, bytes.bytes.clone(), graph.types_mut())
            .map_err(|e| failed(format!("{}: {e:#}", bytes.origin)))?;
        graph
            .register_package(package)
            .map_err(|e| failed(format!("{}: {e}", bytes.origin)))
    };
    let main_package = register(&mut graph, "wasmplug:plugin", &plugin)?;
    let mut providers = Vec::new();
    for (index, component) in with.iter().enumerate() {
        let package = register(&mut graph, &format!("wasmplug:with{index}"), component)?;
        providers.push((package, graph.instantiate(package), component, false));
    }
    let main = graph.instantiate(main_package);
    let world = &graph.types()[graph[main_package].ty()];
    let imports: Vec<String> = world.imports.keys().cloned().collect();
    let exports: Vec<String> = world.exports.keys().cloned().collect();
    for import in &imports {
        let provider = providers.iter_mut().find(|(package, ..)| {
            graph.types()[graph[*package].ty()]
                .exports
                .contains_key(import)
        });
        let Some((_, instance, component, used)) = provider else {
            continue;
        };
        let export = graph
            .alias_instance_export(*instance, import)
            .map_err(|e| failed(format!("{}: {e}", component.origin)))?;
        graph
            .set_instantiation_argument(main, import, export)
            .map_err(|e| failed(format!("`{import}` from {}: {e}", component.origin)))?;
        *used = true;
    }
    if let Some((.., component, _)) = providers.iter().find(|(.., used)| !used) {
        return Err(failed(format!(
            "{} exports nothing the plugin imports (it imports {})",
            component.origin,
            imports.join(", ")
        )));
    }
    for export in &exports {
        let node = graph
            .alias_instance_export(main, export)
            .map_err(|e| failed(e.to_string()))?;
        graph
            .export(node, export.clone())
            .map_err(|e| failed(e.to_string()))?;
    }
    let bytes = graph
        .encode(EncodeOptions::default())
        .map_err(|e| failed(format!("{e:#}")))?;
    Ok(ComponentBytes {
        component_sha256: Sha256Digest::of(&bytes),
        bytes,
        ..plugin
    })
}
