//! Compile once: loading a plugin with an empty cache (a full compile)
//! against loading it from the cache, for a small Rust plugin and an 18 MB
//! componentize-py plugin, in one process. Prints a table.
//!
//! `cargo bench -p wasmplug-benches --bench load`. The Python plugin,
//! `tests/plugins-py/hello`, is built with `wasmplug build`, which needs
//! componentize-py (`scripts/toolchains.sh`); without it, or with
//! `WASMPLUG_BENCH_NO_PYTHON=1`, only the Rust plugin is measured.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wasmplug::{ArtifactCache, Host};
use wasmplug_tests::{build_project, guest, repo_root, toolchain_ready};

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut plugins = vec![("Rust hello", guest("hello"), 10)];
    if std::env::var_os("WASMPLUG_BENCH_NO_PYTHON").is_none()
        && toolchain_ready(wasmplug_build::Language::Python)
    {
        plugins.push(("Python hello", python_plugin(), 3));
    }
    println!("| plugin | size | compile (no cache) | cached load | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    for (label, path, compiles) in plugins {
        // Each measurement uses a new host, as a new process would, whose
        // engine is already made: engines are made once per process.
        let warm = |host: Host| {
            runtime.block_on(host.load_file(guest("hello"))).unwrap();
            host
        };
        let compile = median(compiles, || {
            let host = warm(Host::builder().cache(None).build().unwrap());
            time(|| runtime.block_on(host.load_file(&path)).unwrap())
        });
        let cache_dir = tempfile::tempdir().unwrap();
        let cached_host = || {
            Host::builder()
                .cache(Some(ArtifactCache::new(cache_dir.path(), 1 << 30)))
                .build()
                .unwrap()
        };
        runtime.block_on(cached_host().load_file(&path)).unwrap();
        let cached = median(20, || {
            let host = warm(cached_host());
            time(|| runtime.block_on(host.load_file(&path)).unwrap())
        });
        println!(
            "| {label} | {:.1} MB | {compile:.2?} | {cached:.2?} | {:.0}× |",
            std::fs::metadata(&path).unwrap().len() as f64 / 1e6,
            compile.as_secs_f64() / cached.as_secs_f64()
        );
    }
}

fn time<R>(f: impl FnOnce() -> R) -> Duration {
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed()
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[runs / 2]
}

/// Builds the Python test plugin with componentize-py.
fn python_plugin() -> PathBuf {
    build_project(
        &repo_root().join("tests/plugins-py/hello"),
        None,
        "hello-py",
    )
}
