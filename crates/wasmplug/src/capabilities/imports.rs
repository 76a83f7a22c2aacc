//! Which imports a component may have, decided before anything is linked.
//!
//! Every import must be provided by a capability of this host, and a host
//! interface also needs the plugin's request and the policy's grant. The
//! first import that fails is reported by name with what would fix it.

use std::collections::BTreeSet;

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::error::{Error, Result};
use crate::manifest::Permissions;
use crate::policy::unversioned;

/// WASI packages wasmtime-wasi implements, in both 0.2 and 0.3.
const WASI_PACKAGES: &[&str] = &[
    "wasi:cli",
    "wasi:clocks",
    "wasi:filesystem",
    "wasi:io",
    "wasi:random",
    "wasi:sockets",
];

/// The interface every plugin gets.
pub(crate) const PLUGIN_HOST_INTERFACE: &str = "wasmplug:plugin/host";

/// What decides whether an import can be satisfied.
pub(crate) struct ImportRules<'a> {
    pub(crate) plugin: &'a str,
    /// Host interfaces this host registered (unversioned names).
    pub(crate) registered: &'a BTreeSet<String>,
    /// Host interfaces granted to this plugin.
    pub(crate) granted: &'a BTreeSet<String>,
    pub(crate) requested: &'a Permissions,
}

impl ImportRules<'_> {
    /// Checks every import; returns the imported interfaces that hold only
    /// types (a world's shared `types` interface, say), which need nothing
    /// from the host but an empty instance in the linker. An instance with
    /// no exports at all is not one of them: it names an interface of which
    /// nothing is used, and is judged by its name like any other.
    pub(crate) fn check(&self, component: &Component, engine: &Engine) -> Result<Vec<String>> {
        let mut type_only = Vec::new();
        for (name, item) in component.component_type().imports(engine) {
            match item.ty {
                ComponentItem::ComponentInstance(instance)
                    if instance.exports(engine).len() > 0
                        && instance
                            .exports(engine)
                            .all(|(_, export)| matches!(export.ty, ComponentItem::Type(_))) =>
                {
                    type_only.push(name.to_string());
                }
                _ => self.check_one(name)?,
            }
        }
        Ok(type_only)
    }

    fn check_one(&self, import: &str) -> Result<()> {
        let interface = unversioned(import);
        let package = interface.split_once('/').map_or(interface, |(p, _)| p);
        if WASI_PACKAGES.contains(&package) || interface == PLUGIN_HOST_INTERFACE {
            return Ok(());
        }
        if self.registered.contains(interface) {
            if self.granted.contains(interface) {
                return Ok(());
            }
            let asked = self
                .requested
                .interfaces
                .iter()
                .any(|i| unversioned(&i.name) == interface);
            return Err(Error::PermissionDenied {
                plugin: self.plugin.to_string(),
                permission: format!("interface {interface}"),
                reason: if asked {
                    "the host's policy does not grant it".into()
                } else {
                    format!(
                        "the plugin imports it but its manifest does not request it; add \
                         `interfaces = [{{ name = \"{interface}\", reason = \"...\" }}]` under [permissions]"
                    )
                },
            });
        }
        let hint = match package {
            "wasi:http" => Some(
                "wasi:http is not provided; build the plugin without it \
                 (componentize-js: `-d http fetch-event`)"
                    .to_string(),
            ),
            p if p.starts_with("wasi:") => {
                Some(format!("{p} is not a WASI package this host implements"))
            }
            _ => None,
        };
        Err(Error::MissingImport {
            plugin: self.plugin.to_string(),
            import: import.to_string(),
            hint,
        })
    }
}
