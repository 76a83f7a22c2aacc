//! Compiled components on disk, so each is compiled once per engine.
//!
//! An entry lives at `DIR/ENGINE/SHA256.cwasm` (`SHA256.module.cwasm` for a
//! core module): `ENGINE` is a digest of the engine's compatibility hash
//! (wasmtime version and every setting that changes compiled code),
//! `SHA256` the digest of the component or module compiled.
//! The `.cwasm` file is the artifact wasmtime serialized, so that wasmtime
//! can map it instead of copying it; beside it, `SHA256.check` holds a magic
//! string, the component's SHA-256, the artifact's length and its CRC-32.
//! The digest inside binds the entry to its component: an entry copied
//! under another component's name is a miss, never someone else's code.
//! The CRC catches truncated and damaged artifacts at several GB/s; a
//! cryptographic digest of the artifact would add nothing, since whoever
//! can write the cache directory can write the user's programs too, which
//! is why the directory and its entries must belong to the user and be
//! writable by no one else: otherwise the cache is not used, and says so.
//! Both files are written to temporary files and renamed into place,
//! artifact first, so a reader never sees half a file and two processes
//! filling the same entry both succeed. An entry that fails any check, or
//! is not a regular file, is deleted and the component compiled again.
//! Reading an entry refreshes its modification time (at most once a
//! minute), which pruning uses to drop the least recently used entries
//! first.
//!
//! A cache remembers the entries it has checked, by the artifact file's
//! device, inode, length, modification and change times: loading the same
//! plugin again maps the artifact without reading it through its CRC once
//! more, as long as the file is the very one checked and has not been
//! written since (any write or rename moves its change time, which no
//! user's program can set back).

use std::collections::HashMap;
use std::fs::{self, File};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::source::Sha256Digest;

/// Identifies a wasmplug cache entry and its format version.
const MAGIC: &[u8; 16] = b"wasmplug-cwasm3\0";
const EXTENSION: &str = "cwasm";
const CHECK_EXTENSION: &str = "check";

/// The default size cap: past it, `prune` drops the least recently used.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// What the cache keeps: compiled components and core modules.
pub(crate) trait Artifact: Sized {
    /// Added to the digest in an entry's name, so the two kinds never meet.
    const SUFFIX: &'static str;

    /// Compiles `bytes` (a component, or a core module) for `engine`.
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;

    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;

    /// Maps an artifact file.
    ///
    /// # Safety
    ///
    /// The file must be wasmtime's own output, as [`ArtifactCache::load`]
    /// establishes before it calls this.
    unsafe fn map(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
}

impl Artifact for Component {
    const SUFFIX: &'static str = "";

    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Component::new(engine, bytes)
    }

    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Component::serialize(self)
    }

    unsafe fn map(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: as the caller promises.
        unsafe { Component::deserialize_file(engine, path) }
    }
}

impl Artifact for Module {
    const SUFFIX: &'static str = ".module";

    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Module::new(engine, bytes)
    }

    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Module::serialize(self)
    }

    unsafe fn map(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: as the caller promises.
        unsafe { Module::deserialize_file(engine, path) }
    }
}

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    max_bytes: u64,
    /// The entries checked so far, as their artifact files were then.
    checked: Arc<Mutex<HashMap<PathBuf, FileStamp>>>,
}

/// What tells a file from any other, or from itself after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    device: u64,
    inode: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FileStamp {
    #[cfg(unix)]
    fn of(meta: &fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        Some(FileStamp {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// Elsewhere nothing reliably tells a rewritten file: every load checks.
    #[cfg(not(unix))]
    fn of(_meta: &fs::Metadata) -> Option<Self> {
        None
    }
}

/// How stale an entry's modification time may get before a load refreshes
/// it: pruning needs the order of use, not the instant.
const TOUCH_AFTER: Duration = Duration::from_secs(60);

/// What a cache holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheInfo {
    pub dir: PathBuf,
    pub entries: usize,
    pub bytes: u64,
    pub max_bytes: u64,
}

impl ArtifactCache {
    /// A cache in `dir`, pruned to `max_bytes` after each new entry.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        ArtifactCache {
            dir: dir.into(),
            max_bytes,
            checked: Arc::default(),
        }
    }

    /// `$WASMPLUG_CACHE_DIR`, or `wasmplug` in the platform's cache directory
    /// (`$XDG_CACHE_HOME`, `~/.cache`, `~/Library/Caches`, ...).
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("WASMPLUG_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("wasmplug")))
    }

    /// The cache in [`Self::default_dir`], if there is one.
    pub fn at_default_dir() -> Option<Self> {
        Self::default_dir().map(|dir| Self::new(dir, DEFAULT_MAX_BYTES))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry<A: Artifact>(&self, engine: &Engine, digest: &Sha256Digest) -> PathBuf {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.dir
            .join(format!("{:016x}", hasher.finish()))
            .join(format!("{digest}{}.{EXTENSION}", A::SUFFIX))
    }

    /// The compiled component or module, if a sound entry exists for this
    /// engine.
    pub(crate) fn load<A: Artifact>(&self, engine: &Engine, component: &Sha256Digest) -> Option<A> {
        let path = self.entry::<A>(engine, component);
        let meta = match self.trusted(&path) {
            Ok(meta) => meta?,
            Err(refusal) => {
                tracing::warn!("{refusal}; compiling without the compiled-component cache");
                return None;
            }
        };
        if !meta.is_file() {
            remove_entry(&path);
            return None;
        }
        let stamp = FileStamp::of(&meta);
        if stamp.is_none() || stamp != self.checked_stamp(&path) {
            let check = read_regular(&path.with_extension(CHECK_EXTENSION))?;
            match artifact_check(&path, component) {
                Ok(actual) if actual == check => {}
                Ok(_) => {
                    tracing::warn!(path = %path.display(), "discarding a damaged compiled-component cache entry");
                    remove_entry(&path);
                    return None;
                }
                Err(_) => return None,
            }
        }
        // SAFETY: wasmtime trusts serialized artifacts to be its own output.
        // This one is: it sits under this engine's compatibility hash in a
        // directory that belongs to this user and that no one else can write
        // (checked just above, as is the entry itself), it is a regular file
        // whose length and CRC match those written with it, which also bind
        // it to this component's SHA-256 (so it is not truncated, damaged, or
        // another component's artifact), or it is the very file this cache
        // checked so before, unwritten since; every writer replaces it only
        // by renaming a complete file over it, and wasmtime checks that it is
        // a component (or module) compiled for this engine.
        match unsafe { A::map(engine, &path) } {
            Ok(compiled) => {
                self.remember(&path, &meta);
                Some(compiled)
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), "discarding a cache entry wasmtime refused: {error:#}");
                remove_entry(&path);
                None
            }
        }
    }

    /// Whether the entry for `component` is one this cache checked and
    /// that is unchanged since, so that loading it reads nothing through.
    pub(crate) fn checked_before<A: Artifact>(
        &self,
        engine: &Engine,
        component: &Sha256Digest,
    ) -> bool {
        let path = self.entry::<A>(engine, component);
        let stamp = fs::symlink_metadata(&path)
            .ok()
            .filter(fs::Metadata::is_file)
            .and_then(|meta| FileStamp::of(&meta));
        stamp.is_some() && stamp == self.checked_stamp(&path)
    }

    fn checked_stamp(&self, path: &Path) -> Option<FileStamp> {
        let checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
        checked.get(path).copied()
    }

    /// Records the entry at `path` as checked, refreshing its time of last
    /// use first when it is stale.
    fn remember(&self, path: &Path, meta: &fs::Metadata) {
        let stale = meta
            .modified()
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_none_or(|age| age > TOUCH_AFTER);
        let meta = if stale {
            let Ok(file) = File::options().append(true).open(path) else {
                return;
            };
            let _ = file.set_modified(SystemTime::now());
            let Ok(meta) = file.metadata() else {
                return;
            };
            meta
        } else {
            meta.clone()
        };
        if let Some(stamp) = FileStamp::of(&meta) {
            let mut checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
            checked.insert(path.to_path_buf(), stamp);
        }
    }

    /// Whether the entry at `path` and the directories above it up to the
    /// cache's own are this user's and writable by no one else, with the
    /// artifact's metadata when there is anything at its path. Missing parts are fine:
    /// they will be created so. The directories are judged by what they
    /// lead to (a cache directory may be a symlink); the entry's files must
    /// be regular files, and are judged by [`artifact_check`] and
    /// [`read_regular`].
    fn trusted(&self, path: &Path) -> std::result::Result<Option<fs::Metadata>, String> {
        let engine_dir = path.parent().unwrap_or(&self.dir);
        let check = path.with_extension(CHECK_EXTENSION);
        let artifact = fs::symlink_metadata(path);
        let parts = [
            (self.dir.as_path(), fs::metadata(&self.dir)),
            (engine_dir, fs::metadata(engine_dir)),
            (check.as_path(), fs::symlink_metadata(&check)),
        ];
        for (part, meta) in parts
            .iter()
            .map(|(p, m)| (*p, m.as_ref()))
            .chain([(path, artifact.as_ref())])
        {
            match meta {
                Ok(meta) if meta.is_dir() || meta.is_file() => owned_and_private(part, meta)?,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot check {}: {e}", part.display())),
            }
        }
        Ok(artifact.ok())
    }

    /// Saves a compiled component; failures only cost a later recompile.
    pub(crate) fn store<A: Artifact>(&self, engine: &Engine, digest: &Sha256Digest, compiled: &A) {
        let path = self.entry::<A>(engine, digest);
        if self.trusted(&path).is_err() {
            return;
        }
        if let Err(error) = write_entry(&path, digest, compiled) {
            tracing::warn!(path = %path.display(), "cannot write the compiled-component cache: {error:#}");
            return;
        }
        if let Err(error) = self.prune(self.max_bytes) {
            tracing::warn!(dir = %self.dir.display(), "cannot prune the compiled-component cache: {error}");
        }
    }

    /// Entries with their sizes and last use, oldest first.
    fn entries(&self) -> std::io::Result<Vec<(PathBuf, u64, SystemTime)>> {
        let mut entries = Vec::new();
        let engines = match fs::read_dir(&self.dir) {
            Ok(engines) => engines,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(entries),
            Err(e) => return Err(e),
        };
        for engine in engines {
            let engine = engine?.path();
            if !engine.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&engine)? {
                let path = entry?.path();
                // Another process may remove an entry while this one looks.
                let Ok(meta) = fs::metadata(&path) else {
                    continue;
                };
                let modified = meta.modified()?;
                if path.extension().is_some_and(|e| e == EXTENSION) {
                    entries.push((path, meta.len(), modified));
                } else if is_abandoned_temp_file(&path, modified) {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        entries.sort_by_key(|(_, _, used)| *used);
        Ok(entries)
    }

    pub fn info(&self) -> std::io::Result<CacheInfo> {
        let entries = self.entries()?;
        Ok(CacheInfo {
            dir: self.dir.clone(),
            entries: entries.len(),
            bytes: entries.iter().map(|(_, size, _)| size).sum(),
            max_bytes: self.max_bytes,
        })
    }

    /// Removes the least recently used entries until at most `max_bytes`
    /// remain; returns how many were removed.
    pub fn prune(&self, max_bytes: u64) -> std::io::Result<usize> {
        let entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        let mut removed = 0;
        for (path, size, _) in entries {
            if total <= max_bytes {
                break;
            }
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let _ = fs::remove_file(path.with_extension(CHECK_EXTENSION));
            total -= size;
        }
        Ok(removed)
    }

    /// Removes every entry; returns how many there were.
    pub fn clear(&self) -> std::io::Result<usize> {
        self.prune(0)
    }
}

/// Writes the artifact, then its check, each atomically, in directories
/// only this user can write.
fn write_entry<A: Artifact>(
    path: &Path,
    digest: &Sha256Digest,
    compiled: &A,
) -> std::io::Result<()> {
    let artifact = compiled.serialize().map_err(std::io::Error::other)?;
    let dir = path.parent().expect("entries sit in an engine directory");
    private_dirs(dir)?;
    for (target, content) in [
        (path.to_path_buf(), artifact.as_slice()),
        (
            path.with_extension(CHECK_EXTENSION),
            &check_of(&artifact, digest),
        ),
    ] {
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(content)?;
        file.as_file().sync_data()?;
        file.persist(target).map_err(|e| e.error)?;
    }
    Ok(())
}

/// A temporary file left by a writer that died before renaming it.
fn is_abandoned_temp_file(path: &Path, modified: SystemTime) -> bool {
    let temp = path
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with(".tmp"));
    temp && modified
        .elapsed()
        .is_ok_and(|age| age > std::time::Duration::from_secs(3600))
}

fn remove_entry(path: &Path) {
    let _ = fs::remove_file(path);
    let _ = fs::remove_file(path.with_extension(CHECK_EXTENSION));
}

/// The magic, the component's SHA-256, the artifact's length (u64) and its
/// CRC-32 (u32), little-endian.
fn check_of(artifact: &[u8], component: &Sha256Digest) -> Vec<u8> {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(artifact);
    check_bytes(component, artifact.len() as u64, hasher.finalize())
}

fn check_bytes(component: &Sha256Digest, len: u64, crc: u32) -> Vec<u8> {
    let mut check = Vec::with_capacity(MAGIC.len() + 44);
    check.extend_from_slice(MAGIC);
    check.extend_from_slice(&component.0);
    check.extend_from_slice(&len.to_le_bytes());
    check.extend_from_slice(&crc.to_le_bytes());
    check
}

/// The check of the artifact file as it is on disk, read in pieces so that
/// a large artifact is never held in memory twice; an error for anything
/// but a regular file.
fn artifact_check(path: &Path, component: &Sha256Digest) -> std::io::Result<Vec<u8>> {
    if !fs::symlink_metadata(path)?.is_file() {
        remove_entry(path);
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut file = File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0; 1 << 20];
    let mut len = 0u64;
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            n => {
                hasher.update(&buffer[..n]);
                len += n as u64;
            }
        }
    }
    Ok(check_bytes(component, len, hasher.finalize()))
}

/// The contents of a regular file; nothing for a missing file, a
/// directory, a pipe or a symlink.
fn read_regular(path: &Path) -> Option<Vec<u8>> {
    if !fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    fs::read(path).ok()
}

/// Creates `dir` and its missing parents readable and writable by this
/// user only.
fn private_dirs(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Refuses what another user owns or could write.
#[cfg(unix)]
fn owned_and_private(path: &Path, meta: &fs::Metadata) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "{} belongs to user {}, not to this user ({me})",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by others (mode {:o}); make it private with `chmod go-w`",
            path.display(),
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn owned_and_private(_path: &Path, _meta: &fs::Metadata) -> std::result::Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    const COMPONENT: &str = r#"(component
        (core module $m (func (export "f") (result i32) i32.const 7))
        (core instance $i (instantiate $m))
        (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;

    fn setup() -> (
        tempfile::TempDir,
        ArtifactCache,
        Engine,
        Component,
        Sha256Digest,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cache = ArtifactCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let engine = Engine::default();
        let bytes = wat::parse_str(COMPONENT).unwrap();
        let component = Component::new(&engine, &bytes).unwrap();
        let digest = Sha256Digest(Sha256::digest(&bytes).into());
        (dir, cache, engine, component, digest)
    }

    #[test]
    fn stored_entries_load_back() {
        let (_dir, cache, engine, component, digest) = setup();
        assert!(cache.load::<Component>(&engine, &digest).is_none());
        cache.store(&engine, &digest, &component);
        assert!(cache.load::<Component>(&engine, &digest).is_some());
        assert_eq!(cache.info().unwrap().entries, 1);
    }

    #[test]
    fn a_module_and_a_component_of_one_digest_keep_their_own_entries() {
        let (_dir, cache, engine, component, digest) = setup();
        let module = Module::new(
            &engine,
            wat::parse_str("(module (func (export \"f\")))").unwrap(),
        )
        .unwrap();
        cache.store(&engine, &digest, &module);
        assert!(cache.load::<Component>(&engine, &digest).is_none());
        assert!(cache.load::<Module>(&engine, &digest).is_some());
        cache.store(&engine, &digest, &component);
        assert!(cache.load::<Component>(&engine, &digest).is_some());
        assert!(cache.load::<Module>(&engine, &digest).is_some());
        assert_eq!(cache.info().unwrap().entries, 2);
    }

    #[test]
    fn damaged_entries_are_discarded() {
        let (_dir, cache, engine, component, digest) = setup();
        cache.store(&engine, &digest, &component);
        let path = cache.entry::<Component>(&engine, &digest);
        let good = fs::read(&path).unwrap();
        let flipped = {
            let mut bytes = good.clone();
            let last = bytes.len() - 100;
            bytes[last] ^= 0xff;
            bytes
        };
        let mut overwritten = good.clone();
        overwritten[..16].copy_from_slice(b"somebody-else!!\0");
        for damaged in [
            good[..good.len() / 2].to_vec(),
            flipped,
            overwritten,
            Vec::new(),
        ] {
            cache.store(&engine, &digest, &component);
            fs::write(&path, &damaged).unwrap();
            assert!(cache.load::<Component>(&engine, &digest).is_none());
            assert!(!path.exists(), "a damaged entry is removed");
        }
    }

    /// An entry checked once maps without its CRC being read again (so a
    /// check file spoiled after the fact goes unread), until the artifact
    /// is written, in place and at its length, which the next load sees.
    #[test]
    fn a_checked_entry_is_read_again_only_once_written() {
        let (_dir, cache, engine, component, digest) = setup();
        cache.store(&engine, &digest, &component);
        assert!(cache.load::<Component>(&engine, &digest).is_some());
        let path = cache.entry::<Component>(&engine, &digest);
        fs::write(path.with_extension(CHECK_EXTENSION), b"spoiled").unwrap();
        assert!(cache.load::<Component>(&engine, &digest).is_some());

        cache.store(&engine, &digest, &component);
        assert!(cache.load::<Component>(&engine, &digest).is_some());
        let mut flipped = fs::read(&path).unwrap();
        let last = flipped.len() - 100;
        flipped[last] ^= 0xff;
        fs::write(&path, &flipped).unwrap();
        assert!(cache.load::<Component>(&engine, &digest).is_none());
        assert!(!path.exists(), "a damaged entry is removed");
    }

    #[test]
    fn an_artifact_wasmtime_refuses_is_discarded() {
        let (_dir, cache, engine, component, digest) = setup();
        // A well-formed entry holding a core module, not a component.
        let module = wasmtime::Module::new(&engine, wat::parse_str("(module)").unwrap()).unwrap();
        let artifact = module.serialize().unwrap();
        let path = cache.entry::<Component>(&engine, &digest);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &artifact).unwrap();
        fs::write(
            path.with_extension(CHECK_EXTENSION),
            check_of(&artifact, &digest),
        )
        .unwrap();
        assert!(cache.load::<Component>(&engine, &digest).is_none());
        assert!(!path.exists());
        assert!(!path.with_extension(CHECK_EXTENSION).exists());
        cache.store(&engine, &digest, &component);
        assert!(cache.load::<Component>(&engine, &digest).is_some());
    }

    #[test]
    fn concurrent_fills_of_one_entry_are_safe() {
        let (_dir, cache, engine, component, digest) = setup();
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| cache.store(&engine, &digest, &component));
                scope.spawn(|| {
                    // Readers see either no entry or a whole one.
                    if let Some(loaded) = cache.load::<Component>(&engine, &digest) {
                        drop(loaded);
                    }
                });
            }
        });
        assert!(cache.load::<Component>(&engine, &digest).is_some());
        assert_eq!(
            cache.info().unwrap().entries,
            1,
            "no temporary files remain"
        );
    }

    #[test]
    fn abandoned_temporary_files_are_removed() {
        let (_dir, cache, engine, component, digest) = setup();
        cache.store(&engine, &digest, &component);
        let engine_dir = cache
            .entry::<Component>(&engine, &digest)
            .parent()
            .unwrap()
            .to_path_buf();
        let (old, fresh) = (engine_dir.join(".tmpOLD"), engine_dir.join(".tmpNEW"));
        fs::write(&old, b"half").unwrap();
        fs::write(&fresh, b"in progress").unwrap();
        let file = File::options().append(true).open(&old).unwrap();
        file.set_modified(SystemTime::now() - std::time::Duration::from_secs(7200))
            .unwrap();
        assert_eq!(cache.info().unwrap().entries, 1);
        assert!(!old.exists(), "an hour-old temporary file is abandoned");
        assert!(fresh.exists(), "a recent one may belong to a writer");
    }

    #[test]
    fn pruning_drops_the_least_recently_used_first() {
        let (_dir, cache, engine, component, _) = setup();
        let digests: Vec<Sha256Digest> = (0u8..3).map(|i| Sha256Digest([i; 32])).collect();
        for (age, digest) in digests.iter().enumerate() {
            cache.store(&engine, digest, &component);
            let file = File::options()
                .append(true)
                .open(cache.entry::<Component>(&engine, digest))
                .unwrap();
            let when = SystemTime::now() - std::time::Duration::from_secs(100 - age as u64 * 10);
            file.set_modified(when).unwrap();
        }
        // Using the oldest makes it the most recent.
        assert!(cache.load::<Component>(&engine, &digests[0]).is_some());
        let size = cache.info().unwrap().bytes / 3;
        assert_eq!(cache.prune(size * 2).unwrap(), 1);
        assert!(
            !cache.entry::<Component>(&engine, &digests[1]).exists(),
            "least recently used"
        );
        assert!(cache.entry::<Component>(&engine, &digests[0]).exists());
        assert_eq!(cache.clear().unwrap(), 2);
        assert_eq!(cache.info().unwrap().entries, 0);
    }

    #[test]
    fn an_entry_copied_from_another_component_is_a_miss() {
        let (_dir, cache, engine, component, digest) = setup();
        cache.store(&engine, &digest, &component);
        let other = Sha256Digest([7; 32]);
        let (from, to) = (
            cache.entry::<Component>(&engine, &digest),
            cache.entry::<Component>(&engine, &other),
        );
        fs::copy(&from, &to).unwrap();
        fs::copy(
            from.with_extension(CHECK_EXTENSION),
            to.with_extension(CHECK_EXTENSION),
        )
        .unwrap();
        assert!(cache.load::<Component>(&engine, &other).is_none());
        assert!(!to.exists(), "the foreign entry is removed");
        assert!(cache.load::<Component>(&engine, &digest).is_some());
    }

    #[test]
    fn an_entry_that_is_not_a_regular_file_is_refused() {
        let (dir, cache, engine, component, digest) = setup();
        cache.store(&engine, &digest, &component);
        let path = cache.entry::<Component>(&engine, &digest);
        let elsewhere = dir.path().join("elsewhere.cwasm");
        fs::rename(&path, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(cache.load::<Component>(&engine, &digest).is_none());
        assert!(
            fs::symlink_metadata(&path).is_err(),
            "the symlink is removed"
        );
        cache.store(&engine, &digest, &component);
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert!(path.with_extension(CHECK_EXTENSION).is_file());
        assert!(cache.load::<Component>(&engine, &digest).is_none());
        assert!(!path.with_extension(CHECK_EXTENSION).exists());
    }

    #[test]
    fn a_cache_directory_writable_by_others_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, cache, engine, component, digest) = setup();
        cache.store(&engine, &digest, &component);
        assert!(cache.load::<Component>(&engine, &digest).is_some());
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let refusal = cache
            .trusted(&cache.entry::<Component>(&engine, &digest))
            .unwrap_err();
        assert!(refusal.contains("writable by others"), "{refusal}");
        assert!(cache.load::<Component>(&engine, &digest).is_none());
        let other = Sha256Digest([3; 32]);
        cache.store(&engine, &other, &component);
        assert!(
            !cache.entry::<Component>(&engine, &other).exists(),
            "nothing is written"
        );
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let entry = cache.entry::<Component>(&engine, &digest);
        fs::set_permissions(&entry, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(
            cache.load::<Component>(&engine, &digest).is_none(),
            "nor an entry others can write"
        );
    }
}
