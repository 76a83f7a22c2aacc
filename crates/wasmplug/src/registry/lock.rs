//! `wasmplug.lock`: which bytes of which plugin are installed, so that the
//! same ones can be installed again elsewhere, or tomorrow.
//!
//! ```toml
//! # wasmplug.lock: written by `wasmplug install`; `wasmplug install --locked` installs exactly this.
//! version = 1
//!
//! [[plugin]]
//! name = "hello"
//! reference = "ghcr.io/example/hello:0.1.0"
//! version = "0.1.0"
//! digest = "sha256:…"      # the OCI image manifest, what is pulled
//! component = "sha256:…"   # the component it names
//! ```
//!
//! Plugins are kept sorted by name and written the same way every time, so
//! locking an unchanged set rewrites the file byte for byte.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layout::{oci_digest, parse_oci_digest};
use crate::error::{Error, Result};
use crate::source::Sha256Digest;

/// The lockfile's usual name.
pub const LOCK_FILE: &str = "wasmplug.lock";
const FORMAT_VERSION: u32 = 1;
const HEADER: &str = "# wasmplug.lock: written by `wasmplug install`; `wasmplug install --locked` installs exactly this.\n";

/// One installed plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub name: String,
    /// The reference it was installed from, as given (a tag, usually).
    pub reference: String,
    /// The plugin's version, from its manifest.
    pub version: Option<String>,
    /// The OCI image manifest's digest.
    pub digest: Sha256Digest,
    /// The component's digest.
    pub component: Sha256Digest,
}

impl Locked {
    /// The reference pinned to the locked digest: what `--locked` pulls.
    pub fn pinned(&self) -> String {
        let repository = match self.reference.split_once('@') {
            Some((repository, _)) => repository,
            None => strip_tag(&self.reference),
        };
        format!("{repository}@{}", oci_digest(&self.digest))
    }
}

/// `REGISTRY/REPO:TAG` without `:TAG` (a registry's port stays).
fn strip_tag(reference: &str) -> &str {
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(colon) => &reference[..last_slash + colon],
        None => reference,
    }
}

/// The plugins a lockfile records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lockfile {
    plugins: Vec<Locked>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFileText {
    version: u32,
    #[serde(default, rename = "plugin")]
    plugins: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    digest: String,
    component: String,
}

impl Lockfile {
    /// Reads the lockfile at `path`; an absent one is empty.
    pub fn read(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Parses lockfile text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let invalid = |message: String| Error::Lockfile {
            path: path.to_path_buf(),
            message,
        };
        let file: LockFileText = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if file.version != FORMAT_VERSION {
            return Err(invalid(format!(
                "it is version {} of the format; this wasmplug reads version {FORMAT_VERSION}",
                file.version
            )));
        }
        let digest = |field: &str, text: &str, name: &str| {
            parse_oci_digest(text).ok_or_else(|| {
                invalid(format!(
                    "plugin `{name}`: {field} `{text}` is not sha256:<64 hex digits>"
                ))
            })
        };
        let mut lock = Lockfile::default();
        for entry in file.plugins {
            if lock.get(&entry.name).is_some() {
                return Err(invalid(format!("plugin `{}` is locked twice", entry.name)));
            }
            lock.plugins.push(Locked {
                digest: digest("digest", &entry.digest, &entry.name)?,
                component: digest("component", &entry.component, &entry.name)?,
                name: entry.name,
                reference: entry.reference,
                version: entry.version,
            });
        }
        lock.plugins.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(lock)
    }

    pub fn plugins(&self) -> &[Locked] {
        &self.plugins
    }

    pub fn get(&self, name: &str) -> Option<&Locked> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// Records `locked`, in place of what was locked under its name.
    pub fn insert(&mut self, locked: Locked) {
        self.plugins.retain(|p| p.name != locked.name);
        self.plugins.push(locked);
        self.plugins.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Forgets plugin `name`; whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.plugins.len();
        self.plugins.retain(|p| p.name != name);
        before != self.plugins.len()
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let file = LockFileText {
            version: FORMAT_VERSION,
            plugins: self
                .plugins
                .iter()
                .map(|p| Entry {
                    name: p.name.clone(),
                    reference: p.reference.clone(),
                    version: p.version.clone(),
                    digest: oci_digest(&p.digest),
                    component: oci_digest(&p.component),
                })
                .collect(),
        };
        let body = toml::to_string(&file).expect("a lockfile serializes");
        format!("{HEADER}{body}")
    }

    /// Writes the lockfile to `path`, replacing it whole.
    pub fn write(&self, path: &Path) -> Result<()> {
        let dir = parent_dir(path);
        let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(|e| Error::io(&dir, e))?;
        std::io::Write::write_all(&mut file, self.to_text().as_bytes())
            .map_err(|e| Error::io(path, e))?;
        file.persist(path).map_err(|e| Error::io(path, e.error))?;
        Ok(())
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(name: &str, reference: &str) -> Locked {
        Locked {
            name: name.into(),
            reference: reference.into(),
            version: Some("0.1.0".into()),
            digest: Sha256Digest::of(name.as_bytes()),
            component: Sha256Digest::of(reference.as_bytes()),
        }
    }

    #[test]
    fn a_lockfile_reads_back_and_rewrites_byte_for_byte() {
        let mut lock = Lockfile::default();
        lock.insert(locked("shout", "127.0.0.1:5000/plugins/shout:0.1.0"));
        lock.insert(locked("hello", "127.0.0.1:5000/plugins/hello:latest"));
        let text = lock.to_text();
        assert!(
            text.find("hello").unwrap() < text.find("shout").unwrap(),
            "sorted: {text}"
        );
        let again = Lockfile::parse(&text, Path::new("wasmplug.lock")).unwrap();
        assert_eq!(again, lock);
        assert_eq!(again.to_text(), text);
    }

    #[test]
    fn a_locked_plugin_is_pulled_by_digest() {
        let with_port = locked("hello", "127.0.0.1:5000/plugins/hello:0.1.0");
        let digest = oci_digest(&with_port.digest);
        assert_eq!(
            with_port.pinned(),
            format!("127.0.0.1:5000/plugins/hello@{digest}")
        );
        let untagged = locked("hello", "127.0.0.1:5000/plugins/hello");
        assert_eq!(
            untagged.pinned(),
            format!("127.0.0.1:5000/plugins/hello@{digest}")
        );
        let pinned = locked(
            "hello",
            &format!("ghcr.io/x/hello@sha256:{}", "0".repeat(64)),
        );
        assert_eq!(pinned.pinned(), format!("ghcr.io/x/hello@{digest}"));
    }

    #[test]
    fn a_broken_lockfile_says_what_is_wrong() {
        let path = Path::new("wasmplug.lock");
        let cases = [
            ("version = 2\n", "version 2"),
            (
                "version = 1\n[[plugin]]\nname = \"a\"\nreference = \"r\"\ndigest = \"md5:00\"\ncomponent = \"sha256:00\"\n",
                "digest `md5:00`",
            ),
            ("version = 1\n[[plugin]]\nname = \"a\"\n", "missing field"),
        ];
        for (text, expected) in cases {
            let error = Lockfile::parse(text, path).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
        let twice = locked("a", "r");
        let lock = Lockfile {
            plugins: vec![twice.clone(), twice],
        };
        let error = Lockfile::parse(&lock.to_text(), path)
            .unwrap_err()
            .to_string();
        assert!(error.contains("locked twice"), "{error}");
    }
}
