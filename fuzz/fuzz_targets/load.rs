//! Bytes through loading: as a plugin (a component, or a preview1 module
//! wrapped with the adapter), through `inspect`, and as a command (a
//! preview1 module run natively), run when it loads. Inputs that start
//! like a wasm file are taken as they are (the seeds are the repository's
//! test plugins); others make a core module with `wasm-smith` that imports
//! WASI preview1 and exports `_start`.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use wasmplug::{Error, WasmBytes};
use wasmplug_fuzz::block_on;

fuzz_target!(|data: &[u8]| {
    let bytes = if data.starts_with(b"\0asm") {
        data.to_vec()
    } else {
        match smith(data) {
            Some(module) => module,
            None => return,
        }
    };
    load(bytes);
});

fn load(bytes: Vec<u8>) {
    let host = wasmplug_fuzz::host();
    let Ok(source) = WasmBytes::from_bytes("input", bytes.clone()) else {
        return;
    };
    if let Ok(component) = source.into_component() {
        let _ = wasmplug::inspect(&component);
    }
    if let Ok(plugin) = block_on(host.load_bytes("input", bytes.clone(), None)) {
        let _ = plugin.imports();
        if let Err(error) = block_on(plugin.instantiate()) {
            assert!(!matches!(error, Error::Host { .. }), "{error:?}");
        }
    }
    // Nothing but WASI is linked: no failure is the host's.
    if let Ok(command) = block_on(host.load_command_bytes("input", bytes, None))
        && let Err(error) = block_on(command.run(&[]))
    {
        assert!(!matches!(error, Error::Host { .. }), "{error:?}");
    }
}

/// A core module that imports from a set of WASI preview1 functions and
/// exports `_start`, as toolchains make commands.
fn smith(data: &[u8]) -> Option<Vec<u8>> {
    static IMPORTS: OnceLock<Vec<u8>> = OnceLock::new();
    static EXPORTS: OnceLock<Vec<u8>> = OnceLock::new();
    let imports = IMPORTS.get_or_init(|| {
        wat::parse_str(
            r#"(module
                (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "args_sizes_get" (func (param i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "environ_sizes_get" (func (param i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
                (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))"#,
        )
        .expect("the WASI imports parse")
    });
    let exports = EXPORTS.get_or_init(|| {
        wat::parse_str(r#"(module (func (export "_start")) (memory (export "memory") 1))"#)
            .expect("the exports parse")
    });
    let mut u = Unstructured::new(data);
    let mut config: wasm_smith::Config = u.arbitrary().ok()?;
    config.available_imports = Some(imports.clone());
    config.exports = Some(exports.clone());
    config.max_memory32_bytes = config.max_memory32_bytes.min(1 << 24);
    config.threads_enabled = false;
    let module = wasm_smith::Module::new(config, &mut u).ok()?;
    Some(module.to_bytes())
}
