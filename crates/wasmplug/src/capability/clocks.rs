//! Clocks (`wasi:clocks`). Without the `clocks` permission the guest still
//! links (most language runtimes import them at start-up) but sees clocks
//! that never move: nothing about the host's time.

use std::time::Duration;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use super::{Capability, Import, ImportStatus, InstanceSetup, LinkMode, PluginCapability};
use crate::error::Result;
use crate::permission::Permission;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Clocks;

impl<T: Send + 'static> Capability<T> for Clocks {
    fn name(&self) -> &'static str {
        "clocks"
    }

    fn key(&self) -> Option<&'static str> {
        Some("clocks")
    }

    fn whole(&self) -> Option<Permission> {
        Some(Permission::Clocks)
    }

    fn provides(&self, import: &Import) -> bool {
        import.package() == "wasi:clocks"
    }

    fn for_plugin(&self, _plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Box::new(PluginClocks {
            real: grants.contains(&Permission::Clocks),
        }))
    }
}

struct PluginClocks {
    /// Granted: the host's clocks; otherwise frozen ones.
    real: bool,
}

impl<T: Send + 'static> PluginCapability<T> for PluginClocks {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        ImportStatus::whole(self.real, Permission::Clocks, "clocks")
    }

    /// Real clocks make sleeping real; frozen ones never wait (see
    /// [`never_wait`]).
    fn waits(&self) -> Option<&'static str> {
        self.real.then_some("clocks")
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        use wasmtime_wasi::p2::bindings::clocks;
        let view = <StoreData<T> as WasiClocksView>::clocks;
        clocks::wall_clock::add_to_linker::<_, WasiClocks>(linker, view)?;
        clocks::monotonic_clock::add_to_linker::<_, WasiClocks>(linker, view)?;
        if mode.blocking {
            never_wait(linker)?;
        }
        if mode.concurrent {
            wasmtime_wasi::p3::clocks::add_to_linker(linker)?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        if !self.real {
            setup
                .wasi
                .wall_clock(FrozenClock)
                .monotonic_clock(FrozenClock);
        }
        Ok(())
    }
}

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

/// The WASI 0.2 monotonic clock interface, as wasmtime-wasi links it.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// A pollable that is always ready.
struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}

/// Makes every clock subscription ready at once, for blocking calls, whose
/// plugins have frozen clocks. wasmtime-wasi sleeps for real time whatever
/// the clock reads, and a blocking call cannot be stopped while it sleeps;
/// waiting for a frozen clock to move would never end anyway. A guest that
/// sleeps in a loop spins until its CPU limit stops it.
fn never_wait<T: Send + 'static>(linker: &mut Linker<StoreData<T>>) -> wasmtime::Result<()> {
    fn ready<T: Send + 'static>(
        data: &mut StoreData<T>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        let table = data.table();
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
