//! Scaffold and build wasmplug plugins in Rust, Python, JavaScript, C and Go.
//!
//! A plugin project is a folder with a `plugin.toml` naming the world it
//! implements, the WIT that defines that world (`wit/` unless `[build] wit`
//! says otherwise) and the sources of one language. [`Project::open`] reads
//! it, [`Project::build`] runs the language's toolchain and checks the
//! component against the world, and [`scaffold`] writes a new project that
//! builds as it is.

mod bindings;
mod error;
mod files;
mod lang;
mod project;
mod scaffold;
mod stubs;
mod toolchain;
mod world_check;

pub use error::{BuildError, Result};
pub use lang::c::wasi_clang;
pub use lang::rust::ensure_targets as ensure_rust_targets;
pub use project::{Built, DEFAULT_WORLD, Project};
pub use scaffold::{Scaffold, Template, scaffold};
pub use toolchain::Toolchain;
pub use wasmplug::{JsEngine, Language};
pub use world_check::{Wit, check_world};
