//! `wasmplug build`: turn the plugin project in a folder into a component
//! with its language's toolchain, and check it against its world.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use wasmplug::JsEngine;
use wasmplug_build::{BuildError, Project};

/// Build the plugin project in the current folder (or --project) into a component.
#[derive(Debug, Args)]
pub struct Build {
    /// Where to write the component, with the project's plugin.toml beside
    /// it: a folder (`dist/NAME/`, which gets NAME.wasm) or a .wasm file;
    /// NAME.wasm in the project by default. That folder is what a host loads.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The project folder.
    #[arg(long, default_value = ".")]
    project: PathBuf,
    /// For JavaScript: the engine to embed, starlingmonkey or qjs (QuickJS,
    /// for small plugins); overrides `[build] engine` in plugin.toml.
    #[arg(long)]
    engine: Option<JsEngine>,
}

impl Build {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let mut project = Project::open(&self.project)?;
        if let Some(engine) = self.engine {
            project.set_js_engine(engine);
        }
        // `absolute` keeps a trailing `/`, which says "a folder".
        let output = self
            .output
            .map(std::path::absolute)
            .transpose()?
            .unwrap_or_else(|| project.default_output());
        let spinner = ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}")?)
            .with_message(format!(
                "building {} ({}, world {})",
                project.name(),
                project.language(),
                project.world()
            ));
        spinner.enable_steady_tick(Duration::from_millis(100));
        let built = tokio::task::spawn_blocking(move || project.build(&output)).await?;
        spinner.finish_and_clear();
        let built = built.map_err(tool_output_first)?;
        println!(
            "built {} ({:.1} KB) with {} in {:.1?}",
            built.path.display(),
            built.size as f64 / 1e3,
            built.manifest.display(),
            built.duration
        );
        for warning in &built.warnings {
            eprintln!("warning: {warning}");
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// A failed tool's output goes to stderr as it is, since compiler messages
/// are unreadable folded onto the one error line.
fn tool_output_first(error: BuildError) -> anyhow::Error {
    match error {
        BuildError::ToolFailed {
            tool,
            status,
            output,
        } => {
            eprintln!("{}", output.trim_end());
            anyhow::anyhow!("{tool} failed ({status}); its output is above")
        }
        other => other.into(),
    }
}
