//! What a newcomer meets in the library: a host's own binding mistake told
//! apart from a plugin's crash, a plugin the host cannot link refused
//! before anything is compiled, interface names that do not match shown
//! side by side, and mocks and composition through the library.

use std::sync::atomic::Ordering;

use wasmplug::wasmtime::component::Linker;
use wasmplug::{Error, Grant, Host, HostBuilder, HostInterface, Mock, Policy, StoreData};
use wasmplug_tests::{counting_compiles, example_guest, guest, staged};

#[tokio::test]
async fn synchronous_bindings_in_an_async_call_are_the_hosts_mistake() {
    let host = Host::builder().build().unwrap();
    let plugin = host.load_file(guest("hostile")).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let run = instance
        .typed_func::<(&str,), (Result<String, String>,)>("run")
        .unwrap();
    // A synchronous call where an async one belongs: wasmtime refuses it
    // before the guest runs (the store needs async calls).
    let err = instance
        .call("run", async |store| run.call(store, ("echo x",)))
        .await
        .unwrap_err();
    let Error::HostBinding { reason, .. } = &err else {
        panic!("expected HostBinding, got {err:?}");
    };
    assert!(reason.contains("exports: { default: async }"), "{reason}");
    assert!(!err.is_plugin_fault());
    assert_eq!(err.kind(), "host-binding");
}

#[tokio::test]
async fn a_plugin_the_host_cannot_link_is_refused_before_it_is_compiled() {
    let (builder, compiles) = counting_compiles(Host::builder().cache(None));
    let host = builder.build().unwrap();
    let err = host
        .load_file(example_guest("todo-comments"))
        .await
        .unwrap_err();
    let Error::MissingImport { import, .. } = &err else {
        panic!("expected MissingImport, got {err:?}");
    };
    assert_eq!(import, "lint:host/env@0.1.0");
    assert_eq!(compiles.load(Ordering::SeqCst), 0, "nothing was compiled");
}

/// The example linter's `todo-comments` check in a folder of its own, with
/// its manifest.
fn todo_check() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("todo-comments.wasm");
    std::fs::copy(example_guest("todo-comments"), &wasm).unwrap();
    let manifest = wasmplug_tests::repo_root().join("examples/plugins/todo-comments/plugin.toml");
    std::fs::copy(manifest, dir.path().join("plugin.toml")).unwrap();
    (dir, wasm)
}

fn env_interface(name: &str) -> HostInterface<()> {
    HostInterface::new(name, |linker: &mut Linker<StoreData<()>>| {
        let mut env = linker.instance("lint:host/env@0.1.0")?;
        env.func_wrap("config", |_, (_key,): (String,)| Ok((None::<String>,)))?;
        env.func_wrap("file-name", |_, ()| Ok(("host.rs".to_string(),)))
    })
}

#[tokio::test]
async fn names_that_do_not_match_are_shown_side_by_side() {
    let manifest = std::fs::read_to_string(
        wasmplug_tests::repo_root().join("examples/plugins/todo-comments/plugin.toml"),
    )
    .unwrap()
    .replace("lint:host/env@0.1.0", "lint:host/envs@0.1.0");
    let (_dir, path) = staged("hello", None);
    let wasm = path.with_file_name("todo-comments.wasm");
    std::fs::copy(example_guest("todo-comments"), &wasm).unwrap();
    std::fs::write(path.with_file_name("plugin.toml"), manifest).unwrap();
    let host = HostBuilder::with_data(|| ())
        .interface(env_interface("lint:host/env@0.1.0"))
        .policy(Policy::new().allow(Grant::interface("lint:host/env")))
        .build()
        .unwrap();
    let err = host.load_file(&wasm).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(
        text.contains(
            "it requests `lint:host/envs@0.1.0`, which does not name `lint:host/env@0.1.0`"
        ),
        "{text}"
    );

    // The host offering the interface under another name says which it has.
    let host = HostBuilder::with_data(|| ())
        .interface(env_interface("lint:host/environment@0.1.0"))
        .build()
        .unwrap();
    let err = host
        .load_file(example_guest("todo-comments"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("of lint:host, this host provides lint:host/environment@0.1.0"),
        "{err}"
    );

    // A versioned name in the policy, as the manifest writes it, grants it.
    let host = HostBuilder::with_data(|| ())
        .interface(env_interface("lint:host/env@0.1.0"))
        .policy(Policy::new().allow(Grant::interface("lint:host/env@0.1.0")))
        .build()
        .unwrap();
    let (_dir, todo) = todo_check();
    let plugin = host.load_file(&todo).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let found = instance
        .call_wave("lint", &["\"// TODO: granted\"".into()])
        .await
        .unwrap();
    assert_eq!(
        found,
        [r#"[{line: 1, severity: info, message: "TODO: granted"}]"#]
    );
}

#[tokio::test]
async fn hosts_compose_plugins_and_mock_them_through_the_library() {
    let host = Host::builder().build().unwrap();
    let (_dir, todo) = todo_check();
    let plugin = host
        .load_composed(&todo, None, &[guest("lint_env_stub")])
        .await
        .unwrap();
    assert_eq!(plugin.name(), "todo-comments");
    let mut instance = plugin.instantiate().await.unwrap();
    let found = instance
        .call_wave("lint", &["\"// FIXME: composed\"".into()])
        .await
        .unwrap();
    assert_eq!(
        found,
        [r#"[{line: 1, severity: warning, message: "FIXME: composed"}]"#]
    );

    // A component that provides none of the plugin's imports is refused.
    let err = host
        .load_composed(&todo, None, &[guest("hello")])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("exports nothing the plugin imports"),
        "{err}"
    );

    let mocked = Host::builder()
        .mock(Mock::parse("lint:host/env#file-name=\"CHANGELOG.md\"").unwrap())
        .build()
        .unwrap();
    let plugin = mocked.load_file(&todo).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let found = instance
        .call_wave("lint", &["\"// TODO: history\"".into()])
        .await
        .unwrap();
    assert_eq!(found, ["[]"], "changelogs are skipped");
}

#[tokio::test]
async fn stand_ins_let_a_tool_load_a_plugin_for_another_applications_host() {
    let (_dir, todo) = todo_check();
    let refused = Host::builder().build().unwrap().load_file(&todo).await;
    assert!(
        matches!(&refused, Err(Error::MissingImport { import, .. }) if import.starts_with("lint:host/env")),
        "{:?}",
        refused.as_ref().err()
    );

    let tool = Host::builder().stand_ins(true).build().unwrap();
    let plugin = tool.load_file(&todo).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let error = instance
        .call_wave("lint", &["\"// TODO: later\"".into()])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("lint:host/env@0.1.0#"),
        "a stand-in's function fails the call, naming itself: {error}"
    );
}
