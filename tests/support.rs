//! Helpers for the integration tests: building the guest plugins in
//! `tests/plugins` from source, once per test process.

pub mod local_http;
pub mod oci_registry;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;

/// The repository's root.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package sits in the repository root")
}

/// Where guest builds go: beside the host's build, in a directory of their own.
fn guest_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("guests")
}

/// Builds every test plugin (once per process; cargo's lock makes parallel
/// test processes safe) and returns the directory holding them.
fn built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        hush_guest_output();
        let target = guest_target_dir();
        build_guests("tests/plugins", &target, &["--target", "wasm32-wasip2"]);
        build_guests(
            "tests/plugins",
            &target,
            &[
                "--target",
                "wasm32-wasip1",
                "-p",
                "command",
                "-p",
                "programs",
            ],
        );
        target
    })
}

/// Installs a `tracing` subscriber that keeps nothing, once per process:
/// without one, hosts write what plugins print to stderr (so that it is
/// never lost), and the tests' misbehaving plugins print megabytes. The
/// tests that watch output install a subscriber of their own for the
/// thread; the one that checks output without any runs in a process of its
/// own.
fn hush_guest_output() {
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::OFF),
    );
}

/// Builds the guests of the cargo workspace at `workspace` (relative to the
/// repository) into `target` with `args`.
fn build_guests(workspace: &str, target: &Path, args: &[&str]) {
    // So the tests run on a fresh machine without a setup step.
    wasmplug_build::ensure_rust_targets(&["wasm32-wasip2", "wasm32-wasip1"])
        .unwrap_or_else(|e| panic!("{e}"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The guest workspace's own .cargo/config.toml applies only when cargo
    // runs from inside it.
    let status = Command::new(&cargo)
        .current_dir(repo_root().join(workspace))
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(target)
        .args(args)
        .status()
        .expect("running cargo to build guest plugins");
    assert!(
        status.success(),
        "building the guests of {workspace} failed"
    );
}

/// The path of a plugin of `examples/plugins`, e.g. `example_guest("shout")`,
/// built once per process where `examples/run.sh` builds it.
pub fn example_guest(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        hush_guest_output();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target"))
            .join("example-guests");
        build_guests("examples/plugins", &target, &["--target", "wasm32-wasip2"]);
        target
    });
    let path = dir
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        path.exists(),
        "example plugin {} was not built",
        path.display()
    );
    path
}

/// The path of a test plugin built for `wasm32-wasip2`, e.g. `guest("hello")`.
pub fn guest(name: &str) -> PathBuf {
    guest_for("wasm32-wasip2", name)
}

/// The path of a test plugin built for `target`; only `command` and
/// `programs` are built for `wasm32-wasip1`.
pub fn guest_for(target: &str, name: &str) -> PathBuf {
    let path = built()
        .join(target)
        .join("release")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "test plugin {} was not built",
        path.display()
    );
    path
}

/// Copies a guest into a fresh directory, optionally with a `plugin.toml`,
/// so each test controls the manifest found beside it.
pub fn staged(name: &str, manifest: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let path = dir.path().join(format!("{name}.wasm"));
    std::fs::copy(guest(name), &path).expect("copying a test plugin");
    if let Some(manifest) = manifest {
        std::fs::write(dir.path().join("plugin.toml"), manifest).expect("writing a manifest");
    }
    (dir, path)
}

/// Builds the plugin project in `dir` with `wasmplug build` (with `engine`
/// for JavaScript) into a folder `NAME` of the test target folder, and
/// returns the component's path; its manifest is beside it.
pub fn build_project(dir: &Path, engine: Option<wasmplug_build::JsEngine>, name: &str) -> PathBuf {
    let mut project = wasmplug_build::Project::open(dir)
        .unwrap_or_else(|e| panic!("opening {}: {e}", dir.display()));
    if let Some(engine) = engine {
        project.set_js_engine(engine);
    }
    // A folder per build: each gets its project's plugin.toml too.
    let output = guest_target_dir()
        .join("projects")
        .join(format!("{name}{}", std::path::MAIN_SEPARATOR));
    project
        .build(&output)
        .unwrap_or_else(|e| panic!("building {}: {e}", dir.display()))
        .path
}

/// Whether `language`'s toolchain is installed, for the tests that build
/// plugin projects. When it is not, the test is skipped with the install
/// command, unless `WASMPLUG_CONFORMANCE_REQUIRE` lists the language (or
/// says `all`, as CI does): then the test fails.
pub fn toolchain_ready(language: wasmplug_build::Language) -> bool {
    let Err(missing) = wasmplug_build::Toolchain::find(language) else {
        return true;
    };
    skip_unless_required(language.name(), &missing.to_string())
}

/// Skips, saying why, unless `WASMPLUG_CONFORMANCE_REQUIRE` lists `what`
/// or says `all`: then fails. Returns false.
pub fn skip_unless_required(what: &str, missing: &str) -> bool {
    let required = std::env::var("WASMPLUG_CONFORMANCE_REQUIRE").is_ok_and(|list| {
        list.split(',')
            .any(|item| item.trim() == "all" || item.trim() == what)
    });
    assert!(!required, "{missing}");
    eprintln!("skipped: {missing}");
    false
}

/// Tight limits, so that runaway plugins are stopped quickly.
pub fn tight_limits() -> wasmplug::Limits {
    wasmplug::Limits::default()
        .memory(32 << 20)
        .cpu(std::time::Duration::from_millis(300))
        .timeout(std::time::Duration::from_secs(2))
        .output(64 << 10)
}

/// `builder` with a counter of the compilations it starts.
pub fn counting_compiles(
    builder: wasmplug::HostBuilder,
) -> (
    wasmplug::HostBuilder,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let compiles = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = compiles.clone();
    let builder = builder.on_compile(move |event| {
        if let wasmplug::CompileEvent::Started { .. } = event {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (builder, compiles)
}

/// `wasm` with a custom section `name` holding `payload` appended: other
/// bytes (another SHA-256, another build), the same component.
pub fn custom_section(wasm: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    let mut content = leb128(name.len());
    content.extend_from_slice(name.as_bytes());
    content.extend_from_slice(payload);
    let mut bytes = wasm.to_vec();
    bytes.push(0);
    bytes.extend(leb128(content.len()));
    bytes.extend(content);
    bytes
}

fn leb128(mut value: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(byte);
            return bytes;
        }
        bytes.push(byte | 0x80);
    }
}

/// Polls `future` to completion on this thread, without tokio: the
/// simplest executor there is, for what must work on any.
pub fn block_on_any<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}
