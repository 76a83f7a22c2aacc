//! What can go wrong while scaffolding or building a plugin, each with what
//! to do about it.

use std::path::PathBuf;

pub type Result<T, E = BuildError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Manifest(#[from] wasmplug::Error),

    #[error("{dir} is not a plugin project: {reason}")]
    NotAProject { dir: PathBuf, reason: String },

    #[error("{tool} is needed to build {language} plugins and was not found; {install}")]
    MissingTool {
        tool: String,
        language: wasmplug::Language,
        install: String,
    },

    #[error("{tool} failed ({status}){}", tail(output))]
    ToolFailed {
        tool: String,
        status: String,
        output: String,
    },

    #[error("the WIT in {dir} does not define the world: {reason}")]
    Wit { dir: PathBuf, reason: String },

    #[error("generating {language} bindings failed: {reason}")]
    Bindings {
        language: wasmplug::Language,
        reason: String,
    },

    #[error("making a component of {path} failed: {reason}")]
    Componentize { path: PathBuf, reason: String },

    #[error("the component does not implement world {world}: {reason}")]
    WorldMismatch { world: String, reason: String },

    #[error(
        "`{name}` is not a plugin name: start with a lower-case letter and use only lower-case \
         letters, digits and `-`"
    )]
    BadName { name: String },

    #[error("the {template} template cannot be used here: {reason}")]
    Template {
        template: &'static str,
        reason: String,
    },

    #[error("{path} already exists; choose another name or remove it")]
    Exists { path: PathBuf },

    #[error(
        "{} is the manifest of plugin `{other}`; build into a folder of this plugin's own \
         (`-o dist/NAME/`), since a host reads one plugin.toml per folder",
        path.display()
    )]
    ManifestClash { path: PathBuf, other: String },
}

impl BuildError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BuildError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The end of a failed tool's output: usually where the reason is.
fn tail(output: &str) -> String {
    const LINES: usize = 30;
    let lines: Vec<&str> = output.trim_end().lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(LINES);
    format!(":\n{}", lines[start..].join("\n"))
}
