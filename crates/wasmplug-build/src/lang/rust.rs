//! Rust: cargo for `wasm32-wasip2`, whose output is already a component.
//! wasmplug adds the SIMD proposal, which its hosts always enable; size
//! optimization comes from the project's release profile.

use std::path::PathBuf;
use std::process::Command;

use wasmplug::Language;

use crate::error::{BuildError, Result};
use crate::project::Project;
use crate::toolchain::{require, run};
use crate::world_check::Wit;

const TARGET: &str = "wasm32-wasip2";
/// A codegen option (`-C`) enabling WebAssembly SIMD.
const SIMD: &str = "target-feature=+simd128";
const INSTALL: &str = "install Rust with rustup: https://rustup.rs";

pub(super) fn tools() -> Result<Vec<(String, PathBuf)>> {
    Ok(vec![("cargo".into(), cargo()?)])
}

/// cargo, with the target installed.
fn cargo() -> Result<PathBuf> {
    let cargo = require("cargo", &cargo_home_bin(), Language::Rust, INSTALL)?;
    ensure_targets(&[TARGET])?;
    Ok(cargo)
}

pub(super) fn build(project: &Project, _wit: &Wit) -> Result<Vec<u8>> {
    let mut command = Command::new(cargo()?);
    command
        .current_dir(project.dir())
        .args(["build", "--release", "--target", TARGET])
        .args(["--message-format", "json-render-diagnostics"]);
    // RUSTFLAGS, when set, replaces every configured flag: add SIMD to it.
    match std::env::var("RUSTFLAGS") {
        Ok(flags) => command.env("RUSTFLAGS", format!("{flags} -C {SIMD}")),
        Err(_) => command.args([
            "--config",
            &format!("target.{TARGET}.rustflags=[\"-C\", \"{SIMD}\"]"),
        ]),
    };
    let output = run(&mut command)?;
    let artifact = cdylib_artifact(&output.stdout).ok_or_else(|| BuildError::NotAProject {
        dir: project.dir().to_path_buf(),
        reason: "cargo built no `.wasm` library: its Cargo.toml needs \
                 `[lib] crate-type = [\"cdylib\"]`"
            .into(),
    })?;
    std::fs::read(&artifact).map_err(|e| BuildError::io(artifact, e))
}

/// The `.wasm` file of the last cdylib in cargo's JSON messages.
fn cdylib_artifact(messages: &[u8]) -> Option<PathBuf> {
    String::from_utf8_lossy(messages)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"))
        })
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
        })
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
}

/// `~/.cargo/bin`, where rustup puts cargo when it is not on `PATH`.
fn cargo_home_bin() -> Vec<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| vec![home.join("bin")])
        .unwrap_or_default()
}

/// Adds `targets` with rustup where they are missing, as a build for them
/// needs.
pub fn ensure_targets(targets: &[&str]) -> Result<()> {
    let rustc = require("rustc", &cargo_home_bin(), Language::Rust, INSTALL)?;
    let sysroot = run(Command::new(rustc).args(["--print", "sysroot"]))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|target| !sysroot.join("lib/rustlib").join(target).exists())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "install the targets with `rustup target add {}`",
        missing.join(" ")
    );
    let rustup = require("rustup", &cargo_home_bin(), Language::Rust, &install)?;
    run(Command::new(rustup).args(["target", "add"]).args(&missing))?;
    Ok(())
}
