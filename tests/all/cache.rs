//! Compile once: the second load of a component comes from the cache, and a
//! damaged cache never costs more than a recompile.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmplug::{ArtifactCache, Host};
use wasmplug_tests::{counting_compiles, guest};

/// A host using the cache in `dir` that counts its compilations.
fn counting_host(dir: &Path) -> (Host, Arc<AtomicUsize>) {
    counting_host_with(Some(ArtifactCache::new(dir, 1 << 30)))
}

fn counting_host_with(cache: Option<ArtifactCache>) -> (Host, Arc<AtomicUsize>) {
    let (builder, compiles) = counting_compiles(Host::builder().cache(cache));
    (builder.build().unwrap(), compiles)
}

/// The compiled artifacts in a cache directory.
fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for engine in std::fs::read_dir(dir).unwrap() {
        for entry in std::fs::read_dir(engine.unwrap().path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cwasm") {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test]
async fn a_second_load_comes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (host, compiles) = counting_host(dir.path());
    let first = host.load_file(guest("hello")).await.unwrap();
    assert_eq!(compiles.load(Ordering::SeqCst), 1);
    assert_eq!(entries(dir.path()).len(), 1);

    // A new host, as in a new process.
    let (host, compiles) = counting_host(dir.path());
    let second = host.load_file(guest("hello")).await.unwrap();
    assert_eq!(compiles.load(Ordering::SeqCst), 0, "loaded from the cache");
    assert_eq!(second.sha256(), first.sha256());
    assert_eq!(second.run("cached").await.unwrap(), "Hello, cached!");
}

#[tokio::test]
async fn a_corrupt_entry_is_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let (host, _) = counting_host(dir.path());
    host.load_file(guest("hello")).await.unwrap();
    let entry = entries(dir.path()).remove(0);
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&entry, &bytes).unwrap();

    let (host, compiles) = counting_host(dir.path());
    let plugin = host.load_file(guest("hello")).await.unwrap();
    assert_eq!(compiles.load(Ordering::SeqCst), 1, "recompiled");
    assert_eq!(plugin.run("again").await.unwrap(), "Hello, again!");
    assert_ne!(
        std::fs::read(&entry).unwrap(),
        bytes,
        "the entry was rewritten"
    );
}

#[tokio::test]
async fn concurrent_loads_fill_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (host, _) = counting_host(dir.path());
    let loads = (0..4).map(|_| {
        let host = host.clone();
        tokio::spawn(async move { host.load_file(guest("hostile")).await.map(|p| p.sha256()) })
    });
    for load in loads {
        load.await.unwrap().unwrap();
    }
    assert_eq!(entries(dir.path()).len(), 1);
}

#[tokio::test]
async fn without_a_cache_every_load_compiles() {
    let (host, compiles) = counting_host_with(None);
    host.load_file(guest("hello")).await.unwrap();
    host.load_file(guest("hello")).await.unwrap();
    assert_eq!(compiles.load(Ordering::SeqCst), 2);
}
