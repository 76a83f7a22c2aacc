//! Plugins through a real OCI registry (CNCF distribution on 127.0.0.1):
//! push and pull in the CNCF Wasm layout, the blob cache, install, the
//! lockfile and update, and what happens when the registry lies or is gone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use wasmplug::registry::{
    BlobCache, Installer, Lockfile, Pulled, Pushed, Registry, RegistryProblem,
    WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE,
};
use wasmplug::signature::SignatureProblem;
use wasmplug::{
    ArtifactCache, Consent, ConsentAnswer, Error, GrantStore, Host, Permission, PluginSet, Policy,
    WasmBytes,
};
use wasmplug_tests::oci_registry::TestRegistry;
use wasmplug_tests::{counting_compiles, guest};

const HELLO_V1: &str = r#"
[plugin]
name = "hello"
version = "0.1.0"
description = "Greets whoever it is given"

[permissions]
net = [{ host = "api.example.com:443", reason = "fetches names" }]
"#;

fn hello() -> WasmBytes {
    WasmBytes::from_file(&guest("hello")).unwrap()
}

/// A client with a blob cache of its own, as on a machine of its own.
struct Machine {
    registry: Registry,
    cache: tempfile::TempDir,
}

fn machine() -> Machine {
    let cache = tempfile::tempdir().unwrap();
    Machine {
        registry: Registry::new().cache(Some(BlobCache::at(cache.path()))),
        cache,
    }
}

/// A registry where a machine of its own pushed `hello`, with `manifest`,
/// to `plugins/hello:TAG`. Dropping `server` stops the registry: bind it,
/// as `_server` at least, for as long as the test needs it.
struct Published {
    server: TestRegistry,
    reference: String,
    pushed: Pushed,
    publisher: Machine,
}

async fn published(tag: &str, manifest: Option<&str>) -> Option<Published> {
    let server = TestRegistry::start()?;
    let reference = format!("{}:{tag}", server.repository("plugins/hello"));
    let publisher = machine();
    let pushed = publisher
        .registry
        .push(&hello(), manifest, &reference)
        .await
        .unwrap();
    Some(Published {
        server,
        reference,
        pushed,
        publisher,
    })
}

fn problem<T>(outcome: wasmplug::Result<T>) -> RegistryProblem {
    match outcome {
        Err(Error::Registry { problem, .. }) => problem,
        Err(other) => panic!("expected a registry error, got {other}"),
        Ok(_) => panic!("expected a registry error, got success"),
    }
}

/// A host whose operator allows everything, consented by policy.
fn unrestricted_host() -> Host {
    Host::builder()
        .policy(Policy::unrestricted())
        .build()
        .unwrap()
}

async fn pull(registry: &Registry, reference: &str) -> Pulled {
    registry.pull(reference).await.unwrap()
}

#[tokio::test]
async fn a_pushed_plugin_is_pulled_whole_with_its_manifest_and_runs() {
    let Some(Published {
        mut server,
        reference,
        pushed,
        publisher,
    }) = published("0.1.0", Some(HELLO_V1)).await
    else {
        return;
    };
    let registry = &publisher.registry;
    assert!(!pushed.component_existed);

    let pulled = pull(registry, &reference).await;
    assert_eq!(pulled.bytes, hello().bytes);
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(pulled.manifest.as_deref(), Some(HELLO_V1));
    assert_eq!(pulled.version.as_deref(), Some("0.1.0"));
    assert!(!pulled.from_cache, "a tag is always asked of the registry");

    let host = unrestricted_host();
    let plugin = host.load_reference(registry, &pulled.pinned).await.unwrap();
    assert_eq!(plugin.name(), "hello");
    assert_eq!(plugin.run("registry").await.unwrap(), "Hello, registry!");

    // By digest, from the cache: not one request, so a stopped registry
    // does not matter; a tag still needs it, and says so.
    server.stop();
    let again = pull(registry, &pulled.pinned).await;
    assert!(again.from_cache);
    assert_eq!(again.bytes, pulled.bytes);
    assert!(matches!(
        problem(registry.pull(&reference).await),
        RegistryProblem::Unreachable(_)
    ));
}

#[tokio::test]
async fn a_component_changed_in_the_registry_is_refused_and_not_kept() {
    let Some(Published {
        server,
        reference,
        pushed,
        ..
    }) = published("1", None).await
    else {
        return;
    };
    let blob = server.blob_file(&pushed.component.to_string());
    let mut bytes = std::fs::read(&blob).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&blob, &bytes).unwrap();

    let fresh = machine();
    match problem(fresh.registry.pull(&reference).await) {
        RegistryProblem::DigestMismatch { expected, .. } => {
            assert_eq!(expected, format!("sha256:{}", pushed.component));
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
    assert!(!BlobCache::at(fresh.cache.path()).contains(&pushed.component));
}

#[tokio::test]
async fn an_artifact_without_a_wasm_layer_is_not_a_plugin() {
    let Some(server) = TestRegistry::start() else {
        return;
    };
    let repository = server.repository("plugins/not-wasm");
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let layer = b"not a component";
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{},"layers":[{}]}}"#,
        upload(
            &server,
            "plugins/not-wasm",
            "application/vnd.oci.image.config.v1+json",
            config
        ),
        upload(
            &server,
            "plugins/not-wasm",
            "application/vnd.oci.image.layer.v1.tar",
            layer
        ),
    );
    put_manifest(&server, "plugins/not-wasm", "1", &manifest);
    let registry = machine().registry;
    match problem(registry.pull(&format!("{repository}:1")).await) {
        RegistryProblem::NotAPlugin(why) => assert!(why.contains("no `application/wasm` layer")),
        other => panic!("expected not-a-plugin, got {other}"),
    }
    assert!(matches!(
        problem(registry.pull(&format!("{repository}:2")).await),
        RegistryProblem::NotFound
    ));
}

#[tokio::test]
async fn install_places_compiles_and_locks_and_a_locked_install_needs_no_registry() {
    let Some(Published {
        mut server,
        reference,
        publisher,
        ..
    }) = published("0.1.0", Some(HELLO_V1)).await
    else {
        return;
    };
    let registry = &publisher.registry;

    let artifacts = tempfile::tempdir().unwrap();
    let host_with_cache = || {
        counting_compiles(
            Host::builder()
                .policy(Policy::unrestricted())
                .cache(Some(ArtifactCache::new(artifacts.path(), 1 << 30))),
        )
    };
    let (builder, compiles) = host_with_cache();
    let host = builder.build().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let installed = Installer::new(&host, registry, plugins.path())
        .install(&reference)
        .await
        .unwrap();
    assert_eq!(compiles.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(installed.path, plugins.path().join("hello"));
    assert_eq!(
        std::fs::read(installed.path.join("hello.wasm")).unwrap(),
        hello().bytes
    );
    assert_eq!(
        std::fs::read_to_string(installed.path.join("plugin.toml")).unwrap(),
        HELLO_V1
    );
    assert_eq!(installed.locked.version.as_deref(), Some("0.1.0"));

    // What a plugin set loads next is compiled already.
    let (builder, compiles) = host_with_cache();
    let app = builder.build().unwrap();
    let set = PluginSet::builder(&app, plugins.path())
        .open()
        .await
        .unwrap();
    let plugin = set
        .get("hello")
        .expect("the installed plugin is in the set");
    assert_eq!(plugin.run("set").await.unwrap(), "Hello, set!");
    assert_eq!(compiles.load(std::sync::atomic::Ordering::SeqCst), 0);

    let mut lock = Lockfile::default();
    lock.insert(installed.locked.clone());
    let lock_path = plugins.path().join("wasmplug.lock");
    lock.write(&lock_path).unwrap();
    let written = std::fs::read(&lock_path).unwrap();
    Lockfile::read(&lock_path)
        .unwrap()
        .write(&lock_path)
        .unwrap();
    assert_eq!(
        std::fs::read(&lock_path).unwrap(),
        written,
        "re-locking is byte-identical"
    );

    // Elsewhere, from the warm cache, with the registry gone.
    server.stop();
    let elsewhere = tempfile::tempdir().unwrap();
    let locked = Installer::new(&host, registry, elsewhere.path())
        .install_locked(&installed.locked)
        .await
        .unwrap();
    assert!(locked.from_cache, "no registry request");
    assert_eq!(
        std::fs::read(locked.path.join("hello.wasm")).unwrap(),
        hello().bytes
    );
}

#[tokio::test]
async fn a_locked_install_takes_the_locked_bytes_or_fails() {
    let Some(Published {
        server,
        reference,
        publisher,
        ..
    }) = published("latest", Some(HELLO_V1)).await
    else {
        return;
    };
    let registry = &publisher.registry;
    let host = unrestricted_host();
    let plugins = tempfile::tempdir().unwrap();
    let first = Installer::new(&host, registry, plugins.path())
        .install(&reference)
        .await
        .unwrap();

    // The tag moves on; the lock does not.
    let v2 = HELLO_V1.replace("0.1.0", "0.2.0");
    let moved = registry
        .push(&hello(), Some(&v2), &reference)
        .await
        .unwrap();
    assert!(
        moved.component_existed,
        "the same component is not sent twice"
    );
    let fresh = machine();
    let again = Installer::new(&host, &fresh.registry, plugins.path())
        .install_locked(&first.locked)
        .await
        .unwrap();
    assert_eq!(again.locked, first.locked);
    assert_eq!(again.plugin.manifest().unwrap().plugin.version, "0.1.0");

    // Once the registry no longer has the locked manifest, there is
    // nothing to install, and the plugin in place stays.
    delete_manifest(&server, "plugins/hello", &first.locked.digest.to_string());
    let fresh = machine();
    let error = Installer::new(&host, &fresh.registry, plugins.path())
        .install_locked(&first.locked)
        .await
        .err()
        .expect("the locked digest is gone");
    assert!(
        matches!(&error, Error::Registry { problem: RegistryProblem::NotFound, reference } if reference.contains(&first.locked.digest.to_string())),
        "{error}"
    );
    assert!(plugins.path().join("hello/hello.wasm").is_file());
}

#[tokio::test]
async fn a_registry_that_is_down_installs_nothing() {
    let Some(mut server) = TestRegistry::start() else {
        return;
    };
    let reference = format!("{}:0.1.0", server.repository("plugins/hello"));
    server.stop();
    let host = Host::builder().build().unwrap();
    let fresh = machine();
    let plugins = tempfile::tempdir().unwrap();
    let error = Installer::new(&host, &fresh.registry, plugins.path())
        .install(&reference)
        .await
        .err()
        .expect("nothing listens");
    assert!(
        matches!(
            &error,
            Error::Registry {
                problem: RegistryProblem::Unreachable(_),
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("check that it is running"),
        "{error}"
    );
    assert_eq!(std::fs::read_dir(plugins.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn an_unsigned_plugin_under_a_policy_requiring_signatures_is_not_installed() {
    let Some(Published {
        reference,
        publisher,
        server: _server,
        ..
    }) = published("0.1.0", None).await
    else {
        return;
    };
    let registry = &publisher.registry;
    let key = wasmplug::signature::SigningKey::generate().unwrap();
    let host = Host::builder()
        .policy(
            Policy::unrestricted()
                .trust(key.public_key())
                .require_signatures(),
        )
        .build()
        .unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let error = Installer::new(&host, registry, plugins.path())
        .install(&reference)
        .await
        .err()
        .expect("unsigned");
    assert!(
        matches!(
            &error,
            Error::Signature {
                problem: SignatureProblem::Unsigned,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(std::fs::read_dir(plugins.path()).unwrap().count(), 0);

    let signed = wasmplug::signature::sign(&hello().bytes, &key).unwrap();
    let signed = WasmBytes::from_bytes("hello", signed).unwrap();
    registry.push(&signed, None, &reference).await.unwrap();
    let installed = Installer::new(&host, registry, plugins.path())
        .install(&reference)
        .await
        .unwrap();
    assert_eq!(
        installed.plugin.run("signed").await.unwrap(),
        "Hello, signed!"
    );
}

#[tokio::test]
async fn an_update_asks_only_for_what_the_new_version_adds() {
    let Some(Published {
        reference,
        publisher,
        server: _server,
        ..
    }) = published("stable", Some(HELLO_V1)).await
    else {
        return;
    };
    let registry = &publisher.registry;

    let grants = tempfile::tempdir().unwrap();
    // Each question: what was asked, and whether as a new version's.
    type Asked = Vec<(Vec<Permission>, bool)>;
    let asked: Arc<Mutex<Asked>> = Arc::default();
    let record = asked.clone();
    let consent = Consent::none()
        .remembered(GrantStore::at(grants.path().join("grants.toml")))
        .prompt(move |request| {
            let permissions = request.requests.iter().map(|r| r.permission.clone());
            let previously = request.previously.is_some();
            record
                .lock()
                .unwrap()
                .push((permissions.collect(), previously));
            ConsentAnswer::all(request, true)
        });
    let host = Host::builder()
        .policy(Policy::unrestricted())
        .consent(consent)
        .build()
        .unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let installer = Installer::new(&host, registry, plugins.path());
    let first = installer.install(&reference).await.unwrap();
    assert!(
        installer.update(&first.locked).await.unwrap().is_none(),
        "up to date"
    );

    let v2 = HELLO_V1.replace("0.1.0", "0.2.0").replace(
        "net = [{ host = \"api.example.com:443\", reason = \"fetches names\" }]",
        "net = [{ host = \"api.example.com:443\", reason = \"fetches names\" }, \
         { host = \"cdn.example.com:443\", reason = \"fetches greetings\" }]",
    );
    registry
        .push(&hello(), Some(&v2), &reference)
        .await
        .unwrap();
    let updated = installer
        .update(&first.locked)
        .await
        .unwrap()
        .expect("a new version");
    assert_eq!(updated.locked.version.as_deref(), Some("0.2.0"));
    assert_ne!(updated.locked.digest, first.locked.digest);
    assert!(updated.replaced);
    assert!(
        std::fs::read_to_string(plugins.path().join("hello/plugin.toml"))
            .unwrap()
            .contains("0.2.0")
    );

    let asked = asked.lock().unwrap();
    let net = |address: &str| Permission::Net {
        address: address.into(),
    };
    assert_eq!(
        *asked,
        vec![
            (vec![net("api.example.com:443")], false),
            (vec![net("cdn.example.com:443")], true)
        ],
        "the install asks about the API, the update only about the CDN"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watching_plugin_set_swaps_in_what_an_update_installs() {
    let Some(Published {
        server: _server,
        reference,
        publisher,
        ..
    }) = published("stable", Some(HELLO_V1)).await
    else {
        return;
    };
    let registry = &publisher.registry;
    let host = unrestricted_host();
    let plugins = tempfile::tempdir().unwrap();
    let installer = Installer::new(&host, registry, plugins.path());
    let first = installer.install(&reference).await.unwrap();

    let (send, events) = std::sync::mpsc::channel();
    let set = PluginSet::builder(&host, plugins.path())
        .debounce(std::time::Duration::from_millis(50))
        .on_event(move |event| {
            if let wasmplug::SetEvent::Reloaded { plugin, .. } = event {
                let _ = send.send(plugin.identity().version.clone());
            }
        })
        .open()
        .await
        .unwrap();
    let version = |set: &PluginSet| set.get("hello").unwrap().identity().version.clone();
    assert_eq!(version(&set).as_deref(), Some("0.1.0"));

    let v2 = HELLO_V1.replace("0.1.0", "0.2.0");
    registry
        .push(&hello(), Some(&v2), &reference)
        .await
        .unwrap();
    installer
        .update(&first.locked)
        .await
        .unwrap()
        .expect("a new version");
    // The wait only guards against hanging forever.
    let reloaded = tokio::task::spawn_blocking(move || {
        events.recv_timeout(std::time::Duration::from_secs(60))
    })
    .await
    .unwrap()
    .expect("the set saw the new version");
    assert_eq!(reloaded.as_deref(), Some("0.2.0"));
    assert_eq!(version(&set).as_deref(), Some("0.2.0"));
    let hidden: Vec<_> = std::fs::read_dir(plugins.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name != "hello")
        .collect();
    assert!(
        hidden.is_empty(),
        "nothing is left beside the plugin: {hidden:?}"
    );
}

#[tokio::test]
async fn skopeo_reads_what_wasmplug_pushed() {
    let Some(Published {
        reference,
        pushed,
        server: _server,
        ..
    }) = published("0.1.0", Some(HELLO_V1)).await
    else {
        return;
    };

    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ]);
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["layers"][0]["mediaType"], WASM_LAYER_MEDIA_TYPE);
    assert_eq!(manifest["annotations"]["dev.wasmplug.manifest"], HELLO_V1);

    let layout = tempfile::tempdir().unwrap();
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{reference}"),
        &format!("oci:{}:hello", layout.path().display()),
    ]);
    let blobs = layout.path().join("blobs/sha256");
    let component = std::fs::read(blobs.join(pushed.component.to_string())).unwrap();
    assert_eq!(component, hello().bytes);
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = std::fs::read(blobs.join(&config_digest["sha256:".len()..])).unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(
        config["layerDigests"][0],
        format!("sha256:{}", pushed.component)
    );
    assert_eq!(config["component"]["exports"], serde_json::json!(["run"]));
}

#[tokio::test]
async fn wasmplug_pulls_and_runs_what_skopeo_pushed() {
    let Some(server) = TestRegistry::start() else {
        return;
    };
    // An OCI image layout in the CNCF Wasm layout, as another tool writes
    // it (no wasmplug annotations), copied into the registry by skopeo.
    let layout = tempfile::tempdir().unwrap();
    let blobs = layout.path().join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let blob = |bytes: &[u8]| {
        let digest = wasmplug::Sha256Digest::of(bytes);
        std::fs::write(blobs.join(digest.to_string()), bytes).unwrap();
        format!(r#"{{"digest":"sha256:{digest}","size":{}}}"#, bytes.len())
    };
    let wasm = hello().bytes;
    let layer = blob(&wasm);
    let config = format!(
        r#"{{"created":"2026-01-01T00:00:00Z","architecture":"wasm","os":"wasip2","layerDigests":["sha256:{}"],"component":{{"exports":["run"],"imports":[]}}}}"#,
        wasmplug::Sha256Digest::of(&wasm)
    );
    let with_type = |descriptor: String, media_type: &str| {
        descriptor.replacen('{', &format!(r#"{{"mediaType":"{media_type}","#), 1)
    };
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[{}]}}"#,
        with_type(blob(config.as_bytes()), WASM_CONFIG_MEDIA_TYPE),
        with_type(layer, WASM_LAYER_MEDIA_TYPE),
    );
    let manifest_descriptor = with_type(
        blob(manifest.as_bytes()),
        "application/vnd.oci.image.manifest.v1+json",
    );
    std::fs::write(
        layout.path().join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{}]}}"#,
            manifest_descriptor.replacen(
                '{',
                r#"{"annotations":{"org.opencontainers.image.ref.name":"1.0"},"#,
                1
            )
        ),
    )
    .unwrap();
    std::fs::write(
        layout.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let reference = format!("{}:1.0", server.repository("others/greeter"));
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:1.0", layout.path().display()),
        &format!("docker://{reference}"),
    ]);

    let registry = machine().registry;
    let pulled = pull(&registry, &reference).await;
    assert_eq!(pulled.bytes, wasm);
    assert_eq!(pulled.manifest, None);
    let host = Host::builder().build().unwrap();
    let plugin = host.load_reference(&registry, &reference).await.unwrap();
    assert_eq!(plugin.name(), "greeter", "named after its repository");
    assert_eq!(plugin.run("skopeo").await.unwrap(), "Hello, skopeo!");
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let output = std::process::Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo runs (scripts/test-servers.sh installs it)");
    assert!(
        output.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// One HTTP/1.1 request to the registry; the status and the body.
fn request(server: &TestRegistry, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(&server.address).unwrap();
    write!(
        stream,
        "{head}\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.address,
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (status, response)
}

/// Uploads a blob (a POST for a session, a PUT of the bytes); its
/// descriptor as JSON.
fn upload(server: &TestRegistry, repository: &str, media_type: &str, bytes: &[u8]) -> String {
    let digest = wasmplug::Sha256Digest::of(bytes);
    let (status, response) = request(
        server,
        &format!("POST /v2/{repository}/blobs/uploads/ HTTP/1.1"),
        b"",
    );
    assert_eq!(status, 202, "{response}");
    let location = response
        .lines()
        .find_map(|line| line.strip_prefix("Location: "))
        .expect("an upload session");
    let path = location
        .trim()
        .trim_start_matches(&format!("http://{}", server.address));
    let (status, response) = request(
        server,
        &format!(
            "PUT {path}&digest=sha256:{digest} HTTP/1.1\r\nContent-Type: application/octet-stream"
        ),
        bytes,
    );
    assert_eq!(status, 201, "{response}");
    format!(
        r#"{{"mediaType":"{media_type}","digest":"sha256:{digest}","size":{}}}"#,
        bytes.len()
    )
}

fn put_manifest(server: &TestRegistry, repository: &str, tag: &str, manifest: &str) {
    let (status, response) = request(
        server,
        &format!(
            "PUT /v2/{repository}/manifests/{tag} HTTP/1.1\r\nContent-Type: application/vnd.oci.image.manifest.v1+json"
        ),
        manifest.as_bytes(),
    );
    assert_eq!(status, 201, "{response}");
}

fn delete_manifest(server: &TestRegistry, repository: &str, digest: &str) {
    let (status, response) = request(
        server,
        &format!("DELETE /v2/{repository}/manifests/sha256:{digest} HTTP/1.1"),
        b"",
    );
    assert_eq!(status, 202, "{response}");
}
