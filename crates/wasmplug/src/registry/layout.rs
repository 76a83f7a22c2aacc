//! The CNCF Wasm OCI artifact layout, the one wkg, wasmCloud and Spin read
//! and write, with the plugin's manifest carried as an annotation.
//!
//! An artifact is an OCI image manifest whose config has the media type
//! `application/vnd.wasm.config.v0+json` and describes the component's world
//! (its imports and exports), and whose one layer, `application/wasm`, is
//! the component itself. wasmplug adds nothing other clients must
//! understand: the plugin's `plugin.toml` travels, as written, in the
//! manifest's annotation `dev.wasmplug.manifest`, which other clients ignore.
//! A second layer would not do: clients that take one layer of type
//! `application/wasm` refuse artifacts with layers of other types.
//!
//! ```json
//! { "schemaVersion": 2,
//!   "mediaType": "application/vnd.oci.image.manifest.v1+json",
//!   "config": { "mediaType": "application/vnd.wasm.config.v0+json", ... },
//!   "layers": [ { "mediaType": "application/wasm", "digest": "sha256:…", "size": 18874368 } ],
//!   "annotations": {
//!     "org.opencontainers.image.title": "hello",
//!     "org.opencontainers.image.version": "0.1.0",
//!     "org.opencontainers.image.created": "2026-12-03T16:00:00Z",
//!     "dev.wasmplug.manifest": "[plugin]\nname = \"hello\"\n…" } }
//! ```

use std::collections::BTreeMap;
use std::time::SystemTime;

use oci_client::manifest::{OciDescriptor, OciImageManifest};
use serde::{Deserialize, Serialize};
use wit_parser::decoding::DecodedWasm;

use super::RegistryProblem;
use crate::source::{Sha256Digest, SourceKind, WasmBytes};

/// The media type of the artifact's config.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The media type of the layer that holds the component.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The OCI image manifest's media type.
pub const IMAGE_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The annotation that carries the plugin's `plugin.toml`.
pub const MANIFEST_ANNOTATION: &str = "dev.wasmplug.manifest";
const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";
const VERSION_ANNOTATION: &str = "org.opencontainers.image.version";
const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// The config blob, `application/vnd.wasm.config.v0+json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WasmConfig {
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    /// Always `wasm`.
    architecture: String,
    /// `wasip2` for a component, `wasip1` for a core module.
    os: String,
    /// The layers' digests, so that two artifacts never share a config.
    layer_digests: Vec<String>,
    /// Required for `wasip2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    component: Option<WorldSummary>,
}

/// The component's world in the config: interface and function names.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WorldSummary {
    exports: Vec<String>,
    imports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

/// A plugin laid out for a registry: the config blob and the image manifest
/// that names it and the layer, the component's bytes as given.
pub(crate) struct Artifact {
    pub(crate) config: Vec<u8>,
    /// The layer's digest, the SHA-256 of the component.
    pub(crate) layer_digest: Sha256Digest,
    pub(crate) manifest: OciImageManifest,
}

/// What a plugin's manifest says about it, for the artifact's annotations.
pub(crate) struct PluginLabel<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: Option<&'a str>,
    /// `plugin.toml` as written.
    pub(crate) manifest: Option<&'a str>,
}

impl Artifact {
    /// Lays out `wasm`, created at `created`.
    pub(crate) fn new(wasm: &WasmBytes, label: &PluginLabel<'_>, created: SystemTime) -> Self {
        let created = humantime::format_rfc3339_seconds(created).to_string();
        let component_digest = Sha256Digest::of(&wasm.bytes);
        let layer_digest = oci_digest(&component_digest);
        let (os, component) = match wasm.kind {
            SourceKind::Component => ("wasip2", world_summary(&wasm.bytes)),
            SourceKind::Preview1Command | SourceKind::Preview1Reactor => ("wasip1", None),
        };
        let config = WasmConfig {
            created: created.clone(),
            author: None,
            architecture: "wasm".into(),
            os: os.into(),
            layer_digests: vec![layer_digest.clone()],
            component,
        };
        let config = serde_json::to_vec(&config).expect("a config serializes");
        let mut annotations = BTreeMap::from([
            (TITLE_ANNOTATION.to_string(), label.name.to_string()),
            (CREATED_ANNOTATION.to_string(), created),
        ]);
        if let Some(version) = label.version {
            annotations.insert(VERSION_ANNOTATION.into(), version.into());
        }
        if let Some(manifest) = label.manifest {
            annotations.insert(MANIFEST_ANNOTATION.into(), manifest.into());
        }
        let manifest = OciImageManifest {
            schema_version: 2,
            media_type: Some(IMAGE_MANIFEST_MEDIA_TYPE.into()),
            config: descriptor(WASM_CONFIG_MEDIA_TYPE, &config),
            layers: vec![OciDescriptor {
                media_type: WASM_LAYER_MEDIA_TYPE.into(),
                digest: layer_digest,
                size: wasm.bytes.len() as i64,
                ..Default::default()
            }],
            artifact_type: None,
            subject: None,
            annotations: Some(annotations),
        };
        Artifact {
            config,
            layer_digest: component_digest,
            manifest,
        }
    }
}

/// The parts of a pulled image manifest wasmplug uses.
#[derive(Debug, Clone)]
pub(crate) struct ArtifactManifest {
    /// The `application/wasm` layer.
    pub(crate) layer: OciDescriptor,
    /// `plugin.toml`, when the artifact carries one.
    pub(crate) plugin_manifest: Option<String>,
    /// The version annotation, when there is one.
    pub(crate) version: Option<String>,
}

/// Reads an image manifest as a Wasm artifact: exactly one
/// `application/wasm` layer. Layers of other types are ignored, as other
/// clients' extras; a config of another media type is accepted, since
/// older tools wrote the generic OCI one.
pub(crate) fn read_manifest(raw: &[u8]) -> Result<ArtifactManifest, RegistryProblem> {
    let manifest: OciImageManifest = serde_json::from_slice(raw).map_err(|e| {
        RegistryProblem::NotAPlugin(format!("its manifest is not an OCI image manifest ({e})"))
    })?;
    let mut wasm_layers = manifest
        .layers
        .iter()
        .filter(|layer| layer.media_type == WASM_LAYER_MEDIA_TYPE);
    let layer = match (wasm_layers.next(), wasm_layers.next()) {
        (Some(layer), None) => layer.clone(),
        (None, _) => {
            let types: Vec<&str> = manifest.layers.iter().map(|l| &*l.media_type).collect();
            return Err(RegistryProblem::NotAPlugin(format!(
                "it has no `{WASM_LAYER_MEDIA_TYPE}` layer (its layers: {})",
                if types.is_empty() {
                    "none".to_string()
                } else {
                    types.join(", ")
                }
            )));
        }
        (Some(_), Some(_)) => {
            return Err(RegistryProblem::NotAPlugin(format!(
                "it has several `{WASM_LAYER_MEDIA_TYPE}` layers; a plugin is one component"
            )));
        }
    };
    if layer.size < 0 {
        return Err(RegistryProblem::NotAPlugin(
            "its layer has a negative size".into(),
        ));
    }
    let annotation = |key: &str| manifest.annotations.as_ref()?.get(key).cloned();
    Ok(ArtifactManifest {
        layer,
        plugin_manifest: annotation(MANIFEST_ANNOTATION),
        version: annotation(VERSION_ANNOTATION),
    })
}

/// `sha256:<hex>`, as OCI writes a digest.
pub(crate) fn oci_digest(digest: &Sha256Digest) -> String {
    format!("sha256:{digest}")
}

/// Parses `sha256:<hex>`; other algorithms are not used for plugins.
pub(crate) fn parse_oci_digest(text: &str) -> Option<Sha256Digest> {
    Sha256Digest::from_hex(text.strip_prefix("sha256:")?)
}

fn descriptor(media_type: &str, blob: &[u8]) -> OciDescriptor {
    OciDescriptor {
        media_type: media_type.into(),
        digest: oci_digest(&Sha256Digest::of(blob)),
        size: blob.len() as i64,
        ..Default::default()
    }
}

/// The world's imports and exports by name; `None` when the component's
/// types cannot be decoded (the config then omits them).
fn world_summary(bytes: &[u8]) -> Option<WorldSummary> {
    let DecodedWasm::Component(resolve, world) = wit_parser::decoding::decode(bytes).ok()? else {
        return None;
    };
    let world = &resolve.worlds[world];
    let names = |items: Vec<(&wit_parser::WorldKey, &wit_parser::WorldItem)>| {
        items
            .into_iter()
            .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
            .map(|(key, _)| resolve.name_world_key(key))
            .collect()
    };
    Some(WorldSummary {
        exports: names(world.exports.iter().collect()),
        imports: names(world.imports.iter().collect()),
        target: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact_with(layers: &[&str]) -> Vec<u8> {
        let layers: Vec<_> = layers
            .iter()
            .map(|media_type| OciDescriptor {
                media_type: media_type.to_string(),
                digest: oci_digest(&Sha256Digest::of(media_type.as_bytes())),
                size: 3,
                ..Default::default()
            })
            .collect();
        let manifest = OciImageManifest {
            layers,
            ..Default::default()
        };
        serde_json::to_vec(&manifest).unwrap()
    }

    #[test]
    fn a_plugin_is_one_wasm_layer() {
        let read = read_manifest(&artifact_with(&[WASM_LAYER_MEDIA_TYPE, "text/plain"])).unwrap();
        assert_eq!(read.layer.media_type, WASM_LAYER_MEDIA_TYPE);
        assert_eq!(read.plugin_manifest, None);
        for layers in [&[][..], &["application/vnd.oci.image.layer.v1.tar"][..]] {
            let problem = read_manifest(&artifact_with(layers)).unwrap_err();
            assert!(
                problem.to_string().contains("no `application/wasm` layer"),
                "{problem}"
            );
        }
        let twice = read_manifest(&artifact_with(&[WASM_LAYER_MEDIA_TYPE; 2])).unwrap_err();
        assert!(twice.to_string().contains("several"), "{twice}");
        let garbage = read_manifest(b"{\"layers\": 3}").unwrap_err();
        assert!(
            garbage.to_string().contains("not an OCI image manifest"),
            "{garbage}"
        );
    }

    #[test]
    fn digests_are_sha256_only() {
        let digest = Sha256Digest::of(b"plugin");
        assert_eq!(parse_oci_digest(&oci_digest(&digest)), Some(digest));
        assert_eq!(parse_oci_digest(&format!("sha512:{digest}")), None);
        assert_eq!(parse_oci_digest("sha256:00"), None);
    }
}
