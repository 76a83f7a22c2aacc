//! Where a plugin's bytes come from, and turning them into a component.
//!
//! A component is taken as it is. A WASI preview1 core module is wrapped into
//! a component with the preview1 adapter shipped for this wasmtime release:
//! the command adapter when it exports `_start`, the reactor adapter
//! otherwise. Anything else is refused before it reaches the compiler.

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmparser::{Parser, Payload};

use crate::error::{Error, Result};

/// A SHA-256 digest; of a plugin's file as given, its identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut digest = [0; 32];
        for (byte, pair) in digest.iter_mut().zip(text.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(Sha256Digest(digest))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{self}")
    }
}

/// What the input was before it became a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Component,
    /// A preview1 command module, wrapped with the command adapter.
    Preview1Command,
    /// A preview1 module without `_start`, wrapped with the reactor adapter.
    Preview1Reactor,
}

/// A WebAssembly file as given: a component or a core module, checked to be
/// one, and known by its SHA-256.
#[derive(Clone)]
#[non_exhaustive]
pub struct WasmBytes {
    /// Where the bytes came from, for messages: a path or a caller's label.
    pub origin: String,
    pub kind: SourceKind,
    pub bytes: Vec<u8>,
    /// The SHA-256 of the bytes without a leading signature section (for
    /// an unsigned component, what `sha256sum` reads): the plugin's
    /// identity, which signing leaves as it was, and with it what was
    /// granted (see [`crate::signature::content_digest`]).
    pub sha256: Sha256Digest,
}

/// The bytes of a component, ready to compile.
#[derive(Clone)]
#[non_exhaustive]
pub struct ComponentBytes {
    /// Where the bytes came from, for messages: a path or a caller's label.
    pub origin: String,
    pub kind: SourceKind,
    /// The component: the bytes as given, or a preview1 module wrapped.
    pub bytes: Vec<u8>,
    /// The SHA-256 of the bytes as given, without a signature section: the
    /// plugin's identity, also for a wrapped preview1 module.
    pub sha256: Sha256Digest,
    /// The SHA-256 of [`Self::bytes`] (without a signature section, which
    /// changes no code), what compiled artifacts are bound to.
    pub component_sha256: Sha256Digest,
}

impl fmt::Debug for WasmBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasmBytes")
            .field("origin", &self.origin)
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl fmt::Debug for ComponentBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentBytes")
            .field("origin", &self.origin)
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl WasmBytes {
    /// Reads a `.wasm` file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path.display().to_string(), bytes)
    }

    /// Takes bytes from memory; `origin` names them in messages.
    pub fn from_bytes(origin: impl Into<String>, bytes: Vec<u8>) -> Result<Self> {
        let origin = origin.into();
        let invalid = |reason: String| Error::InvalidComponent {
            origin: origin.clone(),
            reason,
        };
        if bytes.len() < 8 || !bytes.starts_with(b"\0asm") {
            return Err(invalid(format!(
                "no WebAssembly header: the file is {} bytes and does not start with `\\0asm`; \
                 pass a .wasm component built for wasm32-wasip2 or a wasm32-wasip1 module",
                bytes.len()
            )));
        }
        let kind = if Parser::is_component(&bytes) {
            SourceKind::Component
        } else if Parser::is_core_wasm(&bytes) {
            if exports_start(&bytes).map_err(invalid)? {
                SourceKind::Preview1Command
            } else {
                SourceKind::Preview1Reactor
            }
        } else {
            return Err(invalid(
                "unsupported WebAssembly version or layer in the header".into(),
            ));
        };
        Ok(WasmBytes {
            sha256: Sha256Digest(crate::signature::content_digest(&bytes)),
            origin,
            kind,
            bytes,
        })
    }

    /// The component these bytes are: themselves, or a preview1 module
    /// wrapped with the adapter of this wasmtime release (the command
    /// adapter for a module exporting `_start`, the reactor adapter
    /// otherwise).
    pub fn into_component(self) -> Result<ComponentBytes> {
        let adapter = match self.kind {
            SourceKind::Component => {
                return Ok(ComponentBytes {
                    component_sha256: self.sha256,
                    origin: self.origin,
                    kind: self.kind,
                    bytes: self.bytes,
                    sha256: self.sha256,
                });
            }
            SourceKind::Preview1Command => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            SourceKind::Preview1Reactor => WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        };
        let component = componentize_preview1(&self.bytes, adapter).map_err(|reason| {
            Error::InvalidComponent {
                origin: self.origin.clone(),
                reason,
            }
        })?;
        Ok(ComponentBytes {
            component_sha256: Sha256Digest::of(&component),
            origin: self.origin,
            kind: self.kind,
            bytes: component,
            sha256: self.sha256,
        })
    }
}

impl ComponentBytes {
    /// Reads a `.wasm` file.
    pub fn from_file(path: &Path) -> Result<Self> {
        WasmBytes::from_file(path)?.into_component()
    }

    /// Takes bytes from memory; `origin` names them in messages.
    pub fn from_bytes(origin: impl Into<String>, bytes: Vec<u8>) -> Result<Self> {
        WasmBytes::from_bytes(origin, bytes)?.into_component()
    }
}

/// Refuses bytes that are not valid WebAssembly under any feature, before
/// they reach a decoder or compiler that trusts what they declare: WIT
/// decoding allocates the sizes a section claims, and wasmtime checks
/// function bodies only while generating their code. Milliseconds for
/// megabytes (60 ms for an 18 MB Python component). The types it returns
/// tell what each import is before anything is compiled.
pub(crate) fn validate(origin: &str, bytes: &[u8]) -> Result<wasmparser::types::Types> {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .map_err(|e| Error::InvalidComponent {
            origin: origin.to_string(),
            reason: e.to_string(),
        })
}

/// The names a component imports at its top level. Nested modules and
/// components (nearly all of an 18 MB Python component) are skipped rather
/// than parsed; parsing stops at the first damage, which validation
/// reports.
pub(crate) fn top_level_imports(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut parser = Parser::new(0);
    let mut offset = 0;
    while let Ok(wasmparser::Chunk::Parsed { consumed, payload }) =
        parser.parse(&bytes[offset..], true)
    {
        offset += consumed;
        match payload {
            Payload::ComponentImportSection(imports) => names.extend(
                imports
                    .into_iter()
                    .flatten()
                    .map(|i| i.name.name.to_string()),
            ),
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => offset = unchecked_range.end.min(bytes.len()),
            Payload::End(_) => break,
            _ => {}
        }
    }
    names
}

/// Whether the validated component's import `name` is a type (a world's
/// `use` of one) or an instance of types only (a world's shared `types`
/// interface), which need nothing from the host.
pub(crate) fn imports_types_only(types: &wasmparser::types::Types, name: &str) -> bool {
    use wasmparser::component_types::ComponentEntityType;
    match types.component_item_for_import(name).map(|item| item.ty) {
        Some(ComponentEntityType::Type { .. }) => true,
        Some(ComponentEntityType::Instance(id)) => {
            let exports = &types[id].exports;
            !exports.is_empty()
                && exports
                    .values()
                    .all(|item| matches!(item.ty, ComponentEntityType::Type { .. }))
        }
        _ => false,
    }
}

/// Wraps a preview1 core module into a component with `adapter`.
fn componentize_preview1(module: &[u8], adapter: &[u8]) -> std::result::Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|e| e.adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter))
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| format!("a core module that cannot be turned into a component: {e:#}"))
}

/// Whether a core module exports `_start`, reading it to the end so that a
/// truncated module is reported here.
fn exports_start(module: &[u8]) -> std::result::Result<bool, String> {
    let mut found = false;
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ExportSection(exports) =
            payload.map_err(|e| format!("malformed core module: {e}"))?
        {
            for export in exports {
                let export = export.map_err(|e| format!("malformed core module: {e}"))?;
                found |= export.name == "_start";
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_wasm_is_refused_with_its_origin() {
        let err = ComponentBytes::from_bytes("notes.txt", b"hello world".to_vec()).unwrap_err();
        assert!(matches!(err, Error::InvalidComponent { ref origin, .. } if origin == "notes.txt"));
        assert!(err.to_string().contains("no WebAssembly header"), "{err}");
    }

    #[test]
    fn truncated_core_module_is_refused() {
        // A header followed by the start of a type section that never ends.
        let bytes = b"\0asm\x01\0\0\0\x01\x05\x01".to_vec();
        let err = ComponentBytes::from_bytes("cut.wasm", bytes).unwrap_err();
        assert!(err.to_string().contains("malformed core module"), "{err}");
    }

    #[test]
    fn identity_is_the_sha256_of_the_bytes() {
        // The smallest component: magic, version 0xd, layer 1.
        let bytes = b"\0asm\x0d\0\x01\0".to_vec();
        let source = ComponentBytes::from_bytes("empty", bytes.clone()).unwrap();
        assert_eq!(source.kind, SourceKind::Component);
        assert_eq!(source.sha256.0, <[u8; 32]>::from(Sha256::digest(&bytes)));
        assert_eq!(source.sha256, source.component_sha256);
        assert_eq!(source.sha256.to_string().len(), 64);
        assert_eq!(
            Sha256Digest::from_hex(&source.sha256.to_string()),
            Some(source.sha256)
        );
        assert_eq!(Sha256Digest::from_hex("xyz"), None);
        assert_eq!(Sha256Digest::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn a_preview1_module_is_known_by_the_bytes_as_given() {
        let module =
            wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "_start")))"#)
                .unwrap();
        let source = ComponentBytes::from_bytes("p1.wasm", module.clone()).unwrap();
        assert_eq!(source.kind, SourceKind::Preview1Command);
        assert_eq!(source.sha256, Sha256Digest::of(&module));
        assert_eq!(source.component_sha256, Sha256Digest::of(&source.bytes));
        assert_ne!(source.sha256, source.component_sha256);
    }
}
