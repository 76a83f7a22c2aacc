//! Clocks and randomness. Without a grant the guest still links (most
//! language runtimes import both at start-up) but sees clocks that never
//! move and a fixed random sequence: nothing about the host's time or entropy.

use std::time::Duration;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtxBuilder, WasiView};

use crate::store::StoreData;

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

/// The WASI 0.2 monotonic clock interface, as wasmtime-wasi links it.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// A pollable that is always ready.
struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}

/// Makes every clock subscription ready at once. wasmtime-wasi sleeps for
/// real time whatever the clock reads, and a blocking call cannot be
/// stopped while it sleeps; for a plugin whose clocks stand still, waiting
/// for them to move would never end anyway.
pub(crate) fn never_wait<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
) -> wasmtime::Result<()> {
    fn ready<T: Send + 'static>(
        data: &mut StoreData<T>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        let table = data.ctx().table;
        let ready = table.push(Ready)?;
        subscribe(table, ready)
    }
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("subscribe-duration", |mut store, (_,): (u64,)| {
        Ok((ready(store.data_mut())?,))
    })?;
    clock.func_wrap("subscribe-instant", |mut store, (_,): (u64,)| {
        Ok((ready(store.data_mut())?,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}
