//! The async side of the benchmarks: a runtime like a host's own, and
//! timing many calls inside one entry into it.

use std::time::{Duration, Instant};

/// The runtime the wasmplug side runs on: one thread, as a host's own.
pub fn new_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `call` `iters` times inside one `block_on`, so the runtime's entry
/// cost is not charged to every call.
pub fn timed<R>(
    runtime: &tokio::runtime::Runtime,
    iters: u64,
    mut call: impl AsyncFnMut() -> R,
) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(call().await);
        }
        start.elapsed()
    })
}
