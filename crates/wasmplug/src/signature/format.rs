//! The WebAssembly signature format of the tool conventions, as wasmsign2
//! writes it: a custom section `signature`, first after the header, that
//! holds sets of SHA-256 hashes of what follows it and the Ed25519
//! signatures of each set. Components are split into their top-level
//! sections only; nested modules are bytes like any other.

use sha2::{Digest, Sha256};

/// The custom section holding the signatures.
pub(crate) const SIGNATURE_SECTION: &str = "signature";
/// The custom section that ends a separately signed part.
const DELIMITER_SECTION: &str = "signature_delimiter";
/// What the signed message starts with: the domain, the format's version,
/// the content type (a module or component) and the hash function.
const MESSAGE_PREFIX: &[u8] = b"wasmsig\x01\x01\x01";
const SPEC_VERSION: u8 = 1;
const CONTENT_TYPE: u8 = 1;
const HASH_SHA256: u8 = 1;
/// The signature algorithm id of Ed25519.
pub(crate) const ED25519: u8 = 1;
const MAX_SETS: usize = 64;
const MAX_HASHES: usize = 64;
const MAX_SIGNATURES: usize = 256;

/// One signature over a set of hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signature {
    pub(crate) key_id: Option<Vec<u8>>,
    pub(crate) algorithm: u8,
    pub(crate) bytes: Vec<u8>,
}

/// Hashes of the parts after the signature section, and their signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedHashes {
    pub(crate) hashes: Vec<[u8; 32]>,
    pub(crate) signatures: Vec<Signature>,
}

impl SignedHashes {
    /// The message each of the set's signatures signs.
    pub(crate) fn message(&self) -> Vec<u8> {
        let mut message = MESSAGE_PREFIX.to_vec();
        for hash in &self.hashes {
            message.extend_from_slice(hash);
        }
        message
    }
}

/// A signature section's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SignatureData {
    pub(crate) sets: Vec<SignedHashes>,
}

impl SignatureData {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![SPEC_VERSION, CONTENT_TYPE, HASH_SHA256];
        leb(&mut out, self.sets.len());
        for set in &self.sets {
            let mut encoded = Vec::new();
            leb(&mut encoded, set.hashes.len());
            for hash in &set.hashes {
                encoded.extend_from_slice(hash);
            }
            leb(&mut encoded, set.signatures.len());
            for signature in &set.signatures {
                let mut record = Vec::new();
                let key_id = signature.key_id.as_deref().unwrap_or_default();
                leb(&mut record, key_id.len());
                record.extend_from_slice(key_id);
                record.push(signature.algorithm);
                leb(&mut record, signature.bytes.len());
                record.extend_from_slice(&signature.bytes);
                put_slice(&mut encoded, &record);
            }
            put_slice(&mut out, &encoded);
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut reader = Reader(bytes);
        let ids = [reader.byte()?, reader.byte()?, reader.byte()?];
        if ids != [SPEC_VERSION, CONTENT_TYPE, HASH_SHA256] {
            return Err(format!(
                "signature format {}.{}.{} is not the one this host reads (1.1.1)",
                ids[0], ids[1], ids[2]
            ));
        }
        let count = reader.count(MAX_SETS, "sets of hashes")?;
        let mut sets = Vec::with_capacity(count);
        for _ in 0..count {
            let mut set = Reader(reader.slice()?);
            let hashes = (0..set.count(MAX_HASHES, "hashes")?)
                .map(|_| set.array())
                .collect::<Result<Vec<_>, _>>()?;
            let mut signatures = Vec::new();
            for _ in 0..set.count(MAX_SIGNATURES, "signatures")? {
                let mut record = Reader(set.slice()?);
                let key_id = record.slice()?.to_vec();
                let algorithm = record.byte()?;
                let bytes = record.slice()?.to_vec();
                signatures.push(Signature {
                    key_id: (!key_id.is_empty()).then_some(key_id),
                    algorithm,
                    bytes,
                });
            }
            sets.push(SignedHashes { hashes, signatures });
        }
        if !reader.0.is_empty() {
            return Err("the signature section has bytes after its last set".into());
        }
        Ok(SignatureData { sets })
    }
}

/// A binary split at its signature section: the header, the signature
/// section's data if it is the first section, and what follows it.
pub(crate) struct Split<'a> {
    pub(crate) header: &'a [u8],
    pub(crate) signatures: Option<&'a [u8]>,
    pub(crate) rest: &'a [u8],
}

/// Splits `binary` (a component or core module) after its header and its
/// signature section; a signature section anywhere but first is refused,
/// since nothing could verify it.
pub(crate) fn split(binary: &[u8]) -> Result<Split<'_>, String> {
    if binary.len() < 8 || &binary[..4] != b"\0asm" {
        return Err("not a WebAssembly binary".into());
    }
    let (header, body) = binary.split_at(8);
    let mut reader = Reader(body);
    let mut first = true;
    let mut signatures = None;
    let mut rest = body;
    while !reader.0.is_empty() {
        let start = reader.0;
        let id = reader.byte()?;
        let payload = reader.slice()?;
        if id == 0 && custom_name(payload)?.0 == SIGNATURE_SECTION {
            if !first {
                return Err("a signature section must be the first section".into());
            }
            signatures = Some(custom_name(payload)?.1);
            rest = reader.0;
        }
        if first && signatures.is_none() {
            rest = start;
        }
        first = false;
    }
    Ok(Split {
        header,
        signatures,
        rest,
    })
}

/// The hashes a signer signs for `rest`: one per part ended by a delimiter
/// section, and one for the whole when it does not end with one, each over
/// everything from the start of `rest` to the end of its part.
pub(crate) fn hashes(rest: &[u8]) -> Result<Vec<[u8; 32]>, String> {
    let mut hasher = Sha256::new();
    let mut hashes = Vec::new();
    let mut reader = Reader(rest);
    let mut ends_with_delimiter = false;
    while !reader.0.is_empty() {
        let start = reader.0;
        let id = reader.byte()?;
        let payload = reader.slice()?;
        let section = &start[..start.len() - reader.0.len()];
        hasher.update(section);
        ends_with_delimiter = id == 0 && custom_name(payload)?.0 == DELIMITER_SECTION;
        if ends_with_delimiter {
            hashes.push(hasher.clone().finalize().into());
        }
    }
    if !ends_with_delimiter {
        hashes.push(hasher.finalize().into());
    }
    Ok(hashes)
}

/// The hash a whole-binary signature must end with: of all of `rest`.
pub(crate) fn whole_hash(rest: &[u8]) -> [u8; 32] {
    Sha256::digest(rest).into()
}

/// `header ‖ signature section ‖ rest`.
pub(crate) fn assemble(header: &[u8], data: &SignatureData, rest: &[u8]) -> Vec<u8> {
    let data = data.encode();
    let mut payload = Vec::with_capacity(data.len() + 10);
    put_slice(&mut payload, SIGNATURE_SECTION.as_bytes());
    payload.extend_from_slice(&data);
    let mut out = Vec::with_capacity(header.len() + payload.len() + 6 + rest.len());
    out.extend_from_slice(header);
    out.push(0);
    put_slice(&mut out, &payload);
    out.extend_from_slice(rest);
    out
}

/// A custom section's name and data.
fn custom_name(payload: &[u8]) -> Result<(&str, &[u8]), String> {
    let mut reader = Reader(payload);
    let name = reader.slice()?;
    let name = std::str::from_utf8(name).map_err(|_| "a custom section's name is not UTF-8")?;
    Ok((name, reader.0))
}

fn leb(out: &mut Vec<u8>, value: usize) {
    let mut value = value as u64;
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_slice(out: &mut Vec<u8>, bytes: &[u8]) {
    leb(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Reads the format's pieces, every one bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let (&byte, rest) = self.0.split_first().ok_or("the data ends early")?;
        self.0 = rest;
        Ok(byte)
    }

    /// An unsigned LEB128 number of at most 32 bits.
    fn u32(&mut self) -> Result<u32, String> {
        let mut value = 0u32;
        for i in 0..5 {
            let byte = self.byte()?;
            if i == 4 && byte & 0xf0 != 0 {
                break;
            }
            value |= u32::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a length does not fit 32 bits".into())
    }

    fn slice(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()? as usize;
        if len > self.0.len() {
            return Err("a length runs past the end of the data".into());
        }
        let (slice, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(slice)
    }

    fn count(&mut self, max: usize, what: &str) -> Result<usize, String> {
        let count = self.u32()? as usize;
        if count > max {
            return Err(format!("{count} {what}, more than the {max} allowed"));
        }
        Ok(count)
    }

    fn array(&mut self) -> Result<[u8; 32], String> {
        if self.0.len() < 32 {
            return Err("the data ends early".into());
        }
        let (array, rest) = self.0.split_at(32);
        self.0 = rest;
        Ok(array.try_into().expect("32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A component with one custom section `test` = `hello`, as the tool
    /// conventions' hash covers it.
    #[test]
    fn hashes_cover_the_sections_after_the_signature() {
        let component = hex("0061736d0d000100000a047465737468656c6c6f");
        let split = split(&component).unwrap();
        assert!(split.signatures.is_none());
        assert_eq!(
            hashes(split.rest).unwrap(),
            [<[u8; 32]>::try_from(hex(
                "a3fe5da29560ff8ad1d72e300787a09c042fbb7585098d2528761178356b7080"
            ))
            .unwrap()]
        );
    }

    #[test]
    fn signature_data_round_trips_and_refuses_garbage() {
        let data = SignatureData {
            sets: vec![SignedHashes {
                hashes: vec![[7; 32]],
                signatures: vec![
                    Signature {
                        key_id: None,
                        algorithm: ED25519,
                        bytes: vec![1; 64],
                    },
                    Signature {
                        key_id: Some(vec![2; 12]),
                        algorithm: ED25519,
                        bytes: vec![3; 64],
                    },
                ],
            }],
        };
        let encoded = data.encode();
        assert_eq!(SignatureData::decode(&encoded).unwrap(), data);
        for cut in 0..encoded.len() {
            assert!(SignatureData::decode(&encoded[..cut]).is_err(), "{cut}");
        }
        assert!(SignatureData::decode(&[2, 1, 1, 0]).is_err());
    }

    #[test]
    fn a_signature_section_after_another_section_is_refused() {
        let mut component = hex("0061736d0d000100000a047465737468656c6c6f");
        let data = SignatureData::default();
        let signed = assemble(&component[..8], &data, &component[8..]);
        assert!(split(&signed).unwrap().signatures.is_some());
        component.extend_from_slice(&signed[8..]);
        assert!(split(&component).is_err());
    }
}
