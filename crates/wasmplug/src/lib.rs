//! # wasmplug
//!
//! Extend a Rust application with plugins that are WebAssembly components:
//! sandboxed (a plugin gets only what its manifest requests, the operator's
//! policy allows and the user consents to), limited on every call (memory,
//! CPU, wall clock, stack, output, transfer), and typed through WIT.
//!
//! ```no_run
//! # fn main() -> wasmplug::Result<()> {
//! let host = wasmplug::Host::builder().build()?;
//! let plugin = host.block_on(host.load_file("plugins/hello/hello.wasm"))??;
//! let greeting = host.block_on(plugin.run("world"))??;
//! println!("{greeting}");
//! # Ok(())
//! # }
//! ```
//!
//! The pieces, one module per concern: [`Host`] (engines, capabilities,
//! limits), [`Plugin`] (a verified, compiled, linked component),
//! [`Instance`] (a store and every call into it, under [`Limits`]),
//! [`Manifest`] (`plugin.toml`: who the plugin is and what it requests),
//! [`Policy`] (what the operator allows), [`Consent`] (what the user
//! consents to, remembered in a [`GrantStore`]), [`Grants`] (what a plugin
//! got, and what was refused by whom), and [`Error`], whose variants say
//! what went wrong without parsing messages.
//!
//! Each way out of the sandbox is a capability that owns all of itself:
//! its key in the manifest and the policy, how its permissions meet, the
//! imports it provides, whether a call can wait in it, its linking and each
//! instance's state. `docs/permissions.md` in the repository describes
//! them, and the policy and grants files.
//!
//! Calls are async by default, so that the wall-clock deadline can stop a
//! guest waiting in a host call. Plugins that nothing could make wait can
//! also be called synchronously, without the fiber an async call costs, from
//! any thread (the host's own, tokio's blocking pool, a runtime's worker):
//! [`Plugin::instantiate_blocking`] and [`Instance::call_blocking`].

mod bindings;
mod cache;
mod call;
mod capability;
mod command;
mod compile;
mod compose;
mod document;
mod dynamic;
mod engine;
mod error;
mod host;
mod inspect;
mod instance;
mod lanes;
mod lifecycle;
mod limits;
mod manifest;
mod names;
mod notice;
mod permission;
mod plugin;
mod policy;
pub mod registry;
mod serve;
mod set;
pub mod signature;
mod source;
mod store;
mod telemetry;
mod text;
mod values;

pub use cache::{ArtifactCache, CacheInfo};
pub use capability::{
    HostInterface, ImportInfo, ImportStatus, KeyValueStore, KvQuota, LinkFn, Mock, Origin,
    StdioMode,
};
pub use command::Command;
pub use compile::{CompileEvent, CompileObserver};
pub use error::{Error, Limit, Result, Source};
pub use host::{Host, HostBuilder};
pub use inspect::{Inspection, inspect};
pub use instance::Instance;
pub use lanes::Value;
pub use lifecycle::{InstancePool, Lifecycle};
pub use limits::{LimitOverrides, Limits, parse_duration, parse_size};
pub use manifest::{BuildSettings, JsEngine, Language, MANIFEST_FILE, Manifest, PluginInfo};
pub use names::WitName;
pub use permission::{Access, Backing, Grant, Party, Permission, Refusal, Request};
pub use plugin::Plugin;
pub use policy::{
    Consent, ConsentAnswer, ConsentRequest, Consented, GrantStore, Grants, PluginIdentity, Policy,
};
pub use serve::{HttpHandler, HttpResponse, ServeOptions};
pub use set::{PluginSet, PluginSetBuilder, SetEntry, SetEvent, SetObserver};
pub use source::{ComponentBytes, Sha256Digest, SourceKind, WasmBytes};
pub use store::StoreData;
pub use telemetry::{CallObserver, CallRecord, PluginStats};
pub use text::{Untrusted, escape_control};
pub use values::{from_json, parse_wave, to_json, to_wave};

/// Re-exported so hosts record metrics with the same facade as this crate.
pub use metrics;
/// Re-exported so hosts use the same wasmtime as this crate.
pub use wasmtime;

/// `wasmtime::component::bindgen!`, through this crate's wasmtime, for
/// hosts that depend on wasmplug alone: the same input, with
/// `wasmtime_crate` set to `::wasmplug::wasmtime`. (A world importing
/// `wasmplug:plugin/host` makes a module named `wasmplug` among the
/// bindings, which hides this crate's name inside them; the leading `::`
/// names the crate itself. A host that renames the dependency passes
/// `wasmtime_crate` to `wasmtime::component::bindgen!` itself.)
///
/// ```ignore
/// mod bindings {
///     ::wasmplug::bindgen!({ path: "wit", world: "filter", exports: { default: async } });
/// }
/// ```
///
/// Write it `::wasmplug::bindgen!` when the world imports
/// `wasmplug:plugin/host`, whose bindings' module `wasmplug` would otherwise
/// make the name ambiguous.
///
/// Bindings called inside [`Instance::call`] need `exports: { default:
/// async }`; those for [`Instance::call_blocking`] must not have it.
#[macro_export]
macro_rules! bindgen {
    ({ $($input:tt)* }) => {
        $crate::wasmtime::component::bindgen!({
            wasmtime_crate: ::wasmplug::wasmtime,
            $($input)*
        });
    };
}

/// The version of wasmtime this crate runs on.
pub const WASMTIME_VERSION: &str = "48.0.8";
