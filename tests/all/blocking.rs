//! Blocking calls: synchronous calls from a host's own threads, for plugins
//! that nothing could make wait. The same limits hold as for async calls,
//! and everything that could wait is refused with a typed error.

use serde_json::json;
use wasmplug::{
    Access, Error, Grant, Host, HostInterface, Lifecycle, Limit, Limits, Manifest, Plugin, Policy,
    Value,
};
use wasmplug_tests::{guest, staged, tight_limits};

fn host(limits: Limits, policy: Policy) -> Host {
    Host::builder()
        .limits(limits)
        .policy(policy)
        .build()
        .unwrap()
}

/// Loads outside any runtime, as a host with its own threads does.
fn load(host: &Host, name: &str) -> Plugin {
    host.block_on(host.load_file(guest(name))).unwrap().unwrap()
}

#[test]
fn the_default_world_runs_blocking() {
    let host = host(Limits::default(), Policy::default());
    let hello = load(&host, "hello");
    assert_eq!(hello.run_blocking("world").unwrap(), "Hello, world!");
    let err = hello.run_blocking("").unwrap_err();
    assert!(
        matches!(&err, Error::Guest { message, .. } if message == "input is empty"),
        "{err:?}"
    );
}

#[test]
fn typed_calls_keep_the_instance_between_calls() {
    let host = host(Limits::default(), Policy::default());
    let hostile = load(&host, "hostile");
    let mut instance = hostile.instantiate_blocking().unwrap();
    let run = instance
        .typed_func::<(&str,), (Result<String, String>,)>("run")
        .unwrap();
    for expected in ["1", "2", "3"] {
        let (count,) = instance
            .call_blocking("run", |store| run.call(store, ("count",)))
            .unwrap();
        assert_eq!(count.unwrap(), expected);
    }
    // Clocks stand still without a grant; the guest prints nothing odd.
    assert_eq!(instance.run_blocking("time").unwrap(), "0");
}

/// Each runaway case ends in its own typed error, discards the instance,
/// and leaves the plugin usable.
#[test]
fn limits_hold_for_blocking_calls() {
    let host = host(tight_limits(), Policy::default());
    let hostile = load(&host, "hostile");
    for (command, limit) in [
        ("loop", Limit::CpuTime),
        // Sleeping on clocks that stand still ends at once, every time:
        // the loop around it spins until the CPU limit stops it.
        ("sleep", Limit::CpuTime),
        ("grow", Limit::Memory),
        ("flood", Limit::Output),
        ("recurse", Limit::Stack),
    ] {
        let mut instance = hostile.instantiate_blocking().unwrap();
        let err = instance.run_blocking(command).unwrap_err();
        assert!(
            matches!(&err, Error::LimitExceeded { limit: hit, .. } if *hit == limit),
            "{command}: {err:?}"
        );
        assert!(instance.is_discarded(), "{command}");
        let again = instance.run_blocking("echo again").unwrap_err();
        assert!(
            matches!(again, Error::InstanceDiscarded { .. }),
            "{again:?}"
        );
        assert_eq!(
            hostile.run_blocking("echo still here").unwrap(),
            "still here"
        );
    }
    let err = hostile.run_blocking("panic now").unwrap_err();
    assert!(
        matches!(&err, Error::Trap { stderr_tail, .. }
            if stderr_tail.iter().any(|line| line.contains("plugin gave up: now"))),
        "{err:?}"
    );
}

#[test]
fn a_plugin_that_could_wait_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_staged, path) = staged(
        "hostile",
        Some(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n\n[permissions]\n\
             dirs = [{ path = \"/data\", reason = \"reads\" }]\n",
        ),
    );
    let policy = Policy::new().allow(Grant::dir("/data", dir.path(), Access::Read));
    let host = host(Limits::default(), policy);
    let plugin = host.block_on(host.load_file(&path)).unwrap().unwrap();
    let err = plugin.instantiate_blocking().expect_err("must be refused");
    assert!(
        matches!(&err, Error::NotBlocking { reason, .. } if reason.contains("directories")),
        "{err:?}"
    );
    // The async path still serves it.
    assert_eq!(
        host.block_on(plugin.run("echo fine")).unwrap().unwrap(),
        "fine"
    );
}

#[test]
fn each_instance_takes_only_its_own_kind_of_call() {
    let host = host(Limits::default(), Policy::default());
    let hello = load(&host, "hello");
    let mut blocking = hello.instantiate_blocking().unwrap();
    let err = host.block_on(blocking.run("x")).unwrap().unwrap_err();
    assert!(matches!(err, Error::NotBlocking { .. }), "{err:?}");

    let mut async_instance = host.block_on(hello.instantiate()).unwrap().unwrap();
    let err = async_instance.run_blocking("x").unwrap_err();
    assert!(matches!(err, Error::NotBlocking { .. }), "{err:?}");
}

/// Calls by name take blocking instances too, through each path: a fast
/// lane, wasmtime's `Val`s, JSON and WAVE.
#[test]
fn dynamic_calls_run_blocking() {
    let host = host(Limits::default(), Policy::default());
    let bench = load(&host, "bench");
    let mut instance = bench.instantiate_blocking().unwrap();
    let greeting = instance
        .call_values_blocking("greet", &[Value::String("you".into())])
        .unwrap();
    assert_eq!(greeting, [Value::String("Hello, you!".into())]);
    let sum = instance
        .call_values_blocking(
            "add",
            &[Value::Other(7u32.into()), Value::Other(5u32.into())],
        )
        .unwrap();
    assert_eq!(sum, [Value::Other(12u32.into())]);
    assert_eq!(
        instance
            .call_json_blocking("add", &[json!(2), json!(3)])
            .unwrap(),
        json!(5)
    );
    assert_eq!(
        instance
            .call_wave_blocking("echo", &["[1, 2]".to_string()])
            .unwrap(),
        ["[1, 2]"]
    );
    let err = instance.call_json_blocking("add", &[json!(2)]).unwrap_err();
    assert!(matches!(err, Error::Argument { .. }), "{err:?}");
    assert_eq!(bench.stats().calls, 4);

    // Each kind of instance still takes only its own kind of call.
    let mut async_instance = host.block_on(bench.instantiate()).unwrap().unwrap();
    let err = async_instance
        .call_json_blocking("add", &[json!(2), json!(3)])
        .unwrap_err();
    assert!(matches!(err, Error::NotBlocking { .. }), "{err:?}");
    let err = host
        .block_on(instance.call_json("add", &[json!(2), json!(3)]))
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::NotBlocking { .. }), "{err:?}");
}

/// A pool hands out blocking instances for blocking calls and async ones
/// for async calls, each keeping its own state and bindings.
#[test]
fn pools_keep_blocking_instances() {
    let host = host(tight_limits(), Policy::default());
    let hostile = load(&host, "hostile");
    let pool = hostile.pool_with(
        Lifecycle::Reuse {
            max_calls: 100,
            max_idle: std::time::Duration::from_secs(60),
        },
        |instance| instance.typed_func::<(&'static str,), (Result<String, String>,)>("run"),
    );
    for expected in ["1", "2", "3"] {
        let count = pool
            .with_bound_blocking(|instance, run| {
                instance.call_blocking("run", |store| run.call(store, ("count",)))
            })
            .unwrap();
        assert_eq!(count.0.unwrap(), expected);
    }
    assert_eq!(pool.run_blocking("count").unwrap(), "4");
    // The async side gets an instance of its own, counting afresh.
    assert_eq!(host.block_on(pool.run("count")).unwrap().unwrap(), "1");
    assert_eq!(pool.idle(), 2);
    // A failed call drops its instance; the next starts afresh.
    let err = pool.run_blocking("loop").unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err:?}");
    assert_eq!(pool.run_blocking("count").unwrap(), "1");
}

/// On tokio's blocking pool a blocking call runs, WASI's streams and the
/// default world's `log` and `config` included: none of them enters tokio,
/// which would panic on a thread that runs async tasks.
#[tokio::test]
async fn blocking_calls_run_on_the_blocking_pool() {
    let host = host(Limits::default(), Policy::default());
    let hostile = host.load_file(guest("hostile")).await.unwrap();
    let stats = hostile.clone();
    let answers = tokio::task::spawn_blocking(move || {
        [
            "stderr to the log",
            "log a warning",
            "echo done",
            "config missing",
        ]
        .map(|command| hostile.run_blocking(command))
    })
    .await
    .unwrap();
    let [stderr, log, echo, config] = answers;
    assert_eq!(stderr.unwrap(), "");
    assert_eq!(log.unwrap(), "");
    assert_eq!(echo.unwrap(), "done");
    assert!(
        matches!(&config, Err(Error::Guest { message, .. }) if message == "missing not set"),
        "{config:?}"
    );
    assert_eq!(stats.stats().calls, 4);
}

/// A blocking call never enters tokio, so even on a current-thread
/// runtime's own thread, where entering it panics, a guest that prints
/// runs (holding that thread for at most its CPU time limit).
#[tokio::test]
async fn a_blocking_call_never_enters_tokio() {
    let host = host(Limits::default(), Policy::default());
    let hostile = host.load_file(guest("hostile")).await.unwrap();
    assert_eq!(hostile.run_blocking("stderr printed").unwrap(), "");
    let err = hostile.run_blocking("panic here").unwrap_err();
    assert!(
        matches!(&err, Error::Trap { stderr_tail, .. }
            if stderr_tail.iter().any(|line| line.contains("plugin gave up: here"))),
        "{err:?}"
    );
}

/// On a multi-thread runtime's worker a blocking call hands the worker's
/// other tasks to another thread first: a task woken as the call starts
/// runs while the guest still spins, on a runtime with a single worker.
#[test]
fn blocking_calls_on_an_async_worker_hold_up_no_other_task() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let host = host(tight_limits(), Policy::default());
    let hostile = runtime.block_on(host.load_file(guest("hostile"))).unwrap();
    let (started, woken) = tokio::sync::oneshot::channel::<()>();
    let other = runtime.spawn(async move {
        woken.await.unwrap();
        std::time::Instant::now()
    });
    let call = runtime.spawn(async move {
        started.send(()).unwrap();
        let err = hostile.run_blocking("loop").unwrap_err();
        (err, std::time::Instant::now())
    });
    let (err, call_ended) = runtime.block_on(call).unwrap();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                limit: Limit::CpuTime,
                ..
            }
        ),
        "{err:?}"
    );
    let other_ran = runtime.block_on(other).unwrap();
    assert!(
        other_ran < call_ended,
        "the other task waited for the blocking call to end"
    );
}

/// A component calling `example:sync/api#now` from its `run`.
fn calls_a_host_interface() -> (Vec<u8>, Manifest) {
    let component = wat::parse_str(
        r#"(component
            (import "example:sync/api@0.1.0" (instance $api (export "now" (func (result u32)))))
            (core func $now (canon lower (func $api "now")))
            (core module $m
                (import "" "now" (func $now (result i32)))
                (func (export "run") (result i32) call $now))
            (core instance $i (instantiate $m (with "" (instance (export "now" (func $now))))))
            (func (export "run") (result u32) (canon lift (core func $i "run"))))"#,
    )
    .unwrap();
    let manifest = Manifest::parse(
        "[plugin]\nname = \"caller\"\nversion = \"0.1.0\"\n[permissions]\n\
         interfaces = [{ name = \"example:sync/api\", reason = \"reads the host's counter\" }]\n",
        "plugin.toml".as_ref(),
    )
    .unwrap();
    (component, manifest)
}

/// A host interface declared synchronous cannot make a call wait, so its
/// plugins take blocking calls; one not declared so makes them async only.
#[test]
fn host_interfaces_declared_synchronous_allow_blocking_calls() {
    let interface = || {
        HostInterface::new("example:sync/api", |linker| {
            linker
                .instance("example:sync/api@0.1.0")?
                .func_wrap("now", |_store, (): ()| Ok((42u32,)))
        })
    };
    for (interface, blocking) in [(interface().synchronous(), true), (interface(), false)] {
        let host = Host::builder()
            .policy(Policy::new().allow(Grant::interface("example:sync/api")))
            .interface(interface)
            .build()
            .unwrap();
        let (component, manifest) = calls_a_host_interface();
        let plugin = host
            .block_on(host.load_bytes("caller", component, Some(manifest)))
            .unwrap()
            .unwrap();
        if blocking {
            let mut instance = plugin.instantiate_blocking().unwrap();
            let run = instance.typed_func::<(), (u32,)>("run").unwrap();
            let (now,) = instance
                .call_blocking("run", |store| run.call(store, ()))
                .unwrap();
            assert_eq!(now, 42);
        } else {
            let err = plugin.instantiate_blocking().expect_err("refused");
            assert!(
                matches!(&err, Error::NotBlocking { reason, .. } if reason.contains("host interfaces")),
                "{err:?}"
            );
        }
    }
}
