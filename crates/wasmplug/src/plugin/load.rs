//! The load pipeline, as named steps: read the manifest, know the plugin
//! (its identity), decide what it gets (the plugin's request, the
//! operator's policy, the user's consent), set its limits, compile it (or
//! take it from the cache), match every import to the capability that
//! provides it, and link it once, ready to instantiate many times.

use std::sync::{Arc, OnceLock};

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Linker, Type};

use super::{Plugin, PluginInner};
use crate::capability::{
    Capability, Import, ImportInfo, ImportStatus, LinkMode, PluginCapability, PluginConfig,
    unversioned,
};
use crate::compile::{Compiler, Wasm};
use crate::compose::compose;
use crate::engine::Flavor;
use crate::error::{Error, Result};
use crate::host::{Host, HostInner};
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::names::{DEFAULT_WORLD, WitName};
use crate::permission::{Party, Permission, Request};
use crate::policy::{Consent, Grants, PluginIdentity, decide};
use crate::source::{SourceKind, WasmBytes, imports_types_only, top_level_imports};
use crate::store::StoreData;
use crate::telemetry::{PluginLabel, Telemetry};

pub(crate) struct LoadRequest {
    pub(crate) bytes: WasmBytes,
    pub(crate) manifest: Option<Manifest>,
    /// The name used when there is no manifest.
    pub(crate) default_name: String,
    /// The user's consent for this load, when not the host's: a plugin
    /// set's reload asks no one.
    pub(crate) consent: Option<Consent>,
    /// Components whose exports satisfy the plugin's imports, each with
    /// its own manifest (see `crate::compose`).
    pub(crate) with: Vec<Composed>,
}

/// A component a plugin is composed with.
pub(crate) struct Composed {
    pub(crate) bytes: WasmBytes,
    pub(crate) manifest: Option<Manifest>,
    pub(crate) default_name: String,
}

impl LoadRequest {
    /// The consent this load decides with.
    pub(crate) fn consent<'a, T>(&'a self, settings: &'a HostInner<T>) -> &'a Consent {
        self.consent.as_ref().unwrap_or(&settings.consent)
    }
}

/// Why a request was made for a plugin without a manifest.
const IMPLIED_REASON: &str = "no manifest: asks for what the host gives every plugin";

/// What the pipeline has decided about a plugin before it compiles
/// anything: who it is, what it gets, its limits and each capability as it
/// has them. Plugins and commands share it.
pub(crate) struct Admitted<T: 'static> {
    pub(crate) name: Arc<str>,
    pub(crate) identity: PluginIdentity,
    pub(crate) origin: String,
    pub(crate) kind: SourceKind,
    pub(crate) size: usize,
    pub(crate) manifest: Option<Manifest>,
    pub(crate) requested: Vec<Request>,
    pub(crate) grants: Grants,
    pub(crate) limits: Limits,
    /// Its manifest's configuration, with the host's over it.
    pub(crate) config: Arc<PluginConfig>,
    /// Each capability as this plugin has it, in the registry's order.
    pub(crate) capabilities: Vec<Box<dyn PluginCapability<T>>>,
    /// Its statistics, metrics and the host's observer.
    pub(crate) telemetry: Arc<Telemetry>,
}

/// The steps before compiling: read the manifest, know the plugin, decide
/// what it gets, set its limits.
pub(crate) fn admit<T: Send + 'static>(
    settings: &HostInner<T>,
    consent: &Consent,
    bytes: &WasmBytes,
    manifest: Option<Manifest>,
    default_name: String,
) -> Result<Admitted<T>> {
    if let Some(manifest) = &manifest {
        check_world_version(settings, manifest)?;
    }
    let identity = PluginIdentity {
        name: manifest
            .as_ref()
            .map_or(default_name, |m| m.plugin.name.clone()),
        version: manifest.as_ref().map(|m| m.plugin.version.clone()),
        sha256: bytes.sha256,
    };
    check_signature(&settings.policy, &identity.name, &bytes.bytes)?;
    let requested = match &manifest {
        Some(m) => m.requests.clone(),
        None if settings.implicit_requests => implied_requests(settings, consent, &identity.name),
        None => Vec::new(),
    };
    let grants = decide(
        &settings.registry,
        &identity,
        &requested,
        &settings.policy,
        consent,
    )?;
    let limits = limits(settings, manifest.as_ref(), &identity.name);
    let capabilities = settings
        .registry
        .iter()
        .map(|c| c.for_plugin(&identity.name, &grants))
        .collect::<Result<Vec<_>>>()?;
    let mut config = manifest
        .as_ref()
        .map(|m| m.config.clone())
        .unwrap_or_default();
    config.extend(settings.config.clone());
    let label = PluginLabel {
        name: identity.name.as_str().into(),
        version: identity.version.as_deref().unwrap_or_default().into(),
    };
    Ok(Admitted {
        telemetry: Arc::new(Telemetry::new(label, &settings.telemetry)),
        name: identity.name.as_str().into(),
        identity,
        origin: bytes.origin.clone(),
        kind: bytes.kind,
        size: bytes.bytes.len(),
        manifest,
        requested,
        grants,
        limits,
        config: Arc::new(PluginConfig::new(config)),
        capabilities,
    })
}

impl<T: 'static> Admitted<T> {
    /// A failure to link the plugin's imports.
    pub(crate) fn link_error(&self, e: wasmtime::Error) -> Error {
        Error::Link {
            plugin: self.name.to_string(),
            reason: format!("{e:#}"),
            source: Some(e.into_boxed_dyn_error()),
        }
    }

    /// Why a plugin cannot take blocking calls, if it cannot: each
    /// capability that could make a call wait where no deadline can stop
    /// it says so, as does an engine with component-model concurrency.
    pub(crate) fn blocking_refusal(&self, flavor: Flavor) -> Option<String> {
        let mut waits: Vec<&str> = self.capabilities.iter().filter_map(|c| c.waits()).collect();
        if flavor.concurrent {
            waits.push("component-model async");
        }
        (!waits.is_empty()).then(|| format!("it uses {}, which may wait", waits.join(", ")))
    }

    /// Narrows what this plugin was granted to what `other`, a component it
    /// is composed with, was granted too: the two run as one component,
    /// and neither may get more than its own.
    fn narrow(&mut self, other: &Admitted<T>, registry: &[Box<dyn Capability<T>>]) -> Result<()>
    where
        T: Send,
    {
        self.grants = self
            .grants
            .shared(&self.name, &other.grants, &other.name, registry);
        self.capabilities = registry
            .iter()
            .map(|c| c.for_plugin(&self.name, &self.grants))
            .collect::<Result<Vec<_>>>()?;
        Ok(())
    }

    pub(crate) fn compiler<'a>(&self, settings: &'a HostInner<T>) -> Compiler<'a> {
        Compiler {
            engines: &settings.engines,
            cache: settings.cache.as_ref(),
            observer: settings.on_compile.as_ref(),
            bounds: settings.bounds,
        }
    }
}

pub(crate) fn load<T: Send + 'static>(host: Host<T>, request: LoadRequest) -> Result<Plugin<T>> {
    let settings = &*host.inner;
    let consent = request.consent(settings).clone();
    let registry = &settings.registry;
    let mut admitted = admit(
        settings,
        &consent,
        &request.bytes,
        request.manifest,
        request.default_name,
    )?;
    let mut with = Vec::with_capacity(request.with.len());
    for component in request.with {
        let other = admit(
            settings,
            &consent,
            &component.bytes,
            component.manifest,
            component.default_name,
        )?;
        admitted.narrow(&other, registry)?;
        with.push(component.bytes.into_component()?);
    }
    let bytes = request.bytes.into_component()?;
    let bytes = if with.is_empty() {
        bytes
    } else {
        compose(bytes, &with)?
    };
    let satisfiable = |types: &wasmparser::types::Types| {
        match_imports(declared_imports(&bytes.bytes, types), registry, &admitted).map(drop)
    };
    let (flavor, component) = admitted.compiler(settings).compile::<Component>(
        &Wasm::component(&bytes),
        admitted.limits.fuel.is_some(),
        &satisfiable,
    )?;
    let engine = component.engine();
    let (imports, import_infos) = match_imports(compiled_imports(&component), registry, &admitted)?;
    if let Some(world) = admitted
        .manifest
        .as_ref()
        .and_then(|m| m.plugin.world.as_deref())
    {
        check_world(&admitted.name, world, &component)?;
    }
    let blocking_refusal = admitted.blocking_refusal(flavor);
    let mode = LinkMode {
        blocking: false,
        concurrent: flavor.concurrent,
    };
    let pre = instance_pre(engine, &admitted, mode, &imports, &component)?;
    tracing::debug!(plugin = %admitted.name, sha256 = %bytes.sha256, "plugin loaded");
    let inner = PluginInner {
        admitted,
        imports,
        import_infos,
        component,
        flavor,
        pre,
        blocking_refusal,
        blocking_pre: OnceLock::new(),
    };
    Ok(Plugin {
        host,
        inner: Arc::new(inner),
    })
}

/// Whether `request` would load without compiling, from an artifact this
/// host's cache has checked before and that is unchanged since: a plain
/// component (nothing to wrap or compose) whose first engine flavor, given
/// its limits, has such an entry. A wrong guess costs only where the load
/// runs, never what it does.
pub(crate) fn warm<T: 'static>(settings: &HostInner<T>, request: &LoadRequest) -> bool {
    let Some(cache) = &settings.cache else {
        return false;
    };
    if !request.with.is_empty() || request.bytes.kind != SourceKind::Component {
        return false;
    }
    let manifest = request.manifest.as_ref();
    let name = manifest.map_or(&request.default_name, |m| &m.plugin.name);
    let fuel = limits(settings, manifest, name).fuel.is_some();
    let Some(flavor) = Flavor::candidates(&request.bytes.bytes, fuel)
        .first()
        .copied()
    else {
        return false;
    };
    settings
        .engines
        .get(flavor)
        .is_ok_and(|engine| cache.checked_before::<Component>(engine, &request.bytes.sha256))
}

/// What a plugin without a manifest asks for: whatever the host gives every
/// plugin by name, rather than by pattern.
fn implied_requests<T: 'static>(
    settings: &HostInner<T>,
    consent: &Consent,
    plugin: &str,
) -> Vec<Request> {
    let mut permissions: Vec<&Permission> = consent
        .given_grants()
        .iter()
        .map(|g| &g.permission)
        .collect();
    if consent.by_policy {
        permissions.extend(settings.policy.allowances(plugin).map(|g| &g.permission));
    }
    let mut requests: Vec<Request> = Vec::new();
    for permission in permissions.into_iter().filter(|p| !p.is_pattern()) {
        if !requests.iter().any(|r| &r.permission == permission) {
            requests.push(Request {
                permission: permission.clone(),
                reason: IMPLIED_REASON.into(),
            });
        }
    }
    requests
}

/// The manifest's limits over the host's defaults, capped by the host's
/// ceiling as the operator's policy sets it for this plugin.
fn limits<T: 'static>(
    settings: &HostInner<T>,
    manifest: Option<&Manifest>,
    plugin: &str,
) -> Limits {
    let ceiling = settings.max_limits.with(&settings.policy.ceiling(plugin));
    manifest
        .map_or(settings.default_limits, |m| {
            settings.default_limits.with(&m.limits)
        })
        .min(&ceiling)
}

/// The imports of a compiled component, with their types.
fn compiled_imports(component: &Component) -> Vec<Import> {
    let engine = component.engine();
    component
        .component_type()
        .imports(engine)
        .map(|(name, item)| {
            let types_only = match &item.ty {
                ComponentItem::Type(_) => true,
                ComponentItem::ComponentInstance(instance) => {
                    instance.exports(engine).len() > 0
                        && instance
                            .exports(engine)
                            .all(|(_, export)| matches!(export.ty, ComponentItem::Type(_)))
                }
                _ => false,
            };
            Import::new(name, types_only, Some(item.ty))
        })
        .collect()
}

/// The imports a component declares, from its validated bytes, before it
/// is compiled: their names and whether they hold only types.
fn declared_imports(bytes: &[u8], types: &wasmparser::types::Types) -> Vec<Import> {
    top_level_imports(bytes)
        .iter()
        .map(|name| Import::new(name, imports_types_only(types, name), None))
        .collect()
}

/// Matches every import to the capability that provides it: the imports to
/// link, and what each gives, for `check`. An import no capability
/// provides, one in a version the host does not speak, or one that needs a
/// permission that was not granted, refuses the plugin. Run before
/// compiling too, on the imports the component declares, so that a plugin
/// that cannot be linked costs no compile.
fn match_imports<T: 'static>(
    imports: Vec<Import>,
    registry: &[Box<dyn Capability<T>>],
    admitted: &Admitted<T>,
) -> Result<(Vec<Import>, Vec<ImportInfo>)> {
    let (capabilities, plugin) = (&admitted.capabilities, &*admitted.name);
    let mut infos = Vec::with_capacity(imports.len());
    let mut imports = imports;
    for import in &mut imports {
        let Some(index) = registry.iter().position(|c| c.provides(import)) else {
            return Err(missing_import(plugin, import, registry));
        };
        import.provider = Some(index);
        let status = capabilities[index].import_status(import);
        match &status {
            ImportStatus::Refused(permission) => {
                return Err(denied(plugin, permission, admitted));
            }
            ImportStatus::Unsupported { versions } => {
                return Err(Error::ApiVersion {
                    plugin: plugin.to_string(),
                    api: import.interface.clone(),
                    wanted: import
                        .name
                        .split_once('@')
                        .map_or("", |(_, v)| v)
                        .to_string(),
                    speaks: versions.clone(),
                });
            }
            _ => {}
        }
        infos.push(ImportInfo {
            name: import.name.clone(),
            capability: registry[index].name(),
            status,
        });
    }
    Ok((imports, infos))
}

fn missing_import<T: 'static>(
    plugin: &str,
    import: &Import,
    registry: &[Box<dyn Capability<T>>],
) -> Error {
    let hint = match import.package() {
        package if package.starts_with("wasi:") => Some(format!(
            "{} is not a WASI interface this host implements",
            import.interface
        )),
        package => {
            let offered: Vec<String> = registry
                .iter()
                .flat_map(|c| c.offers())
                .filter(|name| name.starts_with(&format!("{package}/")))
                .collect();
            Some(if offered.is_empty() {
                "without its host, a plugin can be tried with mocks of its functions or a \
                 component that exports the interface"
                    .to_string()
            } else {
                format!("of {package}, this host provides {}", offered.join(", "))
            })
        }
    };
    Error::MissingImport {
        plugin: plugin.to_string(),
        import: import.name.clone(),
        hint,
    }
}

/// The refusal of an import whose permission was not granted: by the party
/// that refused the request, or by the plugin's own manifest that made none
/// (naming what it requested instead, when a name is near).
fn denied<T: 'static>(plugin: &str, permission: &Permission, admitted: &Admitted<T>) -> Error {
    let (party, reason) = match admitted.grants.refusal(permission) {
        Some(refusal) => (refusal.party, refusal.detail.clone()),
        None => (
            Party::Plugin,
            match permission {
                Permission::Interface { name } => {
                    let requested: Vec<String> = admitted
                        .requested
                        .iter()
                        .filter_map(|r| match &r.permission {
                            Permission::Interface { name } => Some(format!("`{name}`")),
                            _ => None,
                        })
                        .collect();
                    let instead = if requested.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; it requests {}, which does not name `{name}`",
                            requested.join(", ")
                        )
                    };
                    format!(
                        "the plugin imports it but its manifest does not request it{instead}; \
                         add `interfaces = [{{ name = \"{name}\", reason = \"...\" }}]` under \
                         [permissions]"
                    )
                }
                _ => "the plugin imports it but its manifest does not request it".into(),
            },
        ),
    };
    Error::PermissionDenied {
        plugin: plugin.to_string(),
        permission: permission.clone(),
        party,
        reason,
    }
}

/// Links the plugin's imports, each by the capability it was matched to
/// (a mock or stand-in never doubles what another provides), and checks the
/// component against them once, for all its instances.
pub(crate) fn instance_pre<T: Send + 'static>(
    engine: &Engine,
    admitted: &Admitted<T>,
    mode: LinkMode,
    imports: &[Import],
    component: &Component,
) -> Result<InstancePre<StoreData<T>>> {
    let link_error = |e: wasmtime::Error| admitted.link_error(e);
    let mut linker = Linker::new(engine);
    for (index, capability) in admitted.capabilities.iter().enumerate() {
        // Each import by the capability it was matched to, and no other; a
        // capability the plugin does not import from links nothing (most
        // link whole packages, `wasi:http`'s alone costing tens of µs).
        let own: Vec<Import> = imports
            .iter()
            .filter(|import| import.provider == Some(index))
            .cloned()
            .collect();
        if own.is_empty() {
            continue;
        }
        capability
            .link(&mut linker, mode, &own)
            .map_err(link_error)?;
    }
    linker.instantiate_pre(component).map_err(link_error)
}

/// Refuses a plugin whose manifest names a world the host speaks, but in
/// a version it does not: before anything is compiled.
fn check_world_version<T: 'static>(settings: &HostInner<T>, manifest: &Manifest) -> Result<()> {
    let Some(world) = manifest.plugin.world.as_deref() else {
        return Ok(());
    };
    let Ok(world) = WitName::parse(world) else {
        return Ok(());
    };
    let spoken: Vec<&WitName> = settings
        .worlds
        .iter()
        .filter(|w| w.unversioned() == world.unversioned())
        .collect();
    if spoken.is_empty() || spoken.iter().any(|w| w.matches(&world)) {
        return Ok(());
    }
    let mut speaks: Vec<&semver::Version> = spoken.iter().filter_map(|w| w.version()).collect();
    speaks.sort_by(|a, b| b.cmp(a));
    Err(Error::ApiVersion {
        plugin: manifest.plugin.name.clone(),
        api: world.unversioned().to_string(),
        wanted: world.version().map(|v| v.to_string()).unwrap_or_default(),
        speaks: speaks.iter().map(|v| v.to_string()).collect(),
    })
}

/// Refuses a plugin the policy requires to be signed unless a trusted key
/// signed its bytes as given: before anything is compiled.
fn check_signature(policy: &crate::policy::Policy, plugin: &str, bytes: &[u8]) -> Result<()> {
    if !policy.signature_required(plugin) {
        return Ok(());
    }
    match crate::signature::verify(bytes, policy.trusted_keys()) {
        Ok(keys) => {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            tracing::debug!(plugin, keys = %keys.join(", "), "signature verified");
            Ok(())
        }
        Err(problem) => Err(Error::Signature {
            plugin: plugin.to_string(),
            problem,
        }),
    }
}

fn check_world(plugin: &str, world: &str, component: &Component) -> Result<()> {
    // The world this crate knows is checked: a plugin that names it but
    // does not implement it is refused before any call.
    if unversioned(world) != unversioned(DEFAULT_WORLD) {
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
