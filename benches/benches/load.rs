//! Compile once: loading a plugin with an empty cache (a full compile)
//! against loading it from the cache, for a small Rust plugin and an 18 MB
//! componentize-py plugin, in one process. Then a load from the warm cache
//! against raw wasmtime's floor for the same component (deserialize the
//! artifact, link WASI, `instantiate_pre`), and a set of 50 plugins opened
//! from a warm cache. Prints tables.
//!
//! `cargo bench -p wasmplug-benches --bench load`. The Python plugin,
//! `tests/plugins-py/hello`, is built with `wasmplug build`, which needs
//! componentize-py (`scripts/toolchains.sh`); without it, or with
//! `WASMPLUG_BENCH_NO_PYTHON=1`, only the Rust plugin is measured.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wasmplug::{ArtifactCache, Host, PluginSet};
use wasmplug_tests::{build_project, guest, repo_root, toolchain_ready};
use wasmtime::component::{Component, Linker};

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
    warm_loads(&runtime);
}

/// A warm-cache load against raw wasmtime's floor for the same artifact,
/// and a plugin set of 50 plugins opened from a warm cache.
fn warm_loads(runtime: &tokio::runtime::Runtime) {
    let cache_dir = tempfile::tempdir().unwrap();
    let host = Host::builder()
        .cache(Some(ArtifactCache::new(cache_dir.path(), 1 << 30)))
        .build()
        .unwrap();
    let path = guest("hello");
    let plugin = runtime.block_on(host.load_file(&path)).unwrap();
    let engine = plugin.engine().clone();
    let artifact = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(artifact.path(), plugin.component().serialize().unwrap()).unwrap();
    const RUNS: usize = 200;
    // Interleaved, so that the machine's other load weighs on all three.
    let (mut deserialize, mut floor, mut load) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        // SAFETY: the file was serialized by this engine just above.
        let map = || unsafe { Component::deserialize_file(&engine, artifact.path()) }.unwrap();
        deserialize.push(time(map));
        floor.push(time(|| {
            let component = map();
            let mut linker = Linker::<wasmtime_wasi::p1::WasiP1Ctx>::new(&engine);
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
            // The default world's `log` and `config`, which wasmplug links.
            linker.define_unknown_imports_as_traps(&component).unwrap();
            linker.instantiate_pre(&component).unwrap()
        }));
        load.push(time(|| runtime.block_on(host.load_file(&path)).unwrap()));
    }
    let (deserialize, floor, load) = (middle(deserialize), middle(floor), middle(load));
    println!();
    println!("| warm cache, Rust hello | median of {RUNS} | ÷ deserialize + link |");
    println!("| --- | --- | --- |");
    println!("| raw `Component::deserialize_file` | {deserialize:.2?} | |");
    println!("| raw deserialize + WASI `Linker` + `instantiate_pre` | {floor:.2?} | 1.00× |");
    let ratio = |d: Duration| d.as_secs_f64() / floor.as_secs_f64();
    println!(
        "| wasmplug `load_file` | {load:.2?} | {:.2}× |",
        ratio(load)
    );

    let set_dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::copy(&path, set_dir.path().join(format!("plugin-{i:02}.wasm"))).unwrap();
    }
    let open = |host: &Host| {
        runtime
            .block_on(PluginSet::builder(host, set_dir.path()).watch(false).open())
            .unwrap()
    };
    open(&host);
    let set = median(10, || time(|| open(&host)));
    println!(
        "| a plugin set of 50 plugins, opened | {set:.2?} | {:.2?} a plugin |",
        set / 50
    );
}

fn time<R>(f: impl FnOnce() -> R) -> Duration {
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed()
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    middle((0..runs).map(|_| f()).collect())
}

fn middle(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Builds the Python test plugin with componentize-py.
fn python_plugin() -> PathBuf {
    build_project(
        &repo_root().join("tests/plugins-py/hello"),
        None,
        "hello-py",
    )
}
