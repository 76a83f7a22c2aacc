//! A real OCI registry for tests: CNCF distribution (Debian's
//! `docker-registry`), on 127.0.0.1 at a free port, with its own config and
//! storage in a temporary directory, stopped when dropped.
//!
//! Where `docker-registry` or `skopeo` is missing, the tests that need them
//! are skipped with the command that installs them
//! (`scripts/test-servers.sh`), unless `WASMPLUG_CONFORMANCE_REQUIRE` says
//! `all` or `registry`, as in CI: then they fail.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "docker-registry";

/// A running registry.
pub struct TestRegistry {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`, the registry part of references.
    pub address: String,
}

impl TestRegistry {
    /// Starts a registry with deletes enabled; `None` (the test is
    /// skipped) when the registry or skopeo is not installed.
    pub fn start() -> Option<Self> {
        if let Some(missing) = [BINARY, "skopeo"].into_iter().find(|b| !on_path(b)) {
            let why =
                format!("`{missing}` is not installed; ./scripts/test-servers.sh installs it");
            crate::skip_unless_required("registry", &why);
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {address}\n",
                storage.display()
            ),
        )
        .expect("the registry's config is written");
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{BINARY}`: {e}"));
        let mut registry = TestRegistry {
            child,
            dir,
            address,
        };
        registry.wait_until_listening();
        Some(registry)
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        while TcpStream::connect(&self.address).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("`{BINARY}` exited at start: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "`{BINARY}` did not listen on {} within 30 s",
                self.address
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:PORT/REPOSITORY`.
    pub fn repository(&self, name: &str) -> String {
        format!("{}/{name}", self.address)
    }

    /// Where the registry keeps the blob with this hex SHA-256.
    pub fn blob_file(&self, sha256_hex: &str) -> PathBuf {
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&sha256_hex[..2])
            .join(sha256_hex)
            .join("data")
    }

    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Stops the registry at once; later requests find nothing listening.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()))
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}
