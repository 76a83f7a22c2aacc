//! `wasmplug keygen`, `sign` and `verify` as an operator runs them.

use wasmplug_tests::guest;

use super::{assert_success, stderr, stdout, wasmplug_in};

#[test]
fn keygen_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path();
    assert_success("keygen", &wasmplug_in(at, &["keygen", "alice"]));
    assert_success("keygen", &wasmplug_in(at, &["keygen", "bob"]));
    assert_eq!(std::fs::read(at.join("alice")).unwrap().len(), 65);
    assert_eq!(std::fs::read(at.join("alice.pub")).unwrap().len(), 33);
    let again = wasmplug_in(at, &["keygen", "alice"]);
    assert!(!again.status.success(), "a key is never overwritten");
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    std::fs::copy(guest("hello"), at.join("hello.wasm")).unwrap();
    let unsigned = wasmplug_in(at, &["verify", "--key", "alice.pub", "hello.wasm"]);
    assert!(!unsigned.status.success());
    assert!(
        stderr(&unsigned).contains("is not signed"),
        "{}",
        stderr(&unsigned)
    );

    assert_success(
        "sign",
        &wasmplug_in(at, &["sign", "--key", "alice", "hello.wasm"]),
    );
    let verified = wasmplug_in(at, &["verify", "--key", "alice.pub", "hello.wasm"]);
    assert_success("verify", &verified);
    assert!(
        stdout(&verified).contains("signed by "),
        "{}",
        stdout(&verified)
    );
    let untrusted = wasmplug_in(at, &["verify", "--key", "bob.pub", "hello.wasm"]);
    assert!(!untrusted.status.success());
    assert!(
        stderr(&untrusted).contains("does not trust"),
        "{}",
        stderr(&untrusted)
    );

    // A signed component is a component like any other.
    let call = wasmplug_in(at, &["call", "hello.wasm", "run", "\"signed\""]);
    assert_success("call", &call);
}
