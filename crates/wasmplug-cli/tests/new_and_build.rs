//! `wasmplug new` and `wasmplug build` as a new user runs them: for each
//! language, a new project builds as it is, its component greets, and its
//! own test passes; a project for another world starts with stubs that
//! build. A language whose toolchain is missing is skipped (see
//! `wasmplug_tests::toolchain_ready`).

use std::path::Path;
use std::process::{Command, Output};

use wasmplug_build::Language;
use wasmplug_tests::{repo_root, toolchain_ready};

fn wasmplug(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("running wasmplug")
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// new, build, call, and the project's own test command.
fn greets(language: Language, test: &[&str]) {
    if !toolchain_ready(language) {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let new = wasmplug(parent.path(), &["new", "--lang", language.name(), "demo"]);
    assert_success("new", &new);
    let project = parent.path().join("demo");
    assert!(project.join("plugin.toml").is_file());
    assert!(project.join("README.md").is_file());
    assert!(project.join("wit/plugin.wit").is_file());

    assert_success("build", &wasmplug(&project, &["build", "-o", "demo.wasm"]));
    let call = wasmplug(&project, &["call", "demo.wasm", "run", r#""world""#]);
    assert_success("call", &call);
    let stdout = String::from_utf8_lossy(&call.stdout);
    assert!(stdout.contains("world"), "{stdout}");
    assert!(stdout.starts_with("ok("), "{stdout}");

    let test = Command::new(test[0])
        .current_dir(&project)
        .args(&test[1..])
        .output()
        .expect("running the project's test");
    assert_success("the project's test", &test);
}

#[test]
fn rust_project_greets() {
    greets(Language::Rust, &["cargo", "test", "--quiet"]);
}

#[test]
fn python_project_greets() {
    greets(Language::Python, &["python3", "-m", "unittest", "--quiet"]);
}

#[test]
fn js_project_greets() {
    greets(Language::Js, &["npm", "test", "--silent"]);
}

#[test]
fn c_project_greets() {
    greets(Language::C, &["make", "test"]);
}

#[test]
fn go_project_greets() {
    // The Go that `wasmplug build` uses, which need not be on PATH.
    let go = wasmplug_build::Toolchain::find(Language::Go)
        .map(|t| t.tools[0].1.display().to_string())
        .unwrap_or_else(|_| "go".into());
    greets(Language::Go, &[&go, "test", "./internal/..."]);
}

/// A project for the conformance world: stubs for every export, a request
/// for its host interface, and a component that builds and loads, whose
/// stubs fail when called.
fn stubs_build(language: Language) {
    if !toolchain_ready(language) {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let wit = repo_root().join("tests/conformance/wit");
    let new = wasmplug(
        parent.path(),
        &[
            "new",
            "--lang",
            language.name(),
            "--wit",
            wit.to_str().unwrap(),
            "stubs",
        ],
    );
    assert_success("new", &new);
    let project = parent.path().join("stubs");
    let manifest = std::fs::read_to_string(project.join("plugin.toml")).unwrap();
    assert!(
        manifest.contains("world = \"wasmplug:conformance/conformance@0.1.0\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("wasmplug:conformance/events"),
        "{manifest}"
    );
    assert!(
        !manifest.contains("wasmplug:conformance/types"),
        "{manifest}"
    );
    assert_success("build", &wasmplug(&project, &["build"]));
    let inspect = wasmplug(&project, &["inspect", "stubs.wasm"]);
    assert_success("inspect", &inspect);
    let wit = String::from_utf8_lossy(&inspect.stdout);
    assert!(wit.contains("wasmplug:conformance/api"), "{wit}");
}

#[test]
fn rust_stubs_build() {
    stubs_build(Language::Rust);
}

#[test]
fn python_stubs_build() {
    stubs_build(Language::Python);
}

#[test]
fn js_stubs_build() {
    stubs_build(Language::Js);
}

#[test]
fn c_stubs_build() {
    stubs_build(Language::C);
}

#[test]
fn go_stubs_build() {
    stubs_build(Language::Go);
}
