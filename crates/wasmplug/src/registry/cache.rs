//! Pulled blobs and manifests, kept by their SHA-256: what is asked for by
//! digest and already here needs no registry. Each file is checked against
//! its name when read, written to a temporary file and renamed into place,
//! so a reader never sees half of one and a damaged one is pulled again.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::source::Sha256Digest;

/// A directory of blobs named by their SHA-256. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobCache {
    dir: PathBuf,
}

impl BlobCache {
    /// Blobs in `dir`, created on the first write.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        BlobCache { dir: dir.into() }
    }

    /// `registry` in the compiled-component cache's directory
    /// (`$WASMPLUG_CACHE_DIR`, or `wasmplug` in the platform's cache
    /// directory).
    pub fn default_dir() -> Option<PathBuf> {
        crate::ArtifactCache::default_dir().map(|dir| dir.join("registry"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, digest: &Sha256Digest) -> PathBuf {
        self.dir.join("sha256").join(digest.to_string())
    }

    /// The blob with this digest, if it is here and whole; a damaged one is
    /// removed.
    pub fn get(&self, digest: &Sha256Digest) -> Option<Vec<u8>> {
        let path = self.path(digest);
        let bytes = fs::read(&path).ok()?;
        if Sha256Digest::of(&bytes) == *digest {
            return Some(bytes);
        }
        tracing::warn!(path = %path.display(), "removing a damaged blob from the registry cache");
        let _ = fs::remove_file(&path);
        None
    }

    /// Whether a blob with this digest is here (not checked).
    pub fn contains(&self, digest: &Sha256Digest) -> bool {
        self.path(digest).is_file()
    }

    /// Keeps `bytes`, which the caller has checked have this digest.
    pub(crate) fn put(&self, digest: &Sha256Digest, bytes: &[u8]) -> Result<()> {
        let mut writer = BlobWriter::new(Some(self))?;
        writer.write(bytes)?;
        writer.finish(digest).map(drop)
    }
}

/// A blob as it arrives: hashed, and written into a [`BlobCache`] when
/// there is one.
pub(crate) struct BlobWriter {
    into: Option<(BlobCache, tempfile::NamedTempFile)>,
    hasher: Sha256,
}

impl BlobWriter {
    pub(crate) fn new(cache: Option<&BlobCache>) -> Result<Self> {
        let into = match cache {
            Some(cache) => {
                let dir = cache.dir.join("sha256");
                fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                let file = tempfile::Builder::new()
                    .prefix(".tmp")
                    .tempfile_in(&dir)
                    .map_err(|e| Error::io(&dir, e))?;
                Some((cache.clone(), file))
            }
            None => None,
        };
        Ok(BlobWriter {
            into,
            hasher: Sha256::new(),
        })
    }

    pub(crate) fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.hasher.update(chunk);
        match &mut self.into {
            Some((_, file)) => file.write_all(chunk).map_err(|e| Error::io(file.path(), e)),
            None => Ok(()),
        }
    }

    /// Keeps the blob if its digest is `expected`; otherwise discards it
    /// and returns the digest it has.
    pub(crate) fn finish(self, expected: &Sha256Digest) -> Result<Option<Sha256Digest>> {
        let actual = Sha256Digest(self.hasher.finalize().into());
        if actual != *expected {
            return Ok(Some(actual));
        }
        if let Some((cache, file)) = self.into {
            let path = cache.path(expected);
            file.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_kept_by_digest_and_checked_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::at(dir.path());
        let digest = Sha256Digest::of(b"component");
        assert_eq!(cache.get(&digest), None);
        cache.put(&digest, b"component").unwrap();
        assert_eq!(cache.get(&digest).as_deref(), Some(&b"component"[..]));

        fs::write(cache.path(&digest), b"c0mponent").unwrap();
        assert_eq!(cache.get(&digest), None, "a damaged blob is not returned");
        assert!(!cache.contains(&digest), "and is removed");
    }

    #[test]
    fn a_blob_with_another_digest_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::at(dir.path());
        let expected = Sha256Digest::of(b"component");
        let mut writer = BlobWriter::new(Some(&cache)).unwrap();
        writer.write(b"tampered").unwrap();
        assert_eq!(
            writer.finish(&expected).unwrap(),
            Some(Sha256Digest::of(b"tampered"))
        );
        assert!(!cache.contains(&expected));
        let left: Vec<_> = fs::read_dir(dir.path().join("sha256")).unwrap().collect();
        assert!(left.is_empty(), "no temporary file is left: {left:?}");
    }
}
