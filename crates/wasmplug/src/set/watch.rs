//! Watching a set's directory: the operating system's file events (through
//! `notify`) name the entries that changed, and once an entry's files have
//! been left alone for the debounce period, a thread of the set's own loads
//! it again. Editors write a file in several steps (truncate and write, or
//! write a temporary file and rename it over), so waiting for quiet loads
//! each change once, not once per step.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Weak;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use super::Shared;
use crate::error::{Error, Result};

/// However busy the files are, changes are loaded at least this often.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// Watches `dir` and reloads the entries of `set` that change, until the
/// returned watcher (which the set keeps) is dropped.
pub(super) fn start<T: Send + 'static>(
    set: Weak<Shared<T>>,
    dir: &Path,
    debounce: Duration,
) -> Result<notify::RecommendedWatcher> {
    let (changed, keys) = mpsc::channel::<String>();
    let root = dir.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        match event {
            Ok(event) if !matches!(event.kind, EventKind::Access(_)) => {
                for key in event.paths.iter().filter_map(|p| entry_of(&root, p)) {
                    // Fails only once the set is gone.
                    let _ = changed.send(key);
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!("watching plugins: {error}"),
        }
    })
    .map_err(|e| watch_error(dir, e))?;
    watcher
        .watch(dir, RecursiveMode::Recursive)
        .map_err(|e| watch_error(dir, e))?;
    std::thread::Builder::new()
        .name("wasmplug-set".into())
        .spawn(move || reload_changes(set, keys, debounce))
        .map_err(|e| Error::io(dir, e))?;
    Ok(watcher)
}

/// The set's thread: gathers the entries that change until they are quiet,
/// then loads them, until the set is gone.
fn reload_changes<T: Send + 'static>(
    set: Weak<Shared<T>>,
    keys: mpsc::Receiver<String>,
    debounce: Duration,
) {
    while let Ok(first) = keys.recv() {
        let mut batch = BTreeSet::from([first]);
        let started = Instant::now();
        loop {
            match keys.recv_timeout(debounce) {
                Ok(key) => {
                    batch.insert(key);
                    if started.elapsed() >= MAX_WAIT {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let Some(set) = set.upgrade() else {
            return;
        };
        for key in batch {
            set.refresh(&key, false);
        }
    }
}

/// The entry of `root` that `path` is in: its first component below it.
fn entry_of(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    match relative.components().next()? {
        Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
        _ => None,
    }
}

fn watch_error(dir: &Path, error: notify::Error) -> Error {
    let source = match error.kind {
        notify::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    Error::io(PathBuf::from(dir), source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_the_entry_they_are_in() {
        let root = Path::new("/plugins");
        let entry = |p: &str| entry_of(root, Path::new(p));
        assert_eq!(entry("/plugins/hello/hello.wasm").as_deref(), Some("hello"));
        assert_eq!(entry("/plugins/lone.wasm").as_deref(), Some("lone.wasm"));
        assert_eq!(entry("/plugins"), None);
        assert_eq!(entry("/elsewhere/x.wasm"), None);
    }
}
