//! A plugin author's path without the host: a check of the example linter
//! called with mocks of its host interface and composed with a stand-in,
//! a composition refused what one of its parts was not granted, and a
//! build that ships the manifest beside the component.

use std::path::{Path, PathBuf};
use std::process::Output;

use wasmplug_tests::{example_guest, guest, repo_root, toolchain_ready};

use super::{assert_success, stderr, stdout, wasmplug_in};

/// The example linter's `todo-comments` check, with its manifest, in a
/// folder of its own.
fn todo_check() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("todo-comments.wasm");
    std::fs::copy(example_guest("todo-comments"), &wasm).unwrap();
    let manifest = repo_root().join("examples/plugins/todo-comments/plugin.toml");
    std::fs::copy(manifest, dir.path().join("plugin.toml")).unwrap();
    (dir, wasm)
}

fn call(dir: &Path, args: &[&str]) -> Output {
    wasmplug_in(dir, args)
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

const SOURCE: &str = r#""// TODO: one\n// NOTE: two\n// FIXME three""#;

#[test]
fn a_plugin_importing_its_hosts_interface_runs_with_mocks() {
    let (dir, wasm) = todo_check();
    // Without its host, the error says how to try it.
    let output = call(dir.path(), &["call", text(&wasm), "lint", SOURCE]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("imports `lint:host/env@0.1.0`, which this host does not provide"),
        "{err}"
    );
    assert!(err.contains("--mock lint:host/env#FUNCTION=VALUE"), "{err}");

    let output = call(
        dir.path(),
        &[
            "call",
            "--mock",
            "lint:host/env#file-name=\"main.rs\"",
            "--mock",
            "lint:host/env@0.1.0#config=some(\"NOTE, FIXME\")",
            text(&wasm),
            "lint",
            SOURCE,
        ],
    );
    assert_success("call --mock", &output);
    assert_eq!(
        stdout(&output).trim(),
        r#"[{line: 2, severity: info, message: "NOTE: two"}, {line: 3, severity: warning, message: "FIXME: three"}]"#
    );
    // The interface's request is moot with a mock: no warning about it.
    assert!(
        !stderr(&output).contains("not granted"),
        "{}",
        stderr(&output)
    );

    // A function without an answer fails the call, naming itself.
    let output = call(
        dir.path(),
        &[
            "call",
            "--mock",
            "lint:host/env#file-name=\"main.rs\"",
            text(&wasm),
            "lint",
            SOURCE,
        ],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(
            "`lint:host/env@0.1.0#config` was called, but no mock answers it; give it an answer"
        ),
        "{}",
        stderr(&output)
    );
    // An answer of the wrong type, or for a function the interface lacks.
    for (mock, needle) in [
        (
            "lint:host/env#file-name=42",
            "`42` is not a WAVE value of type `string`",
        ),
        (
            "lint:host/env#file-names=\"x\"",
            "`lint:host/env@0.1.0` has no function `file-names`; it has config, file-name",
        ),
        ("lint:host/env", "write it as IFACE#FUNC=WAVE"),
    ] {
        let output = call(
            dir.path(),
            &["call", "--mock", mock, text(&wasm), "lint", SOURCE],
        );
        assert!(!output.status.success(), "{mock}");
        assert!(
            stderr(&output).contains(needle),
            "{mock}: {}",
            stderr(&output)
        );
    }
}

/// The stand-in for the linter's `env`, with a manifest when given one.
fn stub(manifest: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("lint-env-stub.wasm");
    std::fs::copy(guest("lint_env_stub"), &wasm).unwrap();
    if let Some(manifest) = manifest {
        std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    }
    (dir, wasm)
}

const STUB_READS_MARKERS: &str = "[plugin]\nname = \"lint-env-stub\"\nversion = \"1.0.0\"\n\
    [permissions]\nenv = [{ name = \"LINT_MARKERS\", reason = \"answers config from it\" }]\n";

#[test]
fn a_composed_component_gets_only_what_both_parts_were_granted() {
    let (dir, wasm) = todo_check();
    let (_stub_dir, stub) = stub(Some(STUB_READS_MARKERS));
    let args = |with: &Path| {
        vec![
            "call".to_string(),
            "--env".into(),
            "LINT_MARKERS=NOTE".into(),
            "--with".into(),
            text(with).into(),
            text(&wasm).into(),
            "lint".into(),
            SOURCE.into(),
        ]
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        call(dir.path(), &args)
    };
    // The stand-in is granted LINT_MARKERS, the check is not: composed,
    // neither has it, and the check looks for its default markers.
    let output = run(args(&stub));
    assert_success("call --with", &output);
    assert_eq!(
        stdout(&output).trim(),
        r#"[{line: 1, severity: info, message: "TODO: one"}, {line: 3, severity: warning, message: "FIXME: three"}]"#
    );
    let check = call(
        dir.path(),
        &[
            "check",
            "--env",
            "LINT_MARKERS=NOTE",
            "--with",
            text(&stub),
            text(&wasm),
        ],
    );
    let report = stdout(&check);
    assert!(
        report.contains("was granted it, but the component it is composed into, `todo-comments`, is not granted it"),
        "{report}"
    );

    // When the check requests it too, the composition has it.
    let manifest = std::fs::read_to_string(dir.path().join("plugin.toml")).unwrap();
    let more = manifest.replace(
        "[permissions]\n",
        "[permissions]\nenv = [{ name = \"LINT_MARKERS\", reason = \"markers\" }]\n",
    );
    std::fs::write(dir.path().join("plugin.toml"), more).unwrap();
    let output = run(args(&stub));
    assert_success("call --with, both granted", &output);
    assert_eq!(
        stdout(&output).trim(),
        r#"[{line: 2, severity: info, message: "NOTE: two"}]"#
    );
}

#[test]
fn build_ships_the_manifest_beside_the_component() {
    if !toolchain_ready(wasmplug_build::Language::C) {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let wit = repo_root().join("examples/linter/wit");
    for name in ["first", "second"] {
        let new = wasmplug_in(
            parent.path(),
            &[
                "new",
                "--lang",
                "c",
                "--wit",
                text(&wit),
                "--world",
                "check",
                name,
            ],
        );
        assert_success("new", &new);
    }
    let project = parent.path().join("first");
    let build = wasmplug_in(&project, &["build", "-o", "dist/first/"]);
    assert_success("build", &build);
    let folder = project.join("dist/first");
    for file in ["first.wasm", "plugin.toml"] {
        let path = folder.join(file);
        assert!(path.is_file(), "{} missing", path.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o644, 0o644, "{file}: {mode:o}");
        }
    }
    assert_eq!(
        std::fs::read_to_string(folder.join("plugin.toml")).unwrap(),
        std::fs::read_to_string(project.join("plugin.toml")).unwrap()
    );
    // The template's placeholder reason is pointed out.
    let warning = stderr(&build);
    assert!(
        warning.contains(
            "warning: plugin.toml: the reason for `interface lint:host/env@0.1.0` is a placeholder"
        ),
        "{warning}"
    );
    // A folder holds one plugin: another's build there is refused.
    let second = parent.path().join("second");
    let clash = wasmplug_in(&second, &["build", "-o", text(&folder.join("second.wasm"))]);
    assert!(!clash.status.success());
    assert!(
        stderr(&clash).contains("is the manifest of plugin `first`"),
        "{}",
        stderr(&clash)
    );
    assert!(!folder.join("second.wasm").exists());
}
