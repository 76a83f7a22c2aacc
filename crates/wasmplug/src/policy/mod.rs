//! The operator's policy: what any plugin, or a plugin by name, may be
//! given on this host, and the highest limits a manifest may ask for.
//!
//! A request above the policy is refused, never put to the user. For
//! directories the policy also says which host directory backs a guest
//! path. The policy file:
//!
//! ```toml
//! [allow]                      # what any plugin may be given
//! clocks = true
//! random = true
//! env = ["LANG", { name = "GREETING", value = "hello" }]
//! net = ["api.example.com:443"]
//! interfaces = ["example:filters/app"]
//! dirs = [{ path = "/data", host = "/srv/plugins/data", access = "read" }]
//!
//! [limits]                     # the most a manifest may ask for
//! memory = "256MiB"
//! timeout = "10s"
//!
//! [plugins.notes.allow]        # what the plugin named `notes` may have besides
//! dirs = [{ path = "/notes", host = "/srv/notes", access = "read-write" }]
//!
//! [plugins.notes.limits]
//! memory = "64MiB"
//! ```
//!
//! Each key under `allow` belongs to a capability, which reads it; see
//! `docs/policy.md` for every key.

mod consent;
mod decide;
mod grants;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::capability::read_entries;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::limits::LimitOverrides;
use crate::permission::{Access, Grant, Permission};
use crate::signature::PublicKey;

pub use consent::{Consent, ConsentAnswer, ConsentRequest, PluginIdentity};
pub use decide::Grants;
pub(crate) use decide::decide;
pub use grants::{Consented, GrantStore};

/// What the operator allows. Empty by default: a policy allows nothing it
/// does not name.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    allow: Vec<Grant>,
    limits: LimitOverrides,
    plugins: BTreeMap<String, PluginRules>,
    /// Keys whose signatures the operator trusts.
    trusted: Vec<PublicKey>,
    /// Whether every plugin must be signed by one of them.
    require_signatures: bool,
    source: Option<PathBuf>,
}

/// What one plugin may have besides what every plugin may.
#[derive(Debug, Clone, Default)]
struct PluginRules {
    allow: Vec<Grant>,
    limits: LimitOverrides,
    require_signature: bool,
}

/// The fixed parts of a policy file; `allow` tables are read per capability.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    #[allow(dead_code, reason = "read capability by capability")]
    allow: serde::de::IgnoredAny,
    #[serde(default)]
    limits: LimitOverrides,
    #[serde(default)]
    plugins: BTreeMap<String, PluginFile>,
    #[serde(default)]
    signatures: SignaturesFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginFile {
    #[serde(default)]
    #[allow(dead_code, reason = "read capability by capability")]
    allow: serde::de::IgnoredAny,
    #[serde(default)]
    limits: LimitOverrides,
    #[serde(default, rename = "require-signature")]
    require_signature: bool,
}

/// `[signatures]`: the public key files the operator trusts (relative to
/// the policy file), and whether every plugin must be signed.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SignaturesFile {
    #[serde(default)]
    trusted: Vec<PathBuf>,
    #[serde(default)]
    require: bool,
}

impl Policy {
    /// A policy that allows nothing.
    pub fn new() -> Self {
        Policy::default()
    }

    /// A policy that allows whatever a user grants: any environment
    /// variable, address, interface, clocks, randomness and stdin, and any
    /// directory at the host directory the user names. What a command line
    /// runs under when the machine has no policy file: the person at the
    /// terminal is the operator.
    pub fn unrestricted() -> Self {
        Policy::new()
            .allow(Grant::new(Permission::Dir {
                path: "*".into(),
                access: Access::ReadWrite,
            }))
            .allow(Grant::env("*"))
            .allow(Grant::net("*:*"))
            .allow(Grant::interface("*"))
            .allow(Grant::clocks())
            .allow(Grant::random())
            .allow(Grant::stdin())
    }

    /// Allows `grant` to every plugin.
    pub fn allow(mut self, grant: Grant) -> Self {
        self.allow.push(grant);
        self
    }

    /// Allows `grant` to the plugin named `plugin`.
    pub fn allow_plugin(mut self, plugin: &str, grant: Grant) -> Self {
        self.plugins
            .entry(plugin.to_string())
            .or_default()
            .allow
            .push(grant);
        self
    }

    /// The most a manifest may ask for, for every plugin.
    pub fn limits(mut self, ceiling: LimitOverrides) -> Self {
        self.limits = ceiling;
        self
    }

    /// The most a manifest may ask for, for the plugin named `plugin`.
    pub fn plugin_limits(mut self, plugin: &str, ceiling: LimitOverrides) -> Self {
        self.plugins.entry(plugin.to_string()).or_default().limits = ceiling;
        self
    }

    /// Trusts signatures by `key`.
    pub fn trust(mut self, key: PublicKey) -> Self {
        self.trusted.push(key);
        self
    }

    /// Requires every plugin to be signed by a trusted key.
    pub fn require_signatures(mut self) -> Self {
        self.require_signatures = true;
        self
    }

    /// Requires the plugin named `plugin` to be signed by a trusted key.
    pub fn require_signature(mut self, plugin: &str) -> Self {
        self.plugins
            .entry(plugin.to_string())
            .or_default()
            .require_signature = true;
        self
    }

    /// Whether `plugin` must be signed by one of [`Self::trusted_keys`].
    pub fn signature_required(&self, plugin: &str) -> bool {
        self.require_signatures
            || self
                .plugins
                .get(plugin)
                .is_some_and(|r| r.require_signature)
    }

    /// The keys whose signatures the operator trusts.
    pub fn trusted_keys(&self) -> &[PublicKey] {
        &self.trusted
    }

    /// `$WASMPLUG_POLICY`, or `wasmplug/policy.toml` in the platform's
    /// configuration directory (`$XDG_CONFIG_HOME`, `~/.config`, ...).
    pub fn default_path() -> Option<PathBuf> {
        std::env::var_os("WASMPLUG_POLICY")
            .map(PathBuf::from)
            .or_else(|| dirs::config_dir().map(|d| d.join("wasmplug").join("policy.toml")))
    }

    /// Reads and checks a policy file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses policy text; `path` labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let invalid = |message: String| Error::Policy {
            path: path.to_path_buf(),
            message,
        };
        let doc = Document::parse(text).map_err(invalid)?;
        let file: PolicyFile = doc.fixed().map_err(invalid)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let trusted = file
            .signatures
            .trusted
            .iter()
            .map(|key| {
                PublicKey::from_file(&base.join(key))
                    .map_err(|e| invalid(format!("[signatures] trusted: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        if file.signatures.require && trusted.is_empty() {
            return Err(invalid(
                "[signatures] require = true needs at least one trusted key".into(),
            ));
        }
        let mut policy = Policy {
            allow: allowances(&doc, &["allow"]).map_err(invalid)?,
            limits: file.limits,
            plugins: BTreeMap::new(),
            trusted,
            require_signatures: file.signatures.require,
            source: Some(path.to_path_buf()),
        };
        for (name, plugin) in file.plugins {
            let allow = allowances(&doc, &["plugins", &name, "allow"]).map_err(invalid)?;
            policy.plugins.insert(
                name,
                PluginRules {
                    allow,
                    limits: plugin.limits,
                    require_signature: plugin.require_signature,
                },
            );
        }
        Ok(policy)
    }

    /// The file this policy was read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// What `plugin` may be given: what every plugin may, and its own.
    pub fn allowances(&self, plugin: &str) -> impl Iterator<Item = &Grant> {
        self.allow.iter().chain(
            self.plugins
                .get(plugin)
                .into_iter()
                .flat_map(|rules| rules.allow.iter()),
        )
    }

    /// The highest limits `plugin`'s manifest may ask for, as overrides of
    /// the host's own ceiling: its own where it has them, else every
    /// plugin's.
    pub fn ceiling(&self, plugin: &str) -> LimitOverrides {
        let own = self.plugins.get(plugin).map(|rules| &rules.limits);
        let all = &self.limits;
        LimitOverrides {
            memory: own.and_then(|o| o.memory).or(all.memory),
            cpu: own.and_then(|o| o.cpu).or(all.cpu),
            timeout: own.and_then(|o| o.timeout).or(all.timeout),
            fuel: own.and_then(|o| o.fuel).or(all.fuel),
            output: own.and_then(|o| o.output).or(all.output),
            transfer: own.and_then(|o| o.transfer).or(all.transfer),
        }
    }
}

/// The allowances of the table at `path`, each key read by its capability.
fn allowances(doc: &Document<'_>, path: &[&str]) -> std::result::Result<Vec<Grant>, String> {
    read_entries(
        &doc.entries(path)?,
        "a policy allows",
        |capability, entry| capability.allowances(entry),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy> {
        Policy::parse(text, Path::new("policy.toml"))
    }

    #[test]
    fn a_policy_file_allows_per_capability_and_per_plugin() {
        let policy = parse(
            r#"
[allow]
clocks = true
random = false
env = ["LANG", { name = "GREETING", value = "hi" }]
net = ["api.example.com:443"]
interfaces = ["example:filters/app@0.1.0"]

[limits]
memory = "128MiB"

[plugins.notes.allow]
dirs = [{ path = "/notes", host = "/srv/notes", access = "read-write" }]

[plugins.notes.limits]
timeout = "2s"
"#,
        )
        .unwrap();
        let all: Vec<String> = policy.allowances("other").map(|g| g.to_string()).collect();
        assert_eq!(
            all,
            [
                "clocks",
                "env LANG",
                "env GREETING (value given)",
                "interface example:filters/app@0.1.0",
                "net api.example.com:443",
            ]
        );
        assert_eq!(policy.allowances("notes").count(), 6);
        assert_eq!(policy.ceiling("notes").memory, Some(128 << 20));
        assert_eq!(
            policy.ceiling("notes").timeout,
            Some(std::time::Duration::from_secs(2))
        );
        assert_eq!(policy.ceiling("other").timeout, None);
    }

    #[test]
    fn mistakes_are_reported_where_they_are() {
        let err = parse("[allow]\nclocks = true\ncolour = \"red\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3, column 1"), "{text}");
        assert!(text.contains("unknown permission `colour`"), "{text}");
        assert!(text.contains("dirs, "), "{text}");
        let err = parse("[allow]\nenv = [\"A=B\"]\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = parse("[allow]\nnet = [\"nowhere\"]\n").unwrap_err();
        assert!(err.to_string().contains("HOST:PORT"), "{err}");
        let err =
            parse("[plugins.x.allow]\ndirs = [{ path = \"/d\", hots = \"/x\" }]\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("hots"), "{err}");
        let err = parse("[limit]\n").unwrap_err();
        assert!(matches!(err, Error::Policy { .. }), "{err:?}");
    }
}
