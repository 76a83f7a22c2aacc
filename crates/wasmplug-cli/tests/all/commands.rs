//! `wasmplug run` against the corpus of WASI programs in
//! `tests/commands/cases.toml`: each case's exit status, stdout and a part
//! of its stderr. With `wasmtime` 48.0.8 installed,
//! `tests/commands/compare.sh` runs the ignored test below, which puts each
//! case through both and reports where they differ.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;
use wasmplug_build::Language;
use wasmplug_tests::{guest, guest_for, repo_root, toolchain_ready};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    programs: Vec<String>,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    wasmtime_options: Option<Vec<String>>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    stdin: Option<String>,
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    stdout: Option<String>,
    #[serde(default)]
    stderr: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn corpus() -> Corpus {
    let path = repo_root().join("tests/commands/cases.toml");
    let text = std::fs::read_to_string(&path).expect("reading the corpus");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The program a case names, built or compiled once; `None` when its
/// toolchain is missing and the test may skip it.
fn program(name: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = BUILT.get_or_init(|| tempfile::tempdir().expect("a temporary directory"));
    let commands = repo_root().join("tests/commands");
    Some(match name {
        "rust-p1" => guest_for("wasm32-wasip1", "programs"),
        "rust-p2" => guest("programs"),
        "p3" => guest("p3-command"),
        "c" => {
            let output = dir.path().join("programs-c.wasm");
            if !output.exists() {
                if !toolchain_ready(Language::C) {
                    return None;
                }
                let status = wasmplug_build::wasi_clang()
                    .expect("clang for wasm32-wasi")
                    .args(["-O2", "-o"])
                    .arg(&output)
                    .arg(commands.join("c/programs.c"))
                    .status()
                    .expect("running clang");
                assert!(status.success(), "compiling tests/commands/c/programs.c");
            }
            output
        }
        wat => {
            let name = wat
                .strip_prefix("wat:")
                .expect("rust-p1, rust-p2, p3, c or wat:NAME");
            let output = dir.path().join(format!("{name}.wasm"));
            if !output.exists() {
                let module = wat::parse_file(commands.join(format!("wat/{name}.wat")))
                    .unwrap_or_else(|e| panic!("{name}.wat: {e}"));
                std::fs::write(&output, module).expect("writing a module");
            }
            output
        }
    })
}

/// Runs `command` with `stdin`, waiting at most long enough that a hang is
/// a failure rather than a stuck test (not a measurement).
fn outcome(command: &mut Command, stdin: Option<&str>) -> Outcome {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the runner");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("writing stdin");
    }
    drop(input);
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let readers = (
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        }),
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        }),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        status,
        stdout: readers.0.join().expect("reading stdout"),
        stderr: readers.1.join().expect("reading stderr"),
    }
}

/// `options` with `{dir}` replaced by a fresh directory.
fn with_dir(options: &[String], dir: &Path) -> Vec<String> {
    let dir = dir.to_str().expect("UTF-8 test paths");
    options.iter().map(|o| o.replace("{dir}", dir)).collect()
}

/// Every run of the corpus: each case once per program it names.
fn runs() -> Vec<(String, Case, PathBuf)> {
    let mut runs = Vec::new();
    for case in corpus().case {
        for name in &case.programs {
            if let Some(path) = program(name) {
                let label = format!("{} ({name})", case.name);
                let case = Case {
                    programs: vec![name.clone()],
                    ..case.clone()
                };
                runs.push((label, case, path));
            }
        }
    }
    runs
}

fn wasmplug_run(case: &Case, program: &Path) -> Outcome {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut command = super::command();
    command
        .arg("run")
        .args(with_dir(&case.options, dir.path()))
        .arg(program)
        .args(&case.args)
        .env_remove("WASMPLUG_LOG");
    outcome(&mut command, case.stdin.as_deref())
}

/// What is wrong with `got` for `case`, if anything.
fn mismatches(case: &Case, got: &Outcome) -> Vec<String> {
    let mut wrong = Vec::new();
    if got.status != Some(case.exit) {
        wrong.push(format!("exit {:?}, expected {}", got.status, case.exit));
    }
    if let Some(stdout) = &case.stdout
        && &got.stdout != stdout
    {
        wrong.push(format!("stdout {:?}, expected {stdout:?}", got.stdout));
    }
    if let Some(stderr) = &case.stderr
        && !got.stderr.contains(stderr.as_str())
    {
        wrong.push(format!("stderr {:?} lacks {stderr:?}", got.stderr));
    }
    wrong
}

#[test]
fn every_case_of_the_corpus() {
    let mut failures = Vec::new();
    let mut passed = 0;
    for (label, case, program) in runs() {
        let got = wasmplug_run(&case, &program);
        let wrong = mismatches(&case, &got);
        if wrong.is_empty() {
            passed += 1;
        } else {
            failures.push(format!("{label}: {}", wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n{}",
        failures.len(),
        failures.len() + passed,
        failures.join("\n")
    );
    assert!(passed >= 40, "only {passed} runs: the corpus did not build");
}

/// Puts each case through `wasmtime run` too ($WASMTIME, or `wasmtime` on
/// PATH, which must be 48.0.8) and reports every difference in exit status
/// or stdout, with both stderrs, whose wording differs by design.
#[test]
#[ignore = "needs the wasmtime CLI 48.0.8: tests/commands/compare.sh"]
fn the_corpus_against_wasmtime() {
    let wasmtime = std::env::var_os("WASMTIME").unwrap_or_else(|| "wasmtime".into());
    let version = Command::new(&wasmtime)
        .arg("--version")
        .output()
        .expect("running wasmtime: set WASMTIME or put it on PATH");
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    assert!(
        version.contains("48.0.8"),
        "wasmtime is {version}, not 48.0.8"
    );
    let mut differences = BTreeMap::new();
    let mut same = 0;
    for (label, case, program) in runs() {
        let ours = wasmplug_run(&case, &program);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = case.wasmtime_options.as_ref().unwrap_or(&case.options);
        let mut command = Command::new(&wasmtime);
        command
            .arg("run")
            .args(with_dir(options, dir.path()))
            .arg(&program)
            .args(&case.args);
        let theirs = outcome(&mut command, case.stdin.as_deref());
        println!("{label}");
        println!(
            "  wasmplug: exit {:?}, stderr {:?}",
            ours.status,
            first_line(&ours.stderr)
        );
        println!(
            "  wasmtime: exit {:?}, stderr {:?}",
            theirs.status,
            first_line(&theirs.stderr)
        );
        if ours.status == theirs.status && ours.stdout == theirs.stdout {
            same += 1;
        } else {
            differences.insert(label, (ours, theirs));
        }
    }
    println!("\n{same} runs alike, {} different", differences.len());
    for (label, (ours, theirs)) in &differences {
        println!("{label}:\n  wasmplug {ours:?}\n  wasmtime {theirs:?}");
    }
    assert!(differences.is_empty(), "{} runs differ", differences.len());
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}
