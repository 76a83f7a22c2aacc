//! Plugins in OCI registries: push and pull in the CNCF Wasm artifact layout
//! ([`layout`]), with pulled blobs kept by digest ([`BlobCache`]).
//!
//! A reference is what `docker` and `oras` take: `REGISTRY/REPOSITORY:TAG`
//! or `REGISTRY/REPOSITORY@sha256:DIGEST`. A registry on the loopback
//! interface (`localhost`, `127.0.0.1`, `[::1]`) is spoken to in plain HTTP;
//! every other over TLS (rustls with `ring`, the system's roots). A pull by
//! digest whose manifest and component are in the cache makes no request.

mod auth;
mod cache;
mod install;
mod layout;
mod lock;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError};
use oci_client::{Client, Reference, RegistryOperation};

pub use auth::Credentials;
pub use cache::BlobCache;
use cache::BlobWriter;
pub use install::{Installed, Installer};
pub use layout::{
    IMAGE_MANIFEST_MEDIA_TYPE, MANIFEST_ANNOTATION, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE,
};
pub use lock::{LOCK_FILE, Locked, Lockfile};

use crate::error::{Error, Result};
use crate::source::{Sha256Digest, WasmBytes};
use layout::{Artifact, PluginLabel, oci_digest, parse_oci_digest};

/// Blobs are pushed in chunks of this size, each reported to the progress
/// observer.
const PUSH_CHUNK: usize = 1 << 20;

/// What went wrong with a registry, for [`Error::Registry`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryProblem {
    #[error(
        "not a reference ({0}): write REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST"
    )]
    InvalidReference(String),
    #[error(
        "cannot reach the registry ({0}); check that it is running and that the address is right"
    )]
    Unreachable(String),
    #[error("the registry has no such artifact; check the repository, tag or digest")]
    NotFound,
    #[error("the registry refused access ({0}); log in with `docker login`, or pass credentials")]
    Denied(String),
    #[error(
        "the {what} the registry sent has digest {actual}, not {expected}: it was changed in the registry or on the way, and was not kept"
    )]
    DigestMismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    #[error("it is not a Wasm plugin artifact: {0}")]
    NotAPlugin(String),
    #[error("{0}")]
    Protocol(String),
}

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Push,
    Pull,
}

/// A component's transfer as it goes, for a progress bar.
#[derive(Debug)]
#[non_exhaustive]
pub struct Transfer<'a> {
    pub reference: &'a str,
    pub direction: Direction,
    /// Bytes of the component moved so far, out of `total`.
    pub done: u64,
    pub total: u64,
}

type ProgressFn = dyn Fn(&Transfer<'_>) + Send + Sync;

/// What [`Registry::push`] wrote.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Pushed {
    /// The reference as given.
    pub reference: String,
    /// The image manifest's digest: `REPOSITORY@DIGEST` names these bytes
    /// for good.
    pub digest: Sha256Digest,
    /// The component layer's digest.
    pub component: Sha256Digest,
    /// Whether the component was already in the registry and not sent.
    pub component_existed: bool,
}

/// A plugin pulled from a registry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Pulled {
    /// The reference as given.
    pub reference: String,
    /// The same artifact named by digest, `REGISTRY/REPOSITORY@sha256:…`.
    pub pinned: String,
    /// The image manifest's digest.
    pub digest: Sha256Digest,
    /// The component's bytes, checked against the layer's digest.
    pub bytes: Vec<u8>,
    /// The component layer's digest, the SHA-256 of `bytes`.
    pub component: Sha256Digest,
    /// The plugin's `plugin.toml`, when the artifact carries one.
    pub manifest: Option<String>,
    /// The artifact's version annotation.
    pub version: Option<String>,
    /// Whether everything came from the cache, without a request.
    pub from_cache: bool,
}

impl Pulled {
    /// The plugin's manifest, parsed, when the artifact carries one.
    pub fn plugin_manifest(&self) -> Result<Option<crate::Manifest>> {
        let label = std::path::Path::new(&self.pinned);
        let parse = |text: &String| crate::Manifest::parse(text, label);
        self.manifest.as_ref().map(parse).transpose()
    }

    /// The repository's last segment: a name for a plugin without a
    /// manifest.
    pub fn repository_name(&self) -> &str {
        let repository = self.pinned.split('@').next().unwrap_or_default();
        repository.rsplit('/').next().unwrap_or(repository)
    }
}

/// A client for OCI registries. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    cache: Option<BlobCache>,
    credentials: Credentials,
    progress: Option<Arc<ProgressFn>>,
    created: Option<SystemTime>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("cache", &self.cache)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A client with the default blob cache ([`BlobCache::default_dir`]) and
    /// the Docker config's credentials.
    pub fn new() -> Self {
        Registry {
            cache: BlobCache::default_dir().map(BlobCache::at),
            credentials: Credentials::DockerConfig,
            progress: None,
            created: None,
        }
    }

    /// Where pulled blobs are kept; `None` pulls everything every time.
    pub fn cache(mut self, cache: Option<BlobCache>) -> Self {
        self.cache = cache;
        self
    }

    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Called as a component's bytes move, for a progress bar.
    pub fn on_progress(mut self, observer: impl Fn(&Transfer<'_>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(observer));
        self
    }

    /// The creation time pushed artifacts record; by default
    /// `$SOURCE_DATE_EPOCH` when set, else now. Fixing it makes a push of
    /// the same plugin produce the same manifest digest.
    pub fn created(mut self, when: SystemTime) -> Self {
        self.created = Some(when);
        self
    }

    /// Pushes `wasm`, with the plugin's `plugin.toml` text when it has one,
    /// to `reference`. A component the repository already has is not sent
    /// again.
    pub async fn push(
        &self,
        wasm: &WasmBytes,
        manifest: Option<&str>,
        reference: &str,
    ) -> Result<Pushed> {
        let parsed = parse_reference(reference)?;
        let fail = |problem| registry_error(reference, problem);
        let plugin = manifest
            .map(|text| crate::Manifest::parse(text, std::path::Path::new(&wasm.origin)))
            .transpose()?;
        let repository_name = parsed.repository().rsplit('/').next().unwrap_or_default();
        let label = PluginLabel {
            name: plugin.as_ref().map_or(repository_name, |m| &m.plugin.name),
            version: plugin.as_ref().map(|m| &*m.plugin.version),
            manifest,
        };
        let artifact = Artifact::new(wasm, &label, self.creation_time());
        let client = client_for(&parsed);
        let auth = self.credentials.for_registry(parsed.resolve_registry());
        client
            .auth(&parsed, &auth, RegistryOperation::Push)
            .await
            .map_err(|e| fail(problem(e)))?;

        let layer = &artifact.manifest.layers[0];
        let component_existed = client
            .blob_exists(&parsed, &layer.digest)
            .await
            .map_err(|e| fail(problem(e)))?;
        if !component_existed {
            self.push_layer(&client, &parsed, reference, &wasm.bytes, &layer.digest)
                .await
                .map_err(|e| fail(problem(e)))?;
        }
        client
            .push_blob(
                &parsed,
                artifact.config.clone(),
                &artifact.manifest.config.digest,
            )
            .await
            .map_err(|e| fail(problem(e)))?;
        let body = serde_json::to_vec(&artifact.manifest).expect("a manifest serializes");
        let digest = Sha256Digest::of(&body);
        client
            .push_manifest_raw(
                &parsed,
                body,
                IMAGE_MANIFEST_MEDIA_TYPE.parse().expect("a valid header"),
            )
            .await
            .map_err(|e| fail(problem(e)))?;
        Ok(Pushed {
            reference: reference.to_string(),
            digest,
            component: artifact.layer_digest,
            component_existed,
        })
    }

    async fn push_layer(
        &self,
        client: &Client,
        parsed: &Reference,
        reference: &str,
        bytes: &[u8],
        digest: &str,
    ) -> oci_client::errors::Result<()> {
        let total = bytes.len() as u64;
        let chunks: Vec<Bytes> = bytes
            .chunks(PUSH_CHUNK)
            .map(Bytes::copy_from_slice)
            .collect();
        let progress = self.progress.clone();
        let reference = reference.to_string();
        let mut done = 0;
        let stream = futures_util::stream::iter(chunks).map(move |chunk| {
            done += chunk.len() as u64;
            if let Some(observe) = &progress {
                observe(&Transfer {
                    reference: &reference,
                    direction: Direction::Push,
                    done,
                    total,
                });
            }
            Ok(chunk)
        });
        client
            .push_blob_stream(parsed, stream, digest, Some(total))
            .await
            .map(drop)
    }

    /// Pulls the plugin at `reference`, checking every blob against its
    /// digest; what is asked for by digest and already in the cache is not
    /// asked of the registry.
    pub async fn pull(&self, reference: &str) -> Result<Pulled> {
        let parsed = parse_reference(reference)?;
        let fail = |problem| registry_error(reference, problem);
        let pinned_digest = match parsed.digest() {
            Some(digest) => Some(parse_oci_digest(digest).ok_or_else(|| {
                fail(RegistryProblem::InvalidReference(
                    "only sha256 digests are used".into(),
                ))
            })?),
            None => None,
        };
        let client = client_for(&parsed);
        let auth = self.credentials.for_registry(parsed.resolve_registry());
        let mut requested = false;

        let cached_manifest = pinned_digest.and_then(|d| Some((self.cache.as_ref()?.get(&d)?, d)));
        let (raw, digest) = match cached_manifest {
            Some(found) => found,
            None => {
                requested = true;
                let (raw, _) = client
                    .pull_manifest_raw(&parsed, &auth, &[IMAGE_MANIFEST_MEDIA_TYPE])
                    .await
                    .map_err(|e| fail(problem(e)))?;
                let actual = Sha256Digest::of(&raw);
                if let Some(expected) = pinned_digest.filter(|d| *d != actual) {
                    return Err(fail(RegistryProblem::DigestMismatch {
                        what: "manifest",
                        expected: oci_digest(&expected),
                        actual: oci_digest(&actual),
                    }));
                }
                if let Some(cache) = &self.cache {
                    cache.put(&actual, &raw)?;
                }
                (raw.to_vec(), actual)
            }
        };
        let artifact = layout::read_manifest(&raw).map_err(fail)?;
        let component = parse_oci_digest(&artifact.layer.digest).ok_or_else(|| {
            fail(RegistryProblem::NotAPlugin(format!(
                "its layer's digest `{}` is not a sha256 digest",
                artifact.layer.digest
            )))
        })?;
        let cached_component = self.cache.as_ref().and_then(|c| c.get(&component));
        let bytes = match cached_component {
            Some(bytes) => bytes,
            None => {
                if !requested {
                    // The manifest came from the cache: nothing has
                    // authenticated to the registry yet.
                    client
                        .auth(&parsed, &auth, RegistryOperation::Pull)
                        .await
                        .map_err(|e| fail(problem(e)))?;
                }
                requested = true;
                self.pull_layer(&client, &parsed, reference, &artifact.layer, component)
                    .await?
            }
        };
        let pinned = format!(
            "{}/{}@{}",
            parsed.registry(),
            parsed.repository(),
            oci_digest(&digest)
        );
        Ok(Pulled {
            reference: reference.to_string(),
            pinned,
            digest,
            bytes,
            component,
            manifest: artifact.plugin_manifest,
            version: artifact.version,
            from_cache: !requested,
        })
    }

    async fn pull_layer(
        &self,
        client: &Client,
        parsed: &Reference,
        reference: &str,
        layer: &oci_client::manifest::OciDescriptor,
        expected: Sha256Digest,
    ) -> Result<Vec<u8>> {
        let fail = |problem| registry_error(reference, problem);
        let mut stream = client
            .pull_blob_stream(parsed, layer)
            .await
            .map_err(|e| fail(problem(e)))?;
        let total = stream.content_length.unwrap_or(layer.size as u64);
        let mut bytes = Vec::with_capacity(total.min(1 << 30) as usize);
        let mut writer = BlobWriter::new(self.cache.as_ref())?;
        while let Some(chunk) = stream.stream.next().await {
            let chunk = chunk.map_err(|e| fail(stream_problem(e)))?;
            writer.write(&chunk)?;
            bytes.extend_from_slice(&chunk);
            if let Some(observe) = &self.progress {
                observe(&Transfer {
                    reference,
                    direction: Direction::Pull,
                    done: bytes.len() as u64,
                    total,
                });
            }
        }
        let mismatch = writer.finish(&expected)?;
        if let Some(actual) = mismatch {
            return Err(fail(RegistryProblem::DigestMismatch {
                what: "component",
                expected: oci_digest(&expected),
                actual: oci_digest(&actual),
            }));
        }
        Ok(bytes)
    }

    fn creation_time(&self) -> SystemTime {
        let from_env = || {
            let seconds = std::env::var("SOURCE_DATE_EPOCH").ok()?.parse().ok()?;
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
        };
        self.created
            .or_else(from_env)
            .unwrap_or_else(SystemTime::now)
    }
}

/// Parses an OCI reference, refusing the forms wasmplug does not pull.
pub fn parse_reference(reference: &str) -> Result<Reference> {
    reference
        .parse::<Reference>()
        .map_err(|e| registry_error(reference, RegistryProblem::InvalidReference(e.to_string())))
}

fn registry_error(reference: &str, problem: RegistryProblem) -> Error {
    Error::Registry {
        reference: reference.to_string(),
        problem,
    }
}

/// A client for the reference's registry: plain HTTP on loopback only.
fn client_for(reference: &Reference) -> Client {
    // reqwest is built without a crypto provider of its own: ring, the one
    // wasmtime-wasi-http uses, is the process's. A host that installed
    // another first keeps it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let registry = reference.resolve_registry();
    let protocol = if is_loopback(registry) {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    Client::new(ClientConfig {
        protocol,
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(60)),
        user_agent: concat!("wasmplug/", env!("CARGO_PKG_VERSION")),
        platform_resolver: None,
        ..Default::default()
    })
}

/// Whether `registry` (`HOST[:PORT]`) names this machine.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Classifies a client error.
fn problem(error: OciDistributionError) -> RegistryProblem {
    use OciDistributionError as E;
    match error {
        E::DigestError(DigestError::VerificationError { expected, actual }) => {
            RegistryProblem::DigestMismatch {
                what: "blob",
                expected,
                actual: actual.to_string(),
            }
        }
        E::ImageManifestNotFoundError(_) => RegistryProblem::NotFound,
        E::ServerError { code: 404, .. } => RegistryProblem::NotFound,
        E::ServerError {
            code: 401 | 403,
            message,
            ..
        } => RegistryProblem::Denied(message),
        E::UnauthorizedError { url } => RegistryProblem::Denied(url),
        E::AuthenticationFailure(message) => RegistryProblem::Denied(message),
        E::RegistryError { envelope, .. } => {
            let unknown = envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    oci_client::errors::OciErrorCode::ManifestUnknown
                        | oci_client::errors::OciErrorCode::BlobUnknown
                        | oci_client::errors::OciErrorCode::NameUnknown
                )
            });
            let denied = envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    oci_client::errors::OciErrorCode::Unauthorized
                        | oci_client::errors::OciErrorCode::Denied
                )
            });
            let messages: Vec<String> = envelope.errors.iter().map(|e| e.to_string()).collect();
            match (unknown, denied) {
                (true, _) => RegistryProblem::NotFound,
                (_, true) => RegistryProblem::Denied(messages.join("; ")),
                _ => RegistryProblem::Protocol(messages.join("; ")),
            }
        }
        E::RequestError(e) if e.is_connect() || e.is_timeout() => {
            RegistryProblem::Unreachable(error_chain(&e))
        }
        other => RegistryProblem::Protocol(error_chain(&other)),
    }
}

/// Classifies an error met while reading a blob's bytes.
fn stream_problem(error: std::io::Error) -> RegistryProblem {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<DigestError>())
    {
        Some(DigestError::VerificationError { expected, actual }) => {
            RegistryProblem::DigestMismatch {
                what: "component",
                expected: expected.clone(),
                actual: actual.to_string(),
            }
        }
        _ => RegistryProblem::Unreachable(error_chain(&error)),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text = format!("{text}: {line}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_spoken_to_in_plain_http() {
        for registry in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.3.2.1",
            "[::1]:5000",
            "LOCALHOST",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in [
            "ghcr.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[::2]:5000",
            "0.0.0.0:5000",
        ] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }

    #[test]
    fn a_bad_reference_is_a_typed_error() {
        let error = parse_reference("Not A Reference").unwrap_err();
        assert!(matches!(
            error,
            Error::Registry {
                problem: RegistryProblem::InvalidReference(_),
                ..
            }
        ));
    }
}
