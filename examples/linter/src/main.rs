//! `linter [--plugins DIR] [--config FILE] FILE...`: runs every check of a
//! folder of plugins over each file and prints what they find, like
//! `src/main.rs:3: warning: FIXME left here (todo-comments)`. The host of
//! `docs/host.md`, which walks through it.

mod checks;
mod config;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A linter whose checks are WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "linter", version)]
struct Cli {
    /// The folder of checks, one folder per plugin with its component and
    /// plugin.toml.
    #[arg(long, value_name = "DIR", default_value = "checks")]
    plugins: PathBuf,
    /// Settings for the checks (`[checks.NAME]` tables of strings).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether every check ran and found no error.
fn run(cli: &Cli) -> anyhow::Result<bool> {
    let config = match &cli.config {
        Some(path) => config::Config::read(path)?,
        None => config::Config::default(),
    };
    let linter = checks::Linter::open(&cli.plugins, config)?;
    let mut clean = true;
    for file in &cli.files {
        let source = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        for outcome in linter.check(&file.display().to_string(), &source) {
            match outcome {
                checks::Outcome::Found(finding) => {
                    clean &= finding.severity != "error";
                    println!("{finding}");
                }
                checks::Outcome::Failed { check, error } => {
                    clean = false;
                    eprintln!("{}: check `{check}` failed: {}", file.display(), error);
                }
            }
        }
    }
    Ok(clean)
}
