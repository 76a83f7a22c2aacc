//! Clocks and randomness. Without a grant the guest still links (most
//! language runtimes import both at start-up) but sees a clock frozen at zero
//! and a fixed random sequence: nothing about the host's time or entropy.

use std::time::Duration;

use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtxBuilder};

/// A clock that always reads zero.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

pub(crate) fn apply(wasi: &mut WasiCtxBuilder, clocks: bool, random: bool) {
    if !clocks {
        wasi.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
    }
    if !random {
        let fixed = || Deterministic::new(vec![0x5a, 0x17, 0xc3, 0x88]);
        wasi.secure_random(fixed())
            .insecure_random(fixed())
            .insecure_random_seed(0);
    }
}
