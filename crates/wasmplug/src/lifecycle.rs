//! How long an instance lives: one call, or many.
//!
//! A fresh instance per call is the default because it is the strongest
//! isolation: nothing one call leaves in memory reaches the next, and it
//! costs tens of microseconds for a Rust plugin. Reusing instances keeps the
//! plugin's state (caches, counters) between calls and saves that cost,
//! which matters for plugins with expensive start-up; [`InstancePool`]
//! recycles them after a number of calls, after any failure, and when idle.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::instance::Instance;
use crate::plugin::Plugin;

/// When an instance is replaced by a fresh one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lifecycle {
    /// Every call gets a new instance.
    #[default]
    Fresh,
    /// Instances are kept between calls, each for at most `max_calls` calls
    /// and dropped once idle for `max_idle`. An instance that trapped or hit
    /// a limit is never reused.
    Reuse { max_calls: u32, max_idle: Duration },
}

/// Instances of one plugin, handed out one caller at a time and kept or
/// replaced according to a [`Lifecycle`]. Safe to share between threads and
/// tasks: each concurrent call gets an instance of its own.
pub struct InstancePool<T: 'static = ()> {
    plugin: Plugin<T>,
    lifecycle: Lifecycle,
    idle: Mutex<Vec<Kept<T>>>,
}

struct Kept<T: 'static> {
    instance: Instance<T>,
    calls: u32,
    since: Instant,
}

impl<T: Send + 'static> InstancePool<T> {
    pub fn new(plugin: Plugin<T>, lifecycle: Lifecycle) -> Self {
        InstancePool {
            plugin,
            lifecycle,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `call` on an instance, fresh or kept per the lifecycle.
    pub async fn with_instance<R>(
        &self,
        call: impl AsyncFnOnce(&mut Instance<T>) -> Result<R>,
    ) -> Result<R> {
        let (mut instance, calls) = match self.take() {
            Some(kept) => (kept.instance, kept.calls),
            None => (self.plugin.instantiate().await?, 0),
        };
        let outcome = call(&mut instance).await;
        self.give_back(instance, calls + 1);
        outcome
    }

    /// Calls the default world's `run(input)`.
    pub async fn run(&self, input: &str) -> Result<String> {
        self.with_instance(async |instance| instance.run(input).await)
            .await
    }

    /// How many instances are kept for reuse now.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    fn take(&self) -> Option<Kept<T>> {
        let Lifecycle::Reuse { max_idle, .. } = self.lifecycle else {
            return None;
        };
        let mut idle = self.lock();
        idle.retain(|kept| kept.since.elapsed() < max_idle);
        idle.pop()
    }

    fn give_back(&self, instance: Instance<T>, calls: u32) {
        let Lifecycle::Reuse { max_calls, .. } = self.lifecycle else {
            return;
        };
        if instance.is_discarded() || calls >= max_calls {
            return;
        }
        self.lock().push(Kept {
            instance,
            calls,
            since: Instant::now(),
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept<T>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
