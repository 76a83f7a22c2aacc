//! Who a registry is told the client is: nobody, a user name and password
//! given, or what `docker login` wrote into the Docker config.
//!
//! The Docker config is `$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`; its `auths` map a registry (`host:port`, with or
//! without `https://` and a path) to `auth`, the base64 of `user:password`,
//! or to an `identitytoken`. Credential helpers (`credsStore`,
//! `credHelpers`) are programs of their own and are not run: a registry they
//! serve is spoken to anonymously.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

/// How to authenticate to registries.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// No credentials.
    Anonymous,
    /// The same user and password for every registry.
    Basic { username: String, password: String },
    /// Per registry, from the Docker config; anonymous where it has none.
    #[default]
    DockerConfig,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <hidden>)"),
            Credentials::DockerConfig => f.write_str("DockerConfig"),
        }
    }
}

impl Credentials {
    pub(crate) fn for_registry(&self, registry: &str) -> RegistryAuth {
        match self {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.clone())
            }
            Credentials::DockerConfig => docker_config_path()
                .and_then(|path| std::fs::read(path).ok())
                .and_then(|text| from_docker_config(&text, registry))
                .unwrap_or(RegistryAuth::Anonymous),
        }
    }
}

fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => dirs::home_dir().map(|home| home.join(".docker").join("config.json")),
    }
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
}

#[derive(Deserialize)]
struct DockerAuth {
    auth: Option<String>,
    identitytoken: Option<String>,
}

/// The credentials a Docker config holds for `registry`.
fn from_docker_config(text: &[u8], registry: &str) -> Option<RegistryAuth> {
    let config: DockerConfig = serde_json::from_slice(text).ok()?;
    let entry = config
        .auths
        .iter()
        .find(|(key, _)| registry_of(key) == registry_of(registry))?
        .1;
    if let Some(token) = &entry.identitytoken {
        return Some(RegistryAuth::Bearer(token.clone()));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(entry.auth.as_ref()?.trim())
        .ok()?;
    let (username, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some(RegistryAuth::Basic(username.into(), password.into()))
}

/// `host[:port]` of a Docker config key, lower-cased; Docker Hub's keys
/// all mean `docker.io`.
fn registry_of(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_credentials_are_found_by_registry() {
        let auth = base64::engine::general_purpose::STANDARD.encode("ann:s3cret:with-colon");
        let config = format!(
            r#"{{ "auths": {{
                "https://127.0.0.1:5000/v2/": {{ "auth": "{auth}" }},
                "https://index.docker.io/v1/": {{ "identitytoken": "tok" }},
                "ghcr.io": {{}}
            }}, "credsStore": "desktop" }}"#
        );
        let found = |registry| from_docker_config(config.as_bytes(), registry);
        assert!(matches!(
            found("127.0.0.1:5000"),
            Some(RegistryAuth::Basic(user, password)) if user == "ann" && password == "s3cret:with-colon"
        ));
        assert!(matches!(found("docker.io"), Some(RegistryAuth::Bearer(t)) if t == "tok"));
        assert!(found("ghcr.io").is_none(), "an entry without credentials");
        assert!(
            found("127.0.0.1:5001").is_none(),
            "another port is another registry"
        );
        assert!(from_docker_config(b"not json", "ghcr.io").is_none());
    }
}
