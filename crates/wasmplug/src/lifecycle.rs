//! How long an instance lives: one call, or many.
//!
//! A fresh instance per call is the default because it is the strongest
//! isolation: nothing one call leaves in memory reaches the next, and it
//! costs tens of microseconds for a Rust plugin. Reusing instances keeps the
//! plugin's state (caches, counters) between calls and saves that cost,
//! which matters for plugins with expensive start-up; [`InstancePool`]
//! recycles them after a number of calls, after any failure, and when idle.
//!
//! A call through a pool should cost what a call on a kept instance does:
//! each pooled instance keeps its bindings (the typed functions a host
//! calls, made once by [`Plugin::pool_with`]), and idleness is measured on
//! the engines' epoch ticks rather than the system clock, whose two reads a
//! call would otherwise cost as much as a short call itself.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::error::Result;
use crate::instance::{Drive, Instance};
use crate::limits::EPOCH_TICK;
use crate::plugin::Plugin;

/// When an instance is replaced by a fresh one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lifecycle {
    /// Every call gets a new instance.
    #[default]
    Fresh,
    /// Instances are kept between calls, each for at most `max_calls` calls
    /// and dropped once idle for `max_idle` (to within 10 ms, the epoch
    /// tick). An instance that trapped or hit a limit is never reused.
    Reuse { max_calls: u32, max_idle: Duration },
}

/// Makes the bindings kept with each pooled instance.
type Bind<T, B> = dyn Fn(&mut Instance<T>) -> Result<B> + Send + Sync;

/// Instances of one plugin, handed out one caller at a time and kept or
/// replaced according to a [`Lifecycle`], each with its bindings `B` (see
/// [`Plugin::pool_with`]). Safe to share between threads and tasks: each
/// concurrent call gets an instance of its own. Async and blocking calls
/// ([`Self::with_instance_blocking`]) each get instances of their kind.
pub struct InstancePool<T: 'static = (), B: 'static = ()> {
    plugin: Plugin<T>,
    lifecycle: Lifecycle,
    /// `max_idle` in whole epoch ticks, worked out once.
    max_idle_ticks: u64,
    bind: Box<Bind<T, B>>,
    idle: Mutex<Idle<T, B>>,
}

/// The kept instances of each kind, each list oldest first.
struct Idle<T: 'static, B> {
    async_instances: Vec<Kept<T, B>>,
    blocking_instances: Vec<Kept<T, B>>,
}

impl<T: 'static, B> Idle<T, B> {
    fn of(&mut self, drive: Drive) -> &mut Vec<Kept<T, B>> {
        match drive {
            Drive::Async => &mut self.async_instances,
            Drive::Blocking => &mut self.blocking_instances,
        }
    }
}

/// An instance with its bindings and how much it has served.
struct Kept<T: 'static, B> {
    instance: Instance<T>,
    bindings: B,
    calls: u32,
    /// The epoch tick at which it was last given back.
    since: u64,
}

impl<T: Send + 'static> InstancePool<T, ()> {
    pub fn new(plugin: Plugin<T>, lifecycle: Lifecycle) -> Self {
        InstancePool::with_bindings(plugin, lifecycle, |_| Ok(()))
    }
}

impl<T: Send + 'static, B: Send + 'static> InstancePool<T, B> {
    /// A pool whose instances each keep what `bind` makes of them.
    pub fn with_bindings(
        plugin: Plugin<T>,
        lifecycle: Lifecycle,
        bind: impl Fn(&mut Instance<T>) -> Result<B> + Send + Sync + 'static,
    ) -> Self {
        let max_idle_ticks = match lifecycle {
            Lifecycle::Reuse { max_idle, .. } => {
                u64::try_from(max_idle.as_nanos() / EPOCH_TICK.as_nanos()).unwrap_or(u64::MAX)
            }
            Lifecycle::Fresh => 0,
        };
        InstancePool {
            plugin,
            lifecycle,
            max_idle_ticks,
            bind: Box::new(bind),
            idle: Mutex::new(Idle {
                async_instances: Vec::new(),
                blocking_instances: Vec::new(),
            }),
        }
    }

    /// Runs `call` on an instance, fresh or kept per the lifecycle.
    pub async fn with_instance<R>(
        &self,
        call: impl AsyncFnOnce(&mut Instance<T>) -> Result<R>,
    ) -> Result<R> {
        self.with_bound(async |instance, _| call(instance).await)
            .await
    }

    /// Runs `call` on an instance and the bindings kept with it.
    pub async fn with_bound<R>(
        &self,
        call: impl AsyncFnOnce(&mut Instance<T>, &B) -> Result<R>,
    ) -> Result<R> {
        let mut kept = match self.take(Drive::Async) {
            Some(kept) => kept,
            None => self.keep(self.plugin.instantiate().await?)?,
        };
        let outcome = call(&mut kept.instance, &kept.bindings).await;
        self.give_back(kept);
        outcome
    }

    /// [`Self::with_instance`] with blocking instances
    /// ([`Plugin::instantiate_blocking`]), for plugins that take them.
    pub fn with_instance_blocking<R>(
        &self,
        call: impl FnOnce(&mut Instance<T>) -> Result<R>,
    ) -> Result<R> {
        self.with_bound_blocking(|instance, _| call(instance))
    }

    /// [`Self::with_bound`] with blocking instances.
    pub fn with_bound_blocking<R>(
        &self,
        call: impl FnOnce(&mut Instance<T>, &B) -> Result<R>,
    ) -> Result<R> {
        let mut kept = match self.take(Drive::Blocking) {
            Some(kept) => kept,
            None => self.keep(self.plugin.instantiate_blocking()?)?,
        };
        let outcome = call(&mut kept.instance, &kept.bindings);
        self.give_back(kept);
        outcome
    }

    /// Calls the default world's `run(input)`.
    pub async fn run(&self, input: &str) -> Result<String> {
        self.with_instance(async |instance| instance.run(input).await)
            .await
    }

    /// Calls the default world's `run(input)` on a blocking instance.
    pub fn run_blocking(&self, input: &str) -> Result<String> {
        self.with_instance_blocking(|instance| instance.run_blocking(input))
    }

    /// How many instances are kept for reuse now.
    pub fn idle(&self) -> usize {
        let idle = self.lock();
        idle.async_instances.len() + idle.blocking_instances.len()
    }

    /// A fresh instance with its bindings.
    fn keep(&self, mut instance: Instance<T>) -> Result<Kept<T, B>> {
        let bindings = (self.bind)(&mut instance)?;
        Ok(Kept {
            instance,
            bindings,
            calls: 0,
            since: 0,
        })
    }

    /// The kept instance of the kind `drive` needs that was given back
    /// last, after dropping those idle too long (outside the lock: freeing
    /// a store's memory is a system call other callers need not wait on).
    fn take(&self, drive: Drive) -> Option<Kept<T, B>> {
        if self.lifecycle == Lifecycle::Fresh {
            return None;
        }
        let now = self.plugin.host.inner.engines.ticks();
        let mut idle = self.lock();
        let kept = idle.of(drive);
        // More than `max_idle` whole ticks: idle for at least `max_idle`.
        let expired = kept
            .iter()
            .take_while(|kept| now.saturating_sub(kept.since) > self.max_idle_ticks)
            .count();
        let stale: Vec<Kept<T, B>> = kept.drain(..expired).collect();
        let last = kept.pop();
        drop(idle);
        drop(stale);
        last
    }

    fn give_back(&self, mut kept: Kept<T, B>) {
        let Lifecycle::Reuse { max_calls, .. } = self.lifecycle else {
            return;
        };
        kept.calls += 1;
        if kept.instance.is_discarded() || kept.calls >= max_calls {
            return;
        }
        kept.since = self.plugin.host.inner.engines.ticks();
        let drive = kept.instance.drive();
        self.lock().of(drive).push(kept);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle<T, B>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
