//! The `wasmplug` command as a user runs it, in one test binary: calls,
//! runs and checks (`cli`), the corpus of WASI programs `run` must run as
//! `wasmtime run` does (`commands`), permissions and consent (`consent`),
//! `wasmplug new` and `build` in every language (`new_and_build`), and what
//! the command shows of a plugin's work (`telemetry`).

mod cli;
mod commands;
mod consent;
mod distribution;
mod new_and_build;
mod newcomer;
mod serve;
mod signing;
mod telemetry;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

/// The command, kept from this machine's own policy and remembered
/// consent.
fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wasmplug"));
    isolate(&mut command);
    command
}

/// Keeps `command` (wasmplug, or what runs it) from this machine's policy
/// and remembered consent: each test process has a grants file of its own,
/// and no policy.
fn isolate(command: &mut Command) -> &mut Command {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let home = HOME.get_or_init(|| tempfile::tempdir().expect("a temporary directory"));
    command
        .env("WASMPLUG_GRANTS", home.path().join("grants.toml"))
        .env("WASMPLUG_POLICY", home.path().join("no-policy.toml"))
        .env("DOCKER_CONFIG", home.path().join("docker"))
}

/// Runs `wasmplug ARGS` in `dir`.
fn wasmplug_in(dir: &Path, args: &[&str]) -> Output {
    command()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("running wasmplug")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails with the command's whole output, which is what one needs to see.
fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// GET `path` from `addr` over HTTP/1.0, the whole response.
fn get(addr: &str, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}
