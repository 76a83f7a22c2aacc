//! `wasmplug serve` as an operator runs it, and `wasmplug kv` on a store.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use wasmplug_tests::guest;

use super::{assert_success, command, free_port, get, stderr, stdout, wasmplug_in};

#[test]
fn serve_answers_labels_output_counts_requests_and_stops_on_ctrl_c() {
    let addr = format!("127.0.0.1:{}", free_port());
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut child = command()
        .args(["serve", "--addr", &addr, "--metrics-addr", &metrics])
        .arg(guest("http_handler"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), format!("Serving HTTP on http://{addr}/"));

    let deadline = Instant::now() + Duration::from_secs(60);
    let hello = loop {
        match get(&addr, "/") {
            Ok(response) => break response,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("no answer at {addr}: {e}"),
        }
    };
    assert!(hello.starts_with("HTTP/1.0 200"), "{hello}");
    assert!(hello.ends_with("hello from wasmplug\n"), "{hello}");
    assert!(get(&addr, "/print").unwrap().ends_with("printed\n"));
    let crashed = get(&addr, "/panic").unwrap();
    assert!(crashed.starts_with("HTTP/1.0 500"), "{crashed}");
    assert!(get(&addr, "/").unwrap().starts_with("HTTP/1.0 200"));

    let counted = get(&metrics, "/metrics").unwrap();
    assert!(
        counted.contains("wasmplug_calls_total{plugin=\"http_handler\",version=\"\"} 4"),
        "{counted}"
    );
    assert!(
        counted.contains(
            "wasmplug_call_errors_total{plugin=\"http_handler\",version=\"\",kind=\"trap\"} 1"
        ),
        "{counted}"
    );
    assert!(
        counted.contains("wasmplug_call_duration_seconds_bucket{"),
        "{counted}"
    );

    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(status.success(), "exit {status:?}: {rest}");
    // Each line of guest output sits in its request's span.
    assert!(
        rest.lines()
            .any(|l| l.contains("request{id=2 method=GET path=/print}")
                && l.contains("handling /print")
                && l.contains("plugin=\"http_handler\"")),
        "{rest}"
    );
    assert!(
        rest.contains("request failed: plugin `http_handler` crashed"),
        "{rest}"
    );
    assert!(rest.contains("handler panicked on purpose"), "{rest}");
    assert!(rest.contains("Finishing the requests in flight"), "{rest}");
}

#[test]
fn serve_refuses_a_component_that_is_no_handler() {
    let output = command()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg(guest("hello"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("wasi:http/incoming-handler"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn kv_sets_gets_lists_and_deletes() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let kv = |args: &[&str]| {
        let mut all = vec!["kv", "--data-dir", dir.to_str().unwrap()];
        all.extend_from_slice(args);
        wasmplug_in(dir, &all)
    };
    assert_success(
        "kv set",
        &kv(&["set", "notes", "days", "monday", "buy milk"]),
    );
    assert_success(
        "kv set",
        &kv(&["set", "notes", "days", "tuesday", "call home"]),
    );
    let got = kv(&["get", "notes", "days", "monday"]);
    assert_success("kv get", &got);
    assert_eq!(stdout(&got), "buy milk");
    let listed = kv(&["list", "notes"]);
    assert_eq!(stdout(&listed), "days\t2 keys\n");
    assert!(stderr(&listed).contains("bytes used"));
    assert_eq!(stdout(&kv(&["list", "notes", "days"])), "monday\ntuesday\n");
    assert_success("kv delete", &kv(&["delete", "notes", "days", "monday"]));
    let missing = kv(&["get", "notes", "days", "monday"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no key `monday`"),
        "{}",
        stderr(&missing)
    );
    // Another plugin's store is another file: it has nothing.
    assert_eq!(stdout(&kv(&["list", "other"])), "");
}
