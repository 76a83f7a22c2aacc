//! Hot reload, measured: how long from a new build renamed over a plugin's
//! file to the first call answered by it, and whether any call fails while
//! two threads call the plugin without pause through 100 reloads.
//!
//! `cargo bench -p wasmplug-benches --bench reload [-- ROUNDS]` prints a
//! table. Each round renames a new build (the `hello` test plugin with a
//! custom section of its own, so another SHA-256 and a compile) over the
//! plugin's file, or, in the second series, a new manifest over its
//! `plugin.toml` (same component: taken from the cache), then takes the
//! plugin from the set every millisecond until it is the new version, and
//! stops the clock when that version's first call returns. The set's
//! debounce is its default, 50 ms, and compiled components go to a cache
//! of their own.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmplug::{ArtifactCache, Host, PluginSet, Sha256Digest};
use wasmplug_tests::{custom_section, guest};

fn manifest(version: usize) -> String {
    format!(
        "[plugin]\nname = \"hello\"\nversion = \"1.0.{version}\"\n\
         world = \"wasmplug:plugin/plugin@0.1.0\"\n[config]\ngreeting = \"Hello {version}\"\n"
    )
}

fn rename_over(path: &Path, bytes: &[u8]) {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let folder = dir.path().join("hello");
    std::fs::create_dir(&folder).unwrap();
    let wasm = std::fs::read(guest("hello")).unwrap();
    std::fs::write(folder.join("hello.wasm"), &wasm).unwrap();
    std::fs::write(folder.join("plugin.toml"), manifest(0)).unwrap();

    let host = Host::builder()
        .cache(Some(ArtifactCache::new(cache.path(), 1 << 30)))
        .build()
        .unwrap();
    let set = host
        .block_on(PluginSet::builder(&host, dir.path()).open())
        .unwrap()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (calls, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (set, stop) = (set.clone(), stop.clone());
            let (calls, failures) = (calls.clone(), failures.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let ok = set
                        .get("hello")
                        .is_some_and(|plugin| plugin.run_blocking("you").is_ok());
                    calls.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    println!("reload latency, {rounds} rounds each, 2 threads calling throughout");
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "change", "p50", "p95", "max", "calls", "failed"
    );
    let mut version: usize = 0;
    for series in [
        "new build renamed over (compiles)",
        "new plugin.toml (cached)",
    ] {
        let (calls_before, failures_before) = (
            calls.load(Ordering::Relaxed),
            failures.load(Ordering::Relaxed),
        );
        let mut latencies = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            version += 1;
            // The version that must answer: another build, or another
            // manifest of the same build.
            let started = Instant::now();
            let wanted: Box<dyn Fn(&wasmplug::Plugin) -> bool> = if series.starts_with("new build")
            {
                let build = custom_section(&wasm, "build", &version.to_le_bytes());
                let digest = Sha256Digest::of(&build);
                rename_over(&folder.join("hello.wasm"), &build);
                Box::new(move |plugin| plugin.sha256() == digest)
            } else {
                rename_over(&folder.join("plugin.toml"), manifest(version).as_bytes());
                let label = format!("1.0.{version}");
                Box::new(move |plugin| plugin.identity().version.as_deref() == Some(&label))
            };
            loop {
                let plugin = set.get("hello").unwrap();
                if wanted(&plugin) {
                    plugin.run_blocking("you").unwrap();
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(60), "no reload");
                std::thread::sleep(Duration::from_millis(1));
            }
            latencies.push(started.elapsed());
        }
        latencies.sort();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!(
            "{:<34} {:>9} {:>9} {:>9} {:>9} {:>7}",
            series,
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.95)),
            ms(*latencies.last().unwrap()),
            calls.load(Ordering::Relaxed) - calls_before,
            failures.load(Ordering::Relaxed) - failures_before
        );
    }
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller.join().unwrap();
    }
}
