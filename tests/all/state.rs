//! State a plugin keeps: `wasi:keyvalue` buckets on disk, one store per
//! plugin name, with quotas; and `wasi:config/store`.

use std::path::Path;

use wasmplug::{Error, Grant, Host, KeyValueStore, KvQuota, Plugin, Policy};
use wasmplug_tests::staged;

/// The `state` plugin named `name`, requesting `buckets`.
fn manifest(name: &str, buckets: &[&str]) -> String {
    let requests: Vec<String> = buckets
        .iter()
        .map(|b| format!(r#"{{ bucket = "{b}", reason = "keeps its {b}" }}"#))
        .collect();
    format!(
        "[plugin]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[config]\ngreeting = \"hello\"\n\n\
         [permissions]\nkeyvalue = [{}]\n",
        requests.join(", ")
    )
}

fn host(data: &Path, quota: KvQuota) -> Host {
    Host::builder()
        .policy(Policy::new().allow(Grant::bucket("*")))
        .data_dir(Some(data))
        .kv_quota(quota)
        .build()
        .unwrap()
}

async fn load(host: &Host, name: &str, buckets: &[&str]) -> (tempfile::TempDir, Plugin) {
    let (dir, path) = staged("state", Some(&manifest(name, buckets)));
    let plugin = host.load_file(&path).await.unwrap();
    (dir, plugin)
}

fn guest_error(outcome: wasmplug::Result<String>) -> String {
    match outcome {
        Err(Error::Guest { message, .. }) => message,
        other => panic!("expected the guest's error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_plugin_keeps_data_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    {
        let host = host(data.path(), KvQuota::default());
        let (_dir, plugin) = load(&host, "notes", &["notes"]).await;
        assert_eq!(plugin.run("set notes monday buy milk").await.unwrap(), "ok");
        assert_eq!(plugin.run("incr notes visits 2").await.unwrap(), "2");
        assert_eq!(plugin.run("set-many notes a=1,b=2").await.unwrap(), "ok");
    }
    // Another host, as after a restart of the process.
    let host = host(data.path(), KvQuota::default());
    let (_dir, plugin) = load(&host, "notes", &["notes"]).await;
    assert_eq!(plugin.run("get notes monday").await.unwrap(), "buy milk");
    assert_eq!(plugin.run("incr notes visits 1").await.unwrap(), "3");
    assert_eq!(plugin.run("keys notes").await.unwrap(), "a,b,monday,visits");
    assert_eq!(
        plugin.run("get-many notes a,zz,b").await.unwrap(),
        "a=1,zz=<none>,b=2"
    );
    assert_eq!(plugin.run("delete-many notes a,b").await.unwrap(), "ok");
    assert_eq!(plugin.run("exists notes a").await.unwrap(), "false");
    // An operator sees the same data.
    drop(plugin);
    drop(host);
    let store = KeyValueStore::open(data.path(), "notes", KvQuota::default()).unwrap();
    assert_eq!(store.get("notes", "monday").unwrap().unwrap(), b"buy milk");
}

#[tokio::test]
async fn one_plugins_data_is_invisible_to_another() {
    let data = tempfile::tempdir().unwrap();
    let host = host(data.path(), KvQuota::default());
    let (_a, alice) = load(&host, "alice", &["shared"]).await;
    let (_b, bob) = load(&host, "bob", &["shared"]).await;
    alice.run("set shared secret 42").await.unwrap();
    assert_eq!(bob.run("get shared secret").await.unwrap(), "<none>");
    assert_eq!(bob.run("keys shared").await.unwrap(), "");
    assert_eq!(alice.run("get shared secret").await.unwrap(), "42");
}

#[tokio::test]
async fn a_bucket_not_granted_is_access_denied() {
    let data = tempfile::tempdir().unwrap();
    let host = host(data.path(), KvQuota::default());
    let (_dir, plugin) = load(&host, "nosy", &["mine"]).await;
    assert!(guest_error(plugin.run("open theirs").await).contains("AccessDenied"));
    assert_eq!(plugin.run("open mine").await.unwrap(), "opened");

    // Requested but not allowed by the operator: denied too, and no trap.
    let strict = Host::builder()
        .policy(Policy::new().allow(Grant::bucket("other")))
        .data_dir(Some(data.path()))
        .build()
        .unwrap();
    let (_dir, plugin) = load(&strict, "nosy", &["mine"]).await;
    assert!(guest_error(plugin.run("open mine").await).contains("AccessDenied"));
}

#[tokio::test]
async fn writes_over_quota_are_errors_to_the_guest_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let quota = KvQuota::default().key(16).value(100).total(250);
    let host = host(data.path(), quota);
    let (_dir, plugin) = load(&host, "hoarder", &["stuff"]).await;
    let long_key = "k".repeat(17);
    assert!(guest_error(plugin.run(&format!("set stuff {long_key} v")).await).contains("quota"));
    assert!(guest_error(plugin.run("set-size stuff big 101").await).contains("quota"));
    assert_eq!(plugin.run("set-size stuff a 100").await.unwrap(), "ok");
    assert_eq!(plugin.run("set-size stuff b 100").await.unwrap(), "ok");
    // 202 bytes kept; another 101 would pass 250.
    assert!(guest_error(plugin.run("set-size stuff c 100").await).contains("quota"));
    assert_eq!(plugin.run("keys stuff").await.unwrap(), "a,b");
    // The instance goes on: nothing trapped.
    assert_eq!(plugin.run("delete stuff a").await.unwrap(), "ok");
    assert_eq!(plugin.run("set-size stuff c 100").await.unwrap(), "ok");
}

#[tokio::test]
async fn a_host_without_a_data_directory_answers_errors_not_traps() {
    let host = Host::builder()
        .policy(Policy::new().allow(Grant::bucket("*")))
        .data_dir(None::<&Path>)
        .build()
        .unwrap();
    let (_dir, plugin) = load(&host, "homeless", &["b"]).await;
    let message = guest_error(plugin.run("open b").await);
    assert!(message.contains("data directory"), "{message}");
}

#[tokio::test]
async fn wasi_config_reads_the_manifest_with_the_hosts_values_over_it() {
    let data = tempfile::tempdir().unwrap();
    let host = Host::builder()
        .data_dir(Some(data.path()))
        .config("colour", "teal")
        .build()
        .unwrap();
    let (_dir, plugin) = load(&host, "configured", &[]).await;
    assert_eq!(plugin.run("config greeting").await.unwrap(), "hello");
    assert_eq!(plugin.run("config colour").await.unwrap(), "teal");
    assert_eq!(plugin.run("config missing").await.unwrap(), "<none>");
    assert_eq!(
        plugin.run("config-all").await.unwrap(),
        "colour=teal,greeting=hello"
    );
    // Its key-value import is linked with nothing granted.
    let kv = plugin
        .imports()
        .iter()
        .find(|i| i.name.starts_with("wasi:keyvalue/store"))
        .unwrap();
    assert_eq!(kv.status, wasmplug::ImportStatus::Empty { key: "keyvalue" });
}
