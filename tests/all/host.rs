//! What a plugin can do when it behaves: load, call, be given exactly what
//! it requested and was granted, and keep or lose state as documented.

use std::time::Duration;

use wasmplug::{Access, Error, Grant, Host, HostBuilder, Limits, Policy, SourceKind};
use wasmplug_tests::{block_on_any, guest, guest_for, staged};

const HELLO_MANIFEST: &str = r#"
[plugin]
name = "hello"
version = "0.1.0"
world = "wasmplug:plugin/plugin@0.1.0"

[config]
greeting = "Howdy"
"#;

/// A manifest for the hostile plugin requesting `permissions`.
fn hostile_manifest(permissions: &str) -> String {
    format!("[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n\n[permissions]\n{permissions}\n")
}

fn host(policy: Policy) -> Host {
    Host::builder().policy(policy).build().unwrap()
}

#[tokio::test]
async fn default_world_plugin_runs_with_its_manifest_config() {
    let (_dir, path) = staged("hello", Some(HELLO_MANIFEST));
    let host = host(Policy::default());
    let plugin = host.load_file(&path).await.unwrap();
    assert_eq!(plugin.name(), "hello");
    assert_eq!(plugin.manifest().unwrap().plugin.version, "0.1.0");
    assert_eq!(plugin.run("world").await.unwrap(), "Howdy, world!");
}

#[tokio::test]
async fn without_a_manifest_the_file_name_is_the_name() {
    let host = host(Policy::default());
    let plugin = host.load_file(guest("hello")).await.unwrap();
    assert_eq!(plugin.name(), "hello");
    assert_eq!(plugin.run("world").await.unwrap(), "Hello, world!");
    let err = plugin.run("").await.unwrap_err();
    assert!(
        matches!(&err, Error::Guest { message, .. } if message == "input is empty"),
        "{err:?}"
    );
}

#[tokio::test]
async fn host_config_overrides_the_manifest() {
    let (_dir, path) = staged("hello", Some(HELLO_MANIFEST));
    let host = Host::builder().config("greeting", "Hi").build().unwrap();
    let plugin = host.load_file(&path).await.unwrap();
    assert_eq!(plugin.run("you").await.unwrap(), "Hi, you!");
}

#[tokio::test]
async fn identity_is_the_sha256_of_the_component() {
    let bytes = std::fs::read(guest("hello")).unwrap();
    let host = host(Policy::default());
    let a = host.load_bytes("a", bytes.clone(), None).await.unwrap();
    let b = host.load_file(guest("hello")).await.unwrap();
    assert_eq!(a.sha256(), b.sha256());
    assert_eq!(a.size(), bytes.len());
    assert_eq!(a.source_kind(), SourceKind::Component);
}

#[tokio::test]
async fn preview1_command_module_is_componentized_and_runs() {
    let host = Host::builder().implicit_requests(true).build().unwrap();
    let file = guest_for("wasm32-wasip1", "command");
    let plugin = host.load_file(&file).await.unwrap();
    assert_eq!(plugin.source_kind(), SourceKind::Preview1Command);
    // Known by the file as given, what `sha256sum` prints, not by the
    // component made of it.
    let given = std::fs::read(&file).unwrap();
    assert_eq!(plugin.sha256(), wasmplug::Sha256Digest::of(&given));
    let mut instance = plugin.instantiate().await.unwrap();
    let results = instance.call_wave("wasi:cli/run#run", &[]).await.unwrap();
    assert_eq!(results, ["ok"]);

    // The preview1 adapter reports a failing `proc_exit` as `exit(err)`,
    // which WASI 0.2 carries as status 1 whatever the module asked for.
    let mut instance = plugin
        .instantiate_with_args(&["7".to_string()])
        .await
        .unwrap();
    let err = instance
        .call_wave("wasi:cli/run#run", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Exit { code: 1, .. }), "{err:?}");
}

/// `exit-with-code` (WASI 0.2.12) carries any status through.
#[tokio::test]
async fn exit_with_code_keeps_the_status() {
    let component = wat::parse_str(
        r#"(component
            (import "wasi:cli/exit@0.2.12" (instance $exit
                (export "exit-with-code" (func (param "status-code" u8)))))
            (core func $exit (canon lower (func $exit "exit-with-code")))
            (core module $m
                (import "" "exit" (func $exit (param i32)))
                (func (export "run") (result i32) i32.const 42 call $exit i32.const 0))
            (core instance $i (instantiate $m (with "" (instance (export "exit" (func $exit))))))
            (func (export "run") (result (result)) (canon lift (core func $i "run"))))"#,
    )
    .unwrap();
    let plugin = host(Policy::default())
        .load_bytes("exit", component, None)
        .await
        .unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let err = instance.call_wave("run", &[]).await.unwrap_err();
    assert!(matches!(err, Error::Exit { code: 42, .. }), "{err:?}");
}

#[tokio::test]
async fn dynamic_calls_take_and_give_wave_and_json() {
    let host = host(Policy::default());
    let plugin = host.load_file(guest("hello")).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let results = instance
        .call_wave("run", &["\"wave\"".to_string()])
        .await
        .unwrap();
    assert_eq!(results, [r#"ok("Hello, wave!")"#]);
    let result = instance
        .call_json("run", &[serde_json::json!("json")])
        .await
        .unwrap();
    assert_eq!(result, serde_json::json!({ "ok": "Hello, json!" }));

    let err = instance.call_wave("run", &[]).await.unwrap_err();
    assert!(matches!(err, Error::Argument { .. }), "{err:?}");
    let err = instance
        .call_wave("run", &["42".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Argument { .. }), "{err:?}");
    let err = instance
        .call_json("run", &[serde_json::json!("")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
    let err = instance.call_wave("nope", &[]).await.unwrap_err();
    assert!(
        matches!(&err, Error::MissingExport { available, .. } if available.contains("run")),
        "{err:?}"
    );
    assert!(
        !instance.is_discarded(),
        "argument errors keep the instance"
    );
}

/// The echo fixture (also the fuzz target `dynamic_call`'s) gives back
/// what it is given: values of every kind a world can hold come back the
/// same through WAVE, and a resource is made and used by name.
#[tokio::test]
async fn rich_values_round_trip_through_dynamic_calls() {
    use wasmplug::Value;
    use wasmplug::wasmtime::component::Val;

    let host = host(Policy::default());
    let plugin = host.load_file(guest("echo")).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("echo-bytes", &["[0, 255, 7]"]),
        ("echo-string", &[r#""tab\t, quote \" and 🦀""#]),
        (
            "echo-scalars",
            &[
                "{a: true, b: -128, c: 255, d: -32768, e: 65535, f: -1, g: 4294967295, \
               h: -9223372036854775808, i: 18446744073709551615, j: nan, k: -inf, l: '\u{10ffff}'}",
            ],
        ),
        ("echo-shape", &["square({x: -1, y: 2, label: \"p\"})"]),
        ("echo-color", &["blue"]),
        ("echo-access", &["{read, execute}"]),
        ("echo-option", &["some([{x: 0, y: 0, label: \"\"}])"]),
        ("echo-result", &["ok(\"fine\")"]),
        ("echo-tuple", &["(1, -2, 'x', false)"]),
        ("echo-nested", &["[[], [\"a\", \"b\"]]"]),
    ];
    for (export, args) in cases {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let results = instance.call_wave(export, &args).await.unwrap();
        let again = instance.call_wave(export, &results).await.unwrap();
        assert_eq!(results, again, "{export}: {args:?}");
        assert_eq!(results.len(), 1, "{export}");
    }
    let many = instance
        .call_wave("echo-many", &["7".into(), "\"seven\"".into(), "[7]".into()])
        .await
        .unwrap();
    assert_eq!(many, [r#"(7, "seven", [7])"#]);
    // A plugin's `err` is its refusal, as ever with text calls.
    let err = instance
        .call_wave("echo-result", &["err(green)".into()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Guest { message, .. } if message == "green"),
        "{err:?}"
    );
    let color = instance
        .call_json("echo-color", &[serde_json::json!("red")])
        .await
        .unwrap();
    assert_eq!(color, serde_json::json!("red"));

    let counter = instance
        .call_values(
            "wasmplug:echo/counters#[constructor]counter",
            &[Value::Other(Val::U32(40))],
        )
        .await
        .unwrap();
    let added = instance
        .call_values(
            "wasmplug:echo/counters#[method]counter.add",
            &[counter[0].clone(), Value::Other(Val::U32(2))],
        )
        .await
        .unwrap();
    assert_eq!(added, [Value::Other(Val::U32(42))]);
}

#[tokio::test]
async fn an_instance_keeps_state_and_a_fresh_one_does_not() {
    let host = host(Policy::default());
    let plugin = host.load_file(guest("hostile")).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    assert_eq!(instance.run("count").await.unwrap(), "1");
    assert_eq!(instance.run("count").await.unwrap(), "2");
    assert_eq!(plugin.run("count").await.unwrap(), "1");
}

#[tokio::test]
async fn granted_directories_can_be_read_and_written() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("note.txt"), "kept").unwrap();
    let out = tempfile::tempdir().unwrap();
    let manifest = hostile_manifest(
        r#"dirs = [
  { path = "/data", access = "read", reason = "reads notes" },
  { path = "/out", access = "read-write", reason = "writes results" },
]"#,
    );
    let (_dir, path) = staged("hostile", Some(&manifest));
    let policy = Policy::new()
        .allow(Grant::dir("/data", data.path(), Access::Read))
        .allow(Grant::dir("/out", out.path(), Access::ReadWrite));
    let plugin = host(policy).load_file(&path).await.unwrap();
    assert_eq!(plugin.run("read /data/note.txt").await.unwrap(), "kept");
    assert_eq!(plugin.run("list /data").await.unwrap(), "note.txt");
    assert_eq!(plugin.run("write /out/result.txt").await.unwrap(), "ok");
    assert_eq!(
        std::fs::read_to_string(out.path().join("result.txt")).unwrap(),
        "written"
    );
}

#[tokio::test]
async fn granted_env_is_visible() {
    let manifest = hostile_manifest(r#"env = [{ name = "GREETING", reason = "greets" }]"#);
    let (_dir, path) = staged("hostile", Some(&manifest));
    let policy = Policy::new().allow(Grant::env_value("GREETING", "hej"));
    let plugin = host(policy).load_file(&path).await.unwrap();
    assert_eq!(plugin.run("env GREETING").await.unwrap(), "hej");
}

#[tokio::test]
async fn granted_address_can_be_connected_to() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let manifest = hostile_manifest(&format!(
        r#"net = [{{ host = "127.0.0.1:{}", reason = "talks to a local service" }}]"#,
        addr.port()
    ));
    let (_dir, path) = staged("hostile", Some(&manifest));
    let policy = Policy::new().allow(Grant::net("127.0.0.1:*"));
    let plugin = host(policy).load_file(&path).await.unwrap();
    assert_eq!(
        plugin.run(&format!("connect {addr}")).await.unwrap(),
        "connected"
    );
}

#[tokio::test]
async fn clocks_stand_still_unless_granted() {
    let (_dir, path) = staged("hostile", Some(&hostile_manifest("")));
    let plugin = host(Policy::default()).load_file(&path).await.unwrap();
    assert_eq!(plugin.run("time").await.unwrap(), "0");

    let (_dir, path) = staged(
        "hostile",
        Some(&hostile_manifest(r#"clocks = "timestamps its output""#)),
    );
    let policy = Policy::new().allow(Grant::clocks());
    let plugin = host(policy).load_file(&path).await.unwrap();
    let seconds: u64 = plugin.run("time").await.unwrap().parse().unwrap();
    assert!(seconds > 1_700_000_000, "{seconds}");
}

#[tokio::test]
async fn guest_log_and_config_reach_the_host_interface() {
    let host = Host::builder().config("colour", "teal").build().unwrap();
    let plugin = host.load_file(guest("hostile")).await.unwrap();
    assert_eq!(plugin.run("config colour").await.unwrap(), "teal");
    assert_eq!(plugin.run("log hello from the guest").await.unwrap(), "");
    let err = plugin.run("config shade").await.unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
}

/// A component importing a WASI 0.3 interface and exporting more than the
/// default world (as Python and JavaScript components do) still loads.
#[tokio::test]
async fn wasi_0_3_imports_and_extra_exports_are_accepted() {
    let component = wat::parse_str(
        r#"(component
            (import "wasi:random/random@0.3.0" (instance $random
                (export "get-random-u64" (func (result u64)))))
            (core func $get (canon lower (func $random "get-random-u64")))
            (core module $m
                (import "" "get" (func $get (result i64)))
                (func (export "seed") (result i64) call $get)
                (func (export "init")))
            (core instance $i (instantiate $m
                (with "" (instance (export "get" (func $get))))))
            (func (export "seed") (result u64) (canon lift (core func $i "seed")))
            (func (export "init") (canon lift (core func $i "init"))))"#,
    )
    .unwrap();
    let host = host(Policy::default());
    let plugin = host.load_bytes("p3", component, None).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    assert_eq!(
        instance.call_wave("init", &[]).await.unwrap(),
        Vec::<String>::new()
    );
    let seed = instance.call_wave("seed", &[]).await.unwrap();
    assert_eq!(seed.len(), 1);
    assert!(seed[0].parse::<u64>().is_ok(), "{seed:?}");
}

/// An imported interface that only declares types (shared records, say)
/// confers nothing, so it needs no grant; one with a function does.
#[tokio::test]
async fn interfaces_of_types_only_need_no_grant() {
    let component = |export: &str| {
        wat::parse_str(format!(
            r#"(component
                (import "example:shared/types@0.1.0" (instance
                    (type $point (record (field "x" s32) (field "y" s32)))
                    (export "point" (type (eq $point)))
                    {export})))"#
        ))
        .unwrap()
    };
    let host = host(Policy::default());
    let plugin = host.load_bytes("types", component(""), None).await.unwrap();
    plugin.instantiate().await.unwrap();
    let err = host
        .load_bytes("types", component(r#"(export "leak" (func))"#), None)
        .await
        .expect_err("an interface with a function must be refused");
    assert!(
        matches!(&err, Error::MissingImport { import, .. } if import == "example:shared/types@0.1.0"),
        "{err:?}"
    );
}

#[test]
fn blocking_api_works_without_a_runtime() {
    let host: Host = HostBuilder::with_data(|| ())
        .limits(Limits::default().timeout(Duration::from_secs(30)))
        .build()
        .unwrap();
    let plugin = host
        .block_on(host.load_file(guest("hello")))
        .unwrap()
        .unwrap();
    let output = host.block_on(plugin.run("sync")).unwrap().unwrap();
    assert_eq!(output, "Hello, sync!");
}

#[test]
fn the_declared_wasmtime_version_is_the_pinned_one() {
    let manifest = std::fs::read_to_string(wasmplug_tests::repo_root().join("Cargo.toml")).unwrap();
    let pin = format!(
        "wasmtime = {{ version = \"={}\"",
        wasmplug::WASMTIME_VERSION
    );
    assert!(manifest.contains(&pin), "Cargo.toml does not pin {pin}");
}

#[test]
fn hosts_plugins_and_instances_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Host>();
    send_sync::<wasmplug::Plugin>();
    send::<wasmplug::Instance>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_plugin_serves_many_tasks_at_once() {
    let plugin = host(Policy::default())
        .load_file(guest("hello"))
        .await
        .unwrap();
    let calls = (0..16).map(|i| {
        let plugin = plugin.clone();
        tokio::spawn(async move { (i, plugin.run(&i.to_string()).await) })
    });
    for call in calls {
        let (i, output) = call.await.unwrap();
        assert_eq!(output.unwrap(), format!("Hello, {i}!"));
    }
}

#[tokio::test]
async fn dynamic_values_take_fast_lanes_and_the_general_path() {
    use wasmplug::Value;
    use wasmplug::wasmtime::component::Val;

    let plugin = host(Policy::default())
        .load_file(guest("bench"))
        .await
        .unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let bytes: Vec<u8> = (0..=255).collect();
    // Every byte value, over lengths that leave a remainder past the wide
    // loop's blocks of 256.
    let text: Vec<u8> = (0..3)
        .flat_map(|_| 0..=255u8)
        .chain(b"tail!".to_vec())
        .collect();
    let upper = Value::Bytes(text.to_ascii_uppercase());
    let cases = [
        ("upper", vec![Value::Bytes(text.clone())], upper.clone()),
        ("upper-wide", vec![Value::Bytes(text.clone())], upper),
        (
            "echo",
            vec![Value::Bytes(bytes.clone())],
            Value::Bytes(bytes),
        ),
        ("echo", vec![Value::Bytes(vec![])], Value::Bytes(vec![])),
        (
            "transform",
            vec![Value::Bytes(b"Hello".to_vec())],
            Value::Bytes(b"Uryyb".to_vec()),
        ),
        (
            "greet",
            vec![Value::String("lanes".into())],
            Value::String("Hello, lanes!".into()),
        ),
        (
            "add",
            vec![Value::Other(Val::U32(2)), Value::Other(Val::U32(3))],
            Value::Other(Val::U32(5)),
        ),
        // A byte list given as a `Val` takes the general path.
        (
            "echo",
            vec![Value::Other(Val::List(vec![Val::U8(7)]))],
            Value::Bytes(vec![7]),
        ),
    ];
    for (export, args, expected) in cases {
        assert_eq!(
            instance.call_values(export, &args).await.unwrap(),
            [expected],
            "{export}"
        );
    }
    for wrong in [
        vec![Value::String("not bytes".into())],
        vec![Value::Other(Val::List(vec![Val::U32(7)]))],
        vec![],
    ] {
        let err = instance.call_values("echo", &wrong).await.unwrap_err();
        assert!(matches!(err, Error::Argument { .. }), "{err:?}");
    }
    assert!(
        !instance.is_discarded(),
        "argument errors keep the instance"
    );

    let hello = host(Policy::default())
        .load_file(guest("hello"))
        .await
        .unwrap();
    let mut instance = hello.instantiate().await.unwrap();
    let results = instance
        .call_values("run", &[Value::String("lane".into())])
        .await
        .unwrap();
    let ok = Val::Result(Ok(Some(Box::new(Val::String("Hello, lane!".into())))));
    assert_eq!(results, [Value::Other(ok)]);
}

/// Calls polled on this thread with nothing of tokio around them, as a
/// host on another executor would poll them.
#[test]
fn async_calls_work_on_any_executor() {
    let host = Host::builder()
        .limits(wasmplug_tests::tight_limits().timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    let plugin = block_on_any(host.load_file(guest("hostile"))).unwrap();
    assert_eq!(
        block_on_any(plugin.run("echo elsewhere")).unwrap(),
        "elsewhere"
    );
    // The deadline's timer fires without a tokio runtime around the call.
    let err = block_on_any(plugin.run("sleep")).unwrap_err();
    assert!(matches!(err, Error::Deadline { .. }), "{err:?}");
}

#[tokio::test]
async fn a_wave_record_with_an_unknown_field_is_an_error() {
    let component = wat::parse_str(
        r#"(component
            (core module $m (func (export "x") (param i32 i32) (result i32) local.get 0))
            (core instance $i (instantiate $m))
            (type $point (record (field "x" u32) (field "y" u32)))
            (export $p "point" (type $point))
            (func (export "x") (param "p" $p) (result u32) (canon lift (core func $i "x"))))"#,
    )
    .unwrap();
    let plugin = host(Policy::default())
        .load_bytes("point", component, None)
        .await
        .unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let ok = instance
        .call_wave("x", &["{x: 7, y: 1}".into()])
        .await
        .unwrap();
    assert_eq!(ok, ["7"]);
    let err = instance
        .call_wave("x", &["{x: 7, y: 1, z: 2}".into()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Argument { reason, .. } if reason.contains("unknown field `z`")),
        "{err:?}"
    );
    let err = instance
        .call_json("x", &[serde_json::json!({"x": 7, "y": 1, "z": 2})])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Argument { .. }), "{err:?}");
}
