//! Ed25519 signatures embedded in a component, in the WebAssembly tool
//! conventions' format that wasmsign2 reads and writes: a custom section
//! `signature` first after the header. A signed component still loads and
//! runs anywhere, since custom sections change nothing it does; several
//! signatures coexist, each over the same bytes.
//!
//! A signature covers everything after its section, so adding one leaves
//! the others valid, and [`content_digest`] (what grants remember) does not
//! change when a component is signed.

mod format;

use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use format::{ED25519, Signature, SignatureData, SignedHashes};

/// Why a component's signatures were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureProblem {
    #[error(
        "it is not signed; sign it with `wasmplug sign --key KEY FILE`, or ask the operator to \
         not require a signature for it"
    )]
    Unsigned,
    #[error(
        "it is signed only by keys the policy does not trust ({}); add the signer's public key \
         to the policy's trusted keys if it is to be trusted",
        key_ids.join(", ")
    )]
    UnknownKey { key_ids: Vec<String> },
    #[error(
        "its signature by key {key_id} does not match its bytes: the component was modified \
         after it was signed"
    )]
    Mismatch { key_id: String },
    #[error("its signature section cannot be read: {0}")]
    Malformed(String),
}

/// A key's id as the tool conventions define it: the first 12 bytes of
/// HMAC-SHA256 keyed with the public key over `key_id`, shown in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 12]);

impl KeyId {
    fn of(key: &VerifyingKey) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
        mac.update(b"key_id");
        let digest = mac.finalize().into_bytes();
        KeyId(digest[..12].try_into().expect("12 bytes of 32"))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A public key that verifies signatures. Its file is wasmsign2's: the
/// byte 0x01 and the 32-byte Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8]) -> crate::Result<Self> {
        let raw = match bytes {
            [0x01, key @ ..] if key.len() == 32 => key,
            _ => {
                return Err(key_error(
                    "a public key file holds the byte 0x01 and 32 key bytes (wasmsign2's format)",
                ));
            }
        };
        let key = VerifyingKey::from_bytes(raw.try_into().expect("32 bytes"))
            .map_err(|e| key_error(&format!("not an Ed25519 public key: {e}")))?;
        Ok(PublicKey {
            id: KeyId::of(&key),
            key,
        })
    }

    pub fn from_file(path: &Path) -> crate::Result<Self> {
        read_key(path, Self::from_bytes)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        [&[0x01][..], self.key.as_bytes()].concat()
    }

    pub fn id(&self) -> KeyId {
        self.id
    }
}

/// A key that signs. Its file is wasmsign2's: the byte 0x81, the 32-byte
/// seed and the 32-byte public key.
pub struct SigningKey {
    key: DalekSigningKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.public_key().id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key from the system's secure randomness.
    pub fn generate() -> crate::Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| key_error(&format!("no randomness: {e}")))?;
        Ok(SigningKey {
            key: DalekSigningKey::from_bytes(&seed),
        })
    }

    pub fn from_bytes(bytes: &[u8]) -> crate::Result<Self> {
        let pair = match bytes {
            [0x81, pair @ ..] if pair.len() == 64 => pair,
            _ => {
                return Err(key_error(
                    "a secret key file holds the byte 0x81, the 32-byte seed and the 32-byte \
                     public key (wasmsign2's format)",
                ));
            }
        };
        let key = DalekSigningKey::from_keypair_bytes(pair.try_into().expect("64 bytes"))
            .map_err(|_| key_error("its public half does not belong to its seed"))?;
        Ok(SigningKey { key })
    }

    pub fn from_file(path: &Path) -> crate::Result<Self> {
        read_key(path, Self::from_bytes)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        [&[0x81][..], &self.key.to_keypair_bytes()].concat()
    }

    pub fn public_key(&self) -> PublicKey {
        let key = self.key.verifying_key();
        PublicKey {
            id: KeyId::of(&key),
            key,
        }
    }
}

fn key_error(reason: &str) -> crate::Error {
    crate::Error::InvalidSetting {
        what: "signing key",
        value: String::new(),
        reason: reason.into(),
    }
}

/// A key read from the file at `path` with `parse`; errors name the file.
fn read_key<K>(path: &Path, parse: fn(&[u8]) -> crate::Result<K>) -> crate::Result<K> {
    let bytes = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
    parse(&bytes).map_err(|error| match error {
        crate::Error::InvalidSetting { what, reason, .. } => crate::Error::InvalidSetting {
            what,
            value: path.display().to_string(),
            reason,
        },
        other => other,
    })
}

/// `binary` with a signature by `key` added to those it has: over the same
/// hashes when another signer signed them, else as a set of its own.
/// Signing twice with one key changes nothing.
pub fn sign(binary: &[u8], key: &SigningKey) -> crate::Result<Vec<u8>> {
    let malformed = |reason: String| crate::Error::InvalidComponent {
        origin: "the component to sign".into(),
        reason,
    };
    let split = format::split(binary).map_err(malformed)?;
    let mut data = match split.signatures {
        Some(bytes) => SignatureData::decode(bytes).map_err(malformed)?,
        None => SignatureData::default(),
    };
    let hashes = format::hashes(split.rest).map_err(malformed)?;
    let public = key.public_key();
    let index = match data.sets.iter().position(|s| s.hashes == hashes) {
        Some(index) => index,
        None => {
            data.sets.push(SignedHashes {
                hashes,
                signatures: Vec::new(),
            });
            data.sets.len() - 1
        }
    };
    let set = &mut data.sets[index];
    let signature = Signature {
        key_id: Some(public.id.0.to_vec()),
        algorithm: ED25519,
        bytes: key.key.sign(&set.message()).to_bytes().to_vec(),
    };
    if !set.signatures.contains(&signature) {
        set.signatures.push(signature);
    }
    Ok(format::assemble(split.header, &data, split.rest))
}

/// The keys whose signatures over the whole of `binary` are valid, among
/// `trusted`; an error when there are none, saying why.
pub fn verify(binary: &[u8], trusted: &[PublicKey]) -> Result<Vec<KeyId>, SignatureProblem> {
    let split = format::split(binary).map_err(SignatureProblem::Malformed)?;
    let Some(bytes) = split.signatures else {
        return Err(SignatureProblem::Unsigned);
    };
    let data = SignatureData::decode(bytes).map_err(SignatureProblem::Malformed)?;
    let whole = format::whole_hash(split.rest);
    let mut valid = Vec::new();
    let mut mismatched = None;
    let mut unknown = Vec::new();
    for set in &data.sets {
        let message = set.message();
        for signature in set.signatures.iter().filter(|s| s.algorithm == ED25519) {
            let candidates: Vec<&PublicKey> = match &signature.key_id {
                Some(id) => trusted.iter().filter(|k| k.id.0[..] == id[..]).collect(),
                None => trusted.iter().collect(),
            };
            if candidates.is_empty() {
                unknown.extend(signature.key_id.as_deref().map(hex));
                continue;
            }
            let Ok(bytes) = <[u8; 64]>::try_from(signature.bytes.as_slice()) else {
                continue;
            };
            let ed = ed25519_dalek::Signature::from_bytes(&bytes);
            for key in candidates {
                // Only a signature whose last hash is of the whole binary
                // counts: one over a prefix would accept a cut-down file.
                let verified = key.key.verify_strict(&message, &ed).is_ok();
                if verified && set.hashes.last() == Some(&whole) {
                    valid.push(key.id);
                } else if signature.key_id.is_some() {
                    mismatched.get_or_insert(key.id);
                }
            }
        }
    }
    if !valid.is_empty() {
        valid.sort();
        valid.dedup();
        return Ok(valid);
    }
    if let Some(key) = mismatched {
        return Err(SignatureProblem::Mismatch {
            key_id: key.to_string(),
        });
    }
    if !unknown.is_empty() {
        unknown.sort();
        unknown.dedup();
        return Err(SignatureProblem::UnknownKey { key_ids: unknown });
    }
    // Signatures without a key id that no trusted key verifies.
    Err(SignatureProblem::UnknownKey {
        key_ids: Vec::new(),
    })
}

/// The ids of the keys that signed `binary`, as it says, without checking
/// the signatures.
pub fn signers(binary: &[u8]) -> Result<Vec<String>, SignatureProblem> {
    let split = format::split(binary).map_err(SignatureProblem::Malformed)?;
    let Some(bytes) = split.signatures else {
        return Ok(Vec::new());
    };
    let data = SignatureData::decode(bytes).map_err(SignatureProblem::Malformed)?;
    Ok(data
        .sets
        .iter()
        .flat_map(|s| &s.signatures)
        .map(|s| {
            s.key_id
                .as_deref()
                .map_or_else(|| "(no key id)".into(), hex)
        })
        .collect())
}

/// The SHA-256 of `binary` without its signature section: the same before
/// and after signing, so what was granted to a plugin stays granted when
/// it is signed. A binary whose sections cannot be split is hashed whole.
pub fn content_digest(binary: &[u8]) -> [u8; 32] {
    match format::split(binary) {
        Ok(split) if split.signatures.is_some() => {
            let mut hasher = Sha256::new();
            hasher.update(split.header);
            hasher.update(split.rest);
            hasher.finalize().into()
        }
        _ => Sha256::digest(binary).into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey {
            key: DalekSigningKey::from_bytes(&[seed; 32]),
        }
    }

    const COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00\x00\x0a\x04testhello";

    #[test]
    fn key_ids_and_files_are_wasmsign2s() {
        let key = key(42);
        let public = key.public_key();
        assert_eq!(public.id().to_string(), "1cbe0d78be48e4af4edfa3a6");
        assert_eq!(public.to_bytes().len(), 33);
        assert_eq!(key.to_bytes().len(), 65);
        assert_eq!(PublicKey::from_bytes(&public.to_bytes()).unwrap(), public);
        let again = SigningKey::from_bytes(&key.to_bytes()).unwrap();
        assert_eq!(again.public_key(), public);
        let mut wrong = key.to_bytes();
        wrong[40] ^= 1;
        assert!(SigningKey::from_bytes(&wrong).is_err());
    }

    #[test]
    fn a_signature_matches_the_tool_conventions_vector() {
        let signed = sign(COMPONENT, &key(42)).unwrap();
        let expected_signature = "139b104adc031109f65b91f67dbbd879e4eb9feeb13907bfe1fe39d774c75872\
                                  d3be1cf8a2b8ff02a724b7d6d5a94986137561cbd492b1aa8d10df3d9814150e";
        assert!(hex(&signed).contains(expected_signature));
        assert!(signed.ends_with(&COMPONENT[8..]));
    }

    #[test]
    fn signatures_coexist_and_any_changed_byte_is_refused() {
        let (alice, bob) = (key(1), key(2));
        let signed = sign(&sign(COMPONENT, &alice).unwrap(), &bob).unwrap();
        assert_eq!(
            sign(&signed, &bob).unwrap(),
            signed,
            "signing twice adds nothing"
        );
        let trusted = [alice.public_key(), bob.public_key()];
        assert_eq!(verify(&signed, &trusted).unwrap().len(), 2);
        assert_eq!(
            verify(&signed, &trusted[..1]).unwrap(),
            [alice.public_key().id()]
        );
        assert_eq!(content_digest(&signed), content_digest(COMPONENT));
        let body = signed.len() - (COMPONENT.len() - 8);
        for at in body..signed.len() {
            let mut modified = signed.clone();
            modified[at] ^= 0x40;
            assert!(verify(&modified, &trusted).is_err(), "byte {at}");
        }
        assert_eq!(verify(COMPONENT, &trusted), Err(SignatureProblem::Unsigned));
        assert!(matches!(
            verify(&signed, &[key(3).public_key()]),
            Err(SignatureProblem::UnknownKey { key_ids }) if key_ids.len() == 2
        ));
    }
}
