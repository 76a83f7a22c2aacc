//! Instructions per call, counted rather than timed: `benches/instructions.sh`
//! runs this under callgrind twice, with different numbers of calls, and
//! divides the difference, which leaves out set-up. On a shared machine,
//! where the time of a 200 ns call moves by a third from run to run, the
//! count is the same from run to run, so a change of a few instructions on
//! the call path shows.
//!
//! `instructions PATH CALLS [FUNC]`, where PATH is `raw` (wasmtime,
//! synchronous, no epochs), `raw-async` (the same with `call_async`),
//! `blocking` (wasmplug's `call_blocking`) or `async` (wasmplug's `call`),
//! each calling the bench guest's `add(1, 2)`, or `greet("world")` when FUNC
//! is `greet`. FUNC `log` calls the hostile guest's `run("log hi")`, which
//! calls the host function `log` (on raw wasmtime, one that does nothing),
//! on the `raw`, `blocking` and `async` paths.

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use wasmplug::{ArtifactCache, Host, Plugin};
use wasmplug_tests::guest;

mod raw;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("PATH: raw, raw-async, blocking or async");
    let calls: u64 = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("CALLS: a number");
    let (greet, log) = match args.next().as_deref() {
        None | Some("add") => (false, false),
        Some("greet") => (true, false),
        Some("log") => (false, true),
        Some(other) => panic!("FUNC is add, greet or log, not {other}"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match path.as_str() {
        "raw" if log => {
            let engine = Engine::new(Config::new().concurrency_support(false)).unwrap();
            let (mut store, run) = raw::raw_hostile(raw::raw_store(&engine));
            for _ in 0..calls {
                let (answer,) = run.call(&mut store, ("log hi",)).unwrap();
                std::hint::black_box(answer.unwrap());
            }
        }
        "blocking" | "async" if log => {
            let plugin = load(&runtime, "hostile");
            if path == "blocking" {
                let mut instance = plugin.instantiate_blocking().unwrap();
                for _ in 0..calls {
                    std::hint::black_box(instance.run_blocking("log hi").unwrap());
                }
            } else {
                runtime.block_on(async {
                    let mut instance = plugin.instantiate().await.unwrap();
                    for _ in 0..calls {
                        std::hint::black_box(instance.run("log hi").await.unwrap());
                    }
                });
            }
        }
        "raw" | "raw-async" => {
            let mut config = Config::new();
            config.concurrency_support(false);
            let engine = Engine::new(&config).unwrap();
            let component = Component::from_file(&engine, guest("bench")).unwrap();
            let mut linker = Linker::new(&engine);
            if path == "raw" {
                wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
            } else {
                wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
            }
            let mut store = raw::raw_store(&engine);
            let pre = linker.instantiate_pre(&component).unwrap();
            if path == "raw" {
                let instance = pre.instantiate(&mut store).unwrap();
                let add = instance
                    .get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")
                    .unwrap();
                let greeting = instance
                    .get_typed_func::<(&str,), (String,)>(&mut store, "greet")
                    .unwrap();
                for _ in 0..calls {
                    if greet {
                        std::hint::black_box(greeting.call(&mut store, ("world",)).unwrap());
                    } else {
                        std::hint::black_box(add.call(&mut store, (1, 2)).unwrap());
                    }
                }
            } else {
                runtime.block_on(async {
                    let instance = pre.instantiate_async(&mut store).await.unwrap();
                    let add = instance
                        .get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")
                        .unwrap();
                    let greeting = instance
                        .get_typed_func::<(&str,), (String,)>(&mut store, "greet")
                        .unwrap();
                    for _ in 0..calls {
                        if greet {
                            let out = greeting.call_async(&mut store, ("world",)).await;
                            std::hint::black_box(out.unwrap());
                        } else {
                            let out = add.call_async(&mut store, (1, 2)).await;
                            std::hint::black_box(out.unwrap());
                        }
                    }
                });
            }
        }
        "blocking" | "async" => {
            let plugin = load(&runtime, "bench");
            if path == "blocking" {
                let mut instance = plugin.instantiate_blocking().unwrap();
                let add = instance.typed_func::<(u32, u32), (u32,)>("add").unwrap();
                let greeting = instance.typed_func::<(&str,), (String,)>("greet").unwrap();
                for _ in 0..calls {
                    if greet {
                        let out = instance.call_blocking("greet", |s| greeting.call(s, ("world",)));
                        std::hint::black_box(out.unwrap());
                    } else {
                        let out = instance.call_blocking("add", |s| add.call(s, (1, 2)));
                        std::hint::black_box(out.unwrap());
                    }
                }
            } else {
                runtime.block_on(async {
                    let mut instance = plugin.instantiate().await.unwrap();
                    let add = instance.typed_func::<(u32, u32), (u32,)>("add").unwrap();
                    let greeting = instance.typed_func::<(&str,), (String,)>("greet").unwrap();
                    for _ in 0..calls {
                        if greet {
                            let out = instance
                                .call("greet", async |s| greeting.call_async(s, ("world",)).await)
                                .await;
                            std::hint::black_box(out.unwrap());
                        } else {
                            let out = instance
                                .call("add", async |s| add.call_async(s, (1, 2)).await)
                                .await;
                            std::hint::black_box(out.unwrap());
                        }
                    }
                });
            }
        }
        other if log => panic!("FUNC log runs on raw, blocking or async, not {other}"),
        other => panic!("unknown path {other}"),
    }
}

/// The test guest `name`, loaded by a host with the default artifact cache.
fn load(runtime: &tokio::runtime::Runtime, name: &str) -> Plugin {
    let host = Host::builder()
        .cache(ArtifactCache::at_default_dir())
        .build()
        .unwrap();
    runtime.block_on(host.load_file(guest(name))).unwrap()
}
