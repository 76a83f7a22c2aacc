//! `wasmplug install` and `update`: plugins from a registry into a plugin
//! directory, recorded in `wasmplug.lock`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use wasmplug::registry::{Installed, Installer, LOCK_FILE, Lockfile};
use wasmplug::{ArtifactCache, Host, Untrusted};

use super::transfer::RegistryOptions;
use crate::options::{compile_progress, operator_policy, user_consent};

/// Where plugins go, how they are admitted, and where they are recorded.
#[derive(Debug, Args)]
pub struct InstallOptions {
    /// The plugin directory: each plugin goes into a folder of its own
    /// there, which a plugin set loads.
    #[arg(long, value_name = "PLUGINS", default_value = "plugins")]
    dir: PathBuf,

    /// The lockfile that records what is installed.
    #[arg(long, value_name = "FILE", default_value = LOCK_FILE)]
    lock: PathBuf,

    /// The operator's policy; by default $WASMPLUG_POLICY, or
    /// ~/.config/wasmplug/policy.toml when it exists.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// Consent to every permission the policy allows and the plugin
    /// requests, without asking; the consent is remembered.
    #[arg(long, short = 'y')]
    yes: bool,

    #[command(flatten)]
    registry: RegistryOptions,
}

/// Install a plugin from an OCI registry, or exactly what wasmplug.lock
/// records.
#[derive(Debug, Args)]
pub struct Install {
    /// Install exactly the digests the lockfile records, and fail if the
    /// registry has other bytes; with REFERENCES, only those plugins.
    #[arg(long)]
    locked: bool,
    #[command(flatten)]
    options: InstallOptions,
    /// What to install: REGISTRY/REPOSITORY:TAG or @DIGEST; with --locked,
    /// plugin names.
    #[arg(value_name = "REFERENCE")]
    references: Vec<String>,
}

/// Install what the locked plugins' references name now, asking only about
/// permissions a new version adds.
#[derive(Debug, Args)]
pub struct Update {
    #[command(flatten)]
    options: InstallOptions,
    /// The plugins to update; by default every locked one.
    #[arg(value_name = "NAME")]
    names: Vec<String>,
}

impl InstallOptions {
    fn host(&self) -> anyhow::Result<Host> {
        let cache = ArtifactCache::at_default_dir();
        Ok(Host::builder()
            .on_compile(compile_progress(cache.is_some()))
            .cache(cache)
            .policy(operator_policy(self.policy.as_deref())?)
            .consent(user_consent(Vec::new(), self.yes, true))
            // A plugin for another application imports its interfaces.
            .stand_ins(true)
            .build()?)
    }
}

impl Install {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let options = &self.options;
        if !self.locked && self.references.is_empty() {
            anyhow::bail!(
                "name a plugin to install (REGISTRY/REPOSITORY:TAG), or install what {} records with --locked",
                options.lock.display()
            );
        }
        let host = options.host()?;
        let registry = options.registry.registry()?;
        let installer = Installer::new(&host, &registry, &options.dir);
        let mut lock = Lockfile::read(&options.lock)?;
        if self.locked {
            let wanted = locked_plugins(&lock, &self.references, &options.lock)?;
            for locked in wanted {
                let installed = installer.install_locked(&locked).await?;
                report("installed", &installed);
            }
            return Ok(ExitCode::SUCCESS);
        }
        for reference in &self.references {
            let installed = installer.install(reference).await?;
            report("installed", &installed);
            lock.insert(installed.locked);
            // After each plugin, so the lockfile never misses one in place.
            lock.write(&options.lock)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl Update {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let options = &self.options;
        let host = options.host()?;
        let registry = options.registry.registry()?;
        let installer = Installer::new(&host, &registry, &options.dir);
        let mut lock = Lockfile::read(&options.lock)?;
        for locked in locked_plugins(&lock, &self.names, &options.lock)? {
            match installer.update(&locked).await? {
                Some(installed) => {
                    report("updated", &installed);
                    lock.insert(installed.locked);
                    lock.write(&options.lock)?;
                }
                None => println!("{} is up to date", locked.name),
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The locked plugins named, or all of them.
fn locked_plugins(
    lock: &Lockfile,
    names: &[String],
    path: &Path,
) -> anyhow::Result<Vec<wasmplug::registry::Locked>> {
    if lock.plugins().is_empty() {
        anyhow::bail!("{} records no plugins; install one first", path.display());
    }
    if names.is_empty() {
        return Ok(lock.plugins().to_vec());
    }
    names
        .iter()
        .map(|name| {
            lock.get(name).cloned().ok_or_else(|| {
                anyhow::anyhow!("{} has no plugin `{}`", path.display(), Untrusted(name))
            })
        })
        .collect()
}

fn report(verb: &str, installed: &Installed<()>) {
    let locked = &installed.locked;
    println!(
        "{verb} {}{} into {} (sha256:{}){}",
        locked.name,
        locked
            .version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default(),
        installed.path.display(),
        &locked.digest.to_string()[..12],
        if installed.from_cache {
            ", from the cache"
        } else {
            ""
        }
    );
}
