//! The one error type of the public API.
//!
//! Every failure a plugin can cause ends in one of these variants, so a host
//! matches on the variant, never on a message. Messages say what happened and
//! what to do about it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading or calling a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid component or core module.
    #[error("{origin}: not a valid WebAssembly component: {reason}")]
    InvalidComponent { origin: String, reason: String },

    /// The manifest (`plugin.toml`) could not be read or is wrong.
    #[error("{}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },

    /// A value given on the command line or in a policy is malformed.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidSetting {
        what: &'static str,
        value: String,
        reason: String,
    },

    /// The plugin needs something its manifest did not request or the host
    /// did not grant.
    #[error("plugin `{plugin}` is denied `{permission}`: {reason}")]
    PermissionDenied {
        plugin: String,
        permission: String,
        reason: String,
    },

    /// The component imports an interface that no part of this host provides.
    #[error(
        "plugin `{plugin}` imports `{import}`, which this host does not provide{}",
        hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    MissingImport {
        plugin: String,
        import: String,
        hint: Option<String>,
    },

    /// The component's imports could not be linked (wrong types or versions).
    #[error("plugin `{plugin}` cannot be linked: {reason}")]
    Link { plugin: String, reason: String },

    /// The requested export does not exist.
    #[error("plugin `{plugin}` has no export `{export}`; it exports: {available}")]
    MissingExport {
        plugin: String,
        export: String,
        available: String,
    },

    /// The export exists but its signature is not the one the caller expects.
    #[error("plugin `{plugin}`: export `{export}` has the wrong type: {reason}")]
    ExportType {
        plugin: String,
        export: String,
        reason: String,
    },

    /// The component does not implement the world the host expects.
    #[error("plugin `{plugin}` does not implement the host's world: {reason}")]
    WorldMismatch { plugin: String, reason: String },

    /// Arguments for a dynamic call could not be parsed or converted.
    #[error("bad argument for `{export}`: {reason}")]
    Argument { export: String, reason: String },

    /// A limit was hit during a call; the instance has been discarded.
    #[error("plugin `{plugin}` exceeded its {limit} limit{}; {}", detail_suffix(detail), limit.advice())]
    LimitExceeded {
        plugin: String,
        limit: Limit,
        detail: String,
    },

    /// The call ran past its wall-clock deadline and was cancelled.
    #[error(
        "plugin `{plugin}` did not finish within {}; the call was cancelled (raise the timeout with --timeout or [limits] timeout)",
        humantime::format_duration(*timeout)
    )]
    Deadline { plugin: String, timeout: Duration },

    /// The guest trapped (a bug in the plugin, a panic, `unreachable`).
    #[error("plugin `{plugin}` crashed: {}", TrapDisplay(self))]
    Trap {
        plugin: String,
        /// What the trap was, as wasmtime reports it.
        message: String,
        /// The guest's wasm backtrace, when available.
        backtrace: Option<String>,
        /// The last lines the guest wrote to stderr before it trapped, which
        /// is where languages print their panic messages.
        stderr_tail: Vec<String>,
    },

    /// The plugin returned `result::err`.
    #[error("plugin `{plugin}` returned an error: {message}")]
    Guest { plugin: String, message: String },

    /// The guest exited through `wasi:cli/exit` with a status code.
    #[error("plugin `{plugin}` exited with status {code}")]
    Exit { plugin: String, code: i32 },

    /// The instance trapped or hit a limit before and can't be used again.
    #[error(
        "this instance of plugin `{plugin}` was discarded after an earlier failure; create a new instance"
    )]
    InstanceDiscarded { plugin: String },

    /// Blocking calls were asked for where they cannot be made: the plugin
    /// could wait, or the caller runs inside an async runtime, or the
    /// instance was made for the other kind of call.
    #[error("plugin `{plugin}` cannot be called this way: {reason}")]
    NotBlocking { plugin: String, reason: String },

    /// Reading a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An error inside the runtime that none of the above describes.
    #[error("{0}")]
    Runtime(String),
}

/// Which limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Linear memories and tables together.
    Memory,
    /// CPU time spent running wasm code (epoch based).
    CpuTime,
    /// Fuel (the deterministic CPU limit).
    Fuel,
    /// Wasm stack depth.
    Stack,
    /// Bytes written to stdout, stderr and the log.
    Output,
}

impl Limit {
    fn advice(self) -> &'static str {
        match self {
            Limit::Memory => "raise it with --max-memory or [limits] memory",
            Limit::CpuTime => "raise it with --timeout or [limits] cpu",
            Limit::Fuel => "raise it with --fuel or [limits] fuel",
            Limit::Stack => "the plugin recursed too deeply",
            Limit::Output => "raise it with [limits] output",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Memory => "memory",
            Limit::CpuTime => "CPU time",
            Limit::Fuel => "fuel",
            Limit::Stack => "stack",
            Limit::Output => "output",
        })
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// Renders a trap with the guest's own last words when it left any.
struct TrapDisplay<'a>(&'a Error);

impl fmt::Display for TrapDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::Trap {
            message,
            stderr_tail,
            ..
        } = self.0
        else {
            return Ok(());
        };
        f.write_str(message)?;
        // A panic message takes a few lines: show the last three.
        let mut last: Vec<&str> = stderr_tail
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .rev()
            .take(3)
            .collect();
        if !last.is_empty() {
            last.reverse();
            write!(f, " (guest stderr: {})", last.join(" / "))?;
        }
        Ok(())
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn runtime(error: impl fmt::Display) -> Self {
        Error::Runtime(format!("{error:#}"))
    }
}
