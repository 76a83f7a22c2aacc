//! `wasmplug grants`: the permissions users consented to, per plugin, and
//! taking them back.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use wasmplug::{GrantStore, Untrusted};

/// List or revoke remembered consent.
#[derive(Debug, Args)]
pub struct Grants {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List every plugin's remembered consent (the default).
    List,
    /// Forget the consent given to NAME, or to one version of it.
    Revoke {
        /// The plugin, as NAME or NAME@VERSION.
        plugin: String,
    },
}

impl Grants {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let path = GrantStore::default_path()
            .ok_or_else(|| anyhow::anyhow!("no data directory: set WASMPLUG_GRANTS or HOME"))?;
        let store = GrantStore::at(&path);
        match self.action.unwrap_or(Action::List) {
            Action::List => {
                let consents = store.list()?;
                if consents.is_empty() {
                    println!("no consent remembered ({})", path.display());
                }
                for consent in consents {
                    println!(
                        "{}  (since {})",
                        consent.identity,
                        humantime::format_rfc3339_seconds(consent.when)
                    );
                    if consent.granted.is_empty() {
                        println!("  nothing granted");
                    }
                    for permission in &consent.granted {
                        println!("  {permission}");
                    }
                }
            }
            Action::Revoke { plugin } => {
                let (name, version) = match plugin.split_once('@') {
                    Some((name, version)) => (name, Some(version)),
                    None => (plugin.as_str(), None),
                };
                let removed = store.revoke(name, version)?;
                if removed == 0 {
                    anyhow::bail!("no consent remembered for {}", Untrusted(&plugin));
                }
                println!("revoked {removed} consent(s) for {}", Untrusted(&plugin));
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
