//! Typed bindings for the two worlds of `wit/functions.wit`, called
//! synchronously: SQLite calls functions from its own thread, and plugins
//! that get nothing cannot wait.

/// `sqlplug:functions/scalar`: `call(args) -> result<value, string>`.
pub(crate) mod scalar {
    wasmplug::bindgen!({
        path: "wit",
        world: "scalar",
    });
}

/// `sqlplug:functions/aggregate`: the `group` resource of `accumulate`.
pub(crate) mod aggregate {
    wasmplug::bindgen!({
        path: "wit",
        world: "aggregate",
        with: { "sqlplug:functions/types": super::scalar::sqlplug::functions::types },
    });
}

pub(crate) use scalar::sqlplug::functions::types::Value;
