//! `wasmplug check`: validate a component, its manifest and the grants, and
//! show what the plugin would get and what it asked for in vain.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::{Access, Plugin, StdioMode};

use crate::options::LoadOptions;

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
        let host = self.options.host(StdioMode::Log, false)?;
        let plugin = self.options.load(&host, &self.file).await?;
        report(&plugin);
        let missing = plugin.grants().denied.len();
        if missing > 0 {
            println!("\n{missing} requested permission(s) not granted");
            return Ok(ExitCode::FAILURE);
        }
        println!("\nok");
        Ok(ExitCode::SUCCESS)
    }
}

fn report(plugin: &Plugin) {
    let version = plugin
        .manifest()
        .map(|m| m.plugin.version.as_str())
        .unwrap_or("(no manifest)");
    println!("plugin:  {} {version}", plugin.name());
    println!("sha256:  {}", plugin.sha256());
    if let Some(world) = plugin.manifest().and_then(|m| m.plugin.world.as_deref()) {
        println!("world:   {world}");
    }
    let grants = plugin.grants();
    println!("granted:");
    let mut granted = Vec::new();
    for dir in &grants.dirs {
        let access = match dir.access {
            Access::Read => "read-only",
            Access::ReadWrite => "read-write",
        };
        granted.push(format!(
            "dir {} -> {} ({access})",
            dir.host.display(),
            dir.guest
        ));
    }
    granted.extend(grants.env.iter().map(|(name, _)| format!("env {name}")));
    granted.extend(grants.net.iter().map(|n| format!("net {n}")));
    granted.extend(grants.interfaces.iter().map(|i| format!("interface {i}")));
    for (flag, name) in [
        (grants.clocks, "clocks"),
        (grants.random, "random"),
        (grants.stdin, "stdin"),
    ] {
        if flag {
            granted.push(name.to_string());
        }
    }
    if granted.is_empty() {
        println!("  nothing");
    }
    for line in granted {
        println!("  {line}");
    }
    if !grants.denied.is_empty() {
        println!("missing (requested but not granted):");
        for refusal in &grants.denied {
            println!("  {}  -- {}", refusal.permission, refusal.reason);
        }
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
}
