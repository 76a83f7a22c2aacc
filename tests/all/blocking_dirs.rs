//! Read-only directories the operator marks `blocking = true`: blocking
//! calls read them on their own thread, from any thread, and everything
//! else about a directory grant still holds.

use std::path::Path;

use wasmplug::{Access, Consent, Error, Grant, Host, Plugin, Policy};
use wasmplug_tests::staged;

/// The hostile guest, asking to read `/data` (read-write when `write`).
fn reader(write: bool) -> (tempfile::TempDir, std::path::PathBuf) {
    let access = if write { "read-write" } else { "read" };
    staged(
        "hostile",
        Some(&format!(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n\n[permissions]\n\
             dirs = [{{ path = \"/data\", access = \"{access}\", reason = \"reads\" }}]\n"
        )),
    )
}

/// A directory holding `greeting.txt`.
fn data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("greeting.txt"), "hello from disk").unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    dir
}

/// A host whose policy marks `/data`, backed by `dir`, `blocking = true`.
fn marked(dir: &Path) -> Host {
    Host::builder()
        .policy(blocking_policy(dir))
        .build()
        .unwrap()
}

/// A policy allowing `/data` backed by `host` with `blocking = true`.
fn blocking_policy(host: &Path) -> Policy {
    let text = format!(
        "[allow]\ndirs = [{{ path = \"/data\", host = {:?}, access = \"read\", blocking = true }}]\n",
        host.display().to_string()
    );
    Policy::parse(&text, Path::new("policy.toml")).unwrap()
}

fn load(host: &Host, path: &Path) -> Plugin {
    host.block_on(host.load_file(path)).unwrap().unwrap()
}

/// What a reader sees of `/data` through blocking calls.
fn read_blocking(plugin: &Plugin) -> [String; 2] {
    [
        plugin.run_blocking("read /data/greeting.txt").unwrap(),
        plugin.run_blocking("list /data").unwrap(),
    ]
}

fn expected() -> [String; 2] {
    [
        "hello from disk".to_string(),
        "greeting.txt\nnested".to_string(),
    ]
}

#[test]
fn a_directory_marked_blocking_takes_blocking_calls() {
    let dir = data();
    let (_staged, path) = reader(false);
    let host = marked(dir.path());
    let plugin = load(&host, &path);
    assert_eq!(read_blocking(&plugin), expected());

    // Read-only still: the write fails inside the guest and nothing is made.
    let err = plugin.run_blocking("write /data/new.txt").unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
    assert!(!dir.path().join("new.txt").exists());
    // Paths outside the directory stay out of reach.
    let err = plugin
        .run_blocking("read /data/../../etc/passwd")
        .unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");

    // Async calls read it too, through tokio's blocking pool as before.
    let read = host.block_on(plugin.run("read /data/greeting.txt"));
    assert_eq!(read.unwrap().unwrap(), "hello from disk");
}

/// wasmtime-wasi's synchronous filesystem functions enter tokio, which
/// panics on a current-thread runtime's own thread; these never do.
#[tokio::test]
async fn a_blocking_directory_is_read_without_entering_tokio() {
    let dir = data();
    let (_staged, path) = reader(false);
    let host = marked(dir.path());
    let plugin = host.load_file(&path).await.unwrap();
    assert_eq!(read_blocking(&plugin), expected());
}

/// On a multi-thread runtime: on a worker (in `block_in_place`) and on
/// the blocking pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_directory_is_read_from_workers_and_the_blocking_pool() {
    let dir = data();
    let (_staged, path) = reader(false);
    let host = marked(dir.path());
    let plugin = host.load_file(&path).await.unwrap();
    assert_eq!(read_blocking(&plugin), expected());
    let pooled = plugin.clone();
    let answers = tokio::task::spawn_blocking(move || read_blocking(&pooled))
        .await
        .unwrap();
    assert_eq!(answers, expected());
}

/// A plugin asking for read-write gets read-only, and so blocking calls.
#[test]
fn a_read_write_request_is_granted_read_only_and_blocking() {
    let dir = data();
    let (_staged, path) = reader(true);
    let host = marked(dir.path());
    let plugin = load(&host, &path);
    assert_eq!(read_blocking(&plugin), expected());
}

/// One directory without the mark keeps the plugin to async calls, and
/// the user cannot give the mark: only the operator vouches for a disk.
#[test]
fn only_the_operator_marks_a_directory_blocking() {
    let dir = data();
    let other = tempfile::tempdir().unwrap();
    let manifest = "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n\n[permissions]\n\
         dirs = [{ path = \"/data\", reason = \"reads\" }, { path = \"/other\", reason = \"reads\" }]\n";
    let (_staged, path) = staged("hostile", Some(manifest));
    let policy =
        blocking_policy(dir.path()).allow(Grant::dir("/other", other.path(), Access::Read));
    let host = Host::builder().policy(policy).build().unwrap();
    let err = load(&host, &path).instantiate_blocking().unwrap_err();
    assert!(
        matches!(&err, Error::NotBlocking { reason, .. }
            if reason.contains("directories not marked `blocking`")),
        "{err:?}"
    );

    let (_staged, path) = reader(false);
    let policy = Policy::parse(
        "[allow]\ndirs = [{ path = \"/data\", access = \"read\" }]\n",
        Path::new("policy.toml"),
    )
    .unwrap();
    let consent = Consent::none().given(Grant::blocking_dir("/data", dir.path()));
    let host = Host::builder()
        .policy(policy)
        .consent(consent)
        .build()
        .unwrap();
    let plugin = load(&host, &path);
    assert_eq!(
        host.block_on(plugin.run("read /data/greeting.txt"))
            .unwrap()
            .unwrap(),
        "hello from disk"
    );
    let err = plugin.instantiate_blocking().unwrap_err();
    assert!(matches!(err, Error::NotBlocking { .. }), "{err:?}");
}

/// The mark is for read-only directories the policy names.
#[test]
fn a_policy_marks_only_named_read_only_directories_blocking() {
    for (allowance, says) in [
        (
            r#"{ path = "/data", host = "/srv", access = "read-write", blocking = true }"#,
            "is for read-only directories",
        ),
        (
            r#"{ path = "/data", access = "read", blocking = true }"#,
            "needs the `host` directory",
        ),
    ] {
        let text = format!("[allow]\ndirs = [{allowance}]\n");
        let err = Policy::parse(&text, Path::new("policy.toml")).unwrap_err();
        assert!(err.to_string().contains(says), "{allowance}: {err}");
    }
}
