//! Installing plugins from a registry into the directory a
//! [`crate::PluginSet`] loads: pull, then load through the host (which
//! checks the signature the policy asks for, asks the user's consent and
//! compiles into the artifact cache, so the first call after an install
//! does not compile), and only then place the plugin's folder. A failure at
//! any step leaves the directory as it was.

use std::path::{Path, PathBuf};

use super::lock::Locked;
use super::{Pulled, Registry, RegistryProblem, layout::oci_digest, registry_error};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::manifest::MANIFEST_FILE;
use crate::plugin::Plugin;

/// A plugin placed in the directory.
#[non_exhaustive]
pub struct Installed<T: 'static> {
    /// What the lockfile records for it.
    pub locked: Locked,
    /// Its folder, `DIR/NAME`.
    pub path: PathBuf,
    /// The plugin, loaded and compiled.
    pub plugin: Plugin<T>,
    /// Whether it replaced another build of the plugin.
    pub replaced: bool,
    /// Whether nothing was asked of the registry.
    pub from_cache: bool,
}

/// Installs plugins into one directory through one host and registry.
pub struct Installer<'a, T: 'static> {
    host: &'a Host<T>,
    registry: &'a Registry,
    dir: PathBuf,
}

impl<'a, T: Send + 'static> Installer<'a, T> {
    /// Plugins go into `dir`, each into a folder named after it.
    pub fn new(host: &'a Host<T>, registry: &'a Registry, dir: impl Into<PathBuf>) -> Self {
        Installer {
            host,
            registry,
            dir: dir.into(),
        }
    }

    /// Installs the plugin at `reference`.
    pub async fn install(&self, reference: &str) -> Result<Installed<T>> {
        let pulled = self.registry.pull(reference).await?;
        self.place(pulled, reference).await
    }

    /// Installs exactly the locked bytes, pulled by digest (from the cache
    /// when they are there, without a request).
    pub async fn install_locked(&self, locked: &Locked) -> Result<Installed<T>> {
        let pinned = locked.pinned();
        let pulled = self.registry.pull(&pinned).await?;
        if pulled.component != locked.component {
            return Err(registry_error(
                &pinned,
                RegistryProblem::DigestMismatch {
                    what: "component",
                    expected: oci_digest(&locked.component),
                    actual: oci_digest(&pulled.component),
                },
            ));
        }
        self.place(pulled, &locked.reference).await
    }

    /// Installs what the locked plugin's reference names now, if that is
    /// not what is locked; the user is asked only about permissions the new
    /// build adds.
    pub async fn update(&self, locked: &Locked) -> Result<Option<Installed<T>>> {
        let pulled = self.registry.pull(&locked.reference).await?;
        if pulled.digest == locked.digest {
            return Ok(None);
        }
        self.place(pulled, &locked.reference).await.map(Some)
    }

    async fn place(&self, pulled: Pulled, reference: &str) -> Result<Installed<T>> {
        let manifest = pulled.plugin_manifest()?;
        let default_name = pulled.repository_name().to_string();
        let plugin = self
            .host
            .load_bytes(&default_name, pulled.bytes.clone(), manifest)
            .await?;
        let name = plugin.name().to_string();
        let folder = self.dir.join(&name);
        let replaced = folder.exists();
        write_folder(&self.dir, &folder, &name, &pulled)?;
        Ok(Installed {
            locked: Locked {
                name,
                reference: reference.to_string(),
                version: plugin.manifest().map(|m| m.plugin.version.clone()),
                digest: pulled.digest,
                component: pulled.component,
            },
            path: folder,
            plugin,
            replaced,
            from_cache: pulled.from_cache,
        })
    }
}

/// Writes the plugin's folder beside where it goes, then puts it in place
/// of the old one, if any, in one step where the platform can.
fn write_folder(dir: &Path, folder: &Path, name: &str, pulled: &Pulled) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Hidden, so that a plugin set watching the directory skips it.
    let staging = tempfile::Builder::new()
        .prefix(&format!(".install-{name}-"))
        .tempdir_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let wasm = staging.path().join(format!("{name}.wasm"));
    std::fs::write(&wasm, &pulled.bytes).map_err(|e| Error::io(&wasm, e))?;
    if let Some(text) = &pulled.manifest {
        let manifest = staging.path().join(MANIFEST_FILE);
        std::fs::write(&manifest, text).map_err(|e| Error::io(&manifest, e))?;
    }
    swap_into_place(staging.path(), folder)?;
    // `staging` now holds the old folder, if there was one, and goes.
    drop(staging);
    Ok(())
}

/// Puts `new` at `target`; what was at `target` ends up at `new`.
#[cfg(target_os = "linux")]
fn swap_into_place(new: &Path, target: &Path) -> Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    if !target.exists() {
        return std::fs::rename(new, target).map_err(|e| Error::io(target, e));
    }
    renameat_with(CWD, new, CWD, target, RenameFlags::EXCHANGE)
        .map_err(|e| Error::io(target, e.into()))
}

/// Puts `new` at `target`; what was at `target` ends up at `new`.
#[cfg(not(target_os = "linux"))]
fn swap_into_place(new: &Path, target: &Path) -> Result<()> {
    if target.exists() {
        let old = new.with_extension("old");
        std::fs::rename(target, &old).map_err(|e| Error::io(target, e))?;
        std::fs::rename(new, target).map_err(|e| Error::io(target, e))?;
        return std::fs::rename(&old, new).map_err(|e| Error::io(new, e));
    }
    std::fs::rename(new, target).map_err(|e| Error::io(target, e))
}
