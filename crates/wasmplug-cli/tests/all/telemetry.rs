//! What the command shows of a plugin's work: `call --stats`, the call's
//! span around the guest's log lines, and `run --metrics-addr`'s Prometheus
//! endpoint while a program runs.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use wasmplug_tests::{guest, staged};

use super::{assert_success, command, free_port, get, stderr, wasmplug_in};

const HELLO: &str = "[plugin]\nname = \"hello\"\nversion = \"1.2.3\"\n";

#[test]
fn call_stats_show_each_call_and_the_plugin() {
    let (dir, path) = staged("hello", Some(HELLO));
    let file = path.to_str().unwrap();
    let output = wasmplug_in(dir.path(), &["call", "--stats", file, "run", "\"world\""]);
    assert_success("call --stats", &output);
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("stats for hello 1.2.3 (sha256 "))
        .unwrap_or_else(|| panic!("no stats in {err}"));
    assert!(
        lines[start + 1]
            .trim_start()
            .starts_with("[instantiate]    ok "),
        "{err}"
    );
    assert!(
        lines[start + 2]
            .trim_start()
            .starts_with("run              ok "),
        "{err}"
    );
    assert!(lines[start + 2].contains(" ms  cpu 0 ms"), "{err}");
    assert!(
        lines[start + 3].contains("1 calls, 0 failed; output dropped 0 bytes"),
        "{err}"
    );

    // A failed call still shows what it cost, before its error.
    let (dir, path) = staged("hostile", None);
    let file = path.to_str().unwrap();
    let output = wasmplug_in(
        dir.path(),
        &[
            "call",
            "--stats",
            "--timeout",
            "200ms",
            file,
            "run",
            "\"loop\"",
        ],
    );
    assert!(!output.status.success());
    let err = stderr(&output);
    let run = err
        .lines()
        .find(|l| l.trim_start().starts_with("run "))
        .unwrap();
    assert!(
        run.contains("limit.cpu-time") || run.contains("deadline"),
        "{err}"
    );
    assert!(err.contains("1 calls, 1 failed"), "{err}");
}

#[test]
fn guest_log_lines_carry_the_call_span_and_the_version() {
    let (dir, path) = staged("hello", Some(HELLO));
    let output = command()
        .current_dir(dir.path())
        .env("WASMPLUG_LOG", "info")
        .args(["call", path.to_str().unwrap(), "run", "\"span\""])
        .output()
        .unwrap();
    assert_success("call", &output);
    let err = stderr(&output);
    assert!(
        err.contains(
            "call{plugin=\"hello\" version=\"1.2.3\" export=\"run\"}: greeting span \
             plugin=\"hello\" version=\"1.2.3\" stream=\"log\""
        ),
        "{err}"
    );
}

#[test]
fn run_serves_prometheus_metrics_while_the_program_runs() {
    let addr = format!("127.0.0.1:{}", free_port());
    let programs = guest("programs");
    // `stdin` waits for its input to end: the program runs until then.
    let mut child = command()
        .args(["run", "--metrics-addr", &addr])
        .arg(&programs)
        .arg("stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        match get(&addr, "/metrics") {
            Ok(response) if response.contains("wasmplug_instances") => break response,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("no metrics at {addr}: {other:?}"),
        }
    };
    assert!(
        metrics.starts_with("HTTP/1.0 200") || metrics.starts_with("HTTP/1.1 200"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wasmplug_instances{plugin=\"programs\",version=\"\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE wasmplug_call_duration_seconds"),
        "{metrics}"
    );
    child.stdin.take().unwrap().write_all(b"metered\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_success("run", &output);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "METERED\n");
}
