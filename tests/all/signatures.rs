//! Signed plugins: a policy that requires a trusted key's signature loads
//! only what such a key signed, whole and unmodified.

use wasmplug::signature::{self, SignatureProblem, SigningKey};
use wasmplug::{Error, Host, Policy};
use wasmplug_tests::guest;

fn host(policy: Policy) -> Host {
    Host::builder().policy(policy).build().unwrap()
}

fn refusal(outcome: wasmplug::Result<wasmplug::Plugin>) -> SignatureProblem {
    match outcome {
        Err(Error::Signature { problem, .. }) => problem,
        other => panic!(
            "expected a signature refusal, got {:?}",
            other.map(|p| p.name().to_string())
        ),
    }
}

#[tokio::test]
async fn a_policy_requiring_signatures_loads_only_what_a_trusted_key_signed() {
    let (alice, bob) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );
    let unsigned = std::fs::read(guest("hello")).unwrap();
    let signed = signature::sign(&unsigned, &alice).unwrap();
    let host = host(Policy::new().trust(alice.public_key()).require_signatures());

    let plugin = host
        .load_bytes("hello", signed.clone(), None)
        .await
        .unwrap();
    assert_eq!(plugin.run("signed").await.unwrap(), "Hello, signed!");

    assert_eq!(
        refusal(host.load_bytes("hello", unsigned.clone(), None).await),
        SignatureProblem::Unsigned
    );
    let by_bob = signature::sign(&unsigned, &bob).unwrap();
    match refusal(host.load_bytes("hello", by_bob, None).await) {
        SignatureProblem::UnknownKey { key_ids } => {
            assert_eq!(key_ids, [bob.public_key().id().to_string()])
        }
        other => panic!("{other:?}"),
    }
    // A byte of the code changed after signing.
    let mut modified = signed.clone();
    let at = modified.len() - 100;
    modified[at] ^= 0x01;
    assert_eq!(
        refusal(host.load_bytes("hello", modified, None).await),
        SignatureProblem::Mismatch {
            key_id: alice.public_key().id().to_string()
        }
    );
    // Signed by both, it is still alice's.
    let both = signature::sign(&signed, &bob).unwrap();
    assert!(host.load_bytes("hello", both, None).await.is_ok());
}

#[tokio::test]
async fn a_signature_leaves_the_identity_and_with_it_the_grants_as_they_were() {
    let key = SigningKey::generate().unwrap();
    let unsigned = std::fs::read(guest("hello")).unwrap();
    let signed = signature::sign(&unsigned, &key).unwrap();
    let host = host(Policy::new());
    let a = host.load_bytes("hello", unsigned, None).await.unwrap();
    let b = host.load_bytes("hello", signed, None).await.unwrap();
    assert_eq!(a.identity(), b.identity());
}

#[tokio::test]
async fn only_the_plugins_the_policy_names_must_be_signed() {
    let key = SigningKey::generate().unwrap();
    let unsigned = std::fs::read(guest("hello")).unwrap();
    let host = host(
        Policy::new()
            .trust(key.public_key())
            .require_signature("vetted"),
    );
    assert!(
        host.load_bytes("hello", unsigned.clone(), None)
            .await
            .is_ok()
    );
    assert_eq!(
        refusal(host.load_bytes("vetted", unsigned, None).await),
        SignatureProblem::Unsigned
    );
}

/// A thousand single-byte changes anywhere after the header, each
/// refused.
#[test]
fn a_thousand_random_single_byte_changes_are_all_refused() {
    let key = SigningKey::generate().unwrap();
    let signed = signature::sign(&std::fs::read(guest("hello")).unwrap(), &key).unwrap();
    let trusted = [key.public_key()];
    assert!(signature::verify(&signed, &trusted).is_ok());
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..1000 {
        let at = 8 + (next() as usize) % (signed.len() - 8);
        let flip = 1 + (next() % 255) as u8;
        let mut modified = signed.clone();
        modified[at] ^= flip;
        assert!(
            signature::verify(&modified, &trusted).is_err(),
            "byte {at} ^ {flip:#04x} was accepted"
        );
    }
}

#[test]
fn a_policy_file_names_trusted_keys_and_who_must_be_signed() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    std::fs::write(dir.path().join("alice.pub"), key.public_key().to_bytes()).unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(
        &path,
        "[signatures]\ntrusted = [\"alice.pub\"]\n\n[plugins.notes]\nrequire-signature = true\n",
    )
    .unwrap();
    let policy = Policy::from_file(&path).unwrap();
    assert_eq!(policy.trusted_keys(), [key.public_key()]);
    assert!(policy.signature_required("notes"));
    assert!(!policy.signature_required("other"));

    std::fs::write(&path, "[signatures]\nrequire = true\n").unwrap();
    let err = Policy::from_file(&path).unwrap_err().to_string();
    assert!(err.contains("needs at least one trusted key"), "{err}");
    std::fs::write(&path, "[signatures]\ntrusted = [\"missing.pub\"]\n").unwrap();
    let err = Policy::from_file(&path).unwrap_err().to_string();
    assert!(err.contains("missing.pub"), "{err}");
}
