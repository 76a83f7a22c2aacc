//! What a host sees of its plugins: per-plugin statistics, an observer per
//! call, a `tracing` span per call with guest output inside it, and metrics
//! through the `metrics` facade.

use std::sync::{Arc, Mutex};

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use wasmplug::{Error, Host, Limit};
use wasmplug_tests::{block_on_any, guest, staged, tight_limits};

const HELLO_1: &str = "[plugin]\nname = \"hello\"\nversion = \"1.0.0\"\n";

#[tokio::test]
async fn stats_count_calls_errors_time_memory_and_output() {
    let host = Host::builder().limits(tight_limits()).build().unwrap();
    let plugin = host.load_file(guest("hostile")).await.unwrap();
    plugin.run("echo a").await.unwrap();
    plugin.run("echo b").await.unwrap();
    let cpu = plugin.run("loop").await.unwrap_err();
    assert!(
        matches!(
            cpu,
            Error::LimitExceeded {
                limit: Limit::CpuTime,
                ..
            }
        ),
        "{cpu:?}"
    );
    let output = plugin.run("flood").await.unwrap_err();
    assert!(
        matches!(
            output,
            Error::LimitExceeded {
                limit: Limit::Output,
                ..
            }
        ),
        "{output:?}"
    );
    let memory = plugin.run("grow").await.unwrap_err();
    assert!(
        matches!(
            memory,
            Error::LimitExceeded {
                limit: Limit::Memory,
                ..
            }
        ),
        "{memory:?}"
    );
    let guest_error = plugin.run("fail 10").await.unwrap_err();
    assert_eq!(guest_error.kind(), "guest");

    let stats = plugin.stats();
    assert_eq!((stats.calls, stats.instantiations), (6, 6));
    let errors: Vec<(&str, u64)> = stats.errors.iter().map(|(k, n)| (*k, *n)).collect();
    assert_eq!(
        errors,
        [
            ("guest", 1),
            ("limit.cpu-time", 1),
            ("limit.memory", 1),
            ("limit.output", 1)
        ]
    );
    assert_eq!(stats.failures(), 4);
    // The CPU limit is 300 ms of 10 ms ticks; the other calls add a few.
    assert!(stats.cpu_ticks >= 30, "{stats:?}");
    // The memory bomb grew to the limit's edge.
    assert!(stats.peak_memory > 16 << 20, "{stats:?}");
    assert!(stats.output_dropped > 0, "{stats:?}");
    assert_eq!(stats.instances_alive, 0, "every instance was dropped");

    let instance = plugin.instantiate().await.unwrap();
    assert_eq!(plugin.stats().instances_alive, 1);
    drop(instance);
    assert_eq!(plugin.stats().instances_alive, 0);
}

#[tokio::test]
async fn an_observer_sees_every_call_with_its_export_and_outcome() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let host = Host::builder()
        .observe(move |record| {
            let outcome = record.outcome.map_or_else(|e| e.kind(), |()| "ok");
            sink.lock().unwrap().push(format!(
                "{}@{} {} {outcome}",
                record.plugin, record.version, record.export
            ));
        })
        .build()
        .unwrap();
    let (_dir, path) = staged("hello", Some(HELLO_1));
    let plugin = host.load_file(&path).await.unwrap();
    plugin.run("world").await.unwrap();
    plugin.run("").await.unwrap_err();
    let mut instance = plugin.instantiate().await.unwrap();
    instance
        .call_wave("run", &["\"waves\"".into()])
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "hello@1.0.0 [instantiate] ok",
            "hello@1.0.0 run ok",
            "hello@1.0.0 [instantiate] ok",
            "hello@1.0.0 run guest",
            "hello@1.0.0 [instantiate] ok",
            "hello@1.0.0 run ok",
        ]
    );
    let stats = plugin.stats();
    assert_eq!(stats.timed_calls, 6, "an observer makes every call timed");
    assert_eq!(stats.durations.iter().map(|(_, n)| n).sum::<u64>(), 6);
    assert!(stats.total_time > std::time::Duration::ZERO);
}

/// Captured `tracing` output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn each_call_is_a_span_holding_the_guest_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let host = Host::builder().cache(None).build().unwrap();
    let (_dir, path) = staged("hello", Some(HELLO_1));
    // Other tests' threads run without a subscriber. tracing-core asks only
    // the registering thread's subscriber about a new call site while a
    // single dispatcher exists, so a second one is kept alive: then every
    // dispatcher is asked, this test's included.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    tracing::subscriber::with_default(subscriber, || {
        // Call sites other threads registered before are asked again.
        tracing::callsite::rebuild_interest_cache();
        let plugin = block_on_any(host.load_file(&path)).unwrap();
        plugin.run_blocking("world").unwrap();
        plugin.run_blocking("").unwrap_err();
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let span = "call{plugin=\"hello\" version=\"1.0.0\" export=\"run\"}";
    // The guest's log line is inside the span, and labelled with the
    // plugin's name and version.
    assert!(
        text.contains(&format!("{span}: wasmplug::guest: greeting world plugin=\"hello\" version=\"1.0.0\" stream=\"log\"")),
        "{text}"
    );
    let closes: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("export=\"run\" outcome") && l.contains("close"))
        .collect();
    assert_eq!(closes.len(), 2, "{text}");
    assert!(
        closes[0].contains("outcome=\"ok\"") && closes[0].contains("duration_us="),
        "{text}"
    );
    assert!(closes[1].contains("outcome=\"guest\""), "{text}");
}

#[test]
fn metrics_go_through_the_facade_per_plugin() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let host = Host::builder()
            .metrics(true)
            .limits(tight_limits())
            .cache(None)
            .build()
            .unwrap();
        let (_dir, path) = staged("hostile", Some(&HELLO_1.replace("hello", "hostile")));
        let plugin = block_on_any(host.load_file(&path)).unwrap();
        block_on_any(plugin.run("echo one")).unwrap();
        block_on_any(plugin.run("echo two")).unwrap();
        block_on_any(plugin.run("loop")).unwrap_err();
    });
    let metrics: Vec<(CompositeKey, DebugValue)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| (key, value))
        .collect();
    let value = |name: &str, kind: MetricKind, extra: Option<(&str, &str)>| {
        metrics
            .iter()
            .find(|(key, _)| {
                let labels: Vec<(&str, &str)> =
                    key.key().labels().map(|l| (l.key(), l.value())).collect();
                key.kind() == kind
                    && key.key().name() == name
                    && labels.contains(&("plugin", "hostile"))
                    && labels.contains(&("version", "1.0.0"))
                    && extra.is_none_or(|e| labels.contains(&e))
            })
            .map(|(_, value)| value)
            .unwrap_or_else(|| panic!("no {name} in {metrics:?}"))
    };
    assert_eq!(
        value("wasmplug_calls_total", MetricKind::Counter, None),
        &DebugValue::Counter(3)
    );
    assert_eq!(
        value(
            "wasmplug_call_errors_total",
            MetricKind::Counter,
            Some(("kind", "limit.cpu-time"))
        ),
        &DebugValue::Counter(1)
    );
    let DebugValue::Histogram(durations) = value(
        "wasmplug_call_duration_seconds",
        MetricKind::Histogram,
        None,
    ) else {
        panic!("the duration is a histogram");
    };
    // Three calls and three instantiations.
    assert_eq!(durations.len(), 6);
    let DebugValue::Counter(ticks) = value("wasmplug_cpu_ticks_total", MetricKind::Counter, None)
    else {
        panic!("ticks are counted");
    };
    assert!(*ticks >= 30, "{ticks}");
    assert_eq!(
        value("wasmplug_instances", MetricKind::Gauge, None),
        &DebugValue::Gauge(0.0.into())
    );
}
