//! A loaded plugin: verified, compiled, its permissions resolved and its
//! imports linked once, ready to instantiate many times.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Type};

use crate::capabilities::imports::ImportRules;
use crate::capabilities::network::NetAllowList;
use crate::capabilities::{blocking_linker, linker};
use crate::compile::Compiler;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::instance::Instance;
use crate::lifecycle::{InstancePool, Lifecycle};
use crate::limits::Limits;
use crate::manifest::{Manifest, Permissions};
use crate::policy::{Grants, unversioned};
use crate::source::{ComponentBytes, Sha256Digest, SourceKind};
use crate::store::StoreData;

/// The world this crate knows, checked at load when a manifest names it:
/// a plugin that does not implement it is refused before any call.
const DEFAULT_WORLD: &str = "wasmplug:plugin/plugin";

fn check_world(plugin: &str, world: &str, component: &Component) -> Result<()> {
    if unversioned(world) != DEFAULT_WORLD {
        return Ok(());
    }
    let engine = component.engine();
    let implements = component
        .component_type()
        .exports(engine)
        .any(|(name, item)| name == "run" && is_run(&item.ty));
    if implements {
        return Ok(());
    }
    Err(Error::WorldMismatch {
        plugin: plugin.to_string(),
        reason: format!(
            "its manifest names the world {world}, but it does not export \
             `run: func(input: string) -> result<string, string>`"
        ),
    })
}

fn is_run(item: &ComponentItem) -> bool {
    let ComponentItem::ComponentFunc(func) = item else {
        return false;
    };
    let params: Vec<Type> = func.params().map(|(_, ty)| ty).collect();
    let results: Vec<Type> = func.results().collect();
    let string_result = |ty: &Type| match ty {
        Type::Result(result) => {
            matches!(result.ok(), Some(Type::String)) && matches!(result.err(), Some(Type::String))
        }
        _ => false,
    };
    matches!(params.as_slice(), [Type::String])
        && matches!(results.as_slice(), [r] if string_result(r))
}

/// Where a plugin's manifest comes from.
pub(crate) enum ManifestSource {
    File(PathBuf),
    Given(Box<Manifest>),
    None,
}

pub(crate) struct LoadRequest {
    pub(crate) bytes: ComponentBytes,
    pub(crate) manifest: ManifestSource,
    /// The name used when there is no manifest.
    pub(crate) default_name: String,
}

/// A plugin ready to run. Cheap to clone and safe to share across threads.
pub struct Plugin<T: 'static = ()> {
    pub(crate) host: Host<T>,
    pub(crate) inner: Arc<PluginInner<T>>,
}

impl<T: 'static> Clone for Plugin<T> {
    fn clone(&self) -> Self {
        Plugin {
            host: self.host.clone(),
            inner: self.inner.clone(),
        }
    }
}

pub(crate) struct PluginInner<T: 'static> {
    pub(crate) name: Arc<str>,
    pub(crate) origin: String,
    pub(crate) kind: SourceKind,
    pub(crate) sha256: Sha256Digest,
    pub(crate) size: usize,
    pub(crate) manifest: Option<Manifest>,
    pub(crate) requested: Permissions,
    pub(crate) grants: Grants,
    pub(crate) limits: Limits,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) net: NetAllowList,
    pub(crate) component: Component,
    pub(crate) pre: InstancePre<StoreData<T>>,
    /// Imports that hold only types, linked as empty instances.
    pub(crate) type_only: Vec<String>,
    /// Why blocking calls are not possible, if they are not.
    pub(crate) blocking_refusal: Option<String>,
    /// Made on the first blocking instantiation.
    pub(crate) blocking_pre: OnceLock<std::result::Result<InstancePre<StoreData<T>>, String>>,
}

impl<T: Send + 'static> Plugin<T> {
    pub(crate) fn load(host: Host<T>, request: LoadRequest) -> Result<Self> {
        let manifest = match request.manifest {
            ManifestSource::File(path) => Some(Manifest::from_file(&path)?),
            ManifestSource::Given(manifest) => Some(*manifest),
            ManifestSource::None => None,
        };
        let settings = &host.inner;
        let name: Arc<str> = manifest
            .as_ref()
            .map_or(request.default_name.as_str(), |m| m.plugin.name.as_str())
            .into();
        let requested = match &manifest {
            Some(m) => m.permissions.clone(),
            None if settings.implicit_requests => settings.policy.implied_request(),
            None => Permissions::default(),
        };
        let grants = settings.policy.resolve(&requested);
        for dir in &grants.dirs {
            if !dir.host.is_dir() {
                return Err(Error::io(
                    &dir.host,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("the directory granted at {} does not exist", dir.guest),
                    ),
                ));
            }
        }
        let limits = manifest
            .as_ref()
            .map_or(settings.default_limits, |m| {
                settings.default_limits.with(&m.limits)
            })
            .min(&settings.max_limits);
        let bytes = request.bytes;
        let (flavor, component) = Compiler {
            engines: &settings.engines,
            cache: settings.cache.as_ref(),
            observer: settings.on_compile.as_ref(),
        }
        .compile(&bytes, limits.fuel.is_some())?;
        let engine = component.engine();
        let type_only = ImportRules {
            plugin: &name,
            registered: &settings.registered,
            granted: &grants.interfaces,
            requested: &requested,
        }
        .check(&component, engine)?;
        if let Some(world) = manifest.as_ref().and_then(|m| m.plugin.world.as_deref()) {
            check_world(&name, world, &component)?;
        }
        let blocking_refusal = blocking_refusal(&grants, flavor.concurrent);
        let pre = linker(
            engine,
            flavor,
            &settings.interfaces,
            &grants.interfaces,
            &type_only,
        )?
        .instantiate_pre(&component)
        .map_err(|e| Error::Link {
            plugin: name.to_string(),
            reason: format!("{e:#}"),
        })?;
        let mut config = manifest
            .as_ref()
            .map(|m| m.config.clone())
            .unwrap_or_default();
        config.extend(settings.config.clone());
        tracing::debug!(plugin = %name, sha256 = %bytes.sha256, "plugin loaded");
        let inner = PluginInner {
            net: NetAllowList::resolve(&grants.net),
            name,
            origin: bytes.origin,
            kind: bytes.kind,
            sha256: bytes.sha256,
            size: bytes.bytes.len(),
            manifest,
            requested,
            grants,
            limits,
            config: Arc::new(config),
            component,
            pre,
            type_only,
            blocking_refusal,
            blocking_pre: OnceLock::new(),
        };
        Ok(Plugin {
            host,
            inner: Arc::new(inner),
        })
    }

    /// A fresh instance; `args` are what the guest sees after its name in
    /// `wasi:cli/environment`'s arguments.
    pub async fn instantiate_with_args(&self, args: &[String]) -> Result<Instance<T>> {
        Instance::new(self.clone(), args).await
    }

    /// A fresh instance with no arguments.
    pub async fn instantiate(&self) -> Result<Instance<T>> {
        self.instantiate_with_args(&[]).await
    }

    /// Calls the default world's `run` on a fresh instance.
    pub async fn run(&self, input: &str) -> Result<String> {
        self.instantiate().await?.run(input).await
    }

    /// A fresh instance for blocking calls ([`Instance::call_blocking`]):
    /// synchronous calls, without the fiber an async call needs, for hosts
    /// that call plugins from their own threads. Only a plugin that nothing
    /// could make wait qualifies: one granted no directories, network,
    /// stdin, clocks or host interfaces. Its CPU time limit holds as for
    /// any call; since it cannot wait, its wall-clock time is its CPU time.
    /// Not from inside an async runtime, where WASI's synchronous functions
    /// cannot run: there, use [`Plugin::instantiate`].
    pub fn instantiate_blocking(&self) -> Result<Instance<T>> {
        self.check_blocking()?;
        let pre = self
            .inner
            .blocking_pre
            .get_or_init(|| {
                blocking_linker(self.engine(), &self.inner.type_only)
                    .and_then(|linker| {
                        linker
                            .instantiate_pre(&self.inner.component)
                            .map_err(Error::runtime)
                    })
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|reason| Error::Link {
                plugin: self.name().to_string(),
                reason,
            })?;
        Instance::new_blocking(self.clone(), pre)
    }

    /// Calls the default world's `run` on a fresh blocking instance.
    pub fn run_blocking(&self, input: &str) -> Result<String> {
        self.instantiate_blocking()?.run_blocking(input)
    }

    /// Fails unless blocking calls may be made here, on this plugin.
    pub(crate) fn check_blocking(&self) -> Result<()> {
        match &self.inner.blocking_refusal {
            Some(reason) => Err(self.not_blocking(reason)),
            None => self.check_outside_runtime(),
        }
    }

    /// Fails inside an async runtime, where WASI's synchronous functions,
    /// which blocking calls use, cannot run.
    pub(crate) fn check_outside_runtime(&self) -> Result<()> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(());
        }
        Err(self.not_blocking(
            "it is called from inside an async runtime, where WASI's synchronous functions \
             cannot run; use `instantiate` and `call` there",
        ))
    }

    pub(crate) fn not_blocking(&self, reason: &str) -> Error {
        Error::NotBlocking {
            plugin: self.name().to_string(),
            reason: reason.to_string(),
        }
    }

    /// A pool that keeps instances of this plugin per `lifecycle`.
    pub fn pool(&self, lifecycle: Lifecycle) -> InstancePool<T> {
        InstancePool::new(self.clone(), lifecycle)
    }
}

/// Why a plugin with these grants cannot take blocking calls, if it cannot:
/// each of these could make a call wait where no deadline can stop it.
fn blocking_refusal(grants: &Grants, concurrent: bool) -> Option<String> {
    let waits = [
        (!grants.dirs.is_empty(), "directories"),
        (!grants.net.is_empty(), "network access"),
        (grants.stdin, "stdin"),
        (grants.clocks, "clocks"),
        (!grants.interfaces.is_empty(), "host interfaces"),
        (concurrent, "component-model async"),
    ];
    let found: Vec<&str> = waits
        .into_iter()
        .filter_map(|(present, what)| present.then_some(what))
        .collect();
    (!found.is_empty()).then(|| format!("it uses {}, which may wait", found.join(", ")))
}

impl<T: 'static> Plugin<T> {
    /// The plugin's name: from its manifest, or else its file name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The SHA-256 of the component, its identity.
    pub fn sha256(&self) -> Sha256Digest {
        self.inner.sha256
    }

    /// The component's size in bytes.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// Where it was loaded from.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// Whether it was a component or a wrapped preview1 module.
    pub fn source_kind(&self) -> SourceKind {
        self.inner.kind
    }

    pub fn manifest(&self) -> Option<&Manifest> {
        self.inner.manifest.as_ref()
    }

    /// What the plugin asked for (its manifest's, or the implied requests).
    pub fn requested(&self) -> &Permissions {
        &self.inner.requested
    }

    /// What it was given, and what was refused.
    pub fn grants(&self) -> &Grants {
        &self.inner.grants
    }

    /// The limits each call runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The compiled component, for typed bindings and introspection.
    pub fn component(&self) -> &Component {
        &self.inner.component
    }

    /// The engine it was compiled for.
    pub fn engine(&self) -> &wasmtime::Engine {
        self.inner.component.engine()
    }
}
