//! The one error type of the public API.
//!
//! Every failure a plugin can cause ends in one of these variants, so a host
//! matches on the variant, never on a message. Messages say what happened
//! and what to do, in the library's terms; they name no command-line flags
//! (front ends add their own hints), and whatever a plugin wrote reaches
//! them escaped and bounded. Variants caused by another error keep it as
//! their source, and their message already says what it said.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::permission::{Party, Permission, Request};
use crate::text::Untrusted;

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A cause kept as an error's source.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while loading or calling a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid component or core module.
    #[error("{origin}: not a valid WebAssembly component: {reason}")]
    InvalidComponent { origin: String, reason: String },

    /// The component is larger than this host compiles.
    #[error(
        "{origin}: the component has {actual} {measure}, more than the {limit} this host \
         compiles; it was not compiled"
    )]
    ComponentTooLarge {
        origin: String,
        /// What was counted: `bytes` or `functions`.
        measure: &'static str,
        actual: u64,
        limit: u64,
    },

    /// The manifest (`plugin.toml`) could not be read or is wrong.
    #[error("{}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },

    /// The operator's policy file is wrong.
    #[error("{}: {message}", path.display())]
    Policy { path: PathBuf, message: String },

    /// The file of remembered consent is damaged.
    #[error("{}: {message}", path.display())]
    GrantStore { path: PathBuf, message: String },

    /// A value given by the host or in a policy is malformed.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidSetting {
        what: &'static str,
        value: String,
        reason: String,
    },

    /// The plugin imports something that needs a permission it was not
    /// granted, and cannot be linked without it.
    #[error("plugin `{plugin}` needs `{permission}`, which {party} does not give it: {reason}")]
    PermissionDenied {
        plugin: String,
        permission: Permission,
        party: Party,
        reason: String,
    },

    /// The user was asked for permissions and declined to decide (a prompt
    /// that aborted, or no terminal to ask on); nothing was run.
    #[error("plugin `{plugin}` needs consent to {}", list(missing))]
    ConsentRequired {
        plugin: String,
        /// What was asked, each with the plugin's reason.
        missing: Vec<Request>,
    },

    /// The component imports an interface that no capability of this host
    /// provides.
    #[error(
        "plugin `{plugin}` imports `{import}`, which this host does not provide{}",
        hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    MissingImport {
        plugin: String,
        import: String,
        hint: Option<String>,
    },

    /// The plugin targets a version of an API (a world, or a host
    /// interface it imports) that this host does not speak.
    #[error(
        "plugin `{plugin}` needs {api}@{wanted}, but this host speaks {}; use a build of the \
         plugin made for one of those, or a host that speaks {api}@{wanted}",
        versions(api, speaks)
    )]
    ApiVersion {
        plugin: String,
        /// The world or interface, without version.
        api: String,
        wanted: String,
        /// The versions the host speaks, newest first.
        speaks: Vec<String>,
    },

    /// The component's imports could not be linked (wrong types or versions).
    #[error("plugin `{plugin}` cannot be linked: {reason}")]
    Link {
        plugin: String,
        reason: String,
        #[source]
        source: Option<Source>,
    },

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
        "plugin `{plugin}` did not finish within {}; the call was cancelled (its timeout limit)",
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

    /// The plugin returned `result::err`; the message is as it wrote it
    /// (cut to a bound) and shown escaped.
    #[error("plugin `{plugin}` returned an error: {}", Untrusted(message))]
    Guest { plugin: String, message: String },

    /// The guest exited through `wasi:cli/exit` with a status code.
    #[error("plugin `{plugin}` exited with status {code}")]
    Exit { plugin: String, code: i32 },

    /// A function of the host failed while serving the plugin: a host
    /// interface returned an error. The plugin is not at fault, but the
    /// instance is discarded, since the call did not finish.
    #[error("the key-value store of plugin `{plugin}`: {reason}")]
    KeyValue { plugin: String, reason: String },

    #[error("the host failed while serving plugin `{plugin}`: {reason}")]
    Host {
        plugin: String,
        reason: String,
        #[source]
        source: Option<Source>,
    },

    /// The host called the plugin in a way that cannot work, such as
    /// synchronous bindings inside an async call; the plugin is not at
    /// fault, and the message says what to change.
    #[error("the host called plugin `{plugin}` the wrong way: {reason}")]
    HostBinding {
        plugin: String,
        reason: String,
        #[source]
        source: Option<Source>,
    },

    /// The host ran out of something of its own, such as the pooling
    /// allocator's instance slots; the plugin is not at fault.
    #[error("the host cannot run plugin `{plugin}` now: {reason}")]
    HostResources { plugin: String, reason: String },

    /// The instance trapped or hit a limit before and can't be used again.
    #[error(
        "this instance of plugin `{plugin}` was discarded after an earlier failure; create a new instance"
    )]
    InstanceDiscarded { plugin: String },

    /// Blocking calls were asked for where they cannot be made: the plugin
    /// could wait, or the instance was made for the other kind of call.
    #[error("plugin `{plugin}` cannot be called this way: {reason}")]
    NotBlocking { plugin: String, reason: String },

    /// An entry of a plugin set's directory cannot be a plugin as it is: a
    /// folder without a component or with several, or a second plugin of a
    /// name already loaded.
    #[error("{}: {reason}", path.display())]
    PluginFolder { path: PathBuf, reason: String },

    /// The operator's policy requires a signature from a trusted key, and
    /// the component has none that verifies.
    #[error("plugin `{plugin}` is refused: {problem}")]
    Signature {
        plugin: String,
        problem: crate::signature::SignatureProblem,
    },

    /// A registry could not give or take a plugin, or gave bytes other
    /// than those asked for.
    #[error("`{reference}`: {problem}")]
    Registry {
        reference: String,
        problem: crate::registry::RegistryProblem,
    },

    /// A lockfile could not be read.
    #[error("lockfile {}: {message}", path.display())]
    Lockfile { path: PathBuf, message: String },

    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An error inside the runtime that none of the above describes.
    #[error("{message}")]
    Runtime {
        message: String,
        #[source]
        source: Option<Source>,
    },
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
    /// What the host writes of the guest's stdout, stderr and log.
    Output,
    /// Data the host takes from the guest in one call: results, or the
    /// arguments of one host call.
    Transfer,
}

impl Limit {
    /// `limit.memory`, `limit.cpu-time`, ...: [`Error::kind`] of the error.
    fn kind(self) -> &'static str {
        match self {
            Limit::Memory => "limit.memory",
            Limit::CpuTime => "limit.cpu-time",
            Limit::Fuel => "limit.fuel",
            Limit::Stack => "limit.stack",
            Limit::Output => "limit.output",
            Limit::Transfer => "limit.transfer",
        }
    }

    fn advice(self) -> &'static str {
        match self {
            Limit::Stack => "the plugin recursed too deeply",
            _ => "raise the limit if the plugin needs more",
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
            Limit::Transfer => "transfer",
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

/// `api 0.3.0, 0.2.0` or, when the host speaks none, `no version of api`.
fn versions(api: &str, speaks: &[String]) -> String {
    if speaks.is_empty() {
        format!("no version of {api}")
    } else {
        format!("{api} {}", speaks.join(", "))
    }
}

fn list(requests: &[Request]) -> String {
    let items: Vec<String> = requests.iter().map(|r| r.to_string()).collect();
    items.join(", ")
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
        if let Some((exception, kind)) = guest_exception(stderr_tail) {
            return write!(f, "{} ({kind}; the trap: {message})", Untrusted(&exception));
        }
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
            write!(f, " (guest stderr: {})", Untrusted(&last.join(" / ")))?;
        }
        Ok(())
    }
}

/// The guest's own account of a crash, when its language runtime wrote one
/// to stderr among its own lines: a Python exception (componentize-py
/// prints the traceback, then its runtime's panic), or what StarlingMonkey
/// says of an exception it could not turn into the world's error string.
/// With a description of what it is.
fn guest_exception(tail: &[String]) -> Option<(String, &'static str)> {
    let lines: Vec<&str> = tail.iter().map(|l| l.trim_end()).collect();
    let python = lines.iter().any(|l| {
        *l == "Traceback (most recent call last):"
            || l.contains("Python function threw an unexpected exception")
    });
    if python {
        let exception = lines.iter().rev().find(|line| is_python_exception(line))?;
        return Some((exception.to_string(), "an uncaught Python exception"));
    }
    if lines
        .iter()
        .any(|l| l.starts_with("expected a string, received"))
    {
        return Some((
            "the plugin threw an exception where its world returns an error string, and \
             componentize-js dropped it; throw a string instead (`throw String(error)`)"
                .into(),
            "a JavaScript exception",
        ));
    }
    None
}

/// `ValueError: ...`, `KeyError`, `mod.CustomError: ...`: a line that
/// names an exception class at its start, unindented.
fn is_python_exception(line: &str) -> bool {
    let name = line.split(':').next().unwrap_or_default();
    !name.is_empty()
        && !line.starts_with(char::is_whitespace)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && ["Error", "Exception", "Exit", "Interrupt", "Warning"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A runtime failure, its message the whole chain of `error`.
    pub(crate) fn runtime(error: wasmtime::Error) -> Self {
        Error::Runtime {
            message: format!("{error:#}"),
            source: Some(error.into_boxed_dyn_error()),
        }
    }

    /// A runtime failure described by the host.
    pub(crate) fn runtime_message(message: impl Into<String>) -> Self {
        Error::Runtime {
            message: message.into(),
            source: None,
        }
    }

    /// A stable label for the kind of error, for metrics and logs:
    /// `trap`, `guest`, `deadline`, `limit.memory`, `limit.cpu-time`,
    /// `permission-denied`, ... (the variant's name in kebab case, and the
    /// limit's for [`Error::LimitExceeded`]).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidComponent { .. } => "invalid-component",
            Error::ComponentTooLarge { .. } => "component-too-large",
            Error::Manifest { .. } => "manifest",
            Error::Policy { .. } => "policy",
            Error::GrantStore { .. } => "grant-store",
            Error::InvalidSetting { .. } => "invalid-setting",
            Error::PermissionDenied { .. } => "permission-denied",
            Error::ConsentRequired { .. } => "consent-required",
            Error::MissingImport { .. } => "missing-import",
            Error::ApiVersion { .. } => "api-version",
            Error::Link { .. } => "link",
            Error::MissingExport { .. } => "missing-export",
            Error::ExportType { .. } => "export-type",
            Error::WorldMismatch { .. } => "world-mismatch",
            Error::Argument { .. } => "argument",
            Error::LimitExceeded { limit, .. } => limit.kind(),
            Error::Deadline { .. } => "deadline",
            Error::Trap { .. } => "trap",
            Error::Guest { .. } => "guest",
            Error::Exit { .. } => "exit",
            Error::Host { .. } => "host",
            Error::KeyValue { .. } => "keyvalue",
            Error::HostBinding { .. } => "host-binding",
            Error::HostResources { .. } => "host-resources",
            Error::InstanceDiscarded { .. } => "instance-discarded",
            Error::NotBlocking { .. } => "not-blocking",
            Error::PluginFolder { .. } => "plugin-folder",
            Error::Io { .. } => "io",
            Error::Signature { .. } => "signature",
            Error::Registry { .. } => "registry",
            Error::Lockfile { .. } => "lockfile",
            Error::Runtime { .. } => "runtime",
        }
    }

    /// Whether the plugin is to blame: its code trapped, it hit a limit,
    /// it exited, or it returned an error. Not for the host's own failures,
    /// nor for mistakes in how it was called.
    pub fn is_plugin_fault(&self) -> bool {
        matches!(
            self,
            Error::Trap { .. }
                | Error::LimitExceeded { .. }
                | Error::Deadline { .. }
                | Error::Guest { .. }
                | Error::Exit { .. }
        )
    }
}

impl From<crate::call::WouldWait> for Error {
    fn from(would_wait: crate::call::WouldWait) -> Self {
        Error::runtime_message(would_wait.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_text_is_escaped_in_messages() {
        let err = Error::Guest {
            plugin: "p".into(),
            message: "done\nerror: the host is compromised\u{1b}[2J".into(),
        };
        let text = err.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        assert!(text.contains("done\\nerror"), "{text}");
        let trap = Error::Trap {
            plugin: "p".into(),
            message: "unreachable".into(),
            backtrace: None,
            stderr_tail: vec!["panicked\r\u{7}".into()],
        };
        assert!(trap.to_string().contains("panicked\\r\\u{7}"), "{trap}");
    }

    #[test]
    fn a_python_exception_comes_first() {
        let tail = [
            "Traceback (most recent call last):",
            "  File \"/0/app.py\", line 16, in lint",
            "ValueError: invalid literal for int() with base 10: 'abc'",
            "",
            "thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1280:25:",
            "Python function threw an unexpected exception",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        ];
        let trap = Error::Trap {
            plugin: "p".into(),
            message: "wasm trap: wasm `unreachable` instruction executed".into(),
            backtrace: None,
            stderr_tail: tail.iter().map(|l| l.to_string()).collect(),
        };
        assert_eq!(
            trap.to_string(),
            "plugin `p` crashed: ValueError: invalid literal for int() with base 10: 'abc' \
             (an uncaught Python exception; the trap: wasm trap: wasm `unreachable` \
             instruction executed)"
        );
    }

    #[test]
    fn messages_name_no_command_line_flags() {
        let err = Error::LimitExceeded {
            plugin: "p".into(),
            limit: Limit::Memory,
            detail: "16 MiB".into(),
        };
        assert!(!err.to_string().contains("--"), "{err}");
        let err = Error::Deadline {
            plugin: "p".into(),
            timeout: Duration::from_secs(1),
        };
        assert!(!err.to_string().contains("--"), "{err}");
    }
}
