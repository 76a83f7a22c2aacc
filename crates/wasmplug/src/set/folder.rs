//! What a plugin set's directory holds: each plugin in a folder of its own,
//! its component and `plugin.toml` side by side (the unit `wasmplug build`
//! writes and `wasmplug install` places), or a lone `.wasm` file at the top,
//! loaded without a manifest. Anything else is not a plugin and is skipped,
//! hidden names (editors' swap files) included.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::plugin::LoadRequest;
use crate::source::{Sha256Digest, WasmBytes};

/// The bytes of a plugin's files as last read: a reload of the same bytes
/// changes nothing and is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    wasm: Sha256Digest,
    manifest: Option<Sha256Digest>,
}

/// A plugin's files, read.
pub(crate) struct Contents {
    pub(crate) fingerprint: Fingerprint,
    pub(crate) request: LoadRequest,
}

/// Whether `name`, an entry of the set's directory, can hold a plugin.
pub(crate) fn is_candidate(name: &str, path: &Path) -> bool {
    !name.starts_with('.') && (path.is_dir() || is_wasm(path))
}

fn is_wasm(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "wasm")
}

/// Reads the plugin at `path`, a folder or a `.wasm` file; `Ok(None)` when
/// nothing is there any more.
pub(crate) fn read(path: &Path) -> Result<Option<Contents>> {
    if !path.exists() {
        return Ok(None);
    }
    let (wasm, manifest) = if path.is_dir() {
        (component_in(path)?, Some(path.join(MANIFEST_FILE)))
    } else {
        (path.to_path_buf(), None)
    };
    let bytes = std::fs::read(&wasm).map_err(|e| Error::io(&wasm, e))?;
    let wasm_digest = Sha256Digest::of(&bytes);
    let (manifest, manifest_digest) = match manifest.filter(|m| m.is_file()) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let digest = Sha256Digest::of(text.as_bytes());
            let manifest = Manifest::parse(&text, &path)?;
            (Some(manifest), Some(digest))
        }
        None => (None, None),
    };
    let default_name = wasm
        .file_stem()
        .map_or_else(|| "plugin".into(), |s| s.to_string_lossy().into_owned());
    Ok(Some(Contents {
        fingerprint: Fingerprint {
            wasm: wasm_digest,
            manifest: manifest_digest,
        },
        request: LoadRequest {
            bytes: WasmBytes::from_bytes(wasm.display().to_string(), bytes)?,
            manifest,
            default_name,
            consent: None,
            with: Vec::new(),
        },
    }))
}

/// The one `.wasm` file of a plugin folder.
fn component_in(folder: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(folder).map_err(|e| Error::io(folder, e))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| is_wasm(path))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::PluginFolder {
            path: folder.to_path_buf(),
            reason: "no .wasm component in it; put the plugin's component beside its \
                     plugin.toml"
                .into(),
        }),
        _ => {
            found.sort();
            let names: Vec<String> = found
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            Err(Error::PluginFolder {
                path: folder.to_path_buf(),
                reason: format!(
                    "several .wasm files ({}); a plugin folder holds one component",
                    names.join(", ")
                ),
            })
        }
    }
}
