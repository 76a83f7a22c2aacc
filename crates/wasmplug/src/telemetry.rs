//! What each plugin is doing, for the people running it: a `tracing` span
//! per call, per-plugin statistics ([`PluginStats`]), metrics through the
//! `metrics` facade, and an observer hook ([`CallRecord`]).
//!
//! It must cost a call next to nothing when nobody looks: counting is a
//! few relaxed atomic adds; the clock (two reads, the dearest part) is read
//! only when something wants durations (an observer, metrics, or an
//! enabled span); metric handles are registered once per plugin, at load,
//! with the recorder installed then; errors, which are rare, take a lock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, Label};

use crate::error::Error;

/// One finished call (or instantiation), as an observer sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CallRecord<'a> {
    pub plugin: &'a str,
    /// The plugin's version, from its manifest; empty without one.
    pub version: &'a str,
    /// The export called, or `[instantiate]` for making an instance.
    pub export: &'a str,
    pub duration: Duration,
    /// `Err` with the error the call ended in.
    pub outcome: std::result::Result<(), &'a Error>,
    /// Epoch ticks (10 ms each) the guest ran wasm code for.
    pub cpu_ticks: u64,
    /// Fuel the call consumed, when the plugin runs metered.
    pub fuel: Option<u64>,
}

/// Receives a [`CallRecord`] after every call; runs on the calling thread,
/// so it should be quick.
pub type CallObserver = Arc<dyn Fn(&CallRecord<'_>) + Send + Sync>;

/// The export name instantiation is recorded under.
pub(crate) const INSTANTIATE: &str = "[instantiate]";

/// Upper bounds of the duration histogram's buckets; the last bucket takes
/// everything longer.
const BUCKETS: [Duration; 12] = [
    Duration::from_micros(1),
    Duration::from_micros(10),
    Duration::from_micros(100),
    Duration::from_micros(500),
    Duration::from_millis(1),
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(10),
];

/// A plugin's statistics since it was loaded: [`crate::Plugin::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PluginStats {
    /// Calls of exports, failed ones included.
    pub calls: u64,
    pub instantiations: u64,
    /// Failed calls and instantiations by [`Error::kind`].
    pub errors: BTreeMap<&'static str, u64>,
    /// Calls whose duration was measured: only while an observer, metrics
    /// or an enabled span wanted it.
    pub timed_calls: u64,
    pub total_time: Duration,
    /// How many timed calls took at most each bound; the last bound is
    /// `Duration::MAX`.
    pub durations: Vec<(Duration, u64)>,
    /// Epoch ticks (10 ms each) spent running wasm code.
    pub cpu_ticks: u64,
    /// Fuel consumed, for plugins that run metered.
    pub fuel_consumed: u64,
    /// The most memory (linear memories and tables) one instance held.
    pub peak_memory: u64,
    /// Instances alive now.
    pub instances_alive: u64,
    /// Bytes of output (stdout, stderr, log) dropped by the output limit.
    pub output_dropped: u64,
}

impl PluginStats {
    /// Failed calls and instantiations of every kind.
    pub fn failures(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// A plugin's name and version as its output and records carry them.
#[derive(Debug, Clone)]
pub(crate) struct PluginLabel {
    pub(crate) name: Arc<str>,
    /// Empty for a plugin without a manifest.
    pub(crate) version: Arc<str>,
}

/// What the host asked for, shared by all its plugins.
#[derive(Clone, Default)]
pub(crate) struct TelemetrySettings {
    pub(crate) metrics: bool,
    pub(crate) observer: Option<CallObserver>,
}

/// One plugin's counters, its metric handles and the host's observer.
pub(crate) struct Telemetry {
    pub(crate) label: PluginLabel,
    calls: AtomicU64,
    instantiations: AtomicU64,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    timed: AtomicU64,
    total_nanos: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len() + 1],
    cpu_ticks: AtomicU64,
    fuel: AtomicU64,
    peak_memory: AtomicU64,
    alive: AtomicU64,
    output_dropped: AtomicU64,
    metrics: Option<Handles>,
    observer: Option<CallObserver>,
}

/// The plugin's metric handles, registered once.
struct Handles {
    labels: Vec<Label>,
    calls: Counter,
    duration: Histogram,
    cpu_ticks: Counter,
    fuel: Counter,
    peak_memory: Gauge,
    instances: Gauge,
    output_dropped: Counter,
}

impl Handles {
    fn register(label: &PluginLabel) -> Self {
        let labels = vec![
            Label::new("plugin", label.name.to_string()),
            Label::new("version", label.version.to_string()),
        ];
        describe();
        Handles {
            calls: metrics::counter!("wasmplug_calls_total", labels.iter()),
            duration: metrics::histogram!("wasmplug_call_duration_seconds", labels.iter()),
            cpu_ticks: metrics::counter!("wasmplug_cpu_ticks_total", labels.iter()),
            fuel: metrics::counter!("wasmplug_fuel_consumed_total", labels.iter()),
            peak_memory: metrics::gauge!("wasmplug_memory_peak_bytes", labels.iter()),
            instances: metrics::gauge!("wasmplug_instances", labels.iter()),
            output_dropped: metrics::counter!("wasmplug_output_dropped_bytes_total", labels.iter()),
            labels,
        }
    }
}

/// Describes the metrics to the recorder installed now, once per process
/// and recorder.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("wasmplug_calls_total", "Calls of a plugin's exports");
    describe_counter!(
        "wasmplug_call_errors_total",
        "Failed calls and instantiations, by kind of error"
    );
    describe_histogram!(
        "wasmplug_call_duration_seconds",
        Unit::Seconds,
        "Wall-clock time of a plugin's calls"
    );
    describe_counter!(
        "wasmplug_cpu_ticks_total",
        "Epoch ticks (10 ms each) a plugin spent running wasm code"
    );
    describe_counter!(
        "wasmplug_fuel_consumed_total",
        "Fuel consumed by a plugin running metered"
    );
    describe_gauge!(
        "wasmplug_memory_peak_bytes",
        Unit::Bytes,
        "The most memory one instance of the plugin held"
    );
    describe_gauge!("wasmplug_instances", "Instances of the plugin alive");
    describe_counter!(
        "wasmplug_output_dropped_bytes_total",
        Unit::Bytes,
        "Output of the plugin dropped by its output limit"
    );
}

/// A call in flight: its span and, when someone wants it, its start.
pub(crate) struct CallTimer {
    pub(crate) span: tracing::Span,
    start: Option<Instant>,
}

/// What a finished call used, beside its outcome.
#[derive(Default)]
pub(crate) struct Usage {
    pub(crate) cpu_ticks: u64,
    pub(crate) fuel: Option<u64>,
    pub(crate) output_dropped: u64,
}

impl Telemetry {
    pub(crate) fn new(label: PluginLabel, settings: &TelemetrySettings) -> Self {
        Telemetry {
            metrics: settings.metrics.then(|| Handles::register(&label)),
            observer: settings.observer.clone(),
            label,
            calls: AtomicU64::new(0),
            instantiations: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            timed: AtomicU64::new(0),
            total_nanos: AtomicU64::new(0),
            buckets: Default::default(),
            cpu_ticks: AtomicU64::new(0),
            fuel: AtomicU64::new(0),
            peak_memory: AtomicU64::new(0),
            alive: AtomicU64::new(0),
            output_dropped: AtomicU64::new(0),
        }
    }

    /// Opens the call's span, and starts its clock if anyone wants it.
    /// Inlined, like [`Self::finish`]'s fast path, into each host's own
    /// instance of the call guard: a call into another crate costs more
    /// than all they do when nobody looks.
    #[inline(always)]
    pub(crate) fn start(&self, export: &str) -> CallTimer {
        let span = tracing::info_span!(
            target: "wasmplug::call",
            "call",
            plugin = &*self.label.name,
            version = &*self.label.version,
            export,
            outcome = tracing::field::Empty,
            duration_us = tracing::field::Empty,
        );
        let timed = self.metrics.is_some() || self.observer.is_some() || !span.is_disabled();
        CallTimer {
            span,
            start: timed.then(Instant::now),
        }
    }

    /// Records a finished call: a count, and the rest only when there is
    /// more to record than a quick success nobody timed.
    #[inline(always)]
    pub(crate) fn finish(
        &self,
        timer: CallTimer,
        export: &str,
        outcome: std::result::Result<(), &Error>,
        usage: Usage,
    ) {
        let counter = if export == INSTANTIATE {
            &self.instantiations
        } else {
            &self.calls
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let quiet = usage.cpu_ticks == 0 && usage.fuel.is_none() && usage.output_dropped == 0;
        if quiet && outcome.is_ok() && timer.start.is_none() {
            return;
        }
        self.record(timer, export, outcome, usage);
    }

    /// What [`Self::finish`] records of a call that failed, used CPU ticks,
    /// fuel or dropped output, or was timed.
    #[inline(never)]
    fn record(
        &self,
        timer: CallTimer,
        export: &str,
        outcome: std::result::Result<(), &Error>,
        usage: Usage,
    ) {
        if usage.cpu_ticks > 0 {
            self.cpu_ticks.fetch_add(usage.cpu_ticks, Ordering::Relaxed);
        }
        if let Some(fuel) = usage.fuel {
            self.fuel.fetch_add(fuel, Ordering::Relaxed);
        }
        if usage.output_dropped > 0 {
            self.output_dropped
                .fetch_add(usage.output_dropped, Ordering::Relaxed);
        }
        if let Err(error) = outcome {
            self.count_error(error.kind());
        }
        let Some(start) = timer.start else {
            return;
        };
        let duration = start.elapsed();
        self.time(duration);
        if !timer.span.is_disabled() {
            timer.span.record(
                "outcome",
                outcome.as_ref().map_or_else(|e| e.kind(), |()| "ok"),
            );
            timer
                .span
                .record("duration_us", duration.as_micros() as u64);
        }
        if let Some(handles) = &self.metrics {
            if export != INSTANTIATE {
                handles.calls.increment(1);
            }
            handles.duration.record(duration.as_secs_f64());
            if usage.cpu_ticks > 0 {
                handles.cpu_ticks.increment(usage.cpu_ticks);
            }
            if let Some(fuel) = usage.fuel {
                handles.fuel.increment(fuel);
            }
            if usage.output_dropped > 0 {
                handles.output_dropped.increment(usage.output_dropped);
            }
        }
        if let Some(observer) = &self.observer {
            observer(&CallRecord {
                plugin: &self.label.name,
                version: &self.label.version,
                export,
                duration,
                outcome,
                cpu_ticks: usage.cpu_ticks,
                fuel: usage.fuel,
            });
        }
    }

    fn count_error(&self, kind: &'static str) {
        *self
            .errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(kind)
            .or_default() += 1;
        if let Some(handles) = &self.metrics {
            let labels = handles
                .labels
                .iter()
                .cloned()
                .chain([Label::new("kind", kind)])
                .collect::<Vec<_>>();
            metrics::counter!("wasmplug_call_errors_total", labels).increment(1);
        }
    }

    fn time(&self, duration: Duration) {
        self.timed.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.total_nanos.fetch_add(nanos, Ordering::Relaxed);
        let bucket = BUCKETS.partition_point(|bound| *bound < duration);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// Notes that an instance holds `bytes` of memory and tables.
    pub(crate) fn memory(&self, bytes: u64) {
        let before = self.peak_memory.fetch_max(bytes, Ordering::Relaxed);
        if bytes > before
            && let Some(handles) = &self.metrics
        {
            handles.peak_memory.set(bytes as f64);
        }
    }

    /// Counts an instance as alive until the returned guard is dropped.
    pub(crate) fn alive(self: &Arc<Self>) -> Alive {
        self.alive.fetch_add(1, Ordering::Relaxed);
        if let Some(handles) = &self.metrics {
            handles.instances.increment(1.0);
        }
        Alive(self.clone())
    }

    pub(crate) fn snapshot(&self) -> PluginStats {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let bounds = BUCKETS.iter().copied().chain([Duration::MAX]);
        PluginStats {
            calls: load(&self.calls),
            instantiations: load(&self.instantiations),
            errors: self
                .errors
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            timed_calls: load(&self.timed),
            total_time: Duration::from_nanos(load(&self.total_nanos)),
            durations: bounds.zip(self.buckets.iter().map(load)).collect(),
            cpu_ticks: load(&self.cpu_ticks),
            fuel_consumed: load(&self.fuel),
            peak_memory: load(&self.peak_memory),
            instances_alive: load(&self.alive),
            output_dropped: load(&self.output_dropped),
        }
    }
}

/// An instance counted as alive.
pub(crate) struct Alive(Arc<Telemetry>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::Relaxed);
        if let Some(handles) = &self.0.metrics {
            handles.instances.decrement(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Limit;

    fn telemetry(settings: &TelemetrySettings) -> Arc<Telemetry> {
        let label = PluginLabel {
            name: "p".into(),
            version: "1.0.0".into(),
        };
        Arc::new(Telemetry::new(label, settings))
    }

    fn usage(cpu_ticks: u64) -> Usage {
        Usage {
            cpu_ticks,
            fuel: None,
            output_dropped: 0,
        }
    }

    #[test]
    fn counts_calls_errors_and_instances_without_a_clock() {
        let t = telemetry(&TelemetrySettings::default());
        t.finish(t.start("run"), "run", Ok(()), usage(0));
        let limit = Error::LimitExceeded {
            plugin: "p".into(),
            limit: Limit::CpuTime,
            detail: String::new(),
        };
        t.finish(t.start("run"), "run", Err(&limit), usage(3));
        t.finish(t.start(INSTANTIATE), INSTANTIATE, Ok(()), usage(0));
        let alive = t.alive();
        t.memory(4096);
        t.memory(1024);
        let stats = t.snapshot();
        assert_eq!((stats.calls, stats.instantiations), (2, 1));
        assert_eq!(stats.errors.get("limit.cpu-time"), Some(&1));
        assert_eq!(stats.failures(), 1);
        assert_eq!(stats.cpu_ticks, 3);
        assert_eq!(stats.peak_memory, 4096);
        assert_eq!(stats.instances_alive, 1);
        assert_eq!(stats.timed_calls, 0, "nobody asked for durations");
        drop(alive);
        assert_eq!(t.snapshot().instances_alive, 0);
    }

    #[test]
    fn an_observer_gets_every_call_timed() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let settings = TelemetrySettings {
            metrics: false,
            observer: Some(Arc::new(move |record: &CallRecord<'_>| {
                sink.lock()
                    .unwrap()
                    .push((record.export.to_string(), record.outcome.is_ok()));
            })),
        };
        let t = telemetry(&settings);
        t.finish(t.start("greet"), "greet", Ok(()), usage(0));
        assert_eq!(*seen.lock().unwrap(), [("greet".to_string(), true)]);
        let stats = t.snapshot();
        assert_eq!(stats.timed_calls, 1);
        assert_eq!(stats.durations.iter().map(|(_, n)| n).sum::<u64>(), 1);
        assert_eq!(stats.durations.last().unwrap().0, Duration::MAX);
    }
}
