//! Plugin sets: a directory of plugins loaded together, each failure its
//! own, and kept up to date while it is watched: new versions swapped in
//! under running calls, broken ones refused while the old one serves,
//! removed ones gone, and nothing more granted on a reload than before.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use wasmplug::{
    Consent, ConsentAnswer, Error, Grant, GrantStore, Host, HostBuilder, PluginSet, Policy,
    SetEvent,
};
use wasmplug_tests::{custom_section, guest};

/// A set's event, as the tests compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Loaded(String, String),
    Reloaded(String, String),
    /// The entry's file name, the error's kind, whether a version serves.
    Failed(String, &'static str, bool),
    Removed(String),
}

fn seen(event: &SetEvent<'_, ()>) -> Seen {
    let version = |p: &wasmplug::Plugin| p.identity().version.clone().unwrap_or_default();
    match event {
        SetEvent::Loaded { plugin } => Seen::Loaded(plugin.name().into(), version(plugin)),
        SetEvent::Reloaded { plugin, .. } => Seen::Reloaded(plugin.name().into(), version(plugin)),
        SetEvent::Failed {
            path,
            error,
            serving,
        } => Seen::Failed(file_name(path), error.kind(), serving.is_some()),
        SetEvent::Removed { plugin, .. } => Seen::Removed(plugin.name.clone()),
        _ => unreachable!("no other events exist"),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// A watched set over a directory of its own, and its events.
struct Watched {
    set: PluginSet,
    events: mpsc::Receiver<Seen>,
    dir: tempfile::TempDir,
}

impl Watched {
    fn open(dir: tempfile::TempDir, builder: HostBuilder) -> Self {
        let host = builder.cache(None).build().unwrap();
        let (send, events) = mpsc::channel();
        let set = host
            .block_on(
                PluginSet::builder(&host, dir.path())
                    .debounce(Duration::from_millis(50))
                    .on_event(move |event| send.send(seen(event)).unwrap())
                    .open(),
            )
            .unwrap()
            .unwrap();
        Watched { set, events, dir }
    }

    /// The next event; the wait is only a guard against hanging forever.
    fn next(&self) -> Seen {
        self.events
            .recv_timeout(Duration::from_secs(60))
            .expect("the set reported nothing")
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }
}

fn hello_manifest(version: &str, greeting: &str, extra: &str) -> String {
    format!(
        "[plugin]\nname = \"hello\"\nversion = \"{version}\"\nworld = \"wasmplug:plugin/plugin@0.1.0\"\n\
         {extra}\n[config]\ngreeting = \"{greeting}\"\n"
    )
}

/// A directory holding `hello` in its own folder, with its manifest.
fn with_hello() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    place_hello(dir.path(), "hello", &hello_manifest("1.0.0", "Hello", ""));
    dir
}

fn place_hello(dir: &Path, folder: &str, manifest: &str) {
    let folder = dir.join(folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(guest("hello"), folder.join("hello.wasm")).unwrap();
    std::fs::write(folder.join("plugin.toml"), manifest).unwrap();
}

/// Writes `text` to `path` through a temporary file renamed over it, as
/// editors and installers do.
fn rename_over(path: &Path, bytes: &[u8]) {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

#[test]
fn a_broken_plugin_does_not_stop_the_others() {
    let dir = with_hello();
    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("garbage.wasm"), b"not wasm at all").unwrap();
    let twins = dir.path().join("twins");
    std::fs::create_dir(&twins).unwrap();
    std::fs::copy(guest("hello"), twins.join("a.wasm")).unwrap();
    std::fs::copy(guest("hello"), twins.join("b.wasm")).unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    std::fs::copy(guest("hostile"), dir.path().join("lone.wasm")).unwrap();
    std::fs::write(dir.path().join("README.md"), "not a plugin").unwrap();
    place_hello(
        dir.path(),
        "second-hello",
        &hello_manifest("2.0.0", "Hi", ""),
    );

    let watched = Watched::open(dir, Host::builder());
    let mut events: Vec<Seen> = watched.events.try_iter().collect();
    events.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        events,
        [
            Seen::Failed("empty".into(), "plugin-folder", false),
            Seen::Failed("garbage".into(), "invalid-component", false),
            Seen::Failed("second-hello".into(), "plugin-folder", false),
            Seen::Failed("twins".into(), "plugin-folder", false),
            Seen::Loaded("hello".into(), "1.0.0".into()),
            Seen::Loaded("lone".into(), "".into()),
        ]
    );
    let set = &watched.set;
    let hello = set.get("hello").expect("hello loads beside broken plugins");
    assert_eq!(hello.run_blocking("world").unwrap(), "Hello, world!");
    assert!(set.get("lone").is_some(), "a lone .wasm is a plugin too");
    assert!(set.get("garbage").is_none());
    let entries = set.entries();
    let names: Vec<String> = entries.iter().map(|e| file_name(&e.path)).collect();
    assert_eq!(
        names,
        [
            "empty",
            "garbage",
            "hello",
            "lone.wasm",
            "second-hello",
            "twins"
        ]
    );
    let twins = entries.iter().find(|e| e.path.ends_with("twins")).unwrap();
    let error = twins.error.as_deref().unwrap();
    assert!(error.to_string().contains("a.wasm, b.wasm"), "{error}");
    let duplicate = entries
        .iter()
        .find(|e| e.path.ends_with("second-hello"))
        .unwrap();
    let error = duplicate.error.as_deref().unwrap();
    assert!(error.to_string().contains("already loaded from"), "{error}");
}

#[test]
fn reloads_swap_under_running_calls_and_no_call_fails() {
    let watched = Watched::open(with_hello(), Host::builder());
    assert_eq!(watched.next(), Seen::Loaded("hello".into(), "1.0.0".into()));
    let set = watched.set.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (set, stop, calls) = (set.clone(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let plugin = set.get("hello").expect("a version always serves");
                    match plugin.run_blocking("world") {
                        Ok(out) if out == "Hello, world!" || out == "Hi, world!" => {}
                        other => failures.push(format!("{other:?}")),
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
                failures
            })
        })
        .collect();

    let wasm = std::fs::read(guest("hello")).unwrap();
    for round in 1..=10 {
        let version = format!("1.0.{round}");
        let greeting = if round % 2 == 0 { "Hello" } else { "Hi" };
        if round % 3 == 0 {
            // A new build: other bytes, the same behaviour.
            let build = custom_section(&wasm, "build", format!("{round}").as_bytes());
            rename_over(&watched.path("hello/hello.wasm"), &build);
        }
        rename_over(
            &watched.path("hello/plugin.toml"),
            hello_manifest(&version, greeting, "").as_bytes(),
        );
        assert_eq!(
            watched.next(),
            Seen::Reloaded("hello".into(), version.clone())
        );
        let serving = set.get("hello").unwrap();
        assert_eq!(
            serving.identity().version.as_deref(),
            Some(version.as_str())
        );
        assert_eq!(
            serving.run_blocking("you").unwrap(),
            format!("{greeting}, you!")
        );
    }
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        let failures = caller.join().unwrap();
        assert!(failures.is_empty(), "calls failed: {failures:?}");
    }
    assert!(calls.load(Ordering::Relaxed) > 10);
}

#[test]
fn a_broken_reload_keeps_the_old_version_serving() {
    let watched = Watched::open(with_hello(), Host::builder());
    assert_eq!(watched.next(), Seen::Loaded("hello".into(), "1.0.0".into()));
    let wasm = watched.path("hello/hello.wasm");
    let good = std::fs::read(&wasm).unwrap();
    std::fs::write(&wasm, &good[..good.len() / 2]).unwrap();
    assert_eq!(
        watched.next(),
        Seen::Failed("hello".into(), "invalid-component", true)
    );
    let set = &watched.set;
    assert_eq!(
        set.get("hello").unwrap().run_blocking("still").unwrap(),
        "Hello, still!"
    );
    let entry = &set.entries()[0];
    assert!(entry.plugin.is_some() && entry.error.is_some());

    std::fs::write(
        watched.path("hello/plugin.toml"),
        "[plugin]\nname = \"hello\"\nversion = \"one\"\n",
    )
    .unwrap();
    std::fs::write(&wasm, &good).unwrap();
    assert_eq!(
        watched.next(),
        Seen::Failed("hello".into(), "manifest", true)
    );

    std::fs::write(
        watched.path("hello/plugin.toml"),
        hello_manifest("1.1.0", "Hi", ""),
    )
    .unwrap();
    assert_eq!(
        watched.next(),
        Seen::Reloaded("hello".into(), "1.1.0".into())
    );
    assert_eq!(
        set.get("hello").unwrap().run_blocking("again").unwrap(),
        "Hi, again!"
    );
    assert!(set.entries()[0].error.is_none());
}

#[test]
fn plugins_come_and_go_with_their_folders() {
    let watched = Watched::open(tempfile::tempdir().unwrap(), Host::builder());
    assert!(watched.set.plugins().is_empty());
    // Made elsewhere and moved in whole, as an installer does.
    let staging = tempfile::tempdir().unwrap();
    place_hello(
        staging.path(),
        "hello",
        &hello_manifest("1.0.0", "Hello", ""),
    );
    std::fs::rename(staging.path().join("hello"), watched.path("hello")).unwrap();
    assert_eq!(watched.next(), Seen::Loaded("hello".into(), "1.0.0".into()));
    let running = watched.set.get("hello").unwrap();

    std::fs::remove_dir_all(watched.path("hello")).unwrap();
    assert_eq!(watched.next(), Seen::Removed("hello".into()));
    assert!(watched.set.get("hello").is_none());
    assert!(watched.set.entries().is_empty());
    // A caller that took the plugin before keeps a working version.
    assert_eq!(running.run_blocking("late").unwrap(), "Hello, late!");
}

#[test]
fn disabled_plugins_serve_no_calls_across_reloads() {
    let watched = Watched::open(with_hello(), Host::builder());
    watched.next();
    let set = &watched.set;
    assert!(set.disable("hello"));
    assert!(set.get("hello").is_none());
    assert!(set.plugins().is_empty());
    assert!(!set.entries()[0].enabled);
    std::fs::write(
        watched.path("hello/plugin.toml"),
        hello_manifest("1.0.1", "Hi", ""),
    )
    .unwrap();
    assert_eq!(
        watched.next(),
        Seen::Reloaded("hello".into(), "1.0.1".into())
    );
    assert!(set.get("hello").is_none(), "still disabled after a reload");
    assert!(set.enable("hello"));
    assert_eq!(
        set.get("hello").unwrap().run_blocking("x").unwrap(),
        "Hi, x!"
    );
    assert!(!set.disable("nobody"));
}

#[test]
fn a_reload_asking_for_more_than_was_consented_is_refused() {
    let grants = tempfile::tempdir().unwrap();
    let store = GrantStore::at(grants.path().join("grants.toml"));
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let consent = Consent::none().remembered(store).prompt(move |request| {
        counter.fetch_add(1, Ordering::SeqCst);
        ConsentAnswer::all(request, false)
    });
    let policy = Policy::new()
        .allow(Grant::env_value("GREETING_LANG", "fr"))
        .allow(Grant::clocks());
    let dir = tempfile::tempdir().unwrap();
    let clocks = "[permissions]\nclocks = \"stamps greetings\"\n";
    place_hello(
        dir.path(),
        "hello",
        &hello_manifest("1.0.0", "Hello", clocks),
    );
    let watched = Watched::open(dir, Host::builder().policy(policy).consent(consent));
    assert_eq!(watched.next(), Seen::Loaded("hello".into(), "1.0.0".into()));
    assert_eq!(asked.load(Ordering::SeqCst), 1, "the first load asks");

    // The same grants: the new version needs no one.
    std::fs::write(
        watched.path("hello/plugin.toml"),
        hello_manifest("1.0.1", "Hello", clocks),
    )
    .unwrap();
    assert_eq!(
        watched.next(),
        Seen::Reloaded("hello".into(), "1.0.1".into())
    );

    // More than before: refused, and nobody is asked in the background.
    let more = "[permissions]\nclocks = \"stamps greetings\"\n\
                env = [{ name = \"GREETING_LANG\", reason = \"greets in your language\" }]\n";
    std::fs::write(
        watched.path("hello/plugin.toml"),
        hello_manifest("2.0.0", "Bonjour", more),
    )
    .unwrap();
    assert_eq!(
        watched.next(),
        Seen::Failed("hello".into(), "consent-required", true)
    );
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let entry = &watched.set.entries()[0];
    let Some(Error::ConsentRequired { missing, .. }) = entry.error.as_deref() else {
        panic!("expected ConsentRequired, got {:?}", entry.error);
    };
    assert_eq!(missing[0].permission.to_string(), "env GREETING_LANG");
    let serving = watched.set.get("hello").unwrap();
    assert_eq!(serving.identity().version.as_deref(), Some("1.0.1"));
}
