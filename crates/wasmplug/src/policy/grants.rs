//! Remembered consent: which permissions a user granted to which plugin.
//!
//! Consent is kept per plugin identity (name, version and SHA-256). A
//! plugin whose version or build changed keeps what the user consented to
//! for the one before, and is asked only for what it adds. In a file, each
//! change is a read-modify-write under a lock beside the file, written to a
//! temporary file and renamed over the old one, so two processes recording
//! at once both keep their entries and a reader never sees half a file:
//!
//! ```toml
//! [[consent]]
//! plugin = "hello"
//! version = "0.1.0"
//! sha256 = "5f2b…"
//! when = "2026-12-01T21:04:05Z"
//! granted = [{ capability = "env", name = "LANG" }, { capability = "clocks" }]
//! ```

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::PluginIdentity;
use crate::error::{Error, Result};
use crate::permission::Permission;
use crate::source::Sha256Digest;

/// Where remembered consent lives: a file, or memory for one process.
/// Cheap to clone; clones share the store.
#[derive(Debug, Clone)]
pub struct GrantStore {
    backend: Arc<Backend>,
}

#[derive(Debug)]
enum Backend {
    Memory(Mutex<Vec<Consented>>),
    File(PathBuf),
}

/// What a user consented to for one plugin identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consented {
    pub identity: PluginIdentity,
    pub granted: BTreeSet<Permission>,
    pub when: SystemTime,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsFile {
    #[serde(default)]
    consent: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    plugin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    sha256: String,
    when: String,
    granted: Vec<Permission>,
}

impl GrantStore {
    /// A store that lives as long as the process.
    pub fn in_memory() -> Self {
        GrantStore {
            backend: Arc::new(Backend::Memory(Mutex::new(Vec::new()))),
        }
    }

    /// A store in the file at `path`, created on the first consent.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        GrantStore {
            backend: Arc::new(Backend::File(path.into())),
        }
    }

    /// `$WASMPLUG_GRANTS`, or `wasmplug/grants.toml` in the platform's data
    /// directory (`$XDG_DATA_HOME`, `~/.local/share`, ...).
    pub fn default_path() -> Option<PathBuf> {
        std::env::var_os("WASMPLUG_GRANTS")
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("wasmplug").join("grants.toml")))
    }

    /// The file behind this store, if any.
    pub fn path(&self) -> Option<&Path> {
        match &*self.backend {
            Backend::File(path) => Some(path),
            Backend::Memory(_) => None,
        }
    }

    /// Every remembered consent, in the order recorded.
    pub fn list(&self) -> Result<Vec<Consented>> {
        match &*self.backend {
            Backend::Memory(entries) => Ok(lock(entries).clone()),
            Backend::File(path) => read(path),
        }
    }

    /// The consent for `identity`, or else the latest for a plugin of the
    /// same name, whose permissions carry over to a new version or build.
    pub fn lookup(&self, identity: &PluginIdentity) -> Result<Option<Consented>> {
        let entries = self.list()?;
        let exact = entries.iter().find(|c| &c.identity == identity);
        let latest = || {
            entries
                .iter()
                .filter(|c| c.identity.name == identity.name)
                .max_by_key(|c| c.when)
        };
        Ok(exact.or_else(latest).cloned())
    }

    /// Remembers `consented`, replacing what was remembered for the same
    /// plugin name and version.
    pub fn record(&self, consented: Consented) -> Result<()> {
        self.update(|entries| {
            entries.retain(|c| {
                c.identity.name != consented.identity.name
                    || c.identity.version != consented.identity.version
            });
            entries.push(consented);
            0
        })
        .map(drop)
    }

    /// Forgets the consent for plugin `name`, for every version or one;
    /// returns how many entries were removed.
    pub fn revoke(&self, name: &str, version: Option<&str>) -> Result<usize> {
        self.update(|entries| {
            let before = entries.len();
            entries.retain(|c| {
                c.identity.name != name
                    || version.is_some_and(|v| c.identity.version.as_deref() != Some(v))
            });
            before - entries.len()
        })
    }

    fn update(&self, change: impl FnOnce(&mut Vec<Consented>) -> usize) -> Result<usize> {
        match &*self.backend {
            Backend::Memory(entries) => Ok(change(&mut lock(entries))),
            Backend::File(path) => {
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                let dir = dir.unwrap_or(Path::new("."));
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let lock_path = path.with_extension("toml.lock");
                let lock_file = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
                lock_file.lock().map_err(|e| Error::io(&lock_path, e))?;
                let mut entries = read(path)?;
                let changed = change(&mut entries);
                write(path, dir, &entries)?;
                Ok(changed)
            }
        }
    }
}

fn lock(entries: &Mutex<Vec<Consented>>) -> std::sync::MutexGuard<'_, Vec<Consented>> {
    entries.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read(path: &Path) -> Result<Vec<Consented>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let invalid = |message: String| Error::GrantStore {
        path: path.to_path_buf(),
        message,
    };
    let file: GrantsFile =
        toml::from_str(&text).map_err(|e| invalid(crate::document::describe(&text, &e)))?;
    file.consent
        .into_iter()
        .map(|entry| {
            let sha256 = Sha256Digest::from_hex(&entry.sha256)
                .ok_or_else(|| invalid(format!("`{}` is not a SHA-256", entry.sha256)))?;
            let when = humantime::parse_rfc3339(&entry.when)
                .map_err(|e| invalid(format!("`{}`: {e}", entry.when)))?;
            Ok(Consented {
                identity: PluginIdentity {
                    name: entry.plugin,
                    version: entry.version,
                    sha256,
                },
                granted: entry.granted.into_iter().collect(),
                when,
            })
        })
        .collect()
}

fn write(path: &Path, dir: &Path, entries: &[Consented]) -> Result<()> {
    let file = GrantsFile {
        consent: entries
            .iter()
            .map(|c| Entry {
                plugin: c.identity.name.clone(),
                version: c.identity.version.clone(),
                sha256: c.identity.sha256.to_string(),
                when: humantime::format_rfc3339_seconds(c.when).to_string(),
                granted: c.granted.iter().cloned().collect(),
            })
            .collect(),
    };
    let text = toml::to_string(&file).map_err(|e| Error::GrantStore {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let io = |e| Error::io(path, e);
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    temp.write_all(
        b"# Permissions users consented to, per plugin; `wasmplug grants` lists them.\n",
    )
    .and_then(|()| temp.write_all(text.as_bytes()))
    .and_then(|()| temp.as_file().sync_data())
    .map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consented(name: &str, version: &str, byte: u8, granted: &[Permission]) -> Consented {
        Consented {
            identity: PluginIdentity {
                name: name.into(),
                version: Some(version.into()),
                sha256: Sha256Digest([byte; 32]),
            },
            granted: granted.iter().cloned().collect(),
            when: SystemTime::now(),
        }
    }

    #[test]
    fn a_file_store_round_trips_and_revokes() {
        let dir = tempfile::tempdir().unwrap();
        let store = GrantStore::at(dir.path().join("sub/grants.toml"));
        assert!(store.list().unwrap().is_empty());
        let env = Permission::Env {
            name: "LANG".into(),
        };
        store
            .record(consented(
                "a",
                "1.0.0",
                1,
                &[env.clone(), Permission::Clocks],
            ))
            .unwrap();
        store.record(consented("b", "1.0.0", 2, &[])).unwrap();
        store
            .record(consented("a", "2.0.0", 3, std::slice::from_ref(&env)))
            .unwrap();
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 3);
        assert!(listed[0].granted.contains(&Permission::Clocks));

        // A new build of 2.0.0 finds 2.0.0's consent, the latest of `a`.
        let rebuilt = PluginIdentity {
            sha256: Sha256Digest([9; 32]),
            ..listed[2].identity.clone()
        };
        assert_eq!(
            store
                .lookup(&rebuilt)
                .unwrap()
                .unwrap()
                .identity
                .version
                .as_deref(),
            Some("2.0.0")
        );

        assert_eq!(store.revoke("a", Some("1.0.0")).unwrap(), 1);
        assert_eq!(store.revoke("a", None).unwrap(), 1);
        assert_eq!(store.revoke("a", None).unwrap(), 0);
        assert_eq!(store.list().unwrap().len(), 1);
    }

    #[test]
    fn two_writers_at_once_both_keep_their_consent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.toml");
        std::thread::scope(|scope| {
            for writer in 0..8u8 {
                let store = GrantStore::at(&path);
                scope.spawn(move || {
                    for round in 0..5u8 {
                        let name = format!("plugin-{writer}-{round}");
                        store
                            .record(consented(&name, "1.0.0", writer, &[Permission::Random]))
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(GrantStore::at(&path).list().unwrap().len(), 40);
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.toml");
        std::fs::write(&path, "[[consent]]\nplugin = 3\n").unwrap();
        let err = GrantStore::at(&path).list().unwrap_err();
        assert!(matches!(err, Error::GrantStore { .. }), "{err:?}");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
