//! `wasmplug call`: call one export with arguments in WAVE (or JSON).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::StdioMode;

use crate::options::{Defaults, LoadOptions};
use crate::telemetry::Records;

/// Call an exported function: `wasmplug call plugin.wasm run '"world"'`.
#[derive(Debug, Args)]
pub struct Call {
    #[command(flatten)]
    options: LoadOptions,
    /// Arguments and results are JSON instead of WAVE.
    #[arg(long)]
    json: bool,
    /// Print each call's time, CPU and fuel, and the plugin's peak memory,
    /// to stderr.
    #[arg(long)]
    stats: bool,
    /// The component (or preview1 module).
    file: PathBuf,
    /// The export: `name` or `interface#name`.
    func: String,
    /// One argument per parameter, in WAVE (as `wasmtime run --invoke`) or JSON.
    args: Vec<String>,
}

impl Call {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let records = Records::default();
        let mut builder = self.options.host_builder(Defaults {
            stdio: StdioMode::Log,
            stdin: false,
        })?;
        if self.stats {
            builder = records.observe(builder);
        }
        let host = builder.build()?;
        let plugin = self.options.load(&host, &self.file).await?;
        let outcome = self.call(&plugin).await;
        if self.stats {
            eprintln!(
                "{}",
                records.report(&plugin.identity().to_string(), &plugin.stats())
            );
        }
        outcome
    }

    async fn call(&self, plugin: &wasmplug::Plugin) -> anyhow::Result<ExitCode> {
        let mut instance = plugin.instantiate().await?;
        if self.json {
            let args = self
                .args
                .iter()
                .map(|a| serde_json::from_str(a))
                .collect::<Result<Vec<serde_json::Value>, _>>()
                .map_err(|e| anyhow::anyhow!("an argument is not valid JSON: {e}"))?;
            let result = instance.call_json(&self.func, &args).await?;
            println!("{}", serde_json::to_string(&result)?);
        } else {
            for result in instance.call_wave(&self.func, &self.args).await? {
                println!("{result}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
