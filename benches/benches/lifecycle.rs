//! What a plugin's lifecycle costs per call: an older version of a host
//! API adapted to the newest against the newest itself, and telemetry (a
//! span and metrics per call) against none.
//!
//! `cargo bench -p wasmplug-benches --bench lifecycle`. The telemetry rows
//! run in order: first with nothing subscribed, then with a `tracing`
//! subscriber and a Prometheus recorder installed for the rest of the
//! process, since neither can be removed once installed.

use criterion::Criterion;
use tracing_subscriber::layer::SubscriberExt;
use wasmplug::{ArtifactCache, Host, Instance, Plugin};
use wasmplug_tests::guest;

mod runtime;

use runtime::{new_runtime, timed};

/// The example host's API: the same `transform` built against 0.2.0,
/// whose `about` the host adapts from 0.3.0's, and against 0.3.0.
fn api_versions(c: &mut Criterion) {
    let runtime = new_runtime();
    let host = example_host::host("en").unwrap();
    let mut group = c.benchmark_group("api");
    for (label, guest_name, world) in [
        ("transform, plugin of 0.3.0 (newest)", "api_v0_3", "0.3.0"),
        ("transform, plugin of 0.2.0 (adapted)", "api_v0_2", "0.2.0"),
    ] {
        let manifest = wasmplug::Manifest::parse(
            &format!(
                "[plugin]\nname = \"filter\"\nversion = \"1.0.0\"\n\
                 world = \"example:filters/filter@{world}\"\n[permissions]\n\
                 interfaces = [{{ name = \"example:filters/app@{world}\", reason = \"credits\" }}]\n"
            ),
            std::path::Path::new("plugin.toml"),
        )
        .unwrap();
        let bytes = std::fs::read(guest(guest_name)).unwrap();
        let plugin = runtime
            .block_on(host.load_bytes("filter", bytes, Some(manifest)))
            .unwrap();
        let mut instance = runtime.block_on(plugin.instantiate()).unwrap();
        let filter = example_host::Filter::new(&mut instance).unwrap();
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                timed(&runtime, iters, async || {
                    filter.transform(&mut instance, "hello").await.unwrap()
                })
            })
        });
    }
    group.finish();
}

/// Typed `greet` calls, blocking and async, on kept instances.
fn greet(c: &mut Criterion, label: &str, metrics: bool) {
    let runtime = new_runtime();
    let host = Host::builder()
        .cache(ArtifactCache::at_default_dir())
        .metrics(metrics)
        .build()
        .unwrap();
    let plugin: Plugin = runtime.block_on(host.load_file(guest("bench"))).unwrap();
    let mut blocking = plugin.instantiate_blocking().unwrap();
    let mut instance: Instance = runtime.block_on(plugin.instantiate()).unwrap();
    let greet_blocking = blocking.typed_func::<(&str,), (String,)>("greet").unwrap();
    let greet = instance.typed_func::<(&str,), (String,)>("greet").unwrap();
    let mut group = c.benchmark_group("telemetry");
    group.bench_function(format!("greet, call_blocking, {label}"), |b| {
        b.iter(|| {
            blocking
                .call_blocking("greet", |s| greet_blocking.call(s, ("world",)))
                .unwrap()
        })
    });
    group.bench_function(format!("greet, call, {label}"), |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance
                    .call("greet", async |s| greet.call_async(s, ("world",)).await)
                    .await
                    .unwrap()
            })
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    api_versions(&mut c);
    greet(&mut c, "nothing subscribed", false);
    // A subscriber that keeps every span (the registry), and Prometheus's
    // recorder: each call then records a span, its count and its duration.
    let subscriber =
        tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::INFO);
    tracing::subscriber::set_global_default(subscriber).unwrap();
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    greet(&mut c, "span + metrics", true);
    c.final_summary();
}
