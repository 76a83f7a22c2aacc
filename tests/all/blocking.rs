//! Blocking calls: synchronous calls from a host's own threads, for plugins
//! that nothing could make wait. The same limits hold as for async calls,
//! and everything that could wait is refused with a typed error.

use wasmplug::{
    Access, Error, Grant, Host, HostInterface, Limit, Limits, Manifest, Plugin, Policy,
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

/// Inside an async runtime WASI's synchronous functions cannot run: a
/// blocking call there is refused rather than panicking.
#[tokio::test]
async fn blocking_calls_are_refused_inside_a_runtime() {
    let host = host(Limits::default(), Policy::default());
    let hello = host.load_file(guest("hello")).await.unwrap();
    let err = hello.run_blocking("x").unwrap_err();
    assert!(
        matches!(&err, Error::NotBlocking { reason, .. } if reason.contains("async runtime")),
        "{err:?}"
    );
    assert_eq!(hello.run("x").await.unwrap(), "Hello, x!");
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
