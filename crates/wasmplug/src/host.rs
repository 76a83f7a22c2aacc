//! The embedding application's handle: engines, policy, limits and the host
//! interfaces it offers. Cheap to clone; plugins keep their host alive.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::cache::ArtifactCache;
use crate::capability::{
    Capability, HostInterface, HostParts, KeyValueStore, KvQuota, KvSettings, Mock, StdioMode,
    registry,
};
use crate::command::{Command, load_command};
use crate::compile::{CompileBounds, CompileEvent, CompileObserver};
use crate::engine::{EngineSettings, Engines};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::names::{DEFAULT_WORLD, WitName};
use crate::plugin::{self, Composed, LoadRequest, Plugin};
use crate::policy::{Consent, Policy};
use crate::registry::Registry;
use crate::source::WasmBytes;
use crate::telemetry::{CallRecord, TelemetrySettings};

/// Creates the application's per-instance data.
type DataFactory<T> = dyn Fn() -> T + Send + Sync;

/// A plugin host. `T` is the application's own per-instance state, reached
/// by its host interfaces through [`crate::StoreData::host_mut`].
pub struct Host<T: 'static = ()> {
    pub(crate) inner: Arc<HostInner<T>>,
}

impl<T: 'static> Clone for Host<T> {
    fn clone(&self) -> Self {
        Host {
            inner: self.inner.clone(),
        }
    }
}

impl<T: 'static> std::fmt::Debug for Host<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Host")
            .field("policy", &inner.policy)
            .field("consent", &inner.consent)
            .field("limits", &inner.default_limits)
            .field("max_limits", &inner.max_limits)
            .field("worlds", &inner.worlds)
            .finish_non_exhaustive()
    }
}

pub(crate) struct HostInner<T: 'static> {
    pub(crate) engines: Arc<Engines>,
    pub(crate) policy: Policy,
    pub(crate) consent: Consent,
    pub(crate) default_limits: Limits,
    pub(crate) max_limits: Limits,
    pub(crate) stdio: StdioMode,
    pub(crate) implicit_requests: bool,
    /// Every capability of this host, built once.
    pub(crate) registry: Vec<Box<dyn Capability<T>>>,
    pub(crate) config: BTreeMap<String, String>,
    /// The worlds, in each version, this host speaks.
    pub(crate) worlds: Vec<WitName>,
    pub(crate) new_data: Box<DataFactory<T>>,
    pub(crate) cache: Option<ArtifactCache>,
    pub(crate) on_compile: Option<CompileObserver>,
    pub(crate) bounds: CompileBounds,
    pub(crate) telemetry: TelemetrySettings,
    runtime: OnceLock<tokio::runtime::Runtime>,
}

/// Configures a [`Host`].
pub struct HostBuilder<T: 'static = ()> {
    policy: Policy,
    consent: Consent,
    default_limits: Limits,
    max_limits: Option<Limits>,
    stdio: StdioMode,
    implicit_requests: bool,
    interfaces: Vec<HostInterface<T>>,
    mocks: Vec<Mock>,
    stand_ins: bool,
    config: BTreeMap<String, String>,
    worlds: Vec<String>,
    engine: EngineSettings,
    new_data: Box<DataFactory<T>>,
    cache: Option<ArtifactCache>,
    keyvalue: KvSettings,
    on_compile: Option<CompileObserver>,
    bounds: CompileBounds,
    telemetry: TelemetrySettings,
}

impl Host<()> {
    /// A host with no per-instance application data.
    pub fn builder() -> HostBuilder<()> {
        HostBuilder::with_data(|| ())
    }
}

impl<T: Send + 'static> HostBuilder<T> {
    /// A builder whose instances each get the state `new_data` makes.
    pub fn with_data(new_data: impl Fn() -> T + Send + Sync + 'static) -> Self {
        HostBuilder {
            policy: Policy::default(),
            consent: Consent::default(),
            default_limits: Limits::default(),
            max_limits: None,
            stdio: StdioMode::default(),
            implicit_requests: false,
            interfaces: Vec::new(),
            mocks: Vec::new(),
            stand_ins: false,
            config: BTreeMap::new(),
            worlds: vec![DEFAULT_WORLD.to_string()],
            engine: EngineSettings::default(),
            new_data: Box::new(new_data),
            cache: ArtifactCache::at_default_dir(),
            keyvalue: KvSettings {
                dir: KeyValueStore::default_dir(),
                quota: KvQuota::default(),
            },
            on_compile: None,
            bounds: CompileBounds::default(),
            telemetry: TelemetrySettings::default(),
        }
    }

    /// The operator's policy: what plugins may be given. The default
    /// allows nothing.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// How the user's consent is learned. By default what the policy allows
    /// is consented ([`Consent::by_policy`]).
    pub fn consent(mut self, consent: Consent) -> Self {
        self.consent = consent;
        self
    }

    /// Limits for plugins whose manifest asks for none.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.default_limits = limits;
        self
    }

    /// The most a manifest may ask for; defaults to [`Self::limits`], so a
    /// plugin can ask for less but not for more unless this is raised.
    pub fn max_limits(mut self, limits: Limits) -> Self {
        self.max_limits = Some(limits);
        self
    }

    /// Where the plugins' stdout and stderr go; captured as log lines by
    /// default.
    pub fn stdio(mut self, mode: StdioMode) -> Self {
        self.stdio = mode;
        self
    }

    /// Takes a plugin without a manifest to request what this host gives
    /// every plugin by name (the policy's allowances that name one thing,
    /// or with [`Consent::given`], what was given). Right when the person
    /// granting is the one running the plugin (a command line); off by
    /// default, when such a plugin gets nothing.
    pub fn implicit_requests(mut self, enabled: bool) -> Self {
        self.implicit_requests = enabled;
        self
    }

    /// Offers a host interface to plugins that request it and are granted
    /// it, under `[permissions] interfaces` and a policy's `interfaces`.
    pub fn interface(mut self, interface: HostInterface<T>) -> Self {
        self.interfaces.push(interface);
        self
    }

    /// Answers an imported function that nothing else provides with a fixed
    /// value, to try a plugin without its host: its interface is then
    /// linked whole, the other functions failing the call with an error
    /// naming them. Needs no permission.
    pub fn mock(mut self, mock: Mock) -> Self {
        self.mocks.push(mock);
        self
    }

    /// Links every non-WASI interface nothing else provides to a stand-in
    /// whose functions fail the call, naming themselves. For tools that
    /// check, compile or install plugins meant for another application's
    /// host (`wasmplug install`), not for running them. Off by default:
    /// an import nothing provides is refused at load.
    pub fn stand_ins(mut self, enabled: bool) -> Self {
        self.stand_ins = enabled;
        self
    }

    /// Declares a version of a world this host speaks, e.g.
    /// `example:filters/filter@0.2.0`; call it once per version. A plugin
    /// whose manifest names the world in a version the host does not speak
    /// (nor a semver-compatible one) is refused before it is compiled, with
    /// [`Error::ApiVersion`] listing the versions it does. Worlds never
    /// declared are not checked. `wasmplug:plugin/plugin@0.1.0` is always
    /// spoken.
    pub fn world(mut self, world: impl Into<String>) -> Self {
        self.worlds.push(world.into());
        self
    }

    /// Where plugins' key-value stores live (one file per plugin name under
    /// `kv/`); by default [`KeyValueStore::default_dir`]. `None` keeps no
    /// data: opening a bucket fails.
    pub fn data_dir(mut self, dir: Option<impl Into<PathBuf>>) -> Self {
        self.keyvalue.dir = dir.map(Into::into);
        self
    }

    /// What each plugin may keep in its key-value store.
    pub fn kv_quota(mut self, quota: KvQuota) -> Self {
        self.keyvalue.quota = quota;
        self
    }

    /// Sets a configuration value for every plugin, over its manifest's.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    /// The maximum wasm stack of a call, in bytes (512 KiB by default).
    pub fn max_wasm_stack(mut self, bytes: usize) -> Self {
        self.engine.max_wasm_stack = bytes;
        self
    }

    /// Where compiled components are kept; `None` compiles every load. By
    /// default, [`ArtifactCache::at_default_dir`].
    pub fn cache(mut self, cache: Option<ArtifactCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Called when a component has to be compiled (a cache miss), which
    /// takes seconds for large plugins: the place for a progress indicator.
    pub fn on_compile(
        mut self,
        observer: impl Fn(&CompileEvent<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_compile = Some(Arc::new(observer));
        self
    }

    /// Called after every call and instantiation with what it was, how
    /// long it took and how it ended ([`CallRecord`]); runs on the calling
    /// thread. Setting one makes every call read the clock twice (about
    /// 50 ns on a typical machine).
    pub fn observe(mut self, observer: impl Fn(&CallRecord<'_>) + Send + Sync + 'static) -> Self {
        self.telemetry.observer = Some(Arc::new(observer));
        self
    }

    /// Records per-plugin metrics through the [`metrics`] facade, labelled
    /// `plugin` and `version`: `wasmplug_calls_total`,
    /// `wasmplug_call_errors_total` (with `kind`, [`Error::kind`]),
    /// `wasmplug_call_duration_seconds`, `wasmplug_cpu_ticks_total`,
    /// `wasmplug_fuel_consumed_total`, `wasmplug_memory_peak_bytes`,
    /// `wasmplug_instances` and `wasmplug_output_dropped_bytes_total`. Off
    /// by default. Install the recorder before loading plugins: each
    /// plugin registers its metrics once, as it is loaded.
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.telemetry.metrics = enabled;
        self
    }

    /// The largest component, in bytes, this host compiles (128 MiB by
    /// default). Cached components are loaded whatever their size.
    pub fn max_component_size(mut self, bytes: u64) -> Self {
        self.bounds.max_bytes = bytes;
        self
    }

    /// The most functions a component this host compiles may define, all
    /// its core modules together (100,000 by default; componentize-py's
    /// Python runtime has about 30,000). Compile time and memory grow with
    /// it: a 1.2 MB component of 300,000 empty functions takes Cranelift
    /// half a minute and 1.6 GiB.
    pub fn max_component_functions(mut self, functions: u64) -> Self {
        self.bounds.max_functions = functions;
        self
    }

    pub fn build(self) -> Result<Host<T>> {
        for interface in &self.interfaces {
            interface.check()?;
        }
        let worlds = self
            .worlds
            .iter()
            .map(|world| {
                WitName::parse(world).map_err(|reason| Error::InvalidSetting {
                    what: "world",
                    value: world.clone(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Host {
            inner: Arc::new(HostInner {
                engines: Engines::new(self.engine)?,
                policy: self.policy,
                consent: self.consent,
                max_limits: self.max_limits.unwrap_or(self.default_limits),
                default_limits: self.default_limits,
                stdio: self.stdio,
                implicit_requests: self.implicit_requests,
                registry: registry(HostParts {
                    interfaces: self.interfaces,
                    mocks: self.mocks,
                    stand_ins: self.stand_ins,
                    stdio: self.stdio,
                    keyvalue: self.keyvalue,
                }),
                config: self.config,
                worlds,
                new_data: self.new_data,
                cache: self.cache,
                on_compile: self.on_compile,
                bounds: self.bounds,
                telemetry: self.telemetry,
                runtime: OnceLock::new(),
            }),
        })
    }
}

impl<T: Send + 'static> Host<T> {
    /// Loads a component or preview1 module from a file, with the
    /// `plugin.toml` beside it if there is one.
    pub async fn load_file(&self, path: impl AsRef<Path>) -> Result<Plugin<T>> {
        self.load(file_request(path.as_ref(), None)?, plugin::load)
            .await
    }

    /// Loads a component with an explicit manifest file.
    pub async fn load_file_with_manifest(
        &self,
        path: impl AsRef<Path>,
        manifest: impl AsRef<Path>,
    ) -> Result<Plugin<T>> {
        let request = file_request(path.as_ref(), Some(manifest.as_ref()))?;
        self.load(request, plugin::load).await
    }

    /// Loads a component composed with others that satisfy its imports
    /// (stand-ins for a host's interfaces, say): each import one of `with`
    /// exports is plugged into it. Each component's manifest is read from
    /// beside it (the plugin's from `manifest` when given), and the
    /// composition gets only what the plugin and every component of `with`
    /// were each granted. It is known by the plugin's identity.
    pub async fn load_composed(
        &self,
        path: impl AsRef<Path>,
        manifest: Option<&Path>,
        with: &[impl AsRef<Path>],
    ) -> Result<Plugin<T>> {
        let request = composed_request(path.as_ref(), manifest, with)?;
        self.load(request, plugin::load).await
    }

    /// Loads a program composed with others that satisfy its imports; see
    /// [`Self::load_composed`].
    pub async fn load_command_composed(
        &self,
        path: impl AsRef<Path>,
        manifest: Option<&Path>,
        with: &[impl AsRef<Path>],
    ) -> Result<Command<T>> {
        let request = composed_request(path.as_ref(), manifest, with)?;
        self.load(request, load_command).await
    }

    /// Loads a component from memory; `name` labels it in messages and logs
    /// when there is no manifest.
    pub async fn load_bytes(
        &self,
        name: &str,
        bytes: Vec<u8>,
        manifest: Option<Manifest>,
    ) -> Result<Plugin<T>> {
        self.load(bytes_request(name, bytes, manifest)?, plugin::load)
            .await
    }

    /// Pulls the plugin at an OCI `reference` (see [`Registry::pull`]; a
    /// pull by digest that is in the registry's cache makes no request) and
    /// loads it with the `plugin.toml` the artifact carries.
    pub async fn load_reference(&self, registry: &Registry, reference: &str) -> Result<Plugin<T>> {
        let pulled = registry.pull(reference).await?;
        let manifest = pulled.plugin_manifest()?;
        let name = pulled.repository_name().to_string();
        self.load_bytes(&name, pulled.bytes, manifest).await
    }

    /// Loads a program to run for its exit status (see [`Command`]): a
    /// `wasi:cli/run` component or a preview1 command module, with the
    /// `plugin.toml` beside it if there is one.
    pub async fn load_command(&self, path: impl AsRef<Path>) -> Result<Command<T>> {
        self.load(file_request(path.as_ref(), None)?, load_command)
            .await
    }

    /// Loads a program with an explicit manifest file.
    pub async fn load_command_with_manifest(
        &self,
        path: impl AsRef<Path>,
        manifest: impl AsRef<Path>,
    ) -> Result<Command<T>> {
        let request = file_request(path.as_ref(), Some(manifest.as_ref()))?;
        self.load(request, load_command).await
    }

    /// Loads a program from memory; `name` labels it when there is no
    /// manifest.
    pub async fn load_command_bytes(
        &self,
        name: &str,
        bytes: Vec<u8>,
        manifest: Option<Manifest>,
    ) -> Result<Command<T>> {
        self.load(bytes_request(name, bytes, manifest)?, load_command)
            .await
    }

    /// Runs the load pipeline: off tokio's async workers when it may
    /// compile, and right here when the compiled component is one this
    /// host's cache has checked before, which costs no more than a call
    /// into the blocking pool would.
    async fn load<L: Send + 'static>(
        &self,
        request: LoadRequest,
        step: fn(Host<T>, LoadRequest) -> Result<L>,
    ) -> Result<L> {
        let host = self.clone();
        if plugin::warm(&self.inner, &request) {
            return step(host, request);
        }
        off_async_workers(move || step(host, request)).await
    }

    /// Runs a future of this crate to completion from synchronous code, on a
    /// runtime the host keeps for the purpose. Not for use inside an async
    /// runtime: there, `.await` the future instead.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::runtime_message(
                "Host::block_on was called from inside an async runtime; await the future instead",
            ));
        }
        Ok(self.runtime()?.block_on(future))
    }

    /// The runtime this host keeps, started on first use: one worker
    /// thread, which also drives the timers and the blocking pool of calls
    /// polled outside tokio.
    fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        if let Some(runtime) = self.inner.runtime.get() {
            return Ok(runtime);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("wasmplug-io")
            .enable_all()
            .build()
            .map_err(|e| Error::runtime_message(format!("cannot start the async runtime: {e}")))?;
        Ok(self.inner.runtime.get_or_init(|| runtime))
    }

    /// What a call must enter to run: nothing inside a tokio runtime,
    /// else this host's own runtime, so that calls work on any executor.
    pub(crate) fn tokio_for_call(&self) -> Result<Option<tokio::runtime::Handle>> {
        // A task's id is a thread-local read; the handle, asked for only
        // outside tasks (a `block_on`'s own future, another executor), is
        // an `Arc` cloned and dropped.
        if tokio::task::try_id().is_some() || tokio::runtime::Handle::try_current().is_ok() {
            return Ok(None);
        }
        Ok(Some(self.runtime()?.handle().clone()))
    }

    /// The operator's policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Where compiled components are kept, if anywhere.
    pub fn cache(&self) -> Option<&ArtifactCache> {
        self.inner.cache.as_ref()
    }
}

/// Runs `work`, which compiles, off tokio's async workers when there are
/// any; elsewhere there is no blocking pool to move it to.
pub(crate) async fn off_async_workers<R: Send + 'static>(
    work: impl FnOnce() -> Result<R> + Send + 'static,
) -> Result<R> {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::runtime_message(format!("plugin loading was interrupted: {e}")))?
}

/// A file to load, with its manifest: the one given, or the one beside it.
fn file_request(path: &Path, manifest: Option<&Path>) -> Result<LoadRequest> {
    // Read now, so that where the load runs can depend on its limits.
    let manifest = manifest
        .map(Path::to_path_buf)
        .or_else(|| Manifest::beside(path))
        .map(|manifest| Manifest::from_file(&manifest))
        .transpose()?;
    Ok(LoadRequest {
        bytes: WasmBytes::from_file(path)?,
        manifest,
        default_name: file_stem(path),
        consent: None,
        with: Vec::new(),
    })
}

/// A file to load with the components it is composed with, each with the
/// manifest beside it.
fn composed_request(
    path: &Path,
    manifest: Option<&Path>,
    with: &[impl AsRef<Path>],
) -> Result<LoadRequest> {
    let mut request = file_request(path, manifest)?;
    for component in with {
        let part = file_request(component.as_ref(), None)?;
        request.with.push(Composed {
            bytes: part.bytes,
            manifest: part.manifest,
            default_name: part.default_name,
        });
    }
    Ok(request)
}

fn bytes_request(name: &str, bytes: Vec<u8>, manifest: Option<Manifest>) -> Result<LoadRequest> {
    Ok(LoadRequest {
        bytes: WasmBytes::from_bytes(name, bytes)?,
        manifest,
        default_name: name.to_string(),
        consent: None,
        with: Vec::new(),
    })
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into())
}
