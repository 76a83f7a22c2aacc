//! Write wasmplug plugins in Rust.
//!
//! A wasmplug plugin is a WebAssembly component for the `wasmplug:plugin`
//! world: it exports one function, `run`, that turns an input string into an
//! output string or an error message, and it may call back into the host to
//! log and to read its configuration. This crate holds the bindings for that
//! world, so a whole plugin is a type implementing [`Plugin`] and one call to
//! [`export_plugin!`]:
//!
//! ```no_run
//! use wasmplug_guest::{export_plugin, Plugin};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn run(input: String) -> Result<String, String> {
//!         wasmplug_guest::info("greeting");
//!         Ok(format!("Hello, {input}!"))
//!     }
//! }
//!
//! export_plugin!(Hello);
//! ```
//!
//! # Starting
//!
//! `wasmplug new --lang rust NAME` makes a crate set up as below, with a
//! greeting plugin, a native test and a `plugin.toml`; `wasmplug build`
//! then builds and checks it. The rest of this page explains what that
//! crate contains.
//!
//! # Building
//!
//! A plugin is a library crate compiled to a `cdylib`; the `wasm32-wasip2`
//! target turns that into a component. Its `Cargo.toml` needs:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! wasmplug-guest = "0.1"
//! ```
//!
//! Build it with the WebAssembly SIMD proposal enabled, which wasmplug hosts
//! support and which speeds up string and memory handling:
//!
//! ```sh
//! rustup target add wasm32-wasip2
//! RUSTFLAGS="-C target-feature=+simd128" cargo build --release --target wasm32-wasip2
//! ```
//!
//! or, to avoid repeating the flag, put it in `.cargo/config.toml`:
//!
//! ```toml
//! [target.wasm32-wasip2]
//! rustflags = ["-C", "target-feature=+simd128"]
//! ```
//!
//! The component is written to
//! `target/wasm32-wasip2/release/<crate_name>.wasm` (with `-` in the crate
//! name replaced by `_`). A host loads it together with a `plugin.toml`
//! manifest placed beside the `.wasm` file, which names the plugin and
//! describes what it may access; see the wasmplug documentation for its
//! format.
//!
//! # Results and failures
//!
//! Return `Err` for failures the user should see, such as invalid input: the
//! host reports the message as this plugin's error. A panic is different: it
//! aborts the call with a trap, and the host treats the plugin as crashed
//! rather than as having answered.
//!
//! # Calling web services, keeping state
//!
//! A plugin may use standard WASI interfaces beyond its world; the host
//! links them and grants what `plugin.toml` requests (with a reason) and
//! the operator allows. The `wasip2` crate has the bindings.
//!
//! **Outgoing HTTP** (`wasi:http/outgoing-handler`): request each origin
//! the plugin calls,
//!
//! ```toml
//! [permissions]
//! http = [{ origin = "https://api.example.com", reason = "looks up the weather" }]
//! ```
//!
//! and send requests with `wasip2::http` (add `wasip2 = "1"` to
//! `Cargo.toml`):
//!
//! ```ignore
//! use wasip2::http::{outgoing_handler, types::{Fields, Method, OutgoingRequest, Scheme}};
//!
//! let request = OutgoingRequest::new(Fields::new());
//! request.set_method(&Method::Get).unwrap();
//! request.set_scheme(Some(&Scheme::Https)).unwrap();
//! request.set_authority(Some("api.example.com")).unwrap();
//! request.set_path_with_query(Some("/today")).unwrap();
//! let pending = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
//! pending.subscribe().block();
//! let response = pending.get().unwrap().unwrap().map_err(|e| format!("{e:?}"))?;
//! let body = response.consume().unwrap();
//! let stream = body.stream().unwrap();
//! // read with stream.blocking_read(..) until StreamError::Closed
//! ```
//!
//! A request to an origin not granted, or to a name that resolves to a
//! loopback, private or link-local address, fails with
//! `ErrorCode::HttpRequestDenied`; the host logs why. The host follows no
//! redirect: a plugin that follows one sends a new request, checked like
//! the first. Waits are capped by the plugin's deadline.
//!
//! **Key-value storage** (`wasi:keyvalue` 0.2.0-draft: `store`, `atomics`,
//! `batch`): request each bucket,
//!
//! ```toml
//! [permissions]
//! keyvalue = [{ bucket = "cache", reason = "remembers answers between calls" }]
//! ```
//!
//! and generate bindings for the interfaces with `wit-bindgen` (their WIT
//! is in wasmtime-wasi-keyvalue's `wit/deps/keyvalue`). Data is kept on
//! disk, per plugin name, across restarts; opening a bucket not granted is
//! `error::access-denied`; a write over the host's quotas (by default 1 KiB
//! keys, 1 MiB values, 64 MiB in all) is `error::other("over quota: ...")`
//! and changes nothing. `atomics::increment` keeps counters as decimal
//! text, as wasmtime does.
//!
//! **Configuration** is readable through [`config`] and, for components
//! shared with other hosts, `wasi:config/store`: the same values, the
//! manifest's `[config]` with the host's over it.
//!
//! A plugin that serves HTTP itself is a `wasi:http/proxy` component rather
//! than a plugin of this world: `wasmplug new --lang rust --template http
//! NAME` starts one for `wasmplug serve`.
//!
//! # Testing
//!
//! The host functions ([`log`], [`config`]) exist only inside a wasmplug
//! host: called from a native `cargo test` they panic. Keep the plugin's
//! logic in plain functions that take what `run` read from the host, and
//! test those natively; test the whole component through a host (`wasmplug
//! call plugin.wasm run '"input"'`, or the `wasmplug` crate).
//!
//! # Logging and configuration
//!
//! [`log`] and its shorthands [`trace`], [`debug`], [`info`], [`warn`] and
//! [`error`] send a line to the host, which labels it with the plugin's name
//! and decides which levels to show. [`config`] reads a value from the
//! plugin's manifest or from the host's overrides.
//!
//! Hosts with a richer API than `run` define their own WIT world; plugins for
//! those use `wit_bindgen::generate!` directly, and can still import this
//! world's `wasmplug:plugin/host` interface.

/// Bindings generated from `wit/plugin.wit`, kept out of the documented API.
///
/// [`export_plugin!`] expands in the plugin's crate and refers back to the
/// glue code here, so the module has to be public.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "export_plugin",
        default_bindings_module: "wasmplug_guest::bindings",
    });
}

use bindings::wasmplug::plugin::host;

pub use bindings::Guest as Plugin;
pub use host::Level;

/// Exports a type implementing [`Plugin`] as the plugin's `run` function.
///
/// Invoke it once, at the top level of the plugin crate.
///
/// This wraps the macro `wit-bindgen` generates, which is hidden from the
/// documentation, and names the bindings through `$crate` so that it also
/// works when the dependency is renamed.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ident) => {
        $crate::bindings::export_plugin!($ty with_types_in $crate::bindings);
    };
}

/// Sends `message` to the host's log at `level`.
pub fn log(level: Level, message: &str) {
    host::log(level, message);
}

/// Logs `message` at [`Level::Trace`].
pub fn trace(message: &str) {
    log(Level::Trace, message);
}

/// Logs `message` at [`Level::Debug`].
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Logs `message` at [`Level::Info`].
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Logs `message` at [`Level::Warn`].
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Logs `message` at [`Level::Error`].
pub fn error(message: &str) {
    log(Level::Error, message);
}

/// Returns this plugin's configuration value for `key`, or `None` when
/// neither the manifest nor the host sets it.
pub fn config(key: &str) -> Option<String> {
    host::config(key)
}
