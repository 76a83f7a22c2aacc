//! Clocks and randomness. Without a grant the guest still links (most
//! language runtimes import both at start-up) but sees clocks that never
//! move and a fixed random sequence: nothing about the host's time or entropy.

use std::time::Duration;

use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtxBuilder};

/// Clocks that never move.
struct FrozenClock;

/// What the frozen monotonic clock always reads: one second after its start.
const FROZEN_MONOTONIC_NANOS: u64 = 1_000_000_000;

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
    /// Not zero: Go's runtime refuses to start on a monotonic clock that
    /// reads 0 ("nanotime returning zero"); any constant hides as much.
    fn now(&self) -> u64 {
        FROZEN_MONOTONIC_NANOS
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
