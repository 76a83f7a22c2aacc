//! A loaded plugin: verified, compiled, its permissions decided and its
//! imports linked once, ready to instantiate many times.

mod load;

use std::sync::{Arc, OnceLock};

use wasmtime::component::{Component, InstancePre};

use crate::capability::{Import, ImportInfo, LinkMode};
use crate::engine::Flavor;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::instance::Instance;
use crate::lifecycle::{InstancePool, Lifecycle};
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::permission::{Refusal, Request};
use crate::policy::{Grants, PluginIdentity};
use crate::source::{Sha256Digest, SourceKind};
use crate::store::StoreData;
use crate::telemetry::PluginStats;

pub(crate) use load::{Admitted, Composed, LoadRequest, admit, load, warm};

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

impl<T: 'static> std::fmt::Debug for Plugin<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("identity", self.identity())
            .field("origin", &self.origin())
            .finish_non_exhaustive()
    }
}

pub(crate) struct PluginInner<T: 'static> {
    /// Who it is, what it got, its limits and capabilities.
    pub(crate) admitted: Admitted<T>,
    pub(crate) imports: Vec<Import>,
    pub(crate) import_infos: Vec<ImportInfo>,
    pub(crate) component: Component,
    /// What its engine supports.
    pub(crate) flavor: Flavor,
    pub(crate) pre: InstancePre<StoreData<T>>,
    /// Why blocking calls are not possible, if they are not.
    pub(crate) blocking_refusal: Option<String>,
    /// Made on the first blocking instantiation.
    pub(crate) blocking_pre: OnceLock<std::result::Result<InstancePre<StoreData<T>>, String>>,
}

impl<T: Send + 'static> Plugin<T> {
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
    /// could make wait qualifies: each of its capabilities says whether it
    /// could (directories, network, stdin, clocks and host interfaces not
    /// declared synchronous can). Its CPU time limit holds as for any call;
    /// since it cannot wait, its wall-clock time is its CPU time. Its calls
    /// run on the caller's thread: any thread of the host's, tokio's
    /// blocking pool, or a multi-thread runtime's worker, whose other tasks
    /// move to another thread meanwhile (`tokio::task::block_in_place`).
    pub fn instantiate_blocking(&self) -> Result<Instance<T>> {
        self.check_blocking()?;
        let inner = &self.inner;
        let pre = inner
            .blocking_pre
            .get_or_init(|| {
                let mode = LinkMode {
                    blocking: true,
                    concurrent: false,
                };
                load::instance_pre(
                    self.engine(),
                    &inner.admitted,
                    mode,
                    &inner.imports,
                    &inner.component,
                )
                .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|reason| Error::Link {
                plugin: self.name().to_string(),
                reason,
                source: None,
            })?;
        Instance::new_blocking(self.clone(), pre)
    }

    /// Calls the default world's `run` on a fresh blocking instance.
    pub fn run_blocking(&self, input: &str) -> Result<String> {
        self.instantiate_blocking()?.run_blocking(input)
    }

    /// Fails unless this plugin can take blocking calls.
    pub(crate) fn check_blocking(&self) -> Result<()> {
        match &self.inner.blocking_refusal {
            Some(reason) => Err(self.not_blocking(reason)),
            None => Ok(()),
        }
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

    /// A pool whose instances each keep what `bind` makes of them once,
    /// typically the bindings the host calls them through, so that no call
    /// looks an export up again:
    ///
    /// ```ignore
    /// let pool = plugin.pool_with(lifecycle, |instance| {
    ///     instance.bind(|store, instance| Filter::new(store, instance))
    /// });
    /// let out = pool
    ///     .with_bound(async |instance, filter| {
    ///         instance
    ///             .call("transform", async |s| filter.call_transform(s, text).await)
    ///             .await
    ///     })
    ///     .await?;
    /// ```
    pub fn pool_with<B: Send + 'static>(
        &self,
        lifecycle: Lifecycle,
        bind: impl Fn(&mut Instance<T>) -> Result<B> + Send + Sync + 'static,
    ) -> InstancePool<T, B> {
        InstancePool::with_bindings(self.clone(), lifecycle, bind)
    }
}

impl<T: 'static> Plugin<T> {
    /// The plugin's name: from its manifest, or else its file name.
    pub fn name(&self) -> &str {
        &self.inner.admitted.name
    }

    /// Who the plugin is: name, version and the SHA-256 of its file as
    /// given, as consent is remembered.
    pub fn identity(&self) -> &PluginIdentity {
        &self.inner.admitted.identity
    }

    /// Whether both are the same load of a plugin: not only the same
    /// bytes, but the same compiled, linked version, so that a host keeping
    /// an instance knows when a plugin set swapped in another.
    pub fn is_same(&self, other: &Plugin<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The SHA-256 of the plugin's file as given, its identity.
    pub fn sha256(&self) -> Sha256Digest {
        self.inner.admitted.identity.sha256
    }

    /// The component's size in bytes.
    pub fn size(&self) -> usize {
        self.inner.admitted.size
    }

    /// Where it was loaded from.
    pub fn origin(&self) -> &str {
        &self.inner.admitted.origin
    }

    /// Whether it was a component or a wrapped preview1 module.
    pub fn source_kind(&self) -> SourceKind {
        self.inner.admitted.kind
    }

    pub fn manifest(&self) -> Option<&Manifest> {
        self.inner.admitted.manifest.as_ref()
    }

    /// What the plugin asked for (its manifest's, or the implied requests).
    pub fn requested(&self) -> &[Request] {
        &self.inner.admitted.requested
    }

    /// What it was given, and what was refused by whom.
    pub fn grants(&self) -> &Grants {
        &self.inner.admitted.grants
    }

    /// The refused requests that matter to this plugin: those of a
    /// capability that provides one of its imports, so that the plugin
    /// will meet the refusal when it runs (a file it cannot open, a
    /// variable it cannot read). A refused request nothing imports is left
    /// out: the plugin asked for it but cannot use it here.
    pub fn unmet(&self) -> Vec<&Refusal> {
        let registry = &self.host.inner.registry;
        self.grants()
            .refused()
            .iter()
            .filter(|refusal| {
                registry
                    .iter()
                    .find(|c| c.owns(&refusal.request.permission))
                    .is_some_and(|owner| {
                        self.imports()
                            .iter()
                            .any(|import| import.capability == owner.name())
                    })
            })
            .collect()
    }

    /// Every import, with the capability that provides it and what it gives.
    pub fn imports(&self) -> &[ImportInfo] {
        &self.inner.import_infos
    }

    /// What the plugin has done since it was loaded: calls, errors by
    /// kind, durations (when measured), CPU ticks, fuel, peak memory, live
    /// instances and output dropped.
    pub fn stats(&self) -> PluginStats {
        self.inner.admitted.telemetry.snapshot()
    }

    /// The limits each call runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.admitted.limits
    }

    /// Why blocking calls cannot be made on this plugin, if they cannot.
    pub fn blocking_refusal(&self) -> Option<&str> {
        self.inner.blocking_refusal.as_deref()
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
