//! C: bindings from wit-bindgen's C generator, clang with wasi-libc for a
//! wasip1 reactor module, then a component made in-process with the
//! preview1 reactor adapter. No wit-bindgen or wasm-tools binary is needed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasmplug::Language;

use super::componentize_reactor;
use crate::error::{BuildError, Result};
use crate::project::Project;
use crate::toolchain::{require, run};
use crate::world_check::Wit;

const INSTALL: &str = "on Debian or Ubuntu: `apt-get install clang lld libclang-rt-dev-wasm32 \
                       wasi-libc`; elsewhere install wasi-sdk and set WASI_SDK_PATH";

pub(super) fn tools() -> Result<Vec<(String, PathBuf)>> {
    Ok(vec![("clang".into(), clang()?.0)])
}

pub(super) fn build(project: &Project, wit: &Wit) -> Result<Vec<u8>> {
    let bindings_dir = project.work_dir()?.join("bindings");
    let bindings = super::write_generated(&crate::bindings::c(wit)?, &bindings_dir, |name| {
        // The world's type reaches the component through the object file.
        name.ends_with(".c") || name.ends_with(".o")
    })?;
    let sources = sources(project.dir())?;
    let core = project.work_dir()?.join("core.wasm");
    let mut command = wasi_clang()?;
    run(command
        .current_dir(project.dir())
        // A library the host calls into: `_initialize` instead of `_start`,
        // which the component runs at instantiation (C constructors too).
        .arg("-mexec-model=reactor")
        // -Oz saves ~5% at most: most of a small module is malloc either way.
        .arg("-O2")
        .arg("-Wall")
        // Drops the name section; the world's custom section survives.
        .arg("-Wl,--strip-all")
        .arg("-I")
        .arg(&bindings_dir)
        .arg("-o")
        .arg(&core)
        .args(&sources)
        .args(&bindings))
    .map_err(missing_parts)?;
    let module = std::fs::read(&core).map_err(|e| BuildError::io(&core, e))?;
    componentize_reactor(&module, &core)
}

/// The project's `src/*.c`, in name order; `test/` stays out of the build.
fn sources(project: &Path) -> Result<Vec<PathBuf>> {
    let src = project.join("src");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src)
        .map_err(|e| BuildError::io(&src, e))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    Ok(sources)
}

/// clang for WASI preview 1 (`--target=wasm32-wasi`): Debian's wasi-libc is
/// a wasip1 snapshot that only knows this triple; for plugins the adapter
/// maps wasip1 onto WASI 0.2 afterwards. From `$WASI_SDK_PATH` with its
/// sysroot, or the system clang with the system wasi-libc.
pub fn wasi_clang() -> Result<Command> {
    let (clang, sysroot) = clang()?;
    let mut command = Command::new(clang);
    command.args(sysroot).arg("--target=wasm32-wasi");
    Ok(command)
}

fn clang() -> Result<(PathBuf, Vec<OsString>)> {
    let Some(sdk) = std::env::var_os("WASI_SDK_PATH").map(PathBuf::from) else {
        return Ok((require("clang", &[], Language::C, INSTALL)?, Vec::new()));
    };
    let clang = sdk.join("bin/clang");
    if !clang.is_file() {
        return Err(BuildError::MissingTool {
            tool: clang.display().to_string(),
            language: Language::C,
            install: "WASI_SDK_PATH must name a wasi-sdk installation".into(),
        });
    }
    let mut sysroot = OsString::from("--sysroot=");
    sysroot.push(sdk.join("share/wasi-sysroot"));
    Ok((clang, vec![sysroot]))
}

/// clang fails this way when part of the toolchain is missing, which is not
/// a bug in the plugin.
fn missing_parts(error: BuildError) -> BuildError {
    let BuildError::ToolFailed { output, .. } = &error else {
        return error;
    };
    let missing = if output.contains("unable to find library -lc")
        || output.contains("'stdlib.h' file not found")
        || output.contains("'string.h' file not found")
    {
        "wasi-libc"
    } else if output.contains("\"wasm-ld\"") && output.contains("doesn't exist") {
        "wasm-ld (lld)"
    } else if output.contains("libclang_rt.builtins-wasm32.a") {
        "compiler-rt for wasm32 (libclang-rt-dev-wasm32)"
    } else {
        return error;
    };
    BuildError::MissingTool {
        tool: missing.into(),
        language: Language::C,
        install: INSTALL.into(),
    }
}
