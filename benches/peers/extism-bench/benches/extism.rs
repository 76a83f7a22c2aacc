//! The workloads of `benches/wit/bench.wit` on Extism 1.30, shaped like
//! `benches/benches/calls.rs` (same inputs, sizes and group names) so that
//! each median there has its Extism counterpart here.
//!
//! Extism moves one byte buffer each way, so every call copies its input
//! into the plugin and its output back out; outputs are taken owned
//! (`String`, `Vec<u8>`), as wasmplug's typed calls return them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};

const SIZES: [usize; 3] = [1 << 10, 64 << 10, 1 << 20];
const GUEST_TARGET: &str = "wasm32-unknown-unknown";

/// `add(1, 2)`'s input: two `u32`s little-endian.
const ADD_INPUT: [u8; 8] = [1, 0, 0, 0, 2, 0, 0, 0];

/// The guest module: `$EXTISM_BENCH_GUEST` if set, else `extism-guest` built
/// from source, once per process.
fn guest() -> &'static [u8] {
    static GUEST: OnceLock<Vec<u8>> = OnceLock::new();
    GUEST.get_or_init(|| {
        let path = std::env::var_os("EXTISM_BENCH_GUEST")
            .map(PathBuf::from)
            .unwrap_or_else(build_guest);
        std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    })
}

/// Builds `extism-guest` into the bench's own target directory. Cargo runs
/// from the peers workspace, where `.cargo/config.toml` turns on simd128.
fn build_guest() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("extism-bench sits in the peers workspace");
    // A bench runs as `<target dir>/release/deps/extism-<hash>`.
    let exe = std::env::current_exe().expect("the bench's own path");
    let target_dir = exe
        .ancestors()
        .nth(3)
        .expect("the bench runs from a target directory");
    ensure_target();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "--release", "--quiet", "-p", "extism-guest"])
        .args(["--target", GUEST_TARGET, "--target-dir"])
        .arg(target_dir)
        .status()
        .expect("running cargo to build extism-guest");
    assert!(status.success(), "building extism-guest failed");
    target_dir
        .join(GUEST_TARGET)
        .join("release/extism_guest.wasm")
}

/// Adds the guest's Rust target with rustup when the toolchain lacks it, so
/// that a fresh machine needs no setup step.
fn ensure_target() {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("running rustc");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(GUEST_TARGET).exists() {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", GUEST_TARGET])
        .status()
        .expect("running rustup to add the wasm target");
    assert!(status.success(), "rustup target add {GUEST_TARGET} failed");
}

/// Compiles the guest once. The manifest arms the limits wasmplug always
/// applies, at its defaults: 256 MiB of memory, a 10 s timeout. Compiled
/// code is not cached on disk: this process compiles only once.
fn compiled() -> CompiledPlugin {
    let manifest = Manifest::new([Wasm::data(guest())])
        .with_memory_max(256 * 1024 * 1024 / 65536)
        .with_timeout(Duration::from_secs(10));
    PluginBuilder::new(manifest)
        .with_cache_disabled()
        .compile()
        .expect("compiling extism-guest")
}

/// A plugin whose guest is already instantiated: Extism instantiates on a
/// plugin's first call.
fn ready(compiled: &CompiledPlugin) -> Plugin {
    let mut plugin = Plugin::new_from_compiled(compiled).unwrap();
    plugin.call::<&[u8], u32>("add", &ADD_INPUT).unwrap();
    plugin
}

/// The guest computes what `tests/plugins/bench` computes: a comparison of
/// different work would mean nothing.
fn check(plugin: &mut Plugin) {
    assert_eq!(plugin.call::<&[u8], u32>("add", &ADD_INPUT).unwrap(), 3);
    let greeting = plugin.call::<&str, String>("greet", "world").unwrap();
    assert_eq!(greeting, "Hello, world!");
    let echoed = plugin.call::<&[u8], Vec<u8>>("echo", b"\0\xff").unwrap();
    assert_eq!(echoed, b"\0\xff");
    let rot13 = plugin
        .call::<&[u8], Vec<u8>>("transform", b"Hello, Zz!")
        .unwrap();
    assert_eq!(rot13, b"Uryyb, Mm!");
}

fn calls(c: &mut Criterion) {
    let compiled = compiled();
    let mut plugin = ready(&compiled);
    check(&mut plugin);

    let mut group = c.benchmark_group("instantiate");
    group.bench_function("extism new_from_compiled", |b| {
        b.iter(|| Plugin::new_from_compiled(&compiled).unwrap())
    });
    group.bench_function("extism new_from_compiled + first add", |b| {
        b.iter(|| ready(&compiled))
    });
    group.finish();

    let mut group = c.benchmark_group("add");
    group.bench_function("extism", |b| {
        b.iter(|| plugin.call::<&[u8], u32>("add", &ADD_INPUT).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("greet");
    group.bench_function("extism", |b| {
        b.iter(|| plugin.call::<&str, String>("greet", "world").unwrap())
    });
    group.finish();

    for export in ["echo", "transform"] {
        let mut group = c.benchmark_group(export);
        for size in SIZES {
            let data = vec![b'a'; size];
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::new("extism", size), &data, |b, data| {
                b.iter(|| plugin.call::<&[u8], Vec<u8>>(export, data).unwrap())
            });
        }
        group.finish();
    }
}

/// Calls per second on one and on two threads, each thread with its own
/// plugin from the same compiled module: the time per call should halve.
fn throughput(c: &mut Criterion) {
    let compiled = compiled();
    let mut group = c.benchmark_group("throughput greet");
    group.throughput(Throughput::Elements(1));
    for threads in [1u64, 2] {
        group.bench_function(BenchmarkId::new("extism threads", threads), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(threads);
                let ready_to_go = std::sync::Barrier::new(threads as usize + 1);
                std::thread::scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|| {
                            let mut plugin = ready(&compiled);
                            ready_to_go.wait();
                            for _ in 0..per_thread {
                                std::hint::black_box(
                                    plugin.call::<&str, String>("greet", "world").unwrap(),
                                );
                            }
                        });
                    }
                    ready_to_go.wait();
                    // The scope joins every thread before it returns.
                    Instant::now()
                })
                .elapsed()
            })
        });
    }
    group.finish();
}

/// Extism 1.30 makes and drops an error on every call (it asks a store
/// without fuel for its fuel), and an error captures a backtrace whenever
/// `RUST_LIB_BACKTRACE` or, failing that, `RUST_BACKTRACE` is set to anything
/// but `0`: that alone triples the cost of a small call.
fn warn_if_backtraces() {
    let capture = ["RUST_LIB_BACKTRACE", "RUST_BACKTRACE"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .is_some_and(|value| value != "0");
    if capture {
        eprintln!(
            "warning: backtrace capture is on, and Extism captures one per call; \
             set RUST_LIB_BACKTRACE=0 to measure calls as deployed"
        );
    }
}

criterion_group!(benches, calls, throughput);

fn main() {
    warn_if_backtraces();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
