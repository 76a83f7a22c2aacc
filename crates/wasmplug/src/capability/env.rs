//! Environment variables (`wasi:cli/environment`), each by name.
//!
//! A policy allows names (`*` for any), with a value of its own or the
//! host's; a user's grant may carry a value too. A granted variable the
//! host does not have and nobody gave a value is refused: the guest never
//! sees a variable that stands for nothing.

use serde::Deserialize;
use wasmtime::component::Linker;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};

use super::{
    Capability, Import, ImportStatus, InstanceSetup, LinkMode, PluginCapability, is_one_of,
};
use crate::document::Entry;
use crate::error::Result;
use crate::permission::{Backing, Grant, Permission, Reason, Request};
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Env;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRequest {
    name: String,
    reason: Reason,
}

/// `"NAME"` or `{ name = "NAME", value = "..." }` in a policy.
#[derive(Deserialize)]
#[serde(untagged)]
enum EnvAllowance {
    Name(String),
    Value { name: String, value: String },
}

fn check_name(name: &str, wildcard: bool) -> std::result::Result<(), String> {
    if name.is_empty() || name.contains('=') || name.contains('\0') || (name == "*" && !wildcard) {
        Err(format!("`{name}` is not an environment variable name"))
    } else {
        Ok(())
    }
}

impl<T: Send + 'static> Capability<T> for Env {
    fn name(&self) -> &'static str {
        "env"
    }

    fn key(&self) -> Option<&'static str> {
        Some("env")
    }

    fn requests(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Request>, String> {
        let requests: Vec<EnvRequest> = entry.value()?;
        requests
            .into_iter()
            .map(|r| {
                check_name(&r.name, false).map_err(|e| entry.error(&e))?;
                Ok(Request {
                    permission: Permission::Env { name: r.name },
                    reason: r.reason.0,
                })
            })
            .collect()
    }

    fn allowances(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Grant>, String> {
        let allowances: Vec<EnvAllowance> = entry.value()?;
        allowances
            .into_iter()
            .map(|a| {
                let grant = match a {
                    EnvAllowance::Name(name) => Grant::env(name),
                    EnvAllowance::Value { name, value } => Grant::env_value(name, value),
                };
                if let Permission::Env { name } = &grant.permission {
                    check_name(name, true).map_err(|e| entry.error(&e))?;
                }
                Ok(grant)
            })
            .collect()
    }

    fn owns(&self, permission: &Permission) -> bool {
        matches!(permission, Permission::Env { .. })
    }

    fn meet(&self, requested: &Permission, given: &Permission) -> Option<Permission> {
        match (requested, given) {
            (Permission::Env { name }, Permission::Env { name: allowed })
                if allowed == "*" || allowed == name =>
            {
                Some(requested.clone())
            }
            _ => None,
        }
    }

    /// The operator's value, else the user's, else the host's own.
    fn back(
        &self,
        granted: &Permission,
        operator: Option<&Backing>,
        user: Option<&Backing>,
    ) -> std::result::Result<Option<Backing>, String> {
        if let Some(value) = operator.or(user) {
            return Ok(Some(value.clone()));
        }
        let Permission::Env { name } = granted else {
            return Ok(None);
        };
        match std::env::var(name) {
            Ok(value) => Ok(Some(Backing::Value(value))),
            Err(_) => Err(format!(
                "`{name}` is not set in the host's environment and no value was given"
            )),
        }
    }

    fn provides(&self, import: &Import) -> bool {
        is_one_of(import, "wasi:cli", &["environment"])
    }

    fn for_plugin(&self, _plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        let vars = grants
            .granted()
            .iter()
            .filter_map(|grant| match (&grant.permission, &grant.backing) {
                (Permission::Env { name }, Some(Backing::Value(value))) => {
                    Some((name.clone(), value.clone()))
                }
                _ => None,
            })
            .collect();
        Ok(Box::new(PluginEnv { vars }))
    }
}

struct PluginEnv {
    vars: Vec<(String, String)>,
}

impl<T: Send + 'static> PluginCapability<T> for PluginEnv {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        if self.vars.is_empty() {
            ImportStatus::Empty { key: "env" }
        } else {
            ImportStatus::Granted(
                self.vars
                    .iter()
                    .map(|(name, _)| Permission::Env { name: name.clone() })
                    .collect(),
            )
        }
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        let cli = <StoreData<T> as WasiCliView>::cli;
        wasmtime_wasi::p2::bindings::cli::environment::add_to_linker::<_, WasiCli>(linker, cli)?;
        if mode.concurrent {
            wasmtime_wasi::p3::bindings::cli::environment::add_to_linker::<_, WasiCli>(
                linker, cli,
            )?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        setup.wasi.envs(&self.vars);
        Ok(())
    }
}
