//! Python: componentize-py, which bundles CPython and the plugin's modules
//! into a component. It writes `__pycache__` folders beside the sources it
//! imports, so it runs on a scratch copy of the project.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmplug::Language;

use crate::error::{BuildError, Result};
use crate::project::Project;
use crate::toolchain::{pip_install, run, venv_dir};
use crate::world_check::Wit;

/// The release whose export conventions the templates follow (a class per
/// exported interface in `app.py`, resources in a module named after their
/// interface); other releases changed them.
const VERSION: &str = "0.25.1";

pub(super) fn tools() -> Result<Vec<(String, PathBuf)>> {
    Ok(vec![("componentize-py".into(), componentize_py(None)?)])
}

pub(super) fn build(project: &Project, wit: &Wit) -> Result<Vec<u8>> {
    let tool = componentize_py(Some(project.dir()))?;
    let scratch = tempfile::tempdir().map_err(|e| BuildError::io(std::env::temp_dir(), e))?;
    super::copy_sources(project.dir(), scratch.path())?;
    let output = scratch.path().join("plugin.wasm");
    let mut command = Command::new(tool);
    command.current_dir(scratch.path());
    // Dependencies installed in the project's own venv get bundled.
    let venv = project.dir().join(".venv");
    if std::env::var_os("VIRTUAL_ENV").is_none() && venv.is_dir() {
        command.env("VIRTUAL_ENV", &venv);
    }
    run(command
        .arg("--quiet")
        .arg("-d")
        .arg(&wit.dir)
        .arg("-w")
        .arg(wit.qualified_world_name())
        .args(["componentize", "app", "-o"])
        .arg(&output))
    .map_err(without_backtrace)?;
    std::fs::read(&output).map_err(|e| BuildError::io(&output, e))
}

/// The first componentize-py of the pinned version on `PATH`, in wasmplug's
/// venv or in the project's `.venv`.
fn componentize_py(project: Option<&Path>) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut folders: Vec<PathBuf> = std::env::split_paths(&path).collect();
    folders.push(venv_dir().join("bin"));
    folders.extend(project.map(|p| p.join(".venv/bin")));
    let wanted = format!("componentize-py {VERSION}");
    let mut others = Vec::new();
    for tool in folders.iter().map(|dir| dir.join("componentize-py")) {
        if !tool.is_file() {
            continue;
        }
        let version = Command::new(&tool).arg("--version").output();
        let version = version.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        match version {
            Ok(version) if version == wanted => return Ok(tool),
            Ok(version) => others.push(format!("{version} at {}", tool.display())),
            Err(e) => others.push(format!("{}: {e}", tool.display())),
        }
    }
    let found = if others.is_empty() {
        String::new()
    } else {
        format!(" (found {})", others.join("; "))
    };
    Err(BuildError::MissingTool {
        tool: format!("{wanted}{found}"),
        language: Language::Python,
        install: pip_install(&format!("componentize-py=={VERSION}")),
    })
}

/// componentize-py follows the Python traceback with a Rust backtrace that
/// says nothing to a plugin author.
fn without_backtrace(error: BuildError) -> BuildError {
    match error {
        BuildError::ToolFailed {
            tool,
            status,
            output,
        } => BuildError::ToolFailed {
            tool,
            status,
            output: output
                .split("Stack backtrace:")
                .next()
                .unwrap_or_default()
                .to_string(),
        },
        other => other,
    }
}
