//! One module per language: how its sources become a component.

pub(crate) mod c;
pub(crate) mod go;
mod js;
mod python;
pub(crate) mod rust;

use std::path::{Path, PathBuf};

use wasmplug::Language;

use crate::error::{BuildError, Result};
use crate::project::Project;
use crate::world_check::Wit;

/// Runs the project's toolchain and returns the component's bytes.
pub(crate) fn build(project: &Project, wit: &Wit) -> Result<Vec<u8>> {
    match project.language() {
        Language::Rust => rust::build(project, wit),
        Language::C => c::build(project, wit),
        Language::Go => go::build(project, wit),
        Language::Js => js::build(project, wit),
        Language::Python => python::build(project, wit),
    }
}

/// The tools `language` needs, found or reported missing.
pub(crate) fn required_tools(language: Language) -> Result<Vec<(String, PathBuf)>> {
    match language {
        Language::Rust => rust::tools(),
        Language::C => c::tools(),
        Language::Go => go::tools(),
        Language::Js => js::tools(),
        Language::Python => python::tools(),
    }
}

/// Writes generated bindings into `dir`, replacing an earlier build's so no
/// file of another world lingers, and returns the files `keep` selects.
fn write_generated(
    files: &wit_bindgen_core::Files,
    dir: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<PathBuf>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| BuildError::io(dir, e))?;
    }
    let mut kept = Vec::new();
    for (name, contents) in files.iter() {
        let path = dir.join(name);
        crate::files::write(&path, contents)?;
        if keep(name) {
            kept.push(path);
        }
    }
    Ok(kept)
}

/// Makes a component of a wasip1 reactor module that carries its world in a
/// custom section, adapting its wasip1 imports to WASI 0.2.
fn componentize_reactor(module: &[u8], path: &Path) -> Result<Vec<u8>> {
    let failed = |e: anyhow::Error| BuildError::Componentize {
        path: path.to_path_buf(),
        reason: format!("{e:#}"),
    };
    wit_component::ComponentEncoder::default()
        .module(module)
        .map_err(failed)?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(failed)?
        .validate(true)
        .encode()
        .map_err(failed)
}

/// Copies a project's sources into `to`, for tools that write beside what
/// they read: everything but hidden entries and `__pycache__`, and at the
/// top level the build folder, `node_modules` and built components.
fn copy_sources(from: &Path, to: &Path) -> Result<()> {
    crate::files::copy_tree(from, to, &|path, _| {
        let top = path.components().count() == 1;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        !(name.starts_with('.')
            || name == "__pycache__"
            || (top && (name == "build" || name == "node_modules" || name.ends_with(".wasm"))))
    })
}
