//! Text through the parsers of files a plugin or its users write: the
//! manifest, the operator's policy and the grants file. Each ends in a
//! value or a typed error with a position.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wasmplug::{Error, GrantStore, Manifest, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Manifest::parse(text, Path::new("plugin.toml")) {
        Ok(manifest) => {
            for request in &manifest.requests {
                let _ = request.to_string();
            }
        }
        Err(error) => assert!(matches!(error, Error::Manifest { .. }), "{error:?}"),
    }
    match Policy::parse(text, Path::new("policy.toml")) {
        Ok(policy) => {
            let _ = policy.allowances("plugin").count();
            let _ = policy.ceiling("plugin");
        }
        Err(error) => assert!(matches!(error, Error::Policy { .. }), "{error:?}"),
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("grants.toml");
    std::fs::write(&path, text).expect("writing the grants file");
    let store = GrantStore::at(&path);
    match store.list() {
        Ok(consents) => {
            // What was read is written back and read again the same.
            if let Some(first) = consents.first() {
                store
                    .record(first.clone())
                    .expect("recording a consent read back");
            }
        }
        Err(error) => assert!(matches!(error, Error::GrantStore { .. }), "{error:?}"),
    }
});
