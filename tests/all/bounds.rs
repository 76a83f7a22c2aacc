//! Everything a plugin makes the host do is bounded: what it returns, the
//! errors it writes, what it costs to compile, and what its text can do to
//! a terminal.

use std::sync::atomic::Ordering;

use wasmplug::wasmtime::component::Val;
use wasmplug::{Error, Host, Limit, Limits, Value};
use wasmplug_tests::{counting_compiles, guest};

/// A component whose `big` and `grow(seed)` return 40 MiB of bytes and
/// `sized(n)` returns `n`, all well inside its memory limit.
fn returner() -> Vec<u8> {
    wat::parse_str(
        r#"(component
            (core module $m
                (memory (export "memory") 700)
                (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2048))
                (func (export "grow") (param i32 i32) (result i32) (call $big))
                (func $big (export "big") (result i32)
                    (i32.store (i32.const 16) (i32.const 1024))
                    (i32.store (i32.const 20) (i32.const 41943040))
                    (i32.const 16))
                (func (export "sized") (param i32) (result i32)
                    (i32.store (i32.const 16) (i32.const 1024))
                    (i32.store (i32.const 20) (local.get 0))
                    (i32.const 16)))
            (core instance $i (instantiate $m))
            (func (export "big") (result (list u8))
                (canon lift (core func $i "big") (memory (core memory $i "memory"))))
            (func (export "sized") (param "n" u32) (result (list u8))
                (canon lift (core func $i "sized") (memory (core memory $i "memory"))))
            (func (export "grow") (param "seed" (list u8)) (result (list u8))
                (canon lift (core func $i "grow") (memory (core memory $i "memory"))
                    (realloc (core func $i "realloc")))))"#,
    )
    .unwrap()
}

fn assert_transfer(err: &Error) {
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: Limit::Transfer,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn what_a_call_returns_is_bounded_whatever_its_type() {
    let host = Host::builder()
        .limits(Limits::default().transfer(1 << 20))
        .build()
        .unwrap();
    let plugin = host.load_bytes("returner", returner(), None).await.unwrap();

    // The fast lanes: 40 MiB of bytes is over the 1 MiB limit.
    let mut instance = plugin.instantiate().await.unwrap();
    assert_transfer(&instance.call_values("big", &[]).await.unwrap_err());
    assert!(instance.is_discarded());
    let mut instance = plugin.instantiate().await.unwrap();
    let seed = [Value::Bytes(vec![1])];
    assert_transfer(&instance.call_values("grow", &seed).await.unwrap_err());

    // The general path, a value per byte, is counted as the host holds it.
    let mut instance = plugin.instantiate().await.unwrap();
    let err = instance
        .call_values("sized", &[Value::Other(Val::U32(2 << 20))])
        .await
        .unwrap_err();
    assert_transfer(&err);
    let mut instance = plugin.instantiate().await.unwrap();
    let small = instance
        .call_values("sized", &[Value::Other(Val::U32(100))])
        .await
        .unwrap();
    assert_eq!(small, [Value::Bytes(vec![0; 100])]);
}

#[tokio::test]
async fn results_turned_into_text_are_counted_before_they_are_made() {
    // 40 MiB of bytes fits the default 64 MiB, but not as WAVE or JSON.
    let host = Host::builder().build().unwrap();
    let plugin = host.load_bytes("returner", returner(), None).await.unwrap();
    let mut instance = plugin.instantiate().await.unwrap();
    let bytes = instance.call_values("big", &[]).await.unwrap();
    assert!(matches!(&bytes[..], [Value::Bytes(b)] if b.len() == 40 << 20));
    assert_transfer(&instance.call_json("big", &[]).await.unwrap_err());
    let mut instance = plugin.instantiate().await.unwrap();
    assert_transfer(&instance.call_wave("big", &[]).await.unwrap_err());
    let mut instance = plugin.instantiate().await.unwrap();
    let wave = instance.call_wave("sized", &["3".into()]).await.unwrap();
    assert_eq!(wave, ["[0, 0, 0]"]);
    let json = instance
        .call_json("sized", &[serde_json::json!(2)])
        .await
        .unwrap();
    assert_eq!(json, serde_json::json!([0, 0]));
}

#[tokio::test]
async fn a_guest_error_is_cut_and_shown_escaped() {
    let host = Host::builder().build().unwrap();
    let plugin = host.load_file(guest("hostile")).await.unwrap();
    let err = plugin.run("fail 1000000").await.unwrap_err();
    let Error::Guest { message, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(message.len() < 4200, "{} bytes kept", message.len());
    assert!(message.ends_with("more bytes)"), "{message}");
    let shown = err.to_string();
    assert!(
        !shown.contains('\n') && !shown.contains('\u{1b}'),
        "{shown}"
    );
    assert!(shown.contains("bad\\nerror: the host is compromised\\u{1b}[2J"));
}

/// A small file can hold more functions than Cranelift should be asked to
/// compile; it is refused before any code is generated.
#[tokio::test]
async fn components_too_large_to_compile_are_refused_first() {
    let functions = "(func)".repeat(100_001);
    let component = wat::parse_str(format!("(component (core module {functions}))")).unwrap();
    let (builder, compiles) = counting_compiles(Host::builder().cache(None));
    let host = builder.build().unwrap();
    let err = host
        .load_bytes("many", component, None)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            Error::ComponentTooLarge {
                measure: "functions",
                actual: 100_001,
                limit: 100_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(compiles.load(Ordering::SeqCst), 0, "nothing was compiled");

    let host = Host::builder()
        .cache(None)
        .max_component_size(1000)
        .build()
        .unwrap();
    let err = host.load_file(guest("hello")).await.expect_err("refused");
    assert!(
        matches!(
            err,
            Error::ComponentTooLarge {
                measure: "bytes",
                ..
            }
        ),
        "{err:?}"
    );
}
