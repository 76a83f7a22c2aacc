//! `wasmplug cache`: look at, prune or clear the compiled-component cache.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use wasmplug::ArtifactCache;

/// Manage the compiled-component cache.
#[derive(Debug, Args)]
pub struct Cache {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Show where the cache is and how much it holds.
    Info,
    /// Remove every entry.
    Clear,
    /// Remove the least recently used entries down to a size.
    Prune {
        /// The size to keep, e.g. 512MiB; by default the cache's cap.
        #[arg(long = "max-size", value_name = "SIZE", value_parser = parse_size)]
        max_size: Option<u64>,
    },
}

fn parse_size(text: &str) -> Result<u64, String> {
    wasmplug::parse_size(text).map_err(|e| e.to_string())
}

impl Cache {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let cache = ArtifactCache::at_default_dir()
            .ok_or_else(|| anyhow::anyhow!("no cache directory: set WASMPLUG_CACHE_DIR or HOME"))?;
        match self.action {
            Action::Info => {
                let info = cache.info()?;
                println!("dir:      {}", info.dir.display());
                println!("entries:  {}", info.entries);
                println!("size:     {:.1} MiB", mib(info.bytes));
                println!("cap:      {:.1} MiB", mib(info.max_bytes));
            }
            Action::Clear => println!("removed {} entries", cache.clear()?),
            Action::Prune { max_size } => {
                let max = max_size.unwrap_or(cache.info()?.max_bytes);
                println!("removed {} entries", cache.prune(max)?);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
