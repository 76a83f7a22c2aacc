//! Commands through the library: preview1 modules run natively and
//! components through their newest `wasi:cli/run`, each misbehaviour
//! ending in its own typed error, as plugins' calls do.

use std::time::Duration;

use wasmplug::{Error, Host, Limit, Limits, SourceKind};
use wasmplug_tests::{guest, guest_for, repo_root, tight_limits};

/// A module of `tests/commands/wat`.
fn wat(name: &str) -> Vec<u8> {
    wat::parse_file(repo_root().join(format!("tests/commands/wat/{name}.wat"))).unwrap()
}

fn host(limits: Limits) -> Host {
    Host::builder().limits(limits).build().unwrap()
}

async fn run(host: &Host, name: &str, module: Vec<u8>) -> wasmplug::Result<i32> {
    let command = host.load_command_bytes(name, module, None).await?;
    assert_eq!(command.source_kind(), SourceKind::Preview1Command);
    command.run(&[]).await
}

fn assert_limit(outcome: wasmplug::Result<i32>, expected: Limit) {
    match outcome {
        Err(Error::LimitExceeded { limit, .. }) if limit == expected => {}
        other => panic!("expected the {expected} limit, got {other:?}"),
    }
}

#[tokio::test]
async fn preview1_modules_run_natively_under_every_limit() {
    let host = host(tight_limits());
    assert_eq!(run(&host, "exit", wat("exit-code")).await.unwrap(), 33);
    assert_eq!(run(&host, "badfd", wat("bad-descriptor")).await.unwrap(), 8);
    assert_limit(run(&host, "loop", wat("loop")).await, Limit::CpuTime);
    assert_limit(
        run(&host, "memory", wat("memory-bomb")).await,
        Limit::Memory,
    );
    assert_limit(run(&host, "table", wat("table-bomb")).await, Limit::Memory);
    assert_limit(
        run(&host, "recursion", wat("recursion")).await,
        Limit::Stack,
    );
    let err = run(&host, "start", wat("start-trap")).await.unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");

    let fuel = self::host(tight_limits().fuel(1_000_000));
    assert_limit(run(&fuel, "loop", wat("loop")).await, Limit::Fuel);
    let deadline = self::host(
        tight_limits()
            .cpu(Duration::from_secs(30))
            .timeout(Duration::from_millis(300)),
    );
    let err = run(&deadline, "loop", wat("loop")).await.unwrap_err();
    assert!(matches!(err, Error::Deadline { .. }), "{err:?}");
}

#[tokio::test]
async fn a_preview1_flood_hits_the_output_limit() {
    let flood = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 100) "flood\n")
            (func (export "_start")
                (i32.store (i32.const 0) (i32.const 100))
                (i32.store (i32.const 4) (i32.const 6))
                (loop (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16))) (br 0))))"#,
    )
    .unwrap();
    assert_limit(
        run(&host(tight_limits()), "flood", flood).await,
        Limit::Output,
    );
}

#[tokio::test]
async fn what_a_command_is_not_is_refused_at_load() {
    let host = host(tight_limits());
    let foreign =
        wat::parse_str(r#"(module (import "env" "secret" (func)) (func (export "_start")))"#)
            .unwrap();
    let err = host
        .load_command_bytes("foreign", foreign, None)
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::MissingImport { import, .. } if import == "env::secret"),
        "{err:?}"
    );
    let library = wat::parse_str(r#"(module (func (export "work")))"#).unwrap();
    let err = host
        .load_command_bytes("library", library, None)
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::MissingExport { export, .. } if export == "_start"),
        "{err:?}"
    );
    let err = host
        .load_command(guest("hello"))
        .await
        .expect_err("not a command");
    assert!(
        matches!(&err, Error::MissingExport { export, .. } if export == "wasi:cli/run"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_component_runs_its_newest_wasi_cli_run() {
    let host = host(Limits::default());
    // The 0.2 export is a stub that panics; the 0.3 one does the work.
    let p3 = host.load_command(guest("p3-command")).await.unwrap();
    assert_eq!(p3.run(&[]).await.unwrap(), 0);
    assert_eq!(p3.run(&["fail".into()]).await.unwrap(), 1);
    let p1 = host
        .load_command(guest_for("wasm32-wasip1", "command"))
        .await
        .unwrap();
    assert_eq!(p1.source_kind(), SourceKind::Preview1Command);
    assert_eq!(p1.run(&["7".into()]).await.unwrap(), 7);
    let p2 = host.load_command(guest("command")).await.unwrap();
    assert_eq!(p2.run(&[]).await.unwrap(), 0);
}
