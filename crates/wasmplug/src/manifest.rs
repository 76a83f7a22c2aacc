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

use crate::capability::read_entries;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::limits::LimitOverrides;
use crate::permission::Request;

/// The file name looked for beside a component.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed `plugin.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifest {
    pub plugin: PluginInfo,
    /// What the plugin asks for under `[permissions]`, each with its reason.
    pub requests: Vec<Request>,
    pub limits: LimitOverrides,
    pub config: BTreeMap<String, String>,
    pub build: BuildSettings,
}

/// The fixed parts of the file; `[permissions]` is read capability by
/// capability.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    plugin: PluginInfo,
    #[serde(default)]
    #[allow(dead_code, reason = "read capability by capability")]
    permissions: serde::de::IgnoredAny,
    #[serde(default)]
    limits: LimitOverrides,
    #[serde(default)]
    config: BTreeMap<String, String>,
    #[serde(default)]
    build: BuildSettings,
}

/// Who the plugin is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PluginInfo {
    #[serde(deserialize_with = "check::name")]
    pub name: String,
    #[serde(deserialize_with = "check::version")]
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The WIT world the plugin targets, e.g. `wasmplug:plugin/plugin@0.1.0`.
    #[serde(default, deserialize_with = "check::world")]
    pub world: Option<String>,
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
        let invalid = |message: String| Error::Manifest {
            path: path.to_path_buf(),
            message,
        };
        let doc = Document::parse(text).map_err(invalid)?;
        let file: ManifestFile = doc.fixed().map_err(invalid)?;
        let entries = doc.entries(&["permissions"]).map_err(invalid)?;
        let requests = read_entries(&entries, "a plugin may request", |capability, entry| {
            capability.requests(entry)
        })
        .map_err(invalid)?;
        Ok(Manifest {
            plugin: file.plugin,
            requests,
            limits: file.limits,
            config: file.config,
            build: file.build,
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

    /// `ns:pkg/world` with an optional `@version`, each name in WIT's
    /// kebab case.
    pub(super) fn world<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, |world| {
            crate::names::WitName::parse(world)
                .map(|_| ())
                .map_err(|_| {
                    format!("`{world}` is not a world name like `wasmplug:plugin/plugin@0.1.0`")
                })
        })
        .map(Some)
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
        let permissions: Vec<String> = m
            .requests
            .iter()
            .map(|r| r.permission.to_string())
            .collect();
        assert_eq!(
            permissions,
            [
                "clocks",
                "dir /data (read-write)",
                "env LANG",
                "net 127.0.0.1:*"
            ]
        );
        assert_eq!(m.requests[1].reason, "stores notes");
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
    fn unknown_permissions_and_worlds_are_refused_where_they_are() {
        let err = parse("[plugin]\nname = \"a\"\nversion = \"1.0.0\"\n[permissions]\nfiles = []\n")
            .unwrap_err();
        assert!(err.to_string().contains("line 5, column 1"), "{err}");
        assert!(
            err.to_string().contains("unknown permission `files`"),
            "{err}"
        );
        for bad in [
            "not a world",
            "wasmplug:plugin",
            "a:b/c@x",
            "a:b/c@",
            "A b:c/d",
        ] {
            let err = parse(&format!(
                "[plugin]\nname = \"a\"\nversion = \"1.0.0\"\nworld = \"{bad}\"\n"
            ))
            .unwrap_err();
            assert!(err.to_string().contains("line 4"), "{bad}: {err}");
            assert!(err.to_string().contains("not a world name"), "{bad}: {err}");
        }
        for good in [
            "a:b/c",
            "wasmplug:plugin/plugin@0.1.0",
            "my-ns:pkg2/the-world@1.2.3-rc.1",
        ] {
            let m = parse(&format!(
                "[plugin]\nname = \"a\"\nversion = \"1.0.0\"\nworld = \"{good}\"\n"
            ))
            .unwrap();
            assert_eq!(m.plugin.world.as_deref(), Some(good));
        }
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
