//! The integration tests of the host library, linked into one binary so
//! that wasmtime is linked once. `tests/plugins` holds the guests they
//! build; `tests/conformance` the same world in five languages.

mod blocking;
mod blocking_dirs;
mod bounds;
mod cache;
mod commands;
mod conformance;
mod grants;
mod host;
mod hostile;
mod http;
mod lifecycle;
mod newcomer;
mod registry;
mod set;
mod signatures;
mod state;
mod telemetry;
mod versions;
