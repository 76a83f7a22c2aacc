//! Each plugin's key-value data: one redb database per plugin name, a table
//! per bucket, and the bytes it holds kept beside them, so that quotas are
//! checked in the transaction that would break them. Every write commits
//! durably before it returns.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableDefinition, TableError, TableHandle,
};

use crate::error::{Error, Result};

/// What one plugin may keep: the size of a key, of a value, and of all its
/// keys and values together, across its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KvQuota {
    pub key: u64,
    pub value: u64,
    pub total: u64,
}

impl Default for KvQuota {
    /// 1 KiB keys, 1 MiB values, 64 MiB per plugin.
    fn default() -> Self {
        KvQuota {
            key: 1024,
            value: 1024 * 1024,
            total: 64 * 1024 * 1024,
        }
    }
}

impl KvQuota {
    pub fn key(mut self, bytes: u64) -> Self {
        self.key = bytes;
        self
    }

    pub fn value(mut self, bytes: u64) -> Self {
        self.value = bytes;
        self
    }

    pub fn total(mut self, bytes: u64) -> Self {
        self.total = bytes;
        self
    }
}

/// Why a write was refused or a read failed, as the guest is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KvFailure {
    /// Over a quota; the write changed nothing.
    Quota(String),
    /// The database failed.
    Storage(String),
}

impl fmt::Display for KvFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvFailure::Quota(why) => write!(f, "over quota: {why}"),
            KvFailure::Storage(why) => write!(f, "storage failed: {why}"),
        }
    }
}

impl<E: Into<redb::Error>> From<E> for KvFailure {
    fn from(error: E) -> Self {
        KvFailure::Storage(error.into().to_string())
    }
}

type Outcome<T> = std::result::Result<T, KvFailure>;

/// Bytes held by all buckets, under the key [`TOTAL`].
const USAGE: TableDefinition<&str, u64> = TableDefinition::new("wasmplug:usage");
const TOTAL: &str = "total";
/// Bucket tables are named with this prefix, so none is the usage table.
const BUCKET_PREFIX: &str = "bucket:";
/// Keys per page of `list-keys`.
const PAGE: usize = 1000;

fn bucket_table(bucket: &str) -> String {
    format!("{BUCKET_PREFIX}{bucket}")
}

/// One plugin's store. Cheap to clone.
#[derive(Clone)]
pub struct KeyValueStore {
    plugin: Arc<str>,
    db: Arc<Database>,
    quota: KvQuota,
}

impl fmt::Debug for KeyValueStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValueStore")
            .field("plugin", &self.plugin)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

impl KeyValueStore {
    /// `$WASMPLUG_DATA_DIR`, or `wasmplug` in the platform's data directory
    /// (`$XDG_DATA_HOME`, `~/.local/share`, ...): where stores live unless
    /// the host says otherwise.
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("WASMPLUG_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("wasmplug")))
    }

    /// The store of the plugin named `plugin` under `dir`, made if new. A
    /// store is open once per process, shared by every host in it; another
    /// process holding it is an error that says so.
    pub fn open(dir: &Path, plugin: &str, quota: KvQuota) -> Result<Self> {
        let path = dir.join("kv").join(format!("{}.redb", file_stem(plugin)));
        let failed = |reason: String| Error::KeyValue {
            plugin: plugin.to_string(),
            reason,
        };
        static OPEN: Mutex<Vec<(PathBuf, Weak<Database>)>> = Mutex::new(Vec::new());
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|(_, db)| db.strong_count() > 0);
        let db = match open
            .iter()
            .find(|(p, _)| *p == path)
            .and_then(|(_, db)| db.upgrade())
        {
            Some(db) => db,
            None => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| failed(format!("cannot make {}: {e}", parent.display())))?;
                }
                let db = Database::create(&path).map_err(|e| match e {
                    redb::DatabaseError::DatabaseAlreadyOpen => failed(format!(
                        "{} is in use by another process; stop it first",
                        path.display()
                    )),
                    e => failed(format!("cannot open {}: {e}", path.display())),
                })?;
                let db = Arc::new(db);
                open.push((path, Arc::downgrade(&db)));
                db
            }
        };
        Ok(KeyValueStore {
            plugin: plugin.into(),
            db,
            quota,
        })
    }

    /// The plugin whose store this is.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    fn error(&self, failure: KvFailure) -> Error {
        Error::KeyValue {
            plugin: self.plugin.to_string(),
            reason: failure.to_string(),
        }
    }

    /// The buckets that hold anything.
    pub fn buckets(&self) -> Result<Vec<String>> {
        let read = || -> Outcome<Vec<String>> {
            let txn = self.db.begin_read()?;
            Ok(txn
                .list_tables()?
                .filter_map(|t| t.name().strip_prefix(BUCKET_PREFIX).map(str::to_string))
                .collect())
        };
        read().map_err(|f| self.error(f))
    }

    /// Every key of `bucket`, in order.
    pub fn keys(&self, bucket: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.list_keys(bucket, cursor).map_err(|f| self.error(f))?;
            keys.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    pub fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.read(bucket, key).map_err(|f| self.error(f))
    }

    pub fn set(&self, bucket: &str, key: &str, value: &[u8]) -> Result<()> {
        self.write_many(bucket, &[(key.to_string(), value.to_vec())])
            .map_err(|f| self.error(f))
    }

    /// Deletes `key`; deleting a key that is not there is no error.
    pub fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        self.delete_many(bucket, &[key.to_string()])
            .map_err(|f| self.error(f))
    }

    /// The bytes of all keys and values the plugin keeps.
    pub fn used_bytes(&self) -> Result<u64> {
        let read = || -> Outcome<u64> {
            let txn = self.db.begin_read()?;
            match txn.open_table(USAGE) {
                Ok(table) => Ok(table.get(TOTAL)?.map_or(0, |v| v.value())),
                Err(TableError::TableDoesNotExist(_)) => Ok(0),
                Err(e) => Err(e.into()),
            }
        };
        read().map_err(|f| self.error(f))
    }

    /// What `read` makes of `bucket`'s table in a read transaction, or
    /// `empty` when the bucket holds nothing.
    fn reading<R>(
        &self,
        bucket: &str,
        empty: R,
        read: impl FnOnce(&ReadOnlyTable<&str, &[u8]>) -> Outcome<R>,
    ) -> Outcome<R> {
        let txn = self.db.begin_read()?;
        let name = bucket_table(bucket);
        match txn.open_table(TableDefinition::<&str, &[u8]>::new(&name)) {
            Ok(table) => read(&table),
            Err(TableError::TableDoesNotExist(_)) => Ok(empty),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn read(&self, bucket: &str, key: &str) -> Outcome<Option<Vec<u8>>> {
        self.reading(bucket, None, |table| {
            Ok(table.get(key)?.map(|v| v.value().to_vec()))
        })
    }

    pub(crate) fn read_many(&self, bucket: &str, keys: &[String]) -> Outcome<Vec<Option<Vec<u8>>>> {
        self.reading(bucket, vec![None; keys.len()], |table| {
            keys.iter()
                .map(|key| Ok(table.get(key.as_str())?.map(|v| v.value().to_vec())))
                .collect()
        })
    }

    /// One page of `bucket`'s keys from `cursor` (a count of keys already
    /// listed), and the cursor of the next page if there is one.
    pub(crate) fn list_keys(
        &self,
        bucket: &str,
        cursor: Option<u64>,
    ) -> Outcome<(Vec<String>, Option<u64>)> {
        self.reading(bucket, (Vec::new(), None), |table| {
            let skip = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
            let mut keys = Vec::new();
            for entry in table.iter()?.skip(skip).take(PAGE + 1) {
                keys.push(entry?.0.value().to_string());
            }
            let next = (keys.len() > PAGE).then(|| {
                keys.truncate(PAGE);
                (skip + PAGE) as u64
            });
            Ok((keys, next))
        })
    }

    /// Runs `write` on `bucket`'s table and the running total of the
    /// plugin's bytes in one transaction, committed durably when it
    /// succeeds; an error leaves everything as it was. A bucket left empty
    /// is removed.
    fn writing<R>(
        &self,
        bucket: &str,
        write: impl FnOnce(&mut Table<'_, &'static str, &'static [u8]>, &mut u64) -> Outcome<R>,
    ) -> Outcome<R> {
        let txn = self.db.begin_write()?;
        let result = {
            let name = bucket_table(bucket);
            let definition = TableDefinition::<&str, &[u8]>::new(&name);
            let mut table = txn.open_table(definition)?;
            let mut usage = txn.open_table(USAGE)?;
            let mut total = usage.get(TOTAL)?.map_or(0, |v| v.value());
            let result = write(&mut table, &mut total)?;
            let empty = table.is_empty()?;
            drop(table);
            if empty {
                txn.delete_table(definition)?;
            }
            usage.insert(TOTAL, total)?;
            result
        };
        txn.commit()?;
        Ok(result)
    }

    /// Puts `value` at `key` within the size quotas, keeping `total`.
    fn put(
        &self,
        table: &mut Table<'_, &'static str, &'static [u8]>,
        total: &mut u64,
        key: &str,
        value: &[u8],
    ) -> Outcome<()> {
        self.check_sizes(key, value)?;
        let old = table.get(key)?.map(|v| v.value().len() as u64);
        *total =
            *total - old.map_or(0, |len| len + key.len() as u64) + (key.len() + value.len()) as u64;
        table.insert(key, value)?;
        Ok(())
    }

    /// Writes every pair or none, within the quotas.
    pub(crate) fn write_many(&self, bucket: &str, pairs: &[(String, Vec<u8>)]) -> Outcome<()> {
        self.writing(bucket, |table, total| {
            for (key, value) in pairs {
                self.put(table, total, key, value)?;
            }
            self.check_total(*total)
        })
    }

    pub(crate) fn delete_many(&self, bucket: &str, keys: &[String]) -> Outcome<()> {
        self.writing(bucket, |table, total| {
            for key in keys {
                if let Some(old) = table.remove(key.as_str())? {
                    *total = total.saturating_sub((key.len() + old.value().len()) as u64);
                }
            }
            Ok(())
        })
    }

    /// Adds `delta` to the decimal number at `key` (0 when absent), as
    /// wasmtime's own implementation keeps counters.
    pub(crate) fn increment(&self, bucket: &str, key: &str, delta: u64) -> Outcome<u64> {
        self.writing(bucket, |table, total| {
            let current = match table.get(key)? {
                None => 0,
                Some(bytes) => std::str::from_utf8(bytes.value())
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .ok_or_else(|| {
                        KvFailure::Storage(format!("the value at `{key}` is not a decimal number"))
                    })?,
            };
            let next = current
                .checked_add(delta)
                .ok_or_else(|| KvFailure::Storage(format!("incrementing `{key}` overflows")))?;
            self.put(table, total, key, next.to_string().as_bytes())?;
            self.check_total(*total)?;
            Ok(next)
        })
    }

    fn check_total(&self, total: u64) -> Outcome<()> {
        if total > self.quota.total {
            return Err(KvFailure::Quota(format!(
                "the plugin's data would take {total} bytes, more than its {} bytes",
                self.quota.total
            )));
        }
        Ok(())
    }

    fn check_sizes(&self, key: &str, value: &[u8]) -> Outcome<()> {
        if key.len() as u64 > self.quota.key {
            return Err(KvFailure::Quota(format!(
                "a key of {} bytes is longer than {} bytes",
                key.len(),
                self.quota.key
            )));
        }
        if value.len() as u64 > self.quota.value {
            return Err(KvFailure::Quota(format!(
                "a value of {} bytes is larger than {} bytes",
                value.len(),
                self.quota.value
            )));
        }
        Ok(())
    }
}

/// A plugin name as a file name: letters, digits, `-`, `_` and `.` as they
/// are, anything else as `%XX`, so that two names never share a file.
fn file_stem(plugin: &str) -> String {
    let mut stem = String::with_capacity(plugin.len());
    for byte in plugin.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => stem.push(byte as char),
            b'.' if !stem.is_empty() => stem.push('.'),
            _ => stem.push_str(&format!("%{byte:02X}")),
        }
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path, plugin: &str, quota: KvQuota) -> KeyValueStore {
        KeyValueStore::open(dir, plugin, quota).unwrap()
    }

    #[test]
    fn names_that_differ_never_share_a_file() {
        assert_eq!(file_stem("weather-bot"), "weather-bot");
        assert_ne!(file_stem("a b"), file_stem("a_b"));
        assert_eq!(file_stem("../etc"), "%2E.%2Fetc");
        assert!(!file_stem("x/y").contains('/'));
    }

    #[test]
    fn writes_over_quota_change_nothing_and_usage_follows_writes() {
        let dir = tempfile::tempdir().unwrap();
        let quota = KvQuota::default().key(8).value(16).total(40);
        let kv = store(dir.path(), "quota", quota);
        kv.set("b", "k1", b"0123456789").unwrap();
        assert_eq!(kv.used_bytes().unwrap(), 12);
        assert!(matches!(
            kv.write_many("b", &[("a-long-key".into(), vec![])]),
            Err(KvFailure::Quota(_))
        ));
        assert!(matches!(
            kv.write_many("b", &[("k".into(), vec![0; 17])]),
            Err(KvFailure::Quota(_))
        ));
        // 12 + 2 × 18 > 40: neither of the pair is written.
        let pair = [("k2".into(), vec![1; 16]), ("k3".into(), vec![2; 16])];
        assert!(matches!(
            kv.write_many("b", &pair),
            Err(KvFailure::Quota(_))
        ));
        assert_eq!(kv.keys("b").unwrap(), ["k1"]);
        // Overwriting counts the difference.
        kv.set("b", "k1", b"01").unwrap();
        assert_eq!(kv.used_bytes().unwrap(), 4);
        kv.delete("b", "k1").unwrap();
        assert_eq!(kv.used_bytes().unwrap(), 0);
        assert!(
            kv.buckets().unwrap().is_empty(),
            "an emptied bucket is gone"
        );
    }

    #[test]
    fn keys_come_in_pages_and_counters_count() {
        let dir = tempfile::tempdir().unwrap();
        let kv = store(dir.path(), "pages", KvQuota::default());
        let pairs: Vec<(String, Vec<u8>)> =
            (0..2500).map(|i| (format!("key{i:05}"), vec![])).collect();
        kv.write_many("b", &pairs).unwrap();
        let (first, next) = kv.list_keys("b", None).unwrap();
        assert_eq!((first.len(), next), (PAGE, Some(PAGE as u64)));
        assert_eq!(kv.keys("b").unwrap().len(), 2500);
        assert_eq!(kv.increment("c", "n", 5).unwrap(), 5);
        assert_eq!(kv.increment("c", "n", 2).unwrap(), 7);
        kv.set("c", "text", b"seven").unwrap();
        assert!(kv.increment("c", "text", 1).is_err());
    }
}
