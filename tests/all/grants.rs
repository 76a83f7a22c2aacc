//! Remembered consent kept in a file that several processes write at once.

use std::process::Command;
use std::time::SystemTime;

use wasmplug::{Consented, GrantStore, Permission, PluginIdentity, Sha256Digest};

/// Names the grants file and the plugin a writer process records.
const WRITER: &str = "WASMPLUG_TEST_GRANTS_WRITER";
const ROUNDS: u8 = 20;

/// The writer that the test below starts in processes of its own; run
/// without its variable, as part of the suite, it does nothing.
#[test]
fn grants_writer() {
    let Ok(spec) = std::env::var(WRITER) else {
        return;
    };
    let (path, name) = spec.split_once('|').expect("PATH|NAME");
    let store = GrantStore::at(path);
    for round in 0..ROUNDS {
        store
            .record(Consented {
                identity: PluginIdentity {
                    name: format!("{name}-{round}"),
                    version: Some("1.0.0".into()),
                    sha256: Sha256Digest([round; 32]),
                },
                granted: [Permission::Clocks].into(),
                when: SystemTime::now(),
            })
            .unwrap();
    }
}

#[test]
fn processes_recording_at_once_keep_every_consent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grants.toml");
    let writers: Vec<_> = (0..4)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "grants::grants_writer", "--quiet"])
                .env(WRITER, format!("{}|writer{i}", path.display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut writer in writers {
        assert!(writer.wait().unwrap().success());
    }
    let recorded = GrantStore::at(&path).list().unwrap();
    assert_eq!(recorded.len(), 4 * usize::from(ROUNDS));
}
