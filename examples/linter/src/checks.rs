//! The checks: a folder of plugins implementing the world
//! `lint:host/check`, each given the host interface `lint:host/env` when
//! its manifest requests it, called through typed bindings under limits.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use wasmplug::wasmtime::component::HasSelf;
use wasmplug::{
    Error, Grant, Host, HostBuilder, HostInterface, Instance, InstancePool, Lifecycle, Limit,
    LimitOverrides, Limits, Plugin, PluginSet, Policy, StoreData,
};

use crate::config::Config;

/// Bindings for the world, twice: synchronous ones for blocking calls, and
/// async ones for calls that may wait, which share the first's imports.
mod bindings {
    pub mod blocking {
        wasmplug::bindgen!({ path: "wit", world: "check" });
    }

    pub mod waiting {
        wasmplug::bindgen!({
            path: "wit",
            world: "check",
            exports: { default: async },
            with: {
                "lint:host/env": super::blocking::lint::host::env,
                "lint:host/types": super::blocking::lint::host::types,
            },
        });
    }
}

use bindings::blocking::lint::host::env;
use bindings::blocking::lint::host::types::{Diagnostic, Severity};

/// What an instance of a check holds: the file it checks and its settings.
#[derive(Debug, Default)]
pub struct Env {
    file: String,
    settings: BTreeMap<String, String>,
}

/// The host interface: answers at once from the instance's own data.
impl env::Host for Env {
    fn config(&mut self, key: String) -> Option<String> {
        self.settings.get(&key).cloned()
    }

    fn file_name(&mut self) -> String {
        self.file.clone()
    }
}

/// One finding of one check.
#[derive(Debug)]
pub struct Finding {
    pub file: String,
    pub line: u32,
    pub severity: &'static str,
    pub message: String,
    pub check: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {} ({})",
            self.file, self.line, self.severity, self.message, self.check
        )
    }
}

/// What a check made of a file.
pub enum Outcome {
    Found(Finding),
    Failed { check: String, error: String },
}

/// The checks of a folder, ready to run.
pub struct Linter {
    host: Host<Env>,
    set: PluginSet<Env>,
    /// Kept instances of the checks that take async calls, with their
    /// bindings, by name.
    pools: BTreeMap<String, InstancePool<Env, bindings::waiting::Check>>,
    config: Config,
}

impl Linter {
    /// Loads every check of `dir`. The policy lets every check have the
    /// `env` interface, and bounds each call: 64 MiB and half a second of
    /// CPU, and more memory for the Python check, whose runtime needs it.
    pub fn open(dir: &Path, config: Config) -> anyhow::Result<Linter> {
        let env = HostInterface::new("lint:host/env@0.1.0", |linker| {
            env::add_to_linker::<_, HasSelf<Env>>(linker, StoreData::host_mut)
        })
        .synchronous();
        let policy = Policy::new()
            .allow(Grant::interface("lint:host/env@0.1.0"))
            .plugin_limits("line-length", LimitOverrides::default().memory(256 << 20));
        let limits = Limits::default()
            .memory(64 << 20)
            .cpu(Duration::from_millis(500))
            .timeout(Duration::from_secs(2));
        let host = HostBuilder::with_data(Env::default)
            .policy(policy)
            .interface(env)
            .world("lint:host/check@0.1.0")
            .limits(limits)
            .max_limits(limits.memory(256 << 20))
            .build()?;
        let set = host.block_on(PluginSet::builder(&host, dir).watch(false).open())??;
        let mut pools = BTreeMap::new();
        for entry in set.entries() {
            if let Some(error) = &entry.error {
                eprintln!("{}: not loaded: {error}", entry.path.display());
            }
            let Some(plugin) = entry.plugin else { continue };
            if plugin.blocking_refusal().is_some() {
                let reuse = Lifecycle::Reuse {
                    max_calls: 1000,
                    max_idle: Duration::from_secs(60),
                };
                let bind = |instance: &mut Instance<Env>| {
                    instance.bind(|store, i| bindings::waiting::Check::new(store, i))
                };
                pools.insert(plugin.name().to_string(), plugin.pool_with(reuse, bind));
            }
        }
        Ok(Linter {
            host,
            set,
            pools,
            config,
        })
    }

    /// What every check finds in `source`, the text of `file`.
    pub fn check(&self, file: &str, source: &str) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for plugin in self.set.plugins() {
            let env = Env {
                file: file.to_string(),
                settings: self.config.of(plugin.name()),
            };
            match self.lint(&plugin, env, source) {
                Ok(found) => outcomes.extend(found.into_iter().map(|d| {
                    Outcome::Found(Finding {
                        file: file.to_string(),
                        line: d.line,
                        severity: match d.severity {
                            Severity::Info => "info",
                            Severity::Warning => "warning",
                            Severity::Error => "error",
                        },
                        message: d.message,
                        check: plugin.name().to_string(),
                    })
                })),
                Err(error) => outcomes.push(Outcome::Failed {
                    check: plugin.name().to_string(),
                    error: explain(&error),
                }),
            }
        }
        outcomes
    }

    /// One check over one file. A check that nothing can make wait takes a
    /// blocking call on a fresh instance; the others an async call on an
    /// instance kept in their pool.
    fn lint(
        &self,
        plugin: &Plugin<Env>,
        env: Env,
        source: &str,
    ) -> wasmplug::Result<Vec<Diagnostic>> {
        let Some(pool) = self.pools.get(plugin.name()) else {
            let mut instance = plugin.instantiate_blocking()?;
            *instance.host_data_mut() = env;
            let check = instance.bind(|store, i| bindings::blocking::Check::new(store, i))?;
            return instance.call_blocking("lint", |store| check.call_lint(store, source));
        };
        self.host
            .block_on(pool.with_bound(async |instance, check| {
                *instance.host_data_mut() = env;
                instance
                    .call("lint", async |store| check.call_lint(store, source).await)
                    .await
            }))?
    }
}

/// What went wrong, by kind: the plugin's fault said plainly, the rest as
/// the library words it.
fn explain(error: &Error) -> String {
    match error {
        Error::LimitExceeded {
            limit: Limit::CpuTime,
            ..
        }
        | Error::Deadline { .. } => format!("it took too long and was stopped ({error})"),
        Error::LimitExceeded {
            limit: Limit::Memory,
            ..
        } => format!("it needed too much memory and was stopped ({error})"),
        Error::Trap { .. } => format!("it crashed: {error}"),
        other => other.to_string(),
    }
}
