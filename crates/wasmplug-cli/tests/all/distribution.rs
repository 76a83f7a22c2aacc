//! `wasmplug push`, `pull`, `install` and `update` against a real registry,
//! as an operator runs them: consent asked for once and remembered, a
//! lockfile, and a locked install that needs no registry.

use std::path::Path;
use std::process::Output;

use wasmplug_tests::guest;
use wasmplug_tests::oci_registry::TestRegistry;

use super::{assert_success, command, stderr, stdout};

const MANIFEST: &str = r#"
[plugin]
name = "hello"
version = "0.1.0"

[permissions]
net = [{ host = "api.example.com:443", reason = "fetches names" }]
"#;

/// `wasmplug ARGS` in `dir`, with the caches of one machine, `cache`.
fn on_machine(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    command()
        .current_dir(dir)
        .env("WASMPLUG_CACHE_DIR", cache)
        .args(args)
        .output()
        .expect("running wasmplug")
}

/// Asserts that the command succeeded and printed `expected`.
fn printed(what: &str, output: &Output, expected: &str) {
    assert_success(what, output);
    assert!(
        stdout(output).contains(expected),
        "{what}: {}",
        stdout(output)
    );
}

#[test]
fn push_pull_install_then_install_locked_without_the_registry() {
    let Some(mut server) = TestRegistry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path();
    let (cache, other_machine) = (at.join("cache"), at.join("other-cache"));
    std::fs::create_dir(at.join("src")).unwrap();
    std::fs::copy(guest("hello"), at.join("src/hello.wasm")).unwrap();
    std::fs::write(at.join("src/plugin.toml"), MANIFEST).unwrap();
    let reference = format!("{}:0.1.0", server.repository("plugins/hello"));
    let run = |cache: &Path, args: &[&str]| on_machine(at, cache, args);

    let pushed = run(&cache, &["push", "src/hello.wasm", &reference]);
    printed("push", &pushed, "with its plugin.toml");

    let pulled = run(
        &other_machine,
        &["pull", &reference, "-o", "pulled/hello.wasm"],
    );
    assert_success("pull", &pulled);
    assert_eq!(
        std::fs::read(at.join("pulled/hello.wasm")).unwrap(),
        std::fs::read(guest("hello")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(at.join("pulled/plugin.toml")).unwrap(),
        MANIFEST
    );

    // No terminal to ask on: nothing is installed, and the error says how
    // to consent.
    let refused = run(&cache, &["install", &reference]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert!(!at.join("plugins").join("hello").exists());
    assert!(!at.join("wasmplug.lock").exists());

    let installed = run(&cache, &["install", "--yes", &reference]);
    printed(
        "install",
        &installed,
        "installed hello 0.1.0 into plugins/hello",
    );
    let lock = std::fs::read_to_string(at.join("wasmplug.lock")).unwrap();
    assert!(
        lock.contains(&format!("reference = \"{reference}\"")),
        "{lock}"
    );

    // The consent given at install is remembered: a call asks nothing.
    let call = run(
        &cache,
        &["call", "plugins/hello/hello.wasm", "run", "\"installed\""],
    );
    printed("call", &call, "Hello, installed!");

    let up_to_date = run(&cache, &["update"]);
    printed("update", &up_to_date, "hello is up to date");

    // With the registry gone, a locked install from the warm cache works
    // and leaves the lockfile byte for byte; a tag cannot be resolved.
    server.stop();
    std::fs::remove_dir_all(at.join("plugins")).unwrap();
    let locked = run(&cache, &["install", "--locked"]);
    printed("install --locked", &locked, "from the cache");
    assert!(at.join("plugins/hello/hello.wasm").is_file());
    assert_eq!(
        std::fs::read_to_string(at.join("wasmplug.lock")).unwrap(),
        lock
    );

    let cold = run(
        &at.join("cold-cache"),
        &["install", "--locked", "--dir", "elsewhere"],
    );
    assert!(!cold.status.success());
    assert!(
        stderr(&cold).contains("cannot reach the registry"),
        "{}",
        stderr(&cold)
    );
    assert!(!at.join("elsewhere").join("hello").exists());
}
