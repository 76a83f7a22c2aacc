//! What the library must tell a person even when the host installed no
//! `tracing` subscriber to hear it: a plugin's output, and that plugins
//! compile far slower than they should. Without a subscriber it goes to
//! the process's stderr; with one, to the subscriber, as usual.

use std::io::Write;
use std::sync::Once;

/// Whether no `tracing` subscriber would receive an event here.
pub(crate) fn unheard() -> bool {
    tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>())
}

/// Writes `line` to stderr; a stderr that cannot be written loses it.
pub(crate) fn to_stderr(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The optimization level this crate was built at (see `build.rs`).
const OPT_LEVEL: &str = env!("WASMPLUG_OPT_LEVEL");

const UNOPTIMIZED: &str = "wasmplug: this host was built without optimization \
(the debug profile), and Cranelift with it: plugins compile 15–25 times slower than \
they should (minutes, not seconds, for Python and JavaScript plugins). Add to the \
host's Cargo.toml:\n\n[profile.dev.package.\"*\"]\nopt-level = 2\n";

/// Says once per process, at the first compile, that Cranelift is
/// unoptimized, when this crate is.
pub(crate) fn unoptimized_build() {
    static ONCE: Once = Once::new();
    if OPT_LEVEL != "0" {
        return;
    }
    ONCE.call_once(|| {
        if unheard() {
            to_stderr(UNOPTIMIZED);
        } else {
            tracing::warn!(target: "wasmplug::compile", "{UNOPTIMIZED}");
        }
    });
}
