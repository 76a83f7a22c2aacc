//! The linter of docs/host.md, as its users run it: checks in Rust and
//! Python over a file, a check's output heard without a subscriber, a
//! Python check's exception shown first, and the guide's code is this
//! crate's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wasmplug_tests::{example_guest, repo_root, toolchain_ready};

/// Places a check in `dir`, in a folder of its own with its manifest.
fn place(dir: &Path, name: &str, wasm: &Path) {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(wasm, folder.join(format!("{name}.wasm"))).unwrap();
    let manifest = repo_root()
        .join("examples/plugins")
        .join(name)
        .join("plugin.toml");
    std::fs::copy(manifest, folder.join("plugin.toml")).unwrap();
}

/// The Python check, built with `wasmplug build`, or `None` without its
/// toolchain.
fn line_length() -> Option<PathBuf> {
    toolchain_ready(wasmplug_build::Language::Python).then(|| {
        wasmplug_tests::build_project(
            &repo_root().join("examples/plugins/line-length"),
            None,
            "line-length",
        )
    })
}

fn linter(checks: &Path, config: Option<&str>, file: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_linter"));
    command.arg("--plugins").arg(checks);
    let dir = tempfile::tempdir().unwrap();
    if let Some(config) = config {
        let path = dir.path().join("linter.toml");
        std::fs::write(&path, config).unwrap();
        command.arg("--config").arg(path);
    }
    command.arg(file).output().unwrap()
}

const SOURCE: &str = "fn main() {\n    // TODO: say hello\n    println!(\"{}\", \"a rather long line that goes on and on\");\n    // FIXME the exit code\n}\n";

fn source() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.rs");
    std::fs::write(&file, SOURCE).unwrap();
    (dir, file)
}

#[test]
fn checks_in_rust_and_python_report_what_they_find() {
    let checks = tempfile::tempdir().unwrap();
    place(
        checks.path(),
        "todo-comments",
        &example_guest("todo-comments"),
    );
    let python = line_length();
    if let Some(wasm) = &python {
        place(checks.path(), "line-length", wasm);
    }
    let (_dir, file) = source();
    let output = linter(
        checks.path(),
        Some("[checks.line-length]\nmax-length = \"40\"\n"),
        &file,
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let file = file.display();
    let mut expected = vec![
        format!("{file}:2: info: TODO: say hello (todo-comments)"),
        format!("{file}:4: warning: FIXME: the exit code (todo-comments)"),
    ];
    if python.is_some() {
        expected.insert(
            0,
            format!("{file}:3: warning: 61 characters, more than 40 (line-length)"),
        );
    }
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected, "{stdout}");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn what_a_check_prints_reaches_stderr_without_a_subscriber() {
    let checks = tempfile::tempdir().unwrap();
    place(
        checks.path(),
        "todo-comments",
        &example_guest("todo-comments"),
    );
    let (_dir, file) = source();
    let output = linter(
        checks.path(),
        Some("[checks.todo-comments]\nmarkers = \"\"\n"),
        &file,
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "todo-comments 0.1.0 [stderr]: the `markers` setting is empty; looking for TODO and \
             FIXME"
        ),
        "{stderr}"
    );
    assert!(output.status.success());
}

#[test]
fn a_python_checks_exception_is_shown_first() {
    let Some(wasm) = line_length() else { return };
    let checks = tempfile::tempdir().unwrap();
    place(checks.path(), "line-length", &wasm);
    let (_dir, file) = source();
    let output = linter(
        checks.path(),
        Some("[checks.line-length]\nmax-length = \"forty\"\n"),
        &file,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let failure = stderr
        .lines()
        .find(|l| l.contains("check `line-length` failed"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        failure.contains(
            "it crashed: plugin `line-length` crashed: ValueError: invalid literal for int() \
             with base 10: 'forty' (an uncaught Python exception;"
        ),
        "{failure}"
    );
}

/// The guide's code blocks, each preceded by `<!-- from PATH -->`, stand
/// in PATH as they are: what the guide shows is what this test's crate
/// builds and runs.
#[test]
fn the_guide_shows_this_crates_code() {
    let guide = std::fs::read_to_string(repo_root().join("docs/host.md")).unwrap();
    let mut checked = 0;
    let mut rest = guide.as_str();
    while let Some(start) = rest.find("<!-- from ") {
        rest = &rest[start + "<!-- from ".len()..];
        let (path, after) = rest.split_once(" -->").unwrap();
        let block = after
            .split_once("```")
            .and_then(|(_, b)| b.split_once('\n'))
            .and_then(|(_, b)| b.split_once("```"))
            .map(|(code, _)| code)
            .unwrap_or_else(|| panic!("no code block after the marker for {path}"));
        let file = std::fs::read_to_string(repo_root().join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            file.contains(block.trim_end()),
            "the guide's block from {path} is not in it:\n{block}"
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} blocks are checked");
}
