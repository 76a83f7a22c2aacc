//! `wasmplug run`: run a `wasi:cli/run` component or a preview1 command like
//! `wasmtime run`, with the guest's exit code.

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
    /// The component (or preview1 command module).
    file: PathBuf,
    /// Arguments passed to the guest.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// The export every command component has.
const RUN_EXPORT: &str = "wasi:cli/run#run";

impl Run {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let host = self.options.host(Defaults {
            stdio: StdioMode::Inherit,
            stdin: true,
        })?;
        let plugin = self.options.load(&host, &self.file).await?;
        let mut instance = plugin.instantiate_with_args(&self.args).await?;
        match instance.call_wave(RUN_EXPORT, &[]).await {
            Ok(_) => Ok(ExitCode::SUCCESS),
            Err(Error::Exit { code, .. }) => Ok(exit_code(code)),
            Err(Error::Guest { .. }) => Ok(ExitCode::FAILURE),
            Err(error) => Err(error.into()),
        }
    }
}

/// The guest's status as the process's; statuses outside 0..=255 become 1.
fn exit_code(code: i32) -> ExitCode {
    u8::try_from(code).map_or(ExitCode::FAILURE, ExitCode::from)
}
