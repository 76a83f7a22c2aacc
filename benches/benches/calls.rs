//! Call overhead: the same typed calls through wasmplug and through raw
//! wasmtime in its fastest configuration (component-model concurrency off,
//! no epoch or fuel checks, synchronous calls, pooling allocator), side by
//! side.
//!
//! `cargo bench -p wasmplug-benches` prints criterion's estimates; the ratios
//! are in benches/README.md.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wasmtime::component::{Component, InstancePre, Linker, TypedFunc, Val};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store};

use wasmplug::{Access, ArtifactCache, Grant, Host, Instance, Lifecycle, Plugin, Policy, Value};
use wasmplug_tests::{guest, staged};

mod raw;
mod runtime;

use raw::{Raw, raw_hostile, raw_store, raw_store_with};
use runtime::{new_runtime, timed};

const SIZES: [usize; 3] = [1 << 10, 64 << 10, 1 << 20];

/// Raw wasmtime's fastest configuration, or, with `epochs`, the same plus
/// epoch interruption (how wasmplug bounds CPU time), to measure its cost.
fn raw_instance(epochs: bool) -> (Store<Raw>, wasmtime::component::Instance, InstancePre<Raw>) {
    let mut config = Config::new();
    config
        .concurrency_support(false)
        .epoch_interruption(epochs)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(Default::default()));
    let engine = Engine::new(&config).unwrap();
    let component = Component::from_file(&engine, guest("bench")).unwrap();
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    let mut store = raw_store(&engine);
    // Far enough ahead never to fire: only the checks are measured.
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = pre.instantiate(&mut store).unwrap();
    (store, instance, pre)
}

fn raw_func<P, R>(
    store: &mut Store<Raw>,
    instance: &wasmtime::component::Instance,
    name: &str,
) -> TypedFunc<P, R>
where
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    instance.get_typed_func::<P, R>(&mut *store, name).unwrap()
}

fn plug_plugin(runtime: &tokio::runtime::Runtime) -> Plugin {
    let host = Host::builder()
        .cache(ArtifactCache::at_default_dir())
        .build()
        .unwrap();
    runtime.block_on(host.load_file(guest("bench"))).unwrap()
}

fn plug_func<P, R>(instance: &mut Instance, name: &str) -> TypedFunc<P, R>
where
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    instance.typed_func::<P, R>(name).unwrap()
}

/// The floor of a synchronous call path that keeps a CPU limit: the epoch
/// deadline set before every call, a synchronous call, no fiber.
fn sync_limited<R>(
    store: &mut Store<Raw>,
    call: impl FnOnce(&mut Store<Raw>) -> wasmtime::Result<R>,
) -> R {
    store.set_epoch_deadline(500);
    call(store).unwrap()
}

/// A store for the floor of an async call path that keeps a CPU limit:
/// on an engine with epoch interruption, yielding at each tick.
fn async_epoch_instance() -> (Store<Raw>, wasmtime::component::Instance) {
    let (mut store, instance, _) = raw_instance(true);
    store.epoch_deadline_async_yield_and_update(1);
    (store, instance)
}

/// That floor: the epoch deadline set before every call, on a fiber.
async fn async_limited<R>(
    store: &mut Store<Raw>,
    call: impl AsyncFnOnce(&mut Store<Raw>) -> wasmtime::Result<R>,
) -> R {
    store.set_epoch_deadline(500);
    call(store).await.unwrap()
}

fn calls(c: &mut Criterion) {
    let runtime = new_runtime();
    let (mut store, raw, pre) = raw_instance(false);
    let (mut epoch_store, epoch_raw, _) = raw_instance(true);
    let (mut async_epoch_store, async_epoch_raw) = async_epoch_instance();
    let plugin = plug_plugin(&runtime);
    let mut plug = runtime.block_on(plugin.instantiate()).unwrap();
    let mut blocking = plugin.instantiate_blocking().unwrap();

    let mut group = c.benchmark_group("instantiate");
    group.bench_function("raw wasmtime", |b| {
        b.iter(|| {
            let mut store = raw_store(pre.engine());
            pre.instantiate(&mut store).unwrap();
            store
        })
    });
    group.bench_function("raw wasmtime async", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                let mut store = raw_store(pre.engine());
                pre.instantiate_async(&mut store).await.unwrap();
                store
            })
        })
    });
    group.bench_function("wasmplug", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                plugin.instantiate().await.unwrap()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("add");
    let add = raw_func::<(u32, u32), (u32,)>(&mut store, &raw, "add");
    group.bench_function("raw wasmtime", |b| {
        b.iter(|| add.call(&mut store, (1, 2)).unwrap())
    });
    group.bench_function("raw wasmtime async", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                add.call_async(&mut store, (1, 2)).await.unwrap()
            })
        })
    });
    let epoch_add = raw_func::<(u32, u32), (u32,)>(&mut epoch_store, &epoch_raw, "add");
    group.bench_function("raw wasmtime + epoch deadline", |b| {
        b.iter(|| sync_limited(&mut epoch_store, |s| epoch_add.call(s, (1, 2))))
    });
    let async_epoch_add =
        raw_func::<(u32, u32), (u32,)>(&mut async_epoch_store, &async_epoch_raw, "add");
    group.bench_function("raw wasmtime async + epoch deadline", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                async_limited(&mut async_epoch_store, async |s| {
                    async_epoch_add.call_async(s, (1, 2)).await
                })
                .await
            })
        })
    });
    let blocking_add = plug_func::<(u32, u32), (u32,)>(&mut blocking, "add");
    group.bench_function("wasmplug blocking", |b| {
        b.iter(|| {
            blocking
                .call_blocking("add", |s| blocking_add.call(s, (1, 2)))
                .unwrap()
        })
    });
    let plug_add = plug_func::<(u32, u32), (u32,)>(&mut plug, "add");
    group.bench_function("wasmplug", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                plug.call("add", async |s| plug_add.call_async(s, (1, 2)).await)
                    .await
                    .unwrap()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("greet");
    let greet = raw_func::<(&str,), (String,)>(&mut store, &raw, "greet");
    group.bench_function("raw wasmtime", |b| {
        b.iter(|| greet.call(&mut store, ("world",)).unwrap())
    });
    group.bench_function("raw wasmtime async", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                greet.call_async(&mut store, ("world",)).await.unwrap()
            })
        })
    });
    let epoch_greet = raw_func::<(&str,), (String,)>(&mut epoch_store, &epoch_raw, "greet");
    group.bench_function("raw wasmtime + epoch deadline", |b| {
        b.iter(|| sync_limited(&mut epoch_store, |s| epoch_greet.call(s, ("world",))))
    });
    let async_epoch_greet =
        raw_func::<(&str,), (String,)>(&mut async_epoch_store, &async_epoch_raw, "greet");
    group.bench_function("raw wasmtime async + epoch deadline", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                async_limited(&mut async_epoch_store, async |s| {
                    async_epoch_greet.call_async(s, ("world",)).await
                })
                .await
            })
        })
    });
    let blocking_greet = plug_func::<(&str,), (String,)>(&mut blocking, "greet");
    group.bench_function("wasmplug blocking", |b| {
        b.iter(|| {
            blocking
                .call_blocking("greet", |s| blocking_greet.call(s, ("world",)))
                .unwrap()
        })
    });
    let plug_greet = plug_func::<(&str,), (String,)>(&mut plug, "greet");
    group.bench_function("wasmplug", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                plug.call("greet", async |s| {
                    plug_greet.call_async(s, ("world",)).await
                })
                .await
                .unwrap()
            })
        })
    });
    group.finish();

    for export in ["echo", "transform", "upper", "upper-wide"] {
        let mut group = c.benchmark_group(export);
        let raw_bytes = raw_func::<(&[u8],), (Vec<u8>,)>(&mut store, &raw, export);
        let epoch_bytes = raw_func::<(&[u8],), (Vec<u8>,)>(&mut epoch_store, &epoch_raw, export);
        let plug_bytes = plug_func::<(&[u8],), (Vec<u8>,)>(&mut plug, export);
        for size in SIZES {
            let data = vec![b'a'; size];
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::new("raw wasmtime", size), &data, |b, data| {
                b.iter(|| raw_bytes.call(&mut store, (data,)).unwrap())
            });
            group.bench_with_input(
                BenchmarkId::new("raw wasmtime + epochs", size),
                &data,
                |b, data| b.iter(|| epoch_bytes.call(&mut epoch_store, (data,)).unwrap()),
            );
            group.bench_with_input(BenchmarkId::new("wasmplug", size), &data, |b, data| {
                b.iter_custom(|iters| {
                    timed(&runtime, iters, async || {
                        plug.call(export, async |s| plug_bytes.call_async(s, (data,)).await)
                            .await
                            .unwrap()
                    })
                })
            });
        }
        group.finish();
    }
}

/// Dynamic calls by name: through the fast lane for byte lists and
/// strings, and, for comparison, through wasmtime's `Val`s.
fn dynamic(c: &mut Criterion) {
    let runtime = new_runtime();
    let plugin = plug_plugin(&runtime);
    let mut instance = runtime.block_on(plugin.instantiate()).unwrap();
    let typed_echo = plug_func::<(&[u8],), (Vec<u8>,)>(&mut instance, "echo");
    let echo = instance.func("echo").unwrap();
    let mut group = c.benchmark_group("dynamic echo");
    for size in SIZES {
        let data = vec![b'a'; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("typed", size), &data, |b, data| {
            b.iter_custom(|iters| {
                timed(&runtime, iters, async || {
                    instance
                        .call("echo", async |s| typed_echo.call_async(s, (data,)).await)
                        .await
                        .unwrap()
                })
            })
        });
        let args = [Value::Bytes(data.clone())];
        group.bench_with_input(BenchmarkId::new("call_values", size), &args, |b, args| {
            b.iter_custom(|iters| {
                timed(&runtime, iters, async || {
                    instance.call_values("echo", args).await.unwrap()
                })
            })
        });
        if size <= 64 << 10 {
            let vals = [Val::List(data.iter().map(|&b| Val::U8(b)).collect())];
            group.bench_with_input(BenchmarkId::new("Val", size), &vals, |b, vals| {
                b.iter_custom(|iters| {
                    timed(&runtime, iters, async || {
                        instance.call_func("echo", echo, vals).await.unwrap()
                    })
                })
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("dynamic greet");
    let typed_greet = plug_func::<(&str,), (String,)>(&mut instance, "greet");
    group.bench_function("typed", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance
                    .call("greet", async |s| {
                        typed_greet.call_async(s, ("world",)).await
                    })
                    .await
                    .unwrap()
            })
        })
    });
    let args = [Value::String("world".into())];
    group.bench_function("call_values", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance.call_values("greet", &args).await.unwrap()
            })
        })
    });
    let mut blocking = plugin.instantiate_blocking().unwrap();
    let blocking_greet = plug_func::<(&str,), (String,)>(&mut blocking, "greet");
    group.bench_function("typed, blocking", |b| {
        b.iter(|| {
            blocking
                .call_blocking("greet", |s| blocking_greet.call(s, ("world",)))
                .unwrap()
        })
    });
    group.bench_function("call_values_blocking", |b| {
        b.iter(|| blocking.call_values_blocking("greet", &args).unwrap())
    });
    let json = [serde_json::json!("world")];
    group.bench_function("call_json", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance.call_json("greet", &json).await.unwrap()
            })
        })
    });
    group.bench_function("call_json_blocking", |b| {
        b.iter(|| blocking.call_json_blocking("greet", &json).unwrap())
    });
    let wave = ["\"world\"".to_string()];
    group.bench_function("call_wave", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance.call_wave("greet", &wave).await.unwrap()
            })
        })
    });
    group.bench_function("call_wave_blocking", |b| {
        b.iter(|| blocking.call_wave_blocking("greet", &wave).unwrap())
    });
    group.finish();
}

/// Calls through an [`wasmplug::InstancePool`] that keeps instances and
/// their bindings, against calls on an instance the caller keeps itself.
fn pools(c: &mut Criterion) {
    let runtime = new_runtime();
    let plugin = plug_plugin(&runtime);
    let reuse = Lifecycle::Reuse {
        max_calls: u32::MAX,
        max_idle: Duration::from_secs(3600),
    };
    let bind = |instance: &mut Instance| instance.typed_func::<(&'static str,), (String,)>("greet");
    let pool = plugin.pool_with(reuse, bind);
    let mut kept = runtime.block_on(plugin.instantiate()).unwrap();
    let greet = plug_func::<(&str,), (String,)>(&mut kept, "greet");
    let mut kept_blocking = plugin.instantiate_blocking().unwrap();
    let greet_blocking = plug_func::<(&str,), (String,)>(&mut kept_blocking, "greet");
    let mut group = c.benchmark_group("pool greet");
    group.bench_function("kept instance", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                kept.call("greet", async |s| greet.call_async(s, ("world",)).await)
                    .await
                    .unwrap()
            })
        })
    });
    group.bench_function("InstancePool", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                pool.with_bound(async |instance, greet| {
                    instance
                        .call("greet", async |s| greet.call_async(s, ("world",)).await)
                        .await
                })
                .await
                .unwrap()
            })
        })
    });
    group.bench_function("kept instance, blocking", |b| {
        b.iter(|| {
            kept_blocking
                .call_blocking("greet", |s| greet_blocking.call(s, ("world",)))
                .unwrap()
        })
    });
    group.bench_function("InstancePool, blocking", |b| {
        b.iter(|| {
            pool.with_bound_blocking(|instance, greet| {
                instance.call_blocking("greet", |s| greet.call(s, ("world",)))
            })
            .unwrap()
        })
    });
    group.finish();
}

/// A guest that calls a host function, the default world's `log`, from
/// its `run`: raw wasmtime with `log` and `config` linked as functions
/// that do nothing, and wasmplug's, which emit the line as a `tracing`
/// event (to no subscriber here), blocking and async.
fn host_function(c: &mut Criterion) {
    let runtime = new_runtime();
    let engine = raw_instance(true).0.engine().clone();
    let (mut store, raw_run) = raw_hostile(raw_store(&engine));

    let host = Host::builder()
        .cache(ArtifactCache::at_default_dir())
        .build()
        .unwrap();
    let plugin: Plugin = runtime.block_on(host.load_file(guest("hostile"))).unwrap();
    let mut blocking = plugin.instantiate_blocking().unwrap();
    let mut instance = runtime.block_on(plugin.instantiate()).unwrap();
    let mut group = c.benchmark_group("host function log");
    group.bench_function("raw wasmtime + epoch deadline", |b| {
        b.iter(|| sync_limited(&mut store, |s| raw_run.call(s, ("log hi",))))
    });
    group.bench_function("wasmplug blocking", |b| {
        b.iter(|| blocking.run_blocking("log hi").unwrap())
    });
    group.bench_function("wasmplug", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance.run("log hi").await.unwrap()
            })
        })
    });
    group.finish();
}

/// A guest reading a 1 KiB file from a read-only directory on each call
/// (open, stat, read, close): raw wasmtime's synchronous WASI, which
/// enters a tokio runtime for each filesystem call; wasmplug's blocking
/// call into a directory the policy marks `blocking = true`, read on the
/// calling thread; and its async call into one without the mark, whose
/// filesystem work goes through tokio's blocking pool.
fn file_read(c: &mut Criterion) {
    let runtime = new_runtime();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("page.txt"), "x".repeat(1024)).unwrap();
    let command = "read /data/page.txt";

    let engine = raw_instance(true).0.engine().clone();
    let mut wasi = wasmtime_wasi::WasiCtx::builder();
    wasi.preopened_dir(data.path(), "/data", wasmtime_wasi::FsPerms::ReadOnly)
        .unwrap()
        .allow_blocking_current_thread(true);
    let (mut store, raw_run) = raw_hostile(raw_store_with(&engine, wasi.build()));

    let (_staged, path) = staged(
        "hostile",
        Some(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n\n[permissions]\n\
             dirs = [{ path = \"/data\", reason = \"reads\" }]\n",
        ),
    );
    let load = |grant: Grant| {
        let host = Host::builder()
            .cache(ArtifactCache::at_default_dir())
            .policy(Policy::new().allow(grant))
            .build()
            .unwrap();
        runtime.block_on(host.load_file(&path)).unwrap()
    };
    let marked = load(Grant::blocking_dir("/data", data.path()));
    let mut blocking = marked.instantiate_blocking().unwrap();
    let unmarked = load(Grant::dir("/data", data.path(), Access::Read));
    let mut instance = runtime.block_on(unmarked.instantiate()).unwrap();
    let mut group = c.benchmark_group("read a file");
    group.bench_function("raw wasmtime sync + epoch deadline", |b| {
        b.iter(|| {
            sync_limited(&mut store, |s| raw_run.call(s, (command,)))
                .0
                .unwrap()
        })
    });
    group.bench_function("wasmplug blocking, marked directory", |b| {
        b.iter(|| blocking.run_blocking(command).unwrap())
    });
    group.bench_function("wasmplug async, unmarked directory", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance.run(command).await.unwrap()
            })
        })
    });
    group.finish();
}

/// Blocking calls from threads inside tokio: its blocking pool, and a
/// multi-thread runtime's `block_on` (as inside `Host::block_on`), against
/// a thread outside any runtime.
fn blocking_threads(c: &mut Criterion) {
    let runtime = new_runtime();
    let plugin = plug_plugin(&runtime);
    let mut group = c.benchmark_group("blocking greet by thread");
    let calls = |plugin: &Plugin, iters: u64| {
        let mut instance = plugin.instantiate_blocking().unwrap();
        let greet = plug_func::<(&str,), (String,)>(&mut instance, "greet");
        let start = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(
                instance
                    .call_blocking("greet", |s| greet.call(s, ("world",)))
                    .unwrap(),
            );
        }
        start.elapsed()
    };
    group.bench_function("outside tokio", |b| {
        b.iter_custom(|iters| calls(&plugin, iters))
    });
    group.bench_function("tokio spawn_blocking", |b| {
        b.iter_custom(|iters| {
            let plugin = plugin.clone();
            let thread = runtime.spawn_blocking(move || calls(&plugin, iters));
            runtime.block_on(thread).unwrap()
        })
    });
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    group.bench_function("multi-thread runtime, block_on", |b| {
        b.iter_custom(|iters| multi.block_on(async { calls(&plugin, iters) }))
    });
    group.finish();
}

/// Calls per second on one and on two threads, each thread with its own
/// instance of the same plugin: the time per call should halve.
fn throughput(c: &mut Criterion) {
    let runtime = new_runtime();
    let plugin = plug_plugin(&runtime);
    let mut group = c.benchmark_group("throughput greet");
    group.throughput(Throughput::Elements(1));
    for threads in [1u64, 2] {
        group.bench_function(BenchmarkId::new("wasmplug threads", threads), |b| {
            b.iter_custom(|iters| {
                on_threads(threads, iters, |calls| {
                    let runtime = new_runtime();
                    let mut instance = runtime.block_on(plugin.instantiate()).unwrap();
                    let greet = plug_func::<(&str,), (String,)>(&mut instance, "greet");
                    move || {
                        timed(&runtime, calls, async || {
                            instance
                                .call("greet", async |s| greet.call_async(s, ("world",)).await)
                                .await
                                .unwrap()
                        });
                    }
                })
            })
        });
        group.bench_function(
            BenchmarkId::new("wasmplug blocking threads", threads),
            |b| {
                b.iter_custom(|iters| {
                    on_threads(threads, iters, |calls| {
                        let mut instance = plugin.instantiate_blocking().unwrap();
                        let greet = plug_func::<(&str,), (String,)>(&mut instance, "greet");
                        move || {
                            for _ in 0..calls {
                                std::hint::black_box(
                                    instance
                                        .call_blocking("greet", |s| greet.call(s, ("world",)))
                                        .unwrap(),
                                );
                            }
                        }
                    })
                })
            },
        );
    }
    group.finish();
}

/// Spreads `iters` calls over `threads` threads, each with its own
/// instance: `setup` makes a thread's instance and returns its call loop,
/// and only the loops are timed.
fn on_threads<F: FnOnce() + Send>(
    threads: u64,
    iters: u64,
    setup: impl Fn(u64) -> F + Sync,
) -> Duration {
    let per_thread = iters.div_ceil(threads);
    let ready = std::sync::Barrier::new(threads as usize + 1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let calls = setup(per_thread);
                ready.wait();
                calls();
            });
        }
        ready.wait();
        let start = Instant::now();
        // The scope joins every thread before it returns.
        start
    })
    .elapsed()
}

criterion_group!(
    benches,
    calls,
    dynamic,
    pools,
    host_function,
    file_read,
    blocking_threads,
    throughput
);
criterion_main!(benches);
