//! `wasmplug check`: validate a component, its manifest and the grants, and
//! show what the plugin would get, what it asked for in vain, and every
//! import with the capability that provides it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::{Plugin, StdioMode, Untrusted};

use crate::options::{Defaults, LoadOptions};

/// Validate component, manifest and policy; print what would be granted and what is missing.
#[derive(Debug, Args)]
pub struct Check {
    #[command(flatten)]
    options: LoadOptions,
    /// The component (or preview1 module).
    file: PathBuf,
}

impl Check {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let host = self.options.host(Defaults {
            stdio: StdioMode::Log,
            stdin: false,
        })?;
        let plugin = self.options.load(&host, &self.file).await?;
        report(&plugin);
        // A refusal matters when an import would have used it; a request
        // for an interface a mock or a composed component provides does not.
        let missing = plugin.unmet().len();
        let moot = plugin.grants().refused().len() - missing;
        let besides = if moot > 0 {
            format!(" ({moot} more not granted, which nothing it imports would use)")
        } else {
            String::new()
        };
        if missing > 0 {
            println!("\n{missing} requested permission(s) not granted{besides}");
            return Ok(ExitCode::FAILURE);
        }
        println!("\nok{besides}");
        Ok(ExitCode::SUCCESS)
    }
}

fn report(plugin: &Plugin) {
    let version = plugin
        .manifest()
        .map(|m| m.plugin.version.as_str())
        .unwrap_or("(no manifest)");
    println!(
        "plugin:  {} {}",
        Untrusted(plugin.name()),
        Untrusted(version)
    );
    println!("sha256:  {}", plugin.sha256());
    if let Some(world) = plugin.manifest().and_then(|m| m.plugin.world.as_deref()) {
        println!("world:   {world}");
    }
    println!("requested:");
    if plugin.requested().is_empty() {
        println!("  nothing");
    }
    for request in plugin.requested() {
        println!(
            "  {}  -- {}",
            request.permission,
            Untrusted(&request.reason)
        );
    }
    let grants = plugin.grants();
    println!("granted:");
    if grants.granted().is_empty() {
        println!("  nothing");
    }
    for grant in grants.granted() {
        println!("  {grant}");
    }
    if !grants.refused().is_empty() {
        println!("missing (requested but not granted):");
        for refusal in grants.refused() {
            println!(
                "  {}  -- {}\n    refused by {}: {}",
                refusal.request.permission,
                Untrusted(&refusal.request.reason),
                refusal.party,
                refusal.detail,
            );
            if let Some(flag) = crate::hints::grant_flag(&refusal.request.permission) {
                println!("    grant it: {flag}");
            }
        }
    }
    println!("imports:");
    let width = plugin
        .imports()
        .iter()
        .map(|i| i.name.len())
        .max()
        .unwrap_or(0);
    for import in plugin.imports() {
        println!(
            "  {:width$}  {:10}  {}",
            import.name, import.capability, import.status
        );
    }
    let limits = plugin.limits();
    println!(
        "limits:  memory {} MiB, cpu {:?}, timeout {:?}, output {} KiB{}",
        limits.memory >> 20,
        limits.cpu,
        limits.timeout,
        limits.output >> 10,
        limits
            .fuel
            .map(|f| format!(", fuel {f}"))
            .unwrap_or_default()
    );
    match plugin.blocking_refusal() {
        None => println!("calls:   blocking or async"),
        Some(reason) => println!("calls:   async only ({reason})"),
    }
}
