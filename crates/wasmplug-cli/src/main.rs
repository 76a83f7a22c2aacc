//! `wasmplug`: create, build, inspect, check, call and run WebAssembly
//! component plugins.

mod commands;
mod hints;
mod options;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Sandboxed, typed WebAssembly component plugins.
#[derive(Debug, Parser)]
#[command(name = "wasmplug", version = version(), about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    New(commands::new::New),
    Build(commands::build::Build),
    Inspect(commands::inspect::Inspect),
    Check(commands::check::Check),
    Call(commands::call::Call),
    Run(commands::run::Run),
    Cache(commands::cache::Cache),
    Grants(commands::grants::Grants),
}

/// `X.Y.Z (wasmtime A.B.C)`; clap prefixes the program name.
fn version() -> &'static str {
    let text = format!(
        "{} (wasmtime {})",
        env!("CARGO_PKG_VERSION"),
        wasmplug::WASMTIME_VERSION
    );
    Box::leak(text.into_boxed_str())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("WASMPLUG_LOG")
                .unwrap_or_else(|_| EnvFilter::new("warn,wasmplug::guest=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::New(cmd) => cmd.execute(),
        Command::Build(cmd) => cmd.execute().await,
        Command::Inspect(cmd) => cmd.execute().await,
        Command::Check(cmd) => cmd.execute().await,
        Command::Call(cmd) => cmd.execute().await,
        Command::Run(cmd) => cmd.execute().await,
        Command::Cache(cmd) => cmd.execute().await,
        Command::Grants(cmd) => cmd.execute(),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            let message = match error.downcast_ref::<wasmplug::Error>() {
                // Its message is whole already, and a hint says what to type.
                Some(error) => format!("{error}{}", hints::hint(error)),
                None => format!("{error:#}"),
            };
            eprintln!("error: {}", one_line(&message));
            if let Some(wasmplug::Error::Trap {
                backtrace: Some(backtrace),
                ..
            }) = error.downcast_ref()
            {
                tracing::debug!("guest backtrace:\n{backtrace}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Folds a message onto one line, so scripts can rely on a single cause.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
