//! sqlplug: an embedded SQLite database whose SQL functions are plugins.
//!
//! Each plugin of a folder is one SQL function, named by its `plugin.toml`:
//! a scalar function (world `sqlplug:functions/scalar`) or an aggregate one
//! (world `sqlplug:functions/aggregate`), written in any language that
//! builds a component. The folder is a [`wasmplug::PluginSet`]: a function
//! changed on disk is swapped in while the database stays open. A function
//! that loops, crashes or eats memory aborts the statement that called it,
//! with an error naming the plugin and the limit; the database and the
//! process go on.
//!
//! [`host`] makes the host every sqlplug uses; [`Functions`] keeps a
//! connection's functions in step with a set.

mod bindings;
mod functions;
pub mod table;
mod value;

use std::time::Duration;

pub use functions::{Functions, Kind};
use wasmplug::{Host, Limits, Policy};

/// The world of scalar functions.
pub const SCALAR_WORLD: &str = "sqlplug:functions/scalar@0.1.0";
/// The world of aggregate functions.
pub const AGGREGATE_WORLD: &str = "sqlplug:functions/aggregate@0.1.0";

/// The host of SQL functions: they get nothing but their arguments (the
/// policy allows nothing: no files, network, clocks or randomness, so a
/// query means the same on every run), and each call may use at most
/// 256 MiB and a second of CPU unless its manifest asks for less. Nothing
/// they may use can make a call wait, so every call is a blocking one, on
/// the database's own thread.
pub fn host() -> wasmplug::Result<Host> {
    let limits = Limits::default()
        .memory(256 << 20)
        .cpu(Duration::from_secs(1))
        .timeout(Duration::from_secs(2));
    Host::builder()
        .policy(Policy::new())
        .limits(limits)
        .world(SCALAR_WORLD)
        .world(AGGREGATE_WORLD)
        .build()
}
