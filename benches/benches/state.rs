//! Key-value storage and outgoing HTTP, measured: what a plugin pays for a
//! `get` and a durable `set`, and what wasmplug's checked sender adds to a
//! request over a direct hyper request to the same server.
//!
//! `cargo bench -p wasmplug-benches --bench state [-- ROUNDS]` prints a
//! table (1,000 rounds by default). Key-value rows: the store's own `get`
//! and `set` (each `set` a transaction committed to disk before it
//! returns), then the same through the `state` test plugin, beside a call
//! of that plugin that touches no storage (`config`), so the difference is
//! the storage. HTTP rows: a GET of a 4-byte body from a hyper server on
//! 127.0.0.1, by hyper directly (a connection per request, as the
//! plugin's requests have) and by the `http-fetch` plugin (granted the
//! origin), beside the same plugin's call that fails before sending, so
//! the difference is the request.

use std::time::{Duration, Instant};

use wasmplug::{Grant, Host, KeyValueStore, KvQuota, Plugin, Policy};
use wasmplug_tests::local_http::{http_request, local_server};
use wasmplug_tests::staged;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// p50 and p99 of `rounds` runs of `f`.
async fn measure(rounds: usize, mut f: impl AsyncFnMut()) -> (Duration, Duration) {
    for _ in 0..rounds / 10 {
        f().await;
    }
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn row(what: &str, (p50, p99): (Duration, Duration)) {
    println!(
        "{what:<44} {:>10.1} {:>10.1}",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}

async fn load(name: &str, manifest: &str, policy: Policy, data: &std::path::Path) -> Plugin {
    let (dir, path) = staged(name, Some(manifest));
    let host = Host::builder()
        .policy(policy)
        .data_dir(Some(data))
        .build()
        .unwrap();
    let plugin = host.load_file(&path).await.unwrap();
    // The plugin keeps its host; the staged copy is compiled and cached.
    drop(dir);
    plugin
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    println!("{:<44} {:>10} {:>10}", "path", "p50 µs", "p99 µs");

    let data = tempfile::tempdir().unwrap();
    {
        let store = KeyValueStore::open(data.path(), "direct", KvQuota::default()).unwrap();
        store.set("b", "k", b"value").unwrap();
        row(
            "store get",
            measure(rounds, async || {
                store.get("b", "k").unwrap();
            })
            .await,
        );
        let mut n = 0u64;
        row(
            "store set (durable)",
            measure(rounds, async || {
                n += 1;
                store.set("b", "k", n.to_string().as_bytes()).unwrap();
            })
            .await,
        );
    }

    let manifest = "[plugin]\nname = \"state\"\nversion = \"0.1.0\"\n[config]\ng = \"x\"\n\
                    [permissions]\nkeyvalue = [{ bucket = \"b\", reason = \"benchmarks\" }]\n";
    let state = load(
        "state",
        manifest,
        Policy::new().allow(Grant::bucket("b")),
        data.path(),
    )
    .await;
    state.run("set b k value").await.unwrap();
    let mut instance = state.instantiate().await.unwrap();
    row(
        "plugin call without storage (config)",
        measure(rounds, async || {
            instance.run("config g").await.unwrap();
        })
        .await,
    );
    row(
        "plugin get",
        measure(rounds, async || {
            instance.run("get b k").await.unwrap();
        })
        .await,
    );
    row(
        "plugin set (durable)",
        measure(rounds, async || {
            instance.run("set b k value").await.unwrap();
        })
        .await,
    );

    let addr = local_server().await;
    row(
        "hyper GET, new connection",
        measure(rounds, async || {
            assert_eq!(
                http_request(addr, "GET", "/ok", "").await,
                (200, Ok("fine".into()))
            );
        })
        .await,
    );
    let origin = format!("http://{addr}");
    let manifest = format!(
        "[plugin]\nname = \"fetch\"\nversion = \"0.1.0\"\n[permissions]\n\
         http = [{{ origin = \"{origin}\", reason = \"benchmarks\" }}]\n"
    );
    let fetch = load(
        "http_fetch",
        &manifest,
        Policy::new().allow(Grant::http(&origin)),
        data.path(),
    )
    .await;
    let mut instance = fetch.instantiate().await.unwrap();
    row(
        "plugin call failing before sending",
        measure(rounds, async || {
            instance.run("not a url").await.unwrap_err();
        })
        .await,
    );
    let url = format!("{origin}/ok");
    row(
        "plugin GET through wasmplug's sender",
        measure(rounds, async || {
            assert_eq!(instance.run(&url).await.unwrap(), "200 fine");
        })
        .await,
    );
}
