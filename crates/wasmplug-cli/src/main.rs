//! `wasmplug`: create, build, inspect, check, call and run WebAssembly
//! component plugins.

mod commands;
mod hints;
mod options;
mod telemetry;

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
    Serve(commands::serve::Serve),
    Cache(commands::cache::Cache),
    Grants(commands::grants::Grants),
    Kv(commands::kv::Kv),
    Keygen(commands::signing::Keygen),
    Sign(commands::signing::Sign),
    Verify(commands::signing::Verify),
    Push(commands::transfer::Push),
    Pull(commands::transfer::Pull),
    Install(commands::install::Install),
    Update(commands::install::Update),
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

fn main() -> ExitCode {
    // Log lines, plugins' among them, go to stderr from a thread of their
    // own, dropped rather than waited for when stderr is not read: a
    // plugin's output can never stall the command.
    let (stderr, _flush_on_exit) = tracing_appender::non_blocking(std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("WASMPLUG_LOG").unwrap_or_else(|_| {
                EnvFilter::new("warn,wasmplug::guest=info,wasmplug::http=info")
            }),
        )
        .with_writer(stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(execute(cli));
    // A guest's write to a pipe nobody reads may still be pending in the
    // blocking pool; it is abandoned rather than waited for.
    runtime.shutdown_background();
    code
}

async fn execute(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::New(cmd) => cmd.execute(),
        Command::Build(cmd) => cmd.execute().await,
        Command::Inspect(cmd) => cmd.execute().await,
        Command::Check(cmd) => cmd.execute().await,
        Command::Call(cmd) => cmd.execute().await,
        Command::Run(cmd) => cmd.execute().await,
        Command::Serve(cmd) => cmd.execute().await,
        Command::Cache(cmd) => cmd.execute().await,
        Command::Grants(cmd) => cmd.execute(),
        Command::Kv(cmd) => cmd.execute(),
        Command::Keygen(cmd) => cmd.execute(),
        Command::Sign(cmd) => cmd.execute(),
        Command::Verify(cmd) => cmd.execute(),
        Command::Push(cmd) => cmd.execute().await,
        Command::Pull(cmd) => cmd.execute().await,
        Command::Install(cmd) => cmd.execute().await,
        Command::Update(cmd) => cmd.execute().await,
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

/// Prints `error` as the one line `error: ...`, with a hint of what to type
/// when there is one, and the guest's backtrace at debug level.
fn report(error: &anyhow::Error) {
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
}

/// Folds a message onto one line, so scripts can rely on a single cause.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
