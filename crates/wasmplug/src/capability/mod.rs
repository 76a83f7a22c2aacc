//! Capabilities: every way out of the sandbox, each one a unit that owns
//! all of itself.
//!
//! A capability reads its own key under a manifest's `[permissions]` and a
//! policy's `[allow]`, says how its permissions meet (a request and an
//! allowance, a request and a consent), which imports it provides, and, for
//! one plugin and what it was granted, whether a call could wait in it, how
//! it is linked and what each instance holds. Nothing outside its module
//! knows its insides.
//!
//! The host is built from [`registry`]. Adding a capability touches three
//! files: a module here with a type implementing [`Capability`] (and, for
//! one plugin, [`PluginCapability`]); a line in [`registry`] and its `mod`
//! line, in this file; and, for a capability with permissions, a variant
//! of [`Permission`] with its `Display` and `is_pattern` arms. Nothing else
//! changes: the manifest, the policy file, the decision, the import check,
//! `wasmplug check` and linking all ask the registry.

mod args;
mod clocks;
mod config;
mod env;
mod fs;
mod http;
mod interfaces;
mod io;
mod keyvalue;
mod mocks;
mod net;
mod pattern;
mod plugin_api;
mod random;
pub(crate) mod stdio;
mod types;

use std::fmt;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime::component::types::ComponentItem;
use wasmtime_wasi::WasiCtxBuilder;

use crate::document::Entry;
use crate::error::Result;
use crate::permission::{Backing, Grant, Permission, Request};
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) use config::PluginConfig;
pub(crate) use http::HttpState;
pub use http::Origin;
pub use interfaces::{HostInterface, LinkFn};
pub use keyvalue::{KeyValueStore, KvQuota};
pub(crate) use keyvalue::{KvSettings, KvView, PluginKv};
pub use mocks::Mock;
pub(crate) use mocks::NotMocked;
pub(crate) use net::NetPattern;
pub use stdio::StdioMode;

/// What the registry is made from: the host's own settings that some
/// capabilities need.
pub(crate) struct HostParts<T: 'static> {
    pub(crate) interfaces: Vec<HostInterface<T>>,
    pub(crate) mocks: Vec<Mock>,
    /// Whether every other non-WASI interface gets a stand-in.
    pub(crate) stand_ins: bool,
    pub(crate) stdio: StdioMode,
    pub(crate) keyvalue: KvSettings,
}

/// Every capability of a host, in the order their imports are matched.
pub(crate) fn registry<T: Send + 'static>(parts: HostParts<T>) -> Vec<Box<dyn Capability<T>>> {
    vec![
        Box::new(io::Io),
        Box::new(types::TypesOnly),
        Box::new(plugin_api::PluginApi),
        Box::new(config::Config),
        Box::new(args::Args),
        Box::new(env::Env),
        Box::new(stdio::Stdio::new(parts.stdio)),
        Box::new(clocks::Clocks),
        Box::new(random::Random),
        Box::new(fs::Fs),
        Box::new(net::Net),
        Box::new(http::Http),
        Box::new(keyvalue::KeyValue::new(parts.keyvalue)),
        Box::new(interfaces::Interfaces::new(parts.interfaces)),
        // Last: a mock stands in only for what nothing else provides.
        Box::new(mocks::Mocks::new(parts.mocks, parts.stand_ins)),
    ]
}

/// The capabilities as the manifest and policy parsers see them: only
/// their permission side, which does not depend on the host.
pub(crate) fn permission_kinds() -> Vec<Box<dyn Capability<()>>> {
    registry(HostParts {
        interfaces: Vec::new(),
        mocks: Vec::new(),
        stand_ins: false,
        stdio: StdioMode::default(),
        keyvalue: KvSettings::none(),
    })
}

/// Reads each entry of a manifest's `[permissions]` or a policy's
/// `[allow]` with the capability whose key it is; an unknown key is an
/// error that lists the known ones after `what`.
pub(crate) fn read_entries<X>(
    entries: &[Entry<'_, '_>],
    what: &str,
    read: impl Fn(&dyn Capability<()>, &Entry<'_, '_>) -> std::result::Result<Vec<X>, String>,
) -> std::result::Result<Vec<X>, String> {
    let kinds = permission_kinds();
    let mut all = Vec::new();
    for entry in entries {
        let Some(capability) = kinds.iter().find(|c| c.key() == Some(entry.key())) else {
            let keys: Vec<&str> = kinds.iter().filter_map(|c| c.key()).collect();
            return Err(entry.error(&format!(
                "unknown permission `{}`; {what} {}",
                entry.key(),
                keys.join(", ")
            )));
        };
        all.extend(read(capability.as_ref(), entry)?);
    }
    Ok(all)
}

/// One import of a component, as capabilities are asked about it.
#[derive(Clone)]
pub(crate) struct Import {
    /// As the component names it, e.g. `wasi:cli/environment@0.2.6`.
    pub(crate) name: String,
    /// Without its version, e.g. `wasi:cli/environment`.
    pub(crate) interface: String,
    /// An instance whose exports are all types (a world's shared `types`
    /// interface): it needs nothing from the host.
    pub(crate) types_only: bool,
    /// Its type, once the component is compiled; before, only its name is
    /// known (enough to tell whether anything provides it).
    pub(crate) ty: Option<ComponentItem>,
    /// The index in the host's registry of the capability that links it:
    /// the first that provides it, once the imports are matched.
    pub(crate) provider: Option<usize>,
}

impl Import {
    pub(crate) fn new(name: &str, types_only: bool, ty: Option<ComponentItem>) -> Self {
        Import {
            name: name.to_string(),
            interface: unversioned(name).to_string(),
            types_only,
            ty,
            provider: None,
        }
    }

    /// `wasi:cli` for `wasi:cli/environment@0.2.6`.
    pub(crate) fn package(&self) -> &str {
        self.interface
            .split_once('/')
            .map_or(&self.interface, |(package, _)| package)
    }
}

/// `ns:pkg/iface@1.2.3` without its `@version`.
pub(crate) fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// What an import gives a plugin, as `wasmplug check` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportStatus {
    /// Always given: it reaches nothing outside the sandbox.
    Always,
    /// Given, with these granted permissions behind it.
    Granted(Vec<Permission>),
    /// Linked with nothing behind it: its calls fail or see nothing inside
    /// the guest until the permission under `[permissions] KEY` is granted.
    Empty { key: &'static str },
    /// Not linked unless granted: the plugin is refused at load.
    Refused(Permission),
    /// A version the host does not serve: the plugin is refused at load.
    /// `versions` are those it serves.
    Unsupported { versions: Vec<String> },
    /// Fixed answers stand in for the host's functions (see
    /// [`crate::Mock`]).
    Mocked,
}

impl ImportStatus {
    /// What an import of a capability given whole gives: `permission` when
    /// granted, else nothing until `key` is.
    pub(crate) fn whole(granted: bool, permission: Permission, key: &'static str) -> Self {
        if granted {
            ImportStatus::Granted(vec![permission])
        } else {
            ImportStatus::Empty { key }
        }
    }

    /// What an import of a capability granted piece by piece gives: the
    /// `granted` pieces, or nothing until `key` grants some.
    pub(crate) fn pieces(granted: &[Permission], key: &'static str) -> Self {
        if granted.is_empty() {
            ImportStatus::Empty { key }
        } else {
            ImportStatus::Granted(granted.to_vec())
        }
    }
}

impl fmt::Display for ImportStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportStatus::Always => f.write_str("always given"),
            ImportStatus::Granted(permissions) => {
                let names: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
                write!(f, "granted: {}", names.join(", "))
            }
            ImportStatus::Empty { key } => write!(f, "nothing granted ({key})"),
            ImportStatus::Refused(permission) => write!(f, "refused: {permission}"),
            ImportStatus::Mocked => f.write_str("mocked"),
            ImportStatus::Unsupported { versions } => {
                write!(
                    f,
                    "unsupported version (the host serves {})",
                    versions.join(", ")
                )
            }
        }
    }
}

/// One import of a loaded plugin: which capability provides it and what
/// it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportInfo {
    pub name: String,
    /// The capability providing it, e.g. `fs`, `env`, `interfaces`.
    pub capability: &'static str,
    pub status: ImportStatus,
}

/// How a linker is being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinkMode {
    /// For blocking calls: synchronous host functions, nothing that waits.
    pub(crate) blocking: bool,
    /// On an engine with component-model concurrency: WASI 0.3 as well.
    pub(crate) concurrent: bool,
}

/// What one instance's capabilities configure as it is made.
pub(crate) struct InstanceSetup<'a> {
    pub(crate) wasi: &'a mut WasiCtxBuilder,
    /// Whether the instance takes blocking calls.
    pub(crate) blocking: bool,
    /// What the guest sees as its arguments, its name first.
    pub(crate) args: &'a [String],
    pub(crate) stdout: &'a stdio::PluginOutput,
    pub(crate) stderr: &'a stdio::PluginOutput,
    /// What `wasi:http` sends requests with.
    pub(crate) http: &'a mut HttpState,
    /// The plugin's key-value store, when it imports `wasi:keyvalue`.
    pub(crate) keyvalue: &'a mut Option<Arc<PluginKv>>,
}

/// One capability of a host.
///
/// The permission side (`key` to `back`) serves the manifest, the policy
/// and the decision; `provides` and `for_plugin` serve loading.
pub(crate) trait Capability<T: 'static>: Send + Sync {
    /// Its name beside the imports it provides: `fs`, `env`, ...
    fn name(&self) -> &'static str;

    /// The key under a manifest's `[permissions]` and a policy's `[allow]`;
    /// `None` for capabilities that need no permission.
    fn key(&self) -> Option<&'static str> {
        None
    }

    /// The one permission of a capability given whole, on or off (clocks,
    /// randomness), which the defaults below then read: requested with a
    /// reason (`clocks = "why"`), allowed with `clocks = true`.
    fn whole(&self) -> Option<Permission> {
        None
    }

    /// The plugin's requests, from its entry under `[permissions]`.
    fn requests(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Request>, String> {
        let permission = self
            .whole()
            .ok_or_else(|| entry.error("takes no permissions"))?;
        let crate::permission::Reason(reason) = entry.value()?;
        Ok(vec![Request { permission, reason }])
    }

    /// The operator's allowances, from its entry under a policy's `[allow]`.
    fn allowances(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Grant>, String> {
        let permission = self
            .whole()
            .ok_or_else(|| entry.error("takes no permissions"))?;
        let allowed: bool = entry.value()?;
        Ok(if allowed {
            vec![Grant::new(permission)]
        } else {
            Vec::new()
        })
    }

    /// Whether `permission` is one of this capability's.
    fn owns(&self, permission: &Permission) -> bool {
        self.whole().as_ref() == Some(permission)
    }

    /// The part of `requested` that `given` covers, if any: `given` is an
    /// operator's allowance (which may be a pattern) or a user's consent.
    fn meet(&self, requested: &Permission, given: &Permission) -> Option<Permission> {
        (requested == given).then(|| requested.clone())
    }

    /// What backs a granted permission, from the operator's allowance and
    /// the user's grant; an error says why nothing can back it.
    fn back(
        &self,
        _granted: &Permission,
        operator: Option<&Backing>,
        user: Option<&Backing>,
    ) -> std::result::Result<Option<Backing>, String> {
        Ok(operator.or(user).cloned())
    }

    /// Whether this capability provides `import`.
    fn provides(&self, import: &Import) -> bool;

    /// The interfaces it provides by name, for a message about an import
    /// nothing provides; WASI's and the default world's are left out.
    fn offers(&self) -> Vec<String> {
        Vec::new()
    }

    /// This capability for the plugin named `plugin`, from what it was
    /// granted.
    fn for_plugin(&self, plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>>;
}

/// A capability as one plugin has it.
pub(crate) trait PluginCapability<T: 'static>: Send + Sync {
    /// What `import` (one this capability provides) gives the plugin.
    fn import_status(&self, _import: &Import) -> ImportStatus {
        ImportStatus::Always
    }

    /// Why a call could wait in this capability's host functions, if it
    /// could: such a plugin cannot take blocking calls, since nothing could
    /// stop a thread blocked in a host call.
    fn waits(&self) -> Option<&'static str> {
        None
    }

    /// Adds the interfaces among `imports` that this capability provides.
    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        imports: &[Import],
    ) -> wasmtime::Result<()>;

    /// Configures an instance about to be made.
    fn prepare(&self, _setup: &mut InstanceSetup<'_>) -> Result<()> {
        Ok(())
    }
}

/// The per-plugin side of a capability that keeps nothing per plugin and
/// links a fixed set of interfaces.
pub(crate) struct Stateless<T: 'static> {
    link: fn(&mut Linker<StoreData<T>>, LinkMode) -> wasmtime::Result<()>,
}

impl<T: 'static> Stateless<T> {
    pub(crate) fn boxed(
        link: fn(&mut Linker<StoreData<T>>, LinkMode) -> wasmtime::Result<()>,
    ) -> Box<dyn PluginCapability<T>> {
        Box::new(Stateless { link })
    }
}

impl<T: 'static> PluginCapability<T> for Stateless<T> {
    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        (self.link)(linker, mode)
    }
}

/// Whether `import` is one of `interfaces` of `package` (`wasi:clocks`,
/// `["wall-clock", "monotonic-clock"]`), in any version.
pub(crate) fn is_one_of(import: &Import, package: &str, interfaces: &[&str]) -> bool {
    import.package() == package
        && import
            .interface
            .split_once('/')
            .is_some_and(|(_, name)| interfaces.contains(&name))
}
