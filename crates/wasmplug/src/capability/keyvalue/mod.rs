//! Key-value storage (`wasi:keyvalue` 0.2.0-draft: store, atomics, batch),
//! kept on disk in one store per plugin name, only in the buckets granted.
//!
//! A component importing `wasi:keyvalue` is linked whether or not it was
//! granted a bucket: opening one it was not granted is `access-denied`. A
//! write over a quota is an `other` error to the guest and changes nothing;
//! no storage failure traps.

mod db;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

pub use db::{KeyValueStore, KvQuota};

use super::{Capability, Import, ImportStatus, LinkMode, PluginCapability};
use crate::document::Entry;
use crate::error::Result;
use crate::permission::{Grant, Permission, Reason, Request};
use crate::policy::Grants;
use crate::store::StoreData;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/keyvalue",
        world: "wasi:keyvalue/imports",
        imports: { default: trappable },
        with: { "wasi:keyvalue/store.bucket": super::OpenBucket },
    });
}

use bindings::wasi::keyvalue::{atomics, batch, store};

/// Where stores live and what each may hold, for every plugin of a host.
#[derive(Debug, Clone)]
pub(crate) struct KvSettings {
    /// `None` when there is no data directory: every open fails.
    pub(crate) dir: Option<PathBuf>,
    pub(crate) quota: KvQuota,
}

impl KvSettings {
    /// No data directory: for hosts that only read permissions.
    pub(crate) fn none() -> Self {
        KvSettings {
            dir: None,
            quota: KvQuota::default(),
        }
    }
}

pub(crate) struct KeyValue {
    settings: KvSettings,
}

impl KeyValue {
    pub(crate) fn new(settings: KvSettings) -> Self {
        KeyValue { settings }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BucketRequest {
    bucket: String,
    reason: Reason,
}

impl<T: Send + 'static> Capability<T> for KeyValue {
    fn name(&self) -> &'static str {
        "keyvalue"
    }

    fn key(&self) -> Option<&'static str> {
        Some("keyvalue")
    }

    fn requests(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Request>, String> {
        let requests: Vec<BucketRequest> = entry.value()?;
        requests
            .into_iter()
            .map(|r| {
                if r.bucket.is_empty() || r.bucket == "*" {
                    return Err(entry.error("name the bucket; `*` is for a policy"));
                }
                Ok(Request {
                    permission: Permission::KeyValue { bucket: r.bucket },
                    reason: r.reason.0,
                })
            })
            .collect()
    }

    fn allowances(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Grant>, String> {
        let buckets: Vec<String> = entry.value()?;
        Ok(buckets.into_iter().map(Grant::bucket).collect())
    }

    fn owns(&self, permission: &Permission) -> bool {
        matches!(permission, Permission::KeyValue { .. })
    }

    fn meet(&self, requested: &Permission, given: &Permission) -> Option<Permission> {
        match (requested, given) {
            (Permission::KeyValue { bucket }, Permission::KeyValue { bucket: allowed })
                if allowed == "*" || allowed == bucket =>
            {
                Some(requested.clone())
            }
            _ => None,
        }
    }

    fn provides(&self, import: &Import) -> bool {
        import.package() == "wasi:keyvalue"
            && matches!(
                import.interface.as_str(),
                "wasi:keyvalue/store" | "wasi:keyvalue/atomics" | "wasi:keyvalue/batch"
            )
    }

    fn for_plugin(&self, plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        let granted: Vec<Permission> = grants
            .permissions()
            .filter(|p| matches!(p, Permission::KeyValue { .. }))
            .cloned()
            .collect();
        Ok(Box::new(PluginKeyValue {
            kv: Arc::new(PluginKv {
                plugin: plugin.to_string(),
                buckets: granted
                    .iter()
                    .filter_map(|p| match p {
                        Permission::KeyValue { bucket } => Some(bucket.clone()),
                        _ => None,
                    })
                    .collect(),
                settings: self.settings.clone(),
                store: OnceLock::new(),
            }),
            granted,
        }))
    }
}

struct PluginKeyValue {
    kv: Arc<PluginKv>,
    granted: Vec<Permission>,
}

impl<T: Send + 'static> PluginCapability<T> for PluginKeyValue {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        ImportStatus::pieces(&self.granted, "keyvalue")
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        _mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        // The view is a plain function: the plugin's store reaches it
        // through the instance's data, set by `prepare`.
        store::add_to_linker::<_, HasKv>(linker, StoreData::<T>::keyvalue_view)?;
        atomics::add_to_linker::<_, HasKv>(linker, StoreData::<T>::keyvalue_view)?;
        batch::add_to_linker::<_, HasKv>(linker, StoreData::<T>::keyvalue_view)?;
        Ok(())
    }

    fn prepare(&self, setup: &mut super::InstanceSetup<'_>) -> Result<()> {
        *setup.keyvalue = Some(self.kv.clone());
        Ok(())
    }
}

/// One plugin's side of key-value storage: its granted buckets, and its
/// store, opened at the first `open`.
pub(crate) struct PluginKv {
    plugin: String,
    buckets: Vec<String>,
    settings: KvSettings,
    store: OnceLock<KeyValueStore>,
}

impl PluginKv {
    fn store(&self) -> std::result::Result<&KeyValueStore, store::Error> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let Some(dir) = &self.settings.dir else {
            return Err(store::Error::Other(
                "this host keeps no data directory".to_string(),
            ));
        };
        let opened = KeyValueStore::open(dir, &self.plugin, self.settings.quota).map_err(|e| {
            tracing::warn!(plugin = %self.plugin, "key-value store unavailable: {e}");
            store::Error::Other(e.to_string())
        })?;
        Ok(self.store.get_or_init(|| opened))
    }
}

/// A bucket the guest opened.
pub struct OpenBucket {
    name: String,
}

/// What the host functions see of an instance.
pub(crate) struct KvView<'a> {
    table: &'a mut ResourceTable,
    kv: Option<&'a PluginKv>,
}

impl<'a> KvView<'a> {
    pub(crate) fn new(table: &'a mut ResourceTable, kv: Option<&'a PluginKv>) -> Self {
        KvView { table, kv }
    }

    fn bucket(
        &mut self,
        bucket: &Resource<OpenBucket>,
    ) -> wasmtime::Result<std::result::Result<(&KeyValueStore, String), store::Error>> {
        let name = self.table.get(bucket)?.name.clone();
        Ok(match self.kv {
            Some(kv) => kv.store().map(|s| (s, name)),
            None => Err(store::Error::AccessDenied),
        })
    }
}

struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvView<'a>;
}

type Answer<T> = wasmtime::Result<std::result::Result<T, store::Error>>;

/// A storage failure as the guest sees it: an `other` error, never a trap.
fn to_guest(failure: db::KvFailure) -> store::Error {
    store::Error::Other(failure.to_string())
}

impl store::Host for KvView<'_> {
    fn open(&mut self, identifier: String) -> Answer<Resource<OpenBucket>> {
        let Some(kv) = self.kv else {
            return Ok(Err(store::Error::AccessDenied));
        };
        if !kv.buckets.contains(&identifier) {
            tracing::warn!(
                plugin = %kv.plugin,
                bucket = %crate::text::Untrusted(&identifier),
                "key-value bucket denied: not granted (add it under [permissions] keyvalue)"
            );
            return Ok(Err(store::Error::AccessDenied));
        }
        if let Err(e) = kv.store() {
            return Ok(Err(e));
        }
        Ok(Ok(self.table.push(OpenBucket { name: identifier })?))
    }
}

impl store::HostBucket for KvView<'_> {
    fn get(&mut self, bucket: Resource<OpenBucket>, key: String) -> Answer<Option<Vec<u8>>> {
        Ok(self
            .bucket(&bucket)?
            .and_then(|(s, name)| s.read(&name, &key).map_err(to_guest)))
    }

    fn set(&mut self, bucket: Resource<OpenBucket>, key: String, value: Vec<u8>) -> Answer<()> {
        Ok(self
            .bucket(&bucket)?
            .and_then(|(s, name)| s.write_many(&name, &[(key, value)]).map_err(to_guest)))
    }

    fn delete(&mut self, bucket: Resource<OpenBucket>, key: String) -> Answer<()> {
        Ok(self
            .bucket(&bucket)?
            .and_then(|(s, name)| s.delete_many(&name, &[key]).map_err(to_guest)))
    }

    fn exists(&mut self, bucket: Resource<OpenBucket>, key: String) -> Answer<bool> {
        Ok(self
            .bucket(&bucket)?
            .and_then(|(s, name)| s.read(&name, &key).map(|v| v.is_some()).map_err(to_guest)))
    }

    fn list_keys(
        &mut self,
        bucket: Resource<OpenBucket>,
        cursor: Option<u64>,
    ) -> Answer<store::KeyResponse> {
        Ok(self.bucket(&bucket)?.and_then(|(s, name)| {
            s.list_keys(&name, cursor)
                .map(|(keys, cursor)| store::KeyResponse { keys, cursor })
                .map_err(to_guest)
        }))
    }

    fn drop(&mut self, bucket: Resource<OpenBucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for KvView<'_> {
    fn increment(&mut self, bucket: Resource<OpenBucket>, key: String, delta: u64) -> Answer<u64> {
        Ok(self
            .bucket(&bucket)?
            .and_then(|(s, name)| s.increment(&name, &key, delta).map_err(to_guest)))
    }
}

impl batch::Host for KvView<'_> {
    fn get_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        keys: Vec<String>,
    ) -> Answer<Vec<Option<(String, Vec<u8>)>>> {
        Ok(self.bucket(&bucket)?.and_then(|(s, name)| {
            let values = s.read_many(&name, &keys).map_err(to_guest)?;
            Ok(keys
                .into_iter()
                .zip(values)
                .map(|(key, value)| value.map(|v| (key, v)))
                .collect())
        }))
    }

    fn set_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Answer<()> {
        Ok(self
            .bucket(&bucket)?
            .and_then(|(s, name)| s.write_many(&name, &key_values).map_err(to_guest)))
    }

    fn delete_many(&mut self, bucket: Resource<OpenBucket>, keys: Vec<String>) -> Answer<()> {
        Ok(self
            .bucket(&bucket)?
            .and_then(|(s, name)| s.delete_many(&name, &keys).map_err(to_guest)))
    }
}
