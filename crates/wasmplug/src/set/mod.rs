//! A directory of plugins that come and go while the application runs.
//!
//! [`PluginSet`] loads every plugin of a directory (each in a folder of its
//! own beside its `plugin.toml`, or a lone `.wasm` file) under the host's
//! policy and the user's consent. One that fails to load is reported with
//! its typed error and stops nothing else. While it watches, a plugin whose
//! files change (written in place, renamed over, added, removed) is loaded
//! again in the background and swapped in atomically: a call already
//! running finishes on the version it started with, and no call ever sees
//! a half-loaded plugin, because a new version is visible only once it is
//! compiled and linked. A new version that fails to load, or that asks for
//! more than the user consented to, leaves the old one serving and is
//! reported. Reloads never prompt: what the running version was granted
//! carries over, and anything more is [`Error::ConsentRequired`].

mod folder;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::error::{Error, Result};
use crate::host::{Host, off_async_workers};
use crate::plugin::{self, Plugin};
use crate::policy::{Consent, ConsentAnswer, PluginIdentity};
use folder::Fingerprint;

/// What happened to a plugin of a set.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetEvent<'a, T: 'static> {
    /// A plugin was loaded where there was none.
    Loaded { plugin: &'a Plugin<T> },
    /// A new version replaced the one serving.
    Reloaded {
        plugin: &'a Plugin<T>,
        previous: &'a PluginIdentity,
    },
    /// What is at `path` could not be loaded; `serving` is the version that
    /// goes on serving, if there is one.
    Failed {
        path: &'a Path,
        error: &'a Error,
        serving: Option<&'a PluginIdentity>,
    },
    /// The plugin's files are gone; it serves no more calls.
    Removed {
        path: &'a Path,
        plugin: &'a PluginIdentity,
    },
}

/// Receives a set's [`SetEvent`]s, on the thread that loads.
pub type SetObserver<T> = Arc<dyn Fn(&SetEvent<'_, T>) + Send + Sync>;

/// One entry of a set's directory, as [`PluginSet::entries`] reports it.
#[derive(Debug)]
#[non_exhaustive]
pub struct SetEntry<T: 'static> {
    /// The plugin's folder or file.
    pub path: PathBuf,
    /// The version serving, if any.
    pub plugin: Option<Plugin<T>>,
    /// Why the files there now could not be loaded, if they could not.
    pub error: Option<Arc<Error>>,
    /// Whether the plugin serves calls; see [`PluginSet::disable`].
    pub enabled: bool,
}

/// The plugins of a directory, kept up to date while it is watched. Cheap
/// to clone and safe to share: every clone sees the same set, and the set
/// stops watching when the last clone is dropped.
pub struct PluginSet<T: 'static = ()> {
    shared: Arc<Shared<T>>,
}

impl<T: 'static> Clone for PluginSet<T> {
    fn clone(&self) -> Self {
        PluginSet {
            shared: self.shared.clone(),
        }
    }
}

/// Configures a [`PluginSet`].
pub struct PluginSetBuilder<T: 'static> {
    host: Host<T>,
    dir: PathBuf,
    watch: bool,
    debounce: Duration,
    observer: Option<SetObserver<T>>,
}

struct Shared<T: 'static> {
    host: Host<T>,
    dir: PathBuf,
    state: ArcSwap<State<T>>,
    /// One load at a time, so the same files are never compiled twice.
    loading: Mutex<()>,
    observer: Option<SetObserver<T>>,
    /// Kept for as long as the set lives; dropping it stops the watching.
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
}

/// What the set serves, replaced whole on every change.
struct State<T: 'static> {
    /// By the entry's name in the directory.
    slots: BTreeMap<String, Slot<T>>,
    /// The plugin serving each name: the first slot's, in the directory's
    /// order.
    by_name: BTreeMap<String, Plugin<T>>,
    /// Plugin names that serve no calls.
    disabled: BTreeSet<String>,
}

impl<T: 'static> Clone for State<T> {
    fn clone(&self) -> Self {
        State {
            slots: self.slots.clone(),
            by_name: self.by_name.clone(),
            disabled: self.disabled.clone(),
        }
    }
}

struct Slot<T: 'static> {
    plugin: Option<Plugin<T>>,
    /// The files as last read, loaded or not.
    fingerprint: Option<Fingerprint>,
    error: Option<Arc<Error>>,
}

impl<T: 'static> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot {
            plugin: self.plugin.clone(),
            fingerprint: self.fingerprint,
            error: self.error.clone(),
        }
    }
}

impl<T: 'static> State<T> {
    fn empty() -> Self {
        State {
            slots: BTreeMap::new(),
            by_name: BTreeMap::new(),
            disabled: BTreeSet::new(),
        }
    }

    /// This state with `key`'s slot replaced (or removed, for `None`).
    fn with_slot(&self, key: &str, slot: Option<Slot<T>>) -> Self {
        let mut next = self.clone();
        match slot {
            Some(slot) => next.slots.insert(key.to_string(), slot),
            None => next.slots.remove(key),
        };
        next.by_name = BTreeMap::new();
        for plugin in next.slots.values().filter_map(|s| s.plugin.as_ref()) {
            next.by_name
                .entry(plugin.name().to_string())
                .or_insert_with(|| plugin.clone());
        }
        next
    }
}

/// How long a set waits for a plugin's files to stop changing before it
/// loads them: editors write a file in several steps.
const DEBOUNCE: Duration = Duration::from_millis(50);

impl<T: Send + 'static> PluginSet<T> {
    /// A set of the plugins in `dir`, loaded by `host`.
    pub fn builder(host: &Host<T>, dir: impl Into<PathBuf>) -> PluginSetBuilder<T> {
        PluginSetBuilder {
            host: host.clone(),
            dir: dir.into(),
            watch: true,
            debounce: DEBOUNCE,
            observer: None,
        }
    }

    /// The plugin called `name`, unless it is disabled or absent. Take it
    /// for each call (or batch of calls): it is the newest version, and the
    /// call keeps that version even if another is swapped in meanwhile.
    pub fn get(&self, name: &str) -> Option<Plugin<T>> {
        let state = self.shared.state.load();
        if state.disabled.contains(name) {
            return None;
        }
        state.by_name.get(name).cloned()
    }

    /// Every enabled plugin, by name.
    pub fn plugins(&self) -> Vec<Plugin<T>> {
        let state = self.shared.state.load();
        state
            .by_name
            .iter()
            .filter(|(name, _)| !state.disabled.contains(*name))
            .map(|(_, plugin)| plugin.clone())
            .collect()
    }

    /// Every entry of the directory that holds or held a plugin, with its
    /// version serving and the error of its files, in the directory's
    /// order.
    pub fn entries(&self) -> Vec<SetEntry<T>> {
        let state = self.shared.state.load();
        state
            .slots
            .iter()
            .map(|(key, slot)| SetEntry {
                path: self.shared.dir.join(key),
                enabled: slot
                    .plugin
                    .as_ref()
                    .is_none_or(|p| !state.disabled.contains(p.name())),
                plugin: slot.plugin.clone(),
                error: slot.error.clone(),
            })
            .collect()
    }

    /// Stops serving the plugin called `name` (now and across reloads)
    /// until it is enabled again; calls already running finish. Returns
    /// whether the set has a plugin of that name.
    pub fn disable(&self, name: &str) -> bool {
        self.set_enabled(name, false)
    }

    /// Serves the plugin called `name` again. Returns whether the set has a
    /// plugin of that name.
    pub fn enable(&self, name: &str) -> bool {
        self.set_enabled(name, true)
    }

    fn set_enabled(&self, name: &str, enabled: bool) -> bool {
        self.shared.state.rcu(|state| {
            let mut next = (**state).clone();
            if enabled {
                next.disabled.remove(name);
            } else {
                next.disabled.insert(name.to_string());
            }
            next
        });
        self.shared.state.load().by_name.contains_key(name)
    }

    /// Reads the directory again now and loads what changed, as watching
    /// does; on the calling thread, which it blocks while compiling. For
    /// sets that do not watch, or to retry entries that failed.
    pub fn refresh(&self) {
        self.shared.refresh_all(false);
    }

    /// The directory the set loads from.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }
}

impl<T: Send + 'static> PluginSetBuilder<T> {
    /// Whether to watch the directory and reload what changes (on by
    /// default).
    pub fn watch(mut self, watch: bool) -> Self {
        self.watch = watch;
        self
    }

    /// How long a plugin's files must be left alone before they are loaded
    /// again (50 ms by default): long enough for an editor's several
    /// writes, short enough to feel immediate.
    pub fn debounce(mut self, quiet: Duration) -> Self {
        self.debounce = quiet;
        self
    }

    /// Called with each [`SetEvent`], on the thread that loaded: the caller
    /// of [`Self::open`] for the first loads, the set's own thread for
    /// reloads. Every event is also logged.
    pub fn on_event(mut self, observer: impl Fn(&SetEvent<'_, T>) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Loads every plugin of the directory (compiling what the cache does
    /// not have), then starts watching it. Fails only when the directory
    /// cannot be read or watched; plugins that fail to load are in
    /// [`PluginSet::entries`] and reported to the observer. The first loads
    /// use the host's consent as configured, prompt included; reloads never
    /// prompt.
    pub async fn open(self) -> Result<PluginSet<T>> {
        std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let shared = Arc::new(Shared {
            host: self.host,
            dir: self.dir,
            state: ArcSwap::from_pointee(State::empty()),
            loading: Mutex::new(()),
            observer: self.observer,
            watcher: Mutex::new(None),
        });
        if self.watch {
            // Watching starts first, so that no change made while the
            // first loads run is missed.
            let watcher = watch::start(Arc::downgrade(&shared), &shared.dir, self.debounce)?;
            *shared
                .watcher
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(watcher);
        }
        let loading = shared.clone();
        off_async_workers(move || {
            loading.refresh_all(true);
            Ok(())
        })
        .await?;
        Ok(PluginSet { shared })
    }
}

impl<T: Send + 'static> Shared<T> {
    /// Loads every entry of the directory that changed, and forgets those
    /// that are gone.
    fn refresh_all(&self, first: bool) {
        let mut keys: BTreeSet<String> = self.state.load().slots.keys().cloned().collect();
        match std::fs::read_dir(&self.dir) {
            Ok(entries) => keys.extend(
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned()),
            ),
            Err(error) => {
                tracing::warn!(dir = %self.dir.display(), "cannot read the plugin directory: {error}");
                return;
            }
        }
        for key in keys {
            self.refresh(&key, first);
        }
    }

    /// Brings the slot `key` up to date with its files. `first` loads use
    /// the host's consent as it is; later ones ask no one.
    fn refresh(&self, key: &str, first: bool) {
        let _loading = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
        let path = self.dir.join(key);
        let current = self.state.load().slots.get(key).cloned();
        let serving = current.as_ref().and_then(|s| s.plugin.clone());
        let contents = if folder::is_candidate(key, &path) {
            folder::read(&path)
        } else {
            Ok(None)
        };
        let mut contents = match contents {
            Ok(Some(contents)) => contents,
            Ok(None) => {
                if current.is_some() {
                    self.state.rcu(|state| state.with_slot(key, None));
                    if let Some(plugin) = &serving {
                        self.report(&SetEvent::Removed {
                            path: &path,
                            plugin: plugin.identity(),
                        });
                    }
                }
                return;
            }
            Err(error) => return self.fail(key, &path, None, serving, error),
        };
        let fingerprint = contents.fingerprint;
        let unchanged = current
            .as_ref()
            .is_some_and(|s| s.fingerprint == Some(fingerprint) && s.error.is_none());
        if unchanged {
            return;
        }
        if !first {
            contents.request.consent = Some(self.reload_consent(serving.as_ref()));
        }
        let loaded = plugin::load(self.host.clone(), contents.request)
            .and_then(|plugin| self.unique(key, plugin));
        let plugin = match loaded {
            Ok(plugin) => plugin,
            Err(error) => return self.fail(key, &path, Some(fingerprint), serving, error),
        };
        let slot = Slot {
            plugin: Some(plugin.clone()),
            fingerprint: Some(fingerprint),
            error: None,
        };
        self.state
            .rcu(|state| state.with_slot(key, Some(slot.clone())));
        match &serving {
            Some(previous) => self.report(&SetEvent::Reloaded {
                plugin: &plugin,
                previous: previous.identity(),
            }),
            None => self.report(&SetEvent::Loaded { plugin: &plugin }),
        }
    }

    /// Keeps what was serving at `key` and records why its files failed.
    fn fail(
        &self,
        key: &str,
        path: &Path,
        fingerprint: Option<Fingerprint>,
        serving: Option<Plugin<T>>,
        error: Error,
    ) {
        let error = Arc::new(error);
        let slot = Slot {
            plugin: serving.clone(),
            fingerprint,
            error: Some(error.clone()),
        };
        self.state
            .rcu(|state| state.with_slot(key, Some(slot.clone())));
        self.report(&SetEvent::Failed {
            path,
            error: &error,
            serving: serving.as_ref().map(|p| p.identity()),
        });
    }

    /// Refuses a second plugin of a name another entry serves.
    fn unique(&self, key: &str, plugin: Plugin<T>) -> Result<Plugin<T>> {
        let state = self.state.load();
        let other = state.slots.iter().find(|(other, slot)| {
            *other != key
                && slot
                    .plugin
                    .as_ref()
                    .is_some_and(|p| p.name() == plugin.name())
        });
        match other {
            Some((other, _)) => Err(Error::PluginFolder {
                path: self.dir.join(key),
                reason: format!(
                    "a plugin named `{}` is already loaded from {}; give one of them \
                     another name",
                    plugin.name(),
                    self.dir.join(other).display()
                ),
            }),
            None => Ok(plugin),
        }
    }

    /// The consent of a reload: the host's, without a prompt, and with
    /// what the version serving was granted given, so that a new version
    /// needs no one for what it already had and is refused for anything
    /// more.
    fn reload_consent(&self, serving: Option<&Plugin<T>>) -> Consent {
        let mut consent = self
            .host
            .inner
            .consent
            .clone()
            .prompt(|_| ConsentAnswer::Abort);
        if let Some(plugin) = serving {
            for grant in plugin.grants().granted() {
                consent = consent.given(grant.clone());
            }
        }
        consent
    }

    fn report(&self, event: &SetEvent<'_, T>) {
        match event {
            SetEvent::Loaded { plugin } => tracing::info!(
                plugin = plugin.name(),
                version = plugin.identity().version.as_deref().unwrap_or_default(),
                "plugin loaded"
            ),
            SetEvent::Reloaded { plugin, previous } => tracing::info!(
                plugin = plugin.name(),
                version = plugin.identity().version.as_deref().unwrap_or_default(),
                "plugin reloaded, replacing {previous}"
            ),
            SetEvent::Failed {
                error,
                serving: Some(serving),
                ..
            } => tracing::warn!("{error}; {serving} goes on serving"),
            SetEvent::Failed { error, .. } => tracing::warn!("{error}"),
            SetEvent::Removed { plugin, .. } => tracing::info!("plugin {plugin} removed"),
        }
        if let Some(observer) = &self.observer {
            observer(event);
        }
    }
}
