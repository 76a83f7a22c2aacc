//! `wasmplug run`: run a `wasi:cli/run` component or a preview1 command as
//! `wasmtime run` does, with the guest's exit status, under the sandbox.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::{Error, StdioMode};

use crate::options::{Defaults, LoadOptions};

/// Run a command component (wasi:cli/run) or a wasip1 command module.
#[derive(Debug, Args)]
pub struct Run {
    #[command(flatten)]
    options: LoadOptions,
    /// Serve the program's metrics (calls, errors, time, CPU, memory) in
    /// Prometheus's text format at http://ADDR/metrics while it runs, e.g.
    /// 127.0.0.1:9100.
    #[arg(long = "metrics-addr", value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// The component (or preview1 command module).
    file: PathBuf,
    /// Arguments passed to the guest.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// The status `wasmtime run` exits with when the guest traps: that of a
/// process killed by SIGABRT. wasmplug uses it for the limits too, which
/// stop the guest as a trap would.
const TRAPPED: u8 = 134;

impl Run {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let builder = self.options.host_builder(Defaults {
            stdio: StdioMode::Inherit,
            stdin: true,
        })?;
        let host = crate::telemetry::with_metrics(builder, self.metrics_addr)?.build()?;
        let command = match &self.options.manifest {
            _ if !self.options.with.is_empty() => {
                host.load_command_composed(
                    &self.file,
                    self.options.manifest.as_deref(),
                    &self.options.with,
                )
                .await?
            }
            Some(manifest) => {
                host.load_command_with_manifest(&self.file, manifest)
                    .await?
            }
            None => host.load_command(&self.file).await?,
        };
        for refusal in command.grants().refused() {
            tracing::warn!(plugin = command.name(), "not granted: {refusal}");
        }
        match command.run(&self.args).await {
            Ok(code) => Ok(exit_code(code)),
            Err(error) => {
                let code = match error {
                    Error::Trap { .. } | Error::LimitExceeded { .. } | Error::Deadline { .. } => {
                        ExitCode::from(TRAPPED)
                    }
                    _ => ExitCode::FAILURE,
                };
                crate::report(&error.into());
                Ok(code)
            }
        }
    }
}

/// The guest's status as the process's, its low eight bits as the system
/// keeps them (as `wasmtime run` passes it to `exit`).
fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(code as u8)
}
