//! `sqlplug [--plugins DIR] DATABASE [SQL]...`: runs each statement on the
//! database and prints the rows as a table, or, without SQL, reads
//! statements at a prompt. The SQL functions are the plugins of DIR, each
//! named by its `plugin.toml`; DIR is watched, so a function changed while
//! the prompt is open is used by the next statement.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use rusqlite::Connection;
use rusqlite::fallible_iterator::FallibleIterator;
use sqlplug::Functions;
use sqlplug::table::Table;
use wasmplug::{PluginSet, SetEvent};

/// An SQLite database whose SQL functions are WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "sqlplug", version)]
struct Cli {
    /// The folder of function plugins, one folder per plugin with its
    /// component and plugin.toml; watched while sqlplug runs.
    #[arg(long, value_name = "DIR", default_value = "plugins")]
    plugins: PathBuf,
    /// The database file (created when missing), or `:memory:`.
    database: String,
    /// Statements to run, several to an argument if need be, or commands:
    /// `.read FILE`, `.functions`, `.stats`, `.enable NAME`, `.disable NAME`.
    /// Without any, statements are read at a prompt.
    sql: Vec<String>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SQLPLUG_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether every statement succeeded.
fn run(cli: Cli) -> anyhow::Result<bool> {
    let host = sqlplug::host()?;
    // Once the first loads are done, say what changes; failures are
    // logged as warnings by the set itself.
    let started = Arc::new(AtomicBool::new(false));
    let after_start = started.clone();
    let set = host.block_on(
        PluginSet::builder(&host, &cli.plugins)
            .on_event(move |event| {
                if after_start.load(Ordering::Relaxed) {
                    report(event);
                }
            })
            .open(),
    )??;
    started.store(true, Ordering::Relaxed);
    let conn = Connection::open(&cli.database)?;
    let mut shell = Shell {
        conn,
        functions: Functions::new(set),
        ok: true,
    };
    if cli.sql.is_empty() {
        shell.prompt()?;
    } else {
        for input in &cli.sql {
            shell.input(input);
        }
    }
    Ok(shell.ok)
}

fn report(event: &SetEvent<'_, ()>) {
    match event {
        SetEvent::Loaded { plugin } => eprintln!("function `{}` added", plugin.name()),
        SetEvent::Reloaded { plugin, previous } => {
            eprintln!(
                "function `{}` reloaded, replacing {previous}",
                plugin.name()
            )
        }
        SetEvent::Removed { plugin, .. } => eprintln!("function `{}` removed", plugin.name),
        _ => {}
    }
}

struct Shell {
    conn: Connection,
    functions: Functions,
    /// Whether every statement so far succeeded.
    ok: bool,
}

impl Shell {
    /// Runs one command or one or more statements.
    fn input(&mut self, input: &str) {
        let input = input.trim();
        let outcome = match input.strip_prefix('.') {
            Some(command) => self.command(command),
            None => self.statements(input),
        };
        if let Err(error) = outcome {
            self.ok = false;
            eprintln!("error: {error}");
        }
    }

    /// Runs each statement of `sql`, printing the rows of those that
    /// return some; stops at the first that fails.
    fn statements(&mut self, sql: &str) -> anyhow::Result<()> {
        for note in self.functions.sync(&self.conn)? {
            eprintln!("note: {note}");
        }
        let mut batch = rusqlite::Batch::new(&self.conn, sql);
        while let Some(mut statement) = batch.next()? {
            if statement.column_count() > 0 {
                println!("{}\n", Table::query(&mut statement)?);
            } else {
                statement.execute([])?;
            }
        }
        Ok(())
    }

    fn command(&mut self, command: &str) -> anyhow::Result<()> {
        let (name, argument) = command
            .split_once(char::is_whitespace)
            .map_or((command, ""), |(n, a)| (n, a.trim()));
        let set = self.functions.set().clone();
        match (name, argument) {
            ("read", file) if !file.is_empty() => {
                let sql = std::fs::read_to_string(file)
                    .map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
                self.statements(&sql)
            }
            ("functions", "") => {
                self.functions.sync(&self.conn)?;
                for entry in set.entries() {
                    let state = match (&entry.plugin, &entry.error) {
                        (Some(plugin), None) => describe(plugin, entry.enabled),
                        (Some(plugin), Some(error)) => format!(
                            "{}; its files now: {error}",
                            describe(plugin, entry.enabled)
                        ),
                        (None, Some(error)) => format!("not loaded: {error}"),
                        (None, None) => "empty".into(),
                    };
                    println!("{}: {state}", entry.path.display());
                }
                Ok(())
            }
            ("stats", "") => {
                for plugin in set.plugins() {
                    let stats = plugin.stats();
                    println!(
                        "{}: {} calls, {} failed, {} ms of CPU, {} KiB of memory at most",
                        plugin.name(),
                        stats.calls,
                        stats.failures(),
                        stats.cpu_ticks * 10,
                        stats.peak_memory / 1024
                    );
                }
                Ok(())
            }
            ("enable", name) if !name.is_empty() => known(set.enable(name), name),
            ("disable", name) if !name.is_empty() => known(set.disable(name), name),
            ("help", "") => {
                println!(
                    ".read FILE      run the statements of FILE\n\
                     .functions      the plugins, their versions and any error\n\
                     .stats          calls, failures, CPU and memory per function\n\
                     .enable NAME    serve a disabled function again\n\
                     .disable NAME   stop serving a function\n\
                     .quit           leave (or end the input)"
                );
                Ok(())
            }
            _ => anyhow::bail!("unknown command `.{command}`; `.help` lists them"),
        }
    }

    /// Reads statements, each ending with `;`, and commands at a prompt,
    /// until `.quit` or the end of the input.
    fn prompt(&mut self) -> anyhow::Result<()> {
        let interactive = std::io::stdin().is_terminal();
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        let mut pending = String::new();
        loop {
            if interactive {
                print!(
                    "{}",
                    if pending.is_empty() {
                        "sqlplug> "
                    } else {
                        "   ...> "
                    }
                );
                std::io::stdout().flush()?;
            }
            let Some(line) = lines.next() else { break };
            let line = line?;
            if pending.is_empty() && line.trim_start().starts_with('.') {
                if line.trim() == ".quit" {
                    break;
                }
                self.input(&line);
                continue;
            }
            pending.push_str(&line);
            pending.push('\n');
            if pending.trim_end().ends_with(';') {
                let sql = std::mem::take(&mut pending);
                self.input(&sql);
            }
        }
        if !pending.trim().is_empty() {
            self.input(&pending);
        }
        Ok(())
    }
}

fn describe(plugin: &wasmplug::Plugin, enabled: bool) -> String {
    let kind = match sqlplug::Kind::of(plugin) {
        Some(sqlplug::Kind::Scalar) => "scalar function",
        Some(sqlplug::Kind::Aggregate) => "aggregate function",
        None => "not a function",
    };
    let disabled = if enabled { "" } else { ", disabled" };
    format!("{} ({kind}{disabled})", plugin.identity())
}

fn known(found: bool, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(found, "there is no plugin named `{name}`");
    Ok(())
}
