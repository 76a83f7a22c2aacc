//! The plugin's own declaration, `plugin.toml`: who it is, which world it
//! targets, what it asks for and why.
//!
//! ```toml
//! [plugin]
//! name = "hello"
//! version = "0.1.0"
//! description = "Greets whoever it is given"
//! world = "wasmplug:plugin/plugin@0.1.0"
//!
//! [permissions]
//! clocks = "to timestamp its greetings"
//! dirs = [{ path = "/data", access = "read", reason = "reads greeting templates" }]
//! env = [{ name = "LANG", reason = "greets in the user's language" }]
//! net = [{ host = "api.example.com:443", reason = "fetches names" }]
//! interfaces = [{ name = "example:filters/app", reason = "shows the app's name" }]
//!
//! [limits]
//! memory = "64MiB"
//! timeout = "2s"
//!
//! [config]
//! greeting = "Hello"
//!
//! [build]
//! language = "rust"
//! wit = "wit"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::limits::LimitOverrides;

/// The file name looked for beside a component.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed `plugin.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub plugin: PluginInfo,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub limits: LimitOverrides,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub build: BuildSettings,
}

/// Who the plugin is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginInfo {
    #[serde(deserialize_with = "check::name")]
    pub name: String,
    #[serde(deserialize_with = "check::version")]
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The WIT world the plugin targets, e.g. `wasmplug:plugin/plugin@0.1.0`.
    #[serde(default)]
    pub world: Option<String>,
}

/// What the plugin asks for. Each entry carries the reason shown to the
/// person who grants it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// Real wall and monotonic clocks; without them both stand still.
    #[serde(default, deserialize_with = "check::optional_reason")]
    pub clocks: Option<String>,
    /// Secure randomness; without it the guest gets a fixed sequence.
    #[serde(default, deserialize_with = "check::optional_reason")]
    pub random: Option<String>,
    /// The host's standard input.
    #[serde(default, deserialize_with = "check::optional_reason")]
    pub stdin: Option<String>,
    #[serde(default)]
    pub dirs: Vec<DirRequest>,
    #[serde(default)]
    pub env: Vec<EnvRequest>,
    #[serde(default)]
    pub net: Vec<NetRequest>,
    #[serde(default)]
    pub interfaces: Vec<InterfaceRequest>,
}

/// A directory the plugin wants at a path of its own choosing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirRequest {
    /// The path the guest opens, e.g. `/data`.
    #[serde(deserialize_with = "check::non_empty")]
    pub path: String,
    #[serde(default)]
    pub access: Access,
    #[serde(deserialize_with = "check::reason")]
    pub reason: String,
}

/// Read-only or read-write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    #[default]
    Read,
    ReadWrite,
}

/// An environment variable by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvRequest {
    #[serde(deserialize_with = "check::env_name")]
    pub name: String,
    #[serde(deserialize_with = "check::reason")]
    pub reason: String,
}

/// An outgoing connection to `HOST:PORT` (`*` for any port).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetRequest {
    #[serde(deserialize_with = "check::net_pattern")]
    pub host: String,
    #[serde(deserialize_with = "check::reason")]
    pub reason: String,
}

/// A host interface, e.g. `example:filters/app`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceRequest {
    #[serde(deserialize_with = "check::non_empty")]
    pub name: String,
    #[serde(deserialize_with = "check::reason")]
    pub reason: String,
}

/// How `wasmplug build` turns the plugin's sources into a component. Hosts
/// ignore it; it lives here so that one file describes the plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSettings {
    /// The plugin's language; detected from its files when absent.
    #[serde(default)]
    pub language: Option<Language>,
    /// The folder of WIT files that defines `plugin.world`, relative to the
    /// manifest; `wit` when absent.
    #[serde(default)]
    pub wit: Option<PathBuf>,
    /// The JavaScript engine embedded in the component.
    #[serde(default)]
    pub engine: Option<JsEngine>,
}

/// A language `wasmplug build` knows how to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
    Js,
    C,
    Go,
}

impl Language {
    pub const ALL: [Language; 5] = [
        Language::Rust,
        Language::Python,
        Language::Js,
        Language::C,
        Language::Go,
    ];

    /// The name used in manifests and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
            Language::C => "c",
            Language::Go => "go",
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Language::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| format!("unknown language `{s}`: use rust, python, js, c or go"))
    }
}

/// The JavaScript engine of a JS plugin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsEngine {
    /// SpiderMonkey, through componentize-js: the web platform's APIs
    /// (`console`, `TextEncoder`, timers); ~12 MB, seconds to compile.
    #[default]
    StarlingMonkey,
    /// QuickJS, through jco: the language without those APIs; ~1.6 MB,
    /// compiled in about a second.
    Qjs,
}

impl JsEngine {
    /// The name used in manifests and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            JsEngine::StarlingMonkey => "starlingmonkey",
            JsEngine::Qjs => "qjs",
        }
    }
}

impl std::str::FromStr for JsEngine {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        [JsEngine::StarlingMonkey, JsEngine::Qjs]
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| format!("unknown JavaScript engine `{s}`: use starlingmonkey or qjs"))
    }
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses manifest text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            message: describe_toml_error(text, &e),
        })
    }

    /// Finds `plugin.toml` beside a component file, if there is one.
    pub fn beside(component: &Path) -> Option<PathBuf> {
        let candidate = component.parent()?.join(MANIFEST_FILE);
        candidate.is_file().then_some(candidate)
    }
}

/// Checks run while the manifest is read, so that toml reports each failure
/// with the line and column of the offending value.
mod check {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};

    fn string<'de, D: Deserializer<'de>>(
        d: D,
        valid: impl FnOnce(&str) -> Result<(), String>,
    ) -> Result<String, D::Error> {
        let value = String::deserialize(d)?;
        valid(&value).map_err(D::Error::custom)?;
        Ok(value)
    }

    pub(super) fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        string(d, |name| {
            let fine = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            fine.then_some(()).ok_or_else(|| {
                format!("`{name}` is not a plugin name: use letters, digits, `-` and `_`")
            })
        })
    }

    pub(super) fn version<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        string(d, |version| {
            let core = version.split(['-', '+']).next().unwrap_or("");
            let parts: Vec<&str> = core.split('.').collect();
            let fine = parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            fine.then_some(())
                .ok_or_else(|| format!("`{version}` is not a version like 1.2.3"))
        })
    }

    pub(super) fn reason<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        string(d, |reason| {
            if reason.trim().is_empty() {
                Err("say why the plugin needs this permission".into())
            } else {
                Ok(())
            }
        })
    }

    pub(super) fn optional_reason<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<String>, D::Error> {
        reason(d).map(Some)
    }

    pub(super) fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        string(d, |value| {
            if value.is_empty() {
                Err("must not be empty".into())
            } else {
                Ok(())
            }
        })
    }

    pub(super) fn env_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        string(d, |name| {
            if name.is_empty() || name.contains('=') {
                Err(format!("`{name}` is not an environment variable name"))
            } else {
                Ok(())
            }
        })
    }

    pub(super) fn net_pattern<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        string(d, |pattern| {
            crate::policy::NetPattern::parse(pattern)
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }
}

/// Formats a TOML error as `line L, column C: message`.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("plugin.toml"))
    }

    #[test]
    fn full_manifest_parses() {
        let m = parse(
            r#"
[plugin]
name = "hello"
version = "0.1.0"
world = "wasmplug:plugin/plugin@0.1.0"

[permissions]
clocks = "timestamps"
dirs = [{ path = "/data", access = "read-write", reason = "stores notes" }]
env = [{ name = "LANG", reason = "language" }]
net = [{ host = "127.0.0.1:*", reason = "talks to a local service" }]

[limits]
memory = "64MiB"
timeout = "2s"

[config]
greeting = "Hi"
"#,
        )
        .unwrap();
        assert_eq!(m.plugin.name, "hello");
        assert_eq!(m.permissions.dirs[0].access, Access::ReadWrite);
        assert_eq!(m.limits.memory, Some(64 << 20));
        assert_eq!(m.config["greeting"], "Hi");
    }

    #[test]
    fn unknown_key_reports_line_and_column() {
        let err =
            parse("[plugin]\nname = \"a\"\nversion = \"1.0.0\"\ncolour = \"red\"\n").unwrap_err();
        let Error::Manifest { message, .. } = err else {
            panic!("expected a manifest error, got {err:?}")
        };
        assert!(message.starts_with("line 4, column 1:"), "{message}");
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn bad_values_are_rejected_with_location() {
        let err =
            parse("[plugin]\nname = \"a\"\nversion = \"1.0.0\"\n[limits]\nmemory = \"lots\"\n")
                .unwrap_err();
        assert!(err.to_string().contains("line 5"), "{err}");
        let err = parse("[plugin]\nname = \"a b\"\nversion = \"1.0.0\"\n").unwrap_err();
        assert!(err.to_string().contains("line 2, column 8"), "{err}");
        assert!(err.to_string().contains("not a plugin name"), "{err}");
        let err = parse("[plugin]\nname = \"a\"\nversion = \"one\"\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(err.to_string().contains("not a version"), "{err}");
        let err = parse(
            "[plugin]\nname = \"a\"\nversion = \"1.0.0\"\n[permissions]\nnet = [{ host = \"nowhere\", reason = \"r\" }]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 5"), "{err}");
        assert!(err.to_string().contains("HOST:PORT"), "{err}");
        let err = parse("[plugin\nname = 1").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn permissions_need_reasons() {
        let err = parse(
            "[plugin]\nname = \"a\"\nversion = \"1.0.0\"\n[permissions]\nenv = [{ name = \"HOME\", reason = \" \" }]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 5"), "{err}");
        assert!(err.to_string().contains("say why"), "{err}");
    }
}
