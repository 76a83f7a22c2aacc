//! Plugins that misbehave. Each case must end in its own typed error, the
//! failed instance must be discarded, and the host must keep working.

use std::time::Duration;

use wasmplug::{
    Access, Error, Grant, Host, HostInterface, Limit, Limits, Manifest, Party, Permission, Plugin,
    Policy,
};
use wasmplug_tests::{counting_compiles, guest, staged, tight_limits};

fn host_with(limits: Limits, policy: Policy) -> Host {
    Host::builder()
        .limits(limits)
        .policy(policy)
        .build()
        .unwrap()
}

async fn hostile(host: &Host) -> Plugin {
    host.load_file(guest("hostile")).await.unwrap()
}

/// Runs a hostile command, checks the instance is discarded, and that both
/// a new instance of the same plugin and another plugin still work.
async fn misbehave(host: &Host, plugin: &Plugin, command: &str) -> Error {
    let mut instance = plugin.instantiate().await.unwrap();
    let err = instance.run(command).await.unwrap_err();
    assert!(
        instance.is_discarded(),
        "{command}: instance kept after {err}"
    );
    let again = instance.run("echo again").await.unwrap_err();
    assert!(
        matches!(again, Error::InstanceDiscarded { .. }),
        "{again:?}"
    );
    assert_eq!(plugin.run("echo still here").await.unwrap(), "still here");
    let hello = host.load_file(guest("hello")).await.unwrap();
    assert_eq!(hello.run("after").await.unwrap(), "Hello, after!");
    err
}

fn assert_limit(err: &Error, expected: Limit) {
    match err {
        Error::LimitExceeded { limit, .. } if *limit == expected => {}
        other => panic!("expected the {expected} limit, got {other:?}: {other}"),
    }
}

#[tokio::test]
async fn infinite_loop_hits_the_cpu_limit() {
    let host = host_with(tight_limits(), Policy::default());
    let err = misbehave(&host, &hostile(&host).await, "loop").await;
    assert_limit(&err, Limit::CpuTime);
    assert!(err.to_string().contains("CPU time"), "{err}");
}

#[tokio::test]
async fn infinite_loop_is_stopped_by_the_default_limits() {
    let host = Host::builder().build().unwrap();
    let err = misbehave(&host, &hostile(&host).await, "loop").await;
    assert_limit(&err, Limit::CpuTime);
}

#[tokio::test]
async fn infinite_loop_runs_out_of_fuel() {
    let limits = tight_limits().fuel(5_000_000);
    let host = host_with(limits, Policy::default());
    let plugin = hostile(&host).await;
    assert_eq!(plugin.run("echo metered").await.unwrap(), "metered");
    let err = misbehave(&host, &plugin, "loop").await;
    assert_limit(&err, Limit::Fuel);
}

#[tokio::test]
async fn memory_bomb_hits_the_memory_limit() {
    let host = host_with(tight_limits(), Policy::default());
    let err = misbehave(&host, &hostile(&host).await, "grow").await;
    assert_limit(&err, Limit::Memory);
}

#[tokio::test]
async fn manifest_cannot_ask_past_the_hosts_ceiling() {
    let (_dir, path) = staged(
        "hostile",
        Some("[plugin]\nname = \"greedy\"\nversion = \"1.0.0\"\n[limits]\nmemory = \"4GiB\"\n"),
    );
    let host = host_with(tight_limits(), Policy::default());
    let plugin = host.load_file(&path).await.unwrap();
    assert_eq!(plugin.limits().memory, 32 << 20);
    let err = misbehave(&host, &plugin, "grow").await;
    assert_limit(&err, Limit::Memory);
}

#[tokio::test]
async fn huge_table_is_refused_at_instantiation() {
    let component = wat::parse_str(
        r#"(component
            (core module $m (table 100000000 funcref))
            (core instance (instantiate $m)))"#,
    )
    .unwrap();
    let host = host_with(tight_limits(), Policy::default());
    let plugin = host.load_bytes("tables", component, None).await.unwrap();
    let err = plugin
        .instantiate()
        .await
        .expect_err("instantiation must fail");
    assert_limit(&err, Limit::Memory);
    assert_eq!(hostile(&host).await.run("echo ok").await.unwrap(), "ok");
}

#[tokio::test]
async fn deep_recursion_hits_the_stack_limit() {
    let host = host_with(tight_limits(), Policy::default());
    let err = misbehave(&host, &hostile(&host).await, "recurse").await;
    assert_limit(&err, Limit::Stack);
}

/// Rust keeps a second stack in linear memory; running off its end is a
/// memory fault inside the guest, reported as a trap.
#[tokio::test]
async fn deep_recursion_on_the_linear_memory_stack_is_a_trap() {
    let host = host_with(tight_limits(), Policy::default());
    let err = misbehave(&host, &hostile(&host).await, "recurse-shadow").await;
    assert!(
        matches!(
            err,
            Error::Trap {
                backtrace: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn sleeping_forever_in_a_host_call_hits_the_deadline() {
    let limits = tight_limits().timeout(Duration::from_millis(500));
    let host = host_with(limits, Policy::default());
    let err = misbehave(&host, &hostile(&host).await, "sleep").await;
    assert!(
        matches!(err, Error::Deadline { timeout, .. } if timeout == Duration::from_millis(500)),
        "{err:?}"
    );
}

#[tokio::test]
async fn stdout_flood_hits_the_output_limit() {
    let host = host_with(tight_limits(), Policy::default());
    let err = misbehave(&host, &hostile(&host).await, "flood").await;
    assert_limit(&err, Limit::Output);
}

#[tokio::test]
async fn log_flood_hits_the_output_limit() {
    // Room for the hello plugin's one short line, not for this one.
    let limits = tight_limits().output(64);
    let host = host_with(limits, Policy::default());
    let err = misbehave(
        &host,
        &hostile(&host).await,
        "log this message is longer than sixteen bytes",
    )
    .await;
    assert_limit(&err, Limit::Output);
}

/// Output is charged at what the host writes: a log line costs its label
/// too, so a guest logging empty messages in a loop hits the output limit
/// rather than running until its CPU time is up.
#[tokio::test]
async fn empty_log_lines_are_not_free() {
    let component = wat::parse_str(
        r#"(component
            (import "wasmplug:plugin/host@0.1.0" (instance $host
                (type $level (enum "trace" "debug" "info" "warn" "error"))
                (export "level" (type $l (eq $level)))
                (export "log" (func (param "level" $l) (param "message" string)))))
            (core module $memory (memory (export "memory") 1))
            (core instance $m (instantiate $memory))
            (core func $log (canon lower (func $host "log") (memory (core memory $m "memory"))))
            (core module $main
                (import "host" "log" (func $log (param i32 i32 i32)))
                (func (export "spam") (loop (call $log (i32.const 0) (i32.const 0) (i32.const 0)) (br 0))))
            (core instance $i (instantiate $main (with "host" (instance (export "log" (func $log))))))
            (func (export "spam") (canon lift (core func $i "spam"))))"#,
    )
    .unwrap();
    let limits = tight_limits()
        .cpu(Duration::from_secs(20))
        .timeout(Duration::from_secs(20));
    let host = host_with(limits, Policy::default());
    let plugin = host.load_bytes("spam", component, None).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let err = instance.call_wave("spam", &[]).await.unwrap_err();
    assert_limit(&err, Limit::Output);
}

#[tokio::test]
async fn guest_panic_is_a_trap_with_the_panic_message() {
    let host = host_with(tight_limits(), Policy::default());
    let err = misbehave(&host, &hostile(&host).await, "panic at the disco").await;
    let Error::Trap {
        ref stderr_tail, ..
    } = err
    else {
        panic!("expected a trap, got {err:?}");
    };
    assert!(
        stderr_tail
            .iter()
            .any(|l| l.contains("plugin gave up: at the disco")),
        "{stderr_tail:?}"
    );
    assert!(err.to_string().contains("plugin gave up"), "{err}");
}

/// A plugin with `/data` (read-only, over `dir/data`) and `/out`
/// (read-write, over `dir/out`), beside a secret it must not reach.
struct Sandbox {
    root: tempfile::TempDir,
    plugin: Plugin,
}

async fn sandbox() -> Sandbox {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let out = root.path().join("out");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(root.path().join("secret.txt"), "top secret").unwrap();
    std::fs::write(data.join("public.txt"), "public").unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.txt"), data.join("link")).unwrap();
    let manifest = r#"
[plugin]
name = "hostile"
version = "0.1.0"
[permissions]
dirs = [
  { path = "/data", access = "read-write", reason = "asks for more than it gets" },
  { path = "/out", access = "read-write", reason = "writes" },
]
"#;
    let policy = Policy::new()
        .allow(Grant::dir("/data", &data, Access::Read))
        .allow(Grant::dir("/out", &out, Access::ReadWrite));
    let host = host_with(tight_limits(), policy);
    let plugin = host
        .load_bytes(
            "hostile",
            std::fs::read(guest("hostile")).unwrap(),
            Some(Manifest::parse(manifest, "plugin.toml".as_ref()).unwrap()),
        )
        .await
        .unwrap();
    Sandbox { root, plugin }
}

/// The guest asked for something the sandbox refuses: the call returns the
/// guest's own error, and nothing secret is in it.
async fn refused(sandbox: &Sandbox, command: &str) -> String {
    match sandbox.plugin.run(command).await {
        Err(Error::Guest { message, .. }) => {
            assert!(
                !message.contains("top secret"),
                "{command} leaked: {message}"
            );
            message
        }
        other => panic!("{command}: expected the guest to be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn reads_outside_the_preopens_are_refused() {
    let sandbox = sandbox().await;
    assert_eq!(
        sandbox.plugin.run("read /data/public.txt").await.unwrap(),
        "public"
    );
    refused(&sandbox, "read /data/../secret.txt").await;
    refused(&sandbox, "read /data/../../../../etc/passwd").await;
    refused(&sandbox, "read ../secret.txt").await;
    refused(&sandbox, "read /etc/passwd").await;
    let path = format!("read {}", sandbox.root.path().join("secret.txt").display());
    refused(&sandbox, &path).await;
    refused(&sandbox, "symlink-read /data/link").await;
    refused(&sandbox, "list /").await;
    assert_eq!(sandbox.plugin.grants().granted().len(), 2);
}

#[tokio::test]
async fn writes_into_a_read_only_dir_are_refused() {
    let sandbox = sandbox().await;
    refused(&sandbox, "write /data/new.txt").await;
    assert!(!sandbox.root.path().join("data/new.txt").exists());
    assert_eq!(
        sandbox.plugin.run("write /out/new.txt").await.unwrap(),
        "ok"
    );
    assert!(sandbox.root.path().join("out/new.txt").exists());
}

#[tokio::test]
async fn env_vars_not_granted_are_invisible() {
    let path_value = std::env::var("PATH").expect("tests run with a PATH");
    let (_dir, path) = staged(
        "hostile",
        Some(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n[permissions]\n\
             env = [{ name = \"PATH\", reason = \"wants it\" }]\n",
        ),
    );
    // Requested but not granted: refused, and listed as refused.
    let host = host_with(tight_limits(), Policy::default());
    let plugin = host.load_file(&path).await.unwrap();
    assert_eq!(plugin.grants().refused().len(), 1);
    let err = plugin.run("env PATH").await.unwrap_err();
    assert!(
        matches!(&err, Error::Guest { message, .. } if !message.contains(&path_value)),
        "{err:?}"
    );
    // Granted but not requested: still refused.
    let policy = Policy::new().allow(Grant::env("PATH"));
    let host = host_with(tight_limits(), policy);
    let plugin = host.load_file(guest("hostile")).await.unwrap();
    let err = plugin.run("env PATH").await.unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
}

#[tokio::test]
async fn connections_to_addresses_not_granted_are_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (_dir, path) = staged(
        "hostile",
        Some(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n[permissions]\n\
             net = [{ host = \"127.0.0.1:1\", reason = \"another port\" }]\n",
        ),
    );
    let policy = Policy::new().allow(Grant::net("127.0.0.1:1"));
    let host = host_with(tight_limits(), policy);
    let plugin = host.load_file(&path).await.unwrap();
    let err = plugin.run(&format!("connect {addr}")).await.unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
    // Nothing reached the listener.
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err());
    // Without any grant there is no network at all.
    let plugin = host_with(tight_limits(), Policy::default())
        .load_file(guest("hostile"))
        .await
        .unwrap();
    let err = plugin.run(&format!("connect {addr}")).await.unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
}

#[tokio::test]
async fn unknown_import_is_refused_at_load_by_name() {
    let component = wat::parse_str(
        r#"(component (import "evil:corp/backdoor@1.0.0" (instance (export "open" (func)))))"#,
    )
    .unwrap();
    let host = host_with(tight_limits(), Policy::default());
    let err = host
        .load_bytes("backdoor", component, None)
        .await
        .expect_err("must be refused");
    assert!(
        matches!(&err, Error::MissingImport { import, .. } if import == "evil:corp/backdoor@1.0.0"),
        "{err:?}"
    );
    // A WASI interface the host does not implement is named as one (an
    // outgoing-handler import loads: its requests are denied when made).
    let err = host
        .load_bytes(
            "middleware",
            wat::parse_str(r#"(component (import "wasi:http/handler@0.3.0" (instance)))"#).unwrap(),
            None,
        )
        .await
        .expect_err("must be refused");
    assert!(
        err.to_string()
            .contains("wasi:http/handler is not a WASI interface this host implements"),
        "{err}"
    );
}

#[tokio::test]
async fn host_interface_needs_request_and_grant() {
    let component = || {
        wat::parse_str(
            r#"(component (import "example:filters/app@0.1.0" (instance (export "name" (func (result string))))))"#,
        )
        .unwrap()
    };
    let interface = || HostInterface::new("example:filters/app", |_linker| Ok(()));
    let host = Host::builder().interface(interface()).build().unwrap();
    let err = host
        .load_bytes("app", component(), None)
        .await
        .expect_err("not requested");
    assert!(
        matches!(&err, Error::PermissionDenied { permission: Permission::Interface { name }, party: Party::Plugin, .. }
            if name == "example:filters/app@0.1.0"),
        "{err:?}"
    );
    let manifest = Manifest::parse(
        "[plugin]\nname = \"app\"\nversion = \"0.1.0\"\n[permissions]\n\
         interfaces = [{ name = \"example:filters/app\", reason = \"shows the name\" }]\n",
        "plugin.toml".as_ref(),
    )
    .unwrap();
    let err = host
        .load_bytes("app", component(), Some(manifest))
        .await
        .expect_err("not granted");
    assert!(
        matches!(&err, Error::PermissionDenied { party: Party::Operator, reason, .. } if reason.contains("policy")),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_export_type_is_a_typed_error() {
    let component = wat::parse_str(
        r#"(component
            (core module $m (func (export "run") (param i32) (result i32) local.get 0))
            (core instance $i (instantiate $m))
            (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run"))))"#,
    )
    .unwrap();
    let host = host_with(tight_limits(), Policy::default());
    let plugin = host
        .load_bytes("wrong", component.clone(), None)
        .await
        .unwrap();
    let err = plugin.run("hello").await.unwrap_err();
    assert!(
        matches!(&err, Error::ExportType { export, .. } if export == "run"),
        "{err:?}"
    );
    let mut instance = plugin.instantiate().await.unwrap();
    assert_eq!(
        instance.call_wave("run", &["41".into()]).await.unwrap(),
        ["41"]
    );
    // A manifest naming the default world has it checked at load.
    let manifest = Manifest::parse(
        "[plugin]\nname = \"wrong\"\nversion = \"0.1.0\"\nworld = \"wasmplug:plugin/plugin@0.1.0\"\n",
        "plugin.toml".as_ref(),
    )
    .unwrap();
    let err = host
        .load_bytes("wrong", component.clone(), Some(manifest.clone()))
        .await
        .expect_err("refused at load");
    assert!(matches!(err, Error::WorldMismatch { .. }), "{err:?}");
    let hello = std::fs::read(guest("hello")).unwrap();
    host.load_bytes("hello", hello, Some(manifest))
        .await
        .unwrap();
}

#[tokio::test]
async fn malformed_and_truncated_binaries_are_refused() {
    let host = host_with(tight_limits(), Policy::default());
    let garbage = host
        .load_bytes("garbage.wasm", b"#!/bin/sh\necho hi\n".to_vec(), None)
        .await
        .expect_err("garbage");
    assert!(
        matches!(&garbage, Error::InvalidComponent { origin, .. } if origin == "garbage.wasm"),
        "{garbage:?}"
    );
    let bytes = std::fs::read(guest("hello")).unwrap();
    for cut in [9, bytes.len() / 2, bytes.len() - 1] {
        let err = host
            .load_bytes("cut.wasm", bytes[..cut].to_vec(), None)
            .await
            .expect_err("truncated");
        assert!(
            matches!(err, Error::InvalidComponent { .. }),
            "{cut}: {err:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wasm");
    let err = host.load_file(&missing).await.expect_err("missing file");
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.wasm"), "{err}");
}

/// Found by fuzzing: a body that fails validation was found only while
/// compiling, once for every engine flavor, so a mutated 200 KB component
/// took seconds to refuse. It is now refused before any code is generated.
#[tokio::test]
async fn malformed_function_body_is_refused_before_compiling() {
    let (builder, compiles) = counting_compiles(Host::builder().limits(tight_limits()));
    let host = builder.build().unwrap();
    let component = wat::parse_str(
        r#"(component (core module
            (func (result i32) i32.const 1)
            (func (result i32) i64.const 2)))"#,
    )
    .unwrap();
    let err = host
        .load_bytes("mistyped.wasm", component.clone(), None)
        .await
        .expect_err("a mistyped body");
    assert!(
        matches!(&err, Error::InvalidComponent { origin, .. } if origin == "mistyped.wasm"),
        "{err:?}"
    );
    assert!(err.to_string().contains("type mismatch"), "{err}");
    let err = host
        .load_command_bytes("mistyped.wasm", component, None)
        .await
        .expect_err("a mistyped body");
    assert!(matches!(err, Error::InvalidComponent { .. }), "{err:?}");
    assert_eq!(compiles.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn bad_manifest_is_refused_with_its_location() {
    let (_dir, path) = staged(
        "hello",
        Some("[plugin]\nname = \"hello\"\nversion = \"0.1.0\"\npermissions = 3\n"),
    );
    let host = host_with(tight_limits(), Policy::default());
    let err = host.load_file(&path).await.expect_err("bad manifest");
    assert!(matches!(err, Error::Manifest { .. }), "{err:?}");
    assert!(err.to_string().contains("line 4"), "{err}");
}

#[tokio::test]
async fn granted_directory_that_does_not_exist_is_refused_at_load() {
    let policy = Policy::new().allow(Grant::dir("/data", "/nonexistent/wasmplug", Access::Read));
    let host = Host::builder()
        .policy(policy)
        .implicit_requests(true)
        .build()
        .unwrap();
    let err = host.load_file(guest("hello")).await.expect_err("no dir");
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}

#[tokio::test]
async fn only_granted_names_resolve() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_dir, path) = staged(
        "hostile",
        Some(&format!(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n[permissions]\n\
             net = [{{ host = \"localhost:{port}\", reason = \"a local service\" }}]\n"
        )),
    );
    let host = host_with(
        tight_limits(),
        Policy::new().allow(Grant::net("localhost:*")),
    );
    let plugin = host.load_file(&path).await.unwrap();
    let found = plugin.run("resolve localhost").await.unwrap();
    assert!(
        found.contains("127.0.0.1") || found.contains("::1"),
        "{found}"
    );
    // Any other name is unknown to the guest, and no query leaves the host.
    for name in [
        "example.com",
        "secret-data.attacker.example",
        "LOCALHOST.example",
    ] {
        let err = plugin.run(&format!("resolve {name}")).await.unwrap_err();
        assert!(matches!(err, Error::Guest { .. }), "{name}: {err:?}");
    }
    // Without a grant nothing resolves.
    let plugin = host_with(tight_limits(), Policy::default())
        .load_file(guest("hostile"))
        .await
        .unwrap();
    let err = plugin.run("resolve localhost").await.unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
}

/// A component calling `example:fail/api#boom` from its `run`.
fn calls_the_host() -> Vec<u8> {
    wat::parse_str(
        r#"(component
            (import "example:fail/api@0.1.0" (instance $api (export "boom" (func))))
            (core func $boom (canon lower (func $api "boom")))
            (core module $m
                (import "" "boom" (func $boom))
                (func (export "run") call $boom))
            (core instance $i (instantiate $m (with "" (instance (export "boom" (func $boom))))))
            (func (export "run") (canon lift (core func $i "run"))))"#,
    )
    .unwrap()
}

fn calls_the_host_manifest() -> Manifest {
    Manifest::parse(
        "[plugin]\nname = \"caller\"\nversion = \"0.1.0\"\n[permissions]\n\
         interfaces = [{ name = \"example:fail/api@0.1.0\", reason = \"asks the host\" }]\n",
        "plugin.toml".as_ref(),
    )
    .unwrap()
}

/// A host interface whose one function fails: the host's failure, not the
/// plugin's crash.
#[tokio::test]
async fn a_failing_host_interface_is_the_hosts_error() {
    let api = HostInterface::new("example:fail/api", |linker| {
        linker.instance("example:fail/api@0.1.0")?.func_wrap(
            "boom",
            |_store, (): ()| -> wasmplug::wasmtime::Result<()> {
                Err(wasmplug::wasmtime::format_err!("the database is down"))
            },
        )
    });
    let host = Host::builder()
        .policy(Policy::new().allow(Grant::interface("example:fail/api")))
        .interface(api)
        .build()
        .unwrap();
    let plugin = host
        .load_bytes("caller", calls_the_host(), Some(calls_the_host_manifest()))
        .await
        .unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let err = instance.call_wave("run", &[]).await.unwrap_err();
    assert!(
        matches!(&err, Error::Host { reason, .. } if reason.contains("the database is down")),
        "{err:?}"
    );
    assert!(!err.is_plugin_fault());
    assert!(err.to_string().contains("the host failed"), "{err}");
}
