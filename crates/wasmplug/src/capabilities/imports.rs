//! Which imports a component may have, decided before anything is linked.
//!
//! Every import must be provided by a capability of this host, and a host
//! interface also needs the plugin's request and the policy's grant. The
//! first import that fails is reported by name with what would fix it.

use std::collections::BTreeSet;

use wasmtime::Engine;
use wasmtime::component::Component;

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
    pub(crate) fn check(&self, component: &Component, engine: &Engine) -> Result<()> {
        for (name, _) in component.component_type().imports(engine) {
            self.check_one(name)?;
        }
        Ok(())
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
