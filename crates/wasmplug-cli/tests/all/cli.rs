//! The `wasmplug` command as a user runs it: output, exit codes and the
//! one-line cause on failure.

use std::path::Path;
use std::process::{Command, Output};

use wasmplug_tests::{guest, guest_for, staged};

use super::{assert_success, isolate, stderr, stdout, wasmplug_in};

fn wasmplug(args: &[&str]) -> Output {
    wasmplug_in(Path::new("."), args)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// A failure prints exactly one line, starting with `error:`.
fn assert_one_line_error(output: &Output, needle: &str) {
    assert!(
        !output.status.success(),
        "expected failure: {}",
        stdout(output)
    );
    let err = stderr(output);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(needle), "`{needle}` not in: {err}");
}

#[test]
fn version_names_wasmtime() {
    let output = wasmplug(&["--version"]);
    assert_success("wasmplug", &output);
    assert_eq!(
        stdout(&output).trim(),
        format!(
            "wasmplug {} (wasmtime {})",
            env!("CARGO_PKG_VERSION"),
            wasmplug::WASMTIME_VERSION
        )
    );
}

#[test]
fn call_prints_the_result_in_wave() {
    let output = wasmplug(&["call", path(&guest("hello")), "run", "\"world\""]);
    assert_success("wasmplug", &output);
    assert_eq!(stdout(&output).trim(), r#"ok("Hello, world!")"#);
    assert!(
        stderr(&output).contains("greeting world"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn call_takes_and_prints_json() {
    let output = wasmplug(&["call", "--json", path(&guest("hello")), "run", "\"json\""]);
    assert_success("wasmplug", &output);
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(value, serde_json::json!({ "ok": "Hello, json!" }));
}

#[test]
fn call_passes_config_env_and_dirs() {
    let hostile = guest("hostile");
    let output = wasmplug(&[
        "call",
        "--config",
        "k=v",
        path(&hostile),
        "run",
        "\"config k\"",
    ]);
    assert_success("wasmplug", &output);
    assert_eq!(stdout(&output).trim(), r#"ok("v")"#);

    let output = wasmplug(&[
        "call",
        "--env",
        "NAME=value",
        path(&hostile),
        "run",
        "\"env NAME\"",
    ]);
    assert_success("wasmplug", &output);
    assert_eq!(stdout(&output).trim(), r#"ok("value")"#);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.txt"), "file text").unwrap();
    let grant = format!("{}::/d", dir.path().display());
    let output = wasmplug(&[
        "call",
        "--ro-dir",
        &grant,
        path(&hostile),
        "run",
        "\"read /d/f.txt\"",
    ]);
    assert_success("wasmplug", &output);
    assert_eq!(stdout(&output).trim(), r#"ok("file text")"#);
    let output = wasmplug(&[
        "call",
        "--ro-dir",
        &grant,
        path(&hostile),
        "run",
        "\"write /d/g.txt\"",
    ]);
    assert_one_line_error(&output, "returned an error");
    assert!(!dir.path().join("g.txt").exists());
}

#[test]
fn call_failures_are_one_line() {
    let hello = guest("hello");
    assert_one_line_error(
        &wasmplug(&["call", path(&hello), "run", "\"\""]),
        "input is empty",
    );
    assert_one_line_error(
        &wasmplug(&["call", path(&hello), "nope"]),
        "no export `nope`",
    );
    assert_one_line_error(
        &wasmplug(&["call", path(&hello), "run", "oops"]),
        "`oops` is not a WAVE value of type `string` (a string is quoted, e.g. `\"oops\"`)",
    );
    assert_one_line_error(
        &wasmplug(&["call", "/nonexistent/plugin.wasm", "run"]),
        "/nonexistent/plugin.wasm",
    );
    for (options, command, cause) in [
        (
            &["--timeout", "300ms"][..],
            "loop",
            "did not finish within 300ms",
        ),
        (
            &["--timeout", "300ms"],
            "sleep",
            "did not finish within 300ms",
        ),
        (&["--max-memory", "16MiB"], "grow", "memory limit"),
        (&["--fuel", "100000"], "loop", "fuel limit"),
        (&[], "panic now", "plugin gave up: now"),
        (&["--max-memory", "lots"], "x", "invalid size"),
    ] {
        assert_one_line_error(&call_hostile(options, command), cause);
    }
}

/// `wasmplug call OPTIONS hostile.wasm run "COMMAND"`.
fn call_hostile(options: &[&str], command: &str) -> Output {
    let hostile = guest("hostile");
    let argument = format!("\"{command}\"");
    let mut args = vec!["call"];
    args.extend_from_slice(options);
    args.extend([path(&hostile), "run", &argument]);
    wasmplug(&args)
}

#[test]
fn run_passes_args_stdout_and_exit_code() {
    for target in ["wasm32-wasip2", "wasm32-wasip1"] {
        let file = guest_for(target, "command");
        let output = wasmplug(&["run", path(&file), "a", "b"]);
        assert_success("wasmplug", &output);
        let version = if target == "wasm32-wasip1" {
            "p1"
        } else {
            "p2"
        };
        assert_eq!(stdout(&output), format!("hello from {version}\na\nb\n"));
        // A preview1 module runs natively: `proc_exit`'s status passes
        // through. WASI 0.2's `exit` carries only success or failure.
        let expected = if target == "wasm32-wasip1" { 42 } else { 1 };
        let output = wasmplug(&["run", path(&file), "42"]);
        assert_eq!(
            output.status.code(),
            Some(expected),
            "{target}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output), "", "a guest's own exit is not an error");
    }
}

#[test]
fn inspect_shows_wit_hash_and_manifest() {
    let (_dir, file) = staged(
        "hello",
        Some("[plugin]\nname = \"hello\"\nversion = \"0.2.0\"\n"),
    );
    let output = wasmplug(&["inspect", path(&file)]);
    assert_success("wasmplug", &output);
    let text = stdout(&output);
    // The world's own exports and imports first, WASI summed up after.
    let lines: Vec<&str> = text.lines().collect();
    let exports = lines.iter().position(|l| *l == "exports:").unwrap();
    assert_eq!(
        lines[exports..exports + 4],
        [
            "exports:",
            "  run: func(input: string) -> result<string, string>",
            "imports:",
            "  wasmplug:plugin/host@0.1.0",
        ],
        "{text}"
    );
    assert!(
        text.contains("WASI imports:\n  wasi:cli@0.2.6: environment, exit"),
        "{text}"
    );
    assert!(text.contains("version = \"0.2.0\""), "{text}");
    assert!(
        !text.contains("interface streams"),
        "the WIT only with --wit: {text}"
    );
    assert!(text.lines().count() < 30, "{text}");
    let wit = stdout(&wasmplug(&["inspect", "--wit", path(&file)]));
    assert!(
        wit.contains("export run: func(input: string) -> result<string, string>"),
        "{wit}"
    );

    let output = wasmplug(&["inspect", "--json", path(&file)]);
    assert_success("wasmplug", &output);
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(value["exports"], serde_json::json!(["run"]));
    assert_eq!(
        value["signatures"],
        serde_json::json!(["run: func(input: string) -> result<string, string>"])
    );
    assert_eq!(value["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(value["manifest"]["plugin"]["version"], "0.2.0");

    assert_one_line_error(
        &wasmplug(&["inspect", "Cargo.toml"]),
        "not a valid WebAssembly component",
    );
}

/// Found by fuzzing: decoding a component's WIT trusted the sizes it
/// declares, so 19 bytes claiming a 2 GiB section made `inspect` allocate
/// 2 GiB. Under a 1 GiB address-space limit that was an abort; now the
/// bytes are validated first and refused at once.
#[test]
fn inspect_refuses_a_section_larger_than_its_file_without_allocating_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claims.wasm");
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    // A custom section of 0x7fff0000 bytes (LEB128), then its name.
    bytes.extend([0x00, 0x80, 0x80, 0xfc, 0xff, 0x07, 0x04]);
    bytes.extend(b"name");
    std::fs::write(&file, &bytes).unwrap();
    let output = isolate(&mut Command::new("prlimit"))
        .arg(format!("--as={}", 1u64 << 30))
        .arg(env!("CARGO_BIN_EXE_wasmplug"))
        .args(["inspect", path(&file)])
        .output()
        .expect("running wasmplug under prlimit (util-linux)");
    assert_one_line_error(&output, "not a valid WebAssembly component");
}

#[test]
fn check_lists_grants_and_what_is_missing() {
    let (dir, file) = staged(
        "hostile",
        Some(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n[permissions]\n\
             env = [{ name = \"LANG\", reason = \"speaks your language\" }]\n\
             dirs = [{ path = \"/data\", reason = \"reads data\" }]\n",
        ),
    );
    let output = wasmplug(&["check", "--env", "LANG=en", path(&file)]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("env LANG"), "{text}");
    assert!(
        text.contains("dir /data (read-only)  -- reads data"),
        "{text}"
    );
    assert!(text.contains("no host directory backs it"), "{text}");
    assert!(text.contains("grant it: --ro-dir HOST::/data"), "{text}");
    let import = |name: &str| {
        let line = text.lines().find(|l| l.trim_start().starts_with(name));
        line.map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
    };
    assert_eq!(
        import("wasi:filesystem/preopens@").as_deref(),
        Some("fs nothing granted (dirs)"),
        "{text}"
    );
    assert_eq!(
        import("wasi:cli/environment@").as_deref(),
        Some("env granted: env LANG"),
        "{text}"
    );
    assert_eq!(
        import("wasmplug:plugin/host@").as_deref(),
        Some("plugin always given"),
        "{text}"
    );

    let grant = format!("{}::/data", dir.path().display());
    let output = wasmplug(&["check", "--env", "LANG=en", "--ro-dir", &grant, path(&file)]);
    assert_success("wasmplug", &output);
    assert!(stdout(&output).contains("ok"));
}

/// A guest writing to a pipe nobody reads waits for it in a pollable, where
/// its deadline ends the call; the command then exits.
#[test]
fn the_deadline_ends_a_run_blocked_on_a_pipe_nobody_reads() {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let file = guest("command");
    let mut child = super::command()
        .args(["run", "--timeout", "1s", path(&file), "flood"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Only a guard against hanging the tests, not a measurement.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("still running after 120 s: the deadline did not end the call");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // As `wasmtime run` exits when its timeout stops a guest.
    assert_eq!(status.code(), Some(134), "{err}");
    assert!(err.contains("did not finish within 1s"), "{err}");
}
