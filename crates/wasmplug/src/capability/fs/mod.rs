//! Directories (`wasi:filesystem`), each at a guest path of the plugin's
//! choosing and backed by a host directory of the operator's (or, where the
//! policy names none, of the user granting it). A plugin never chooses a
//! host path. Paths outside the granted directories (`..`, symlinks out,
//! absolute paths) fail inside the guest.
//!
//! Filesystem work runs on tokio's blocking pool, so a plugin granted a
//! directory takes async calls only. An operator may mark a read-only
//! directory `blocking = true`: blocking calls then read it on their own
//! thread (see [`ready`]), and a plugin whose directories are all such
//! takes blocking calls.

mod ready;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use wasmtime::component::Linker;
use wasmtime_wasi::FsPerms;
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};

use super::{Capability, Import, ImportStatus, InstanceSetup, LinkMode, PluginCapability};
use crate::document::Entry;
use crate::error::{Error, Result};
use crate::permission::{Access, Backing, Grant, Permission, Reason, Request};
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Fs;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirRequest {
    path: String,
    #[serde(default)]
    access: Access,
    reason: Reason,
}

/// `{ path = "/data", host = "/srv/data", access = "read-write" }` in a
/// policy; `path = "*"` allows any guest path, and without `host` the user
/// granting it names the host directory. `blocking = true` on a read-only
/// directory the policy names lets blocking calls read it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirAllowance {
    path: String,
    #[serde(default)]
    host: Option<PathBuf>,
    #[serde(default)]
    access: Access,
    #[serde(default)]
    blocking: bool,
}

impl DirAllowance {
    /// The host directory the policy names, if any, and how calls read it.
    fn backing(self) -> std::result::Result<(Permission, Option<Backing>), &'static str> {
        let permission = Permission::Dir {
            path: self.path,
            access: self.access,
        };
        if !self.blocking {
            return Ok((permission, self.host.map(Backing::HostDir)));
        }
        if self.access != Access::Read {
            return Err(
                "`blocking = true` is for read-only directories (`access = \"read\"`): \
                        a write may wait on the disk for as long as it likes",
            );
        }
        let host = self.host.ok_or(
            "`blocking = true` needs the `host` directory: the policy vouches for the disk \
             that blocking calls read, so it must name it",
        )?;
        Ok((permission, Some(Backing::BlockingHostDir(host))))
    }
}

impl<T: Send + 'static> Capability<T> for Fs {
    fn name(&self) -> &'static str {
        "fs"
    }

    fn key(&self) -> Option<&'static str> {
        Some("dirs")
    }

    fn requests(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Request>, String> {
        let requests: Vec<DirRequest> = entry.value()?;
        requests
            .into_iter()
            .map(|r| {
                if r.path.is_empty() || r.path == "*" {
                    return Err(entry.error("a directory needs the path the guest opens"));
                }
                Ok(Request {
                    permission: Permission::Dir {
                        path: r.path,
                        access: r.access,
                    },
                    reason: r.reason.0,
                })
            })
            .collect()
    }

    fn allowances(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Grant>, String> {
        let allowances: Vec<DirAllowance> = entry.value()?;
        allowances
            .into_iter()
            .map(|a| {
                if a.path.is_empty() {
                    return Err(entry.error("a directory needs the path the guest opens"));
                }
                let (permission, backing) = a.backing().map_err(|e| entry.error(e))?;
                Ok(Grant {
                    permission,
                    backing,
                })
            })
            .collect()
    }

    fn owns(&self, permission: &Permission) -> bool {
        matches!(permission, Permission::Dir { .. })
    }

    /// The same guest path (or `*`), at the lesser access.
    fn meet(&self, requested: &Permission, given: &Permission) -> Option<Permission> {
        match (requested, given) {
            (
                Permission::Dir { path, access },
                Permission::Dir {
                    path: allowed,
                    access: allowed_access,
                },
            ) if allowed == "*" || allowed == path => Some(Permission::Dir {
                path: path.clone(),
                access: (*access).min(*allowed_access),
            }),
            _ => None,
        }
    }

    /// The operator's host directory, or the user's within it; one of them
    /// must name it. Only the operator's says whether blocking calls may
    /// read it, and only for what was granted read-only.
    fn back(
        &self,
        granted: &Permission,
        operator: Option<&Backing>,
        user: Option<&Backing>,
    ) -> std::result::Result<Option<Backing>, String> {
        let dir = |backing: Option<&Backing>| match backing {
            Some(Backing::HostDir(dir) | Backing::BlockingHostDir(dir)) => Some(dir.clone()),
            _ => None,
        };
        let read_only = matches!(
            granted,
            Permission::Dir {
                access: Access::Read,
                ..
            }
        );
        let blocking = read_only && matches!(operator, Some(Backing::BlockingHostDir(_)));
        let backed = |dir| {
            if blocking {
                Backing::BlockingHostDir(dir)
            } else {
                Backing::HostDir(dir)
            }
        };
        match (dir(operator), dir(user)) {
            (Some(allowed), Some(chosen)) if within(&chosen, &allowed) => Ok(Some(backed(chosen))),
            (Some(allowed), Some(chosen)) => Err(format!(
                "the policy backs it with {}, and {} is not inside it",
                allowed.display(),
                chosen.display()
            )),
            (Some(dir), None) | (None, Some(dir)) => Ok(Some(backed(dir))),
            (None, None) => Err(
                "no host directory backs it: the policy names none, and neither does the grant"
                    .into(),
            ),
        }
    }

    fn provides(&self, import: &Import) -> bool {
        import.package() == "wasi:filesystem"
    }

    fn for_plugin(&self, _plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        let mut dirs = Vec::new();
        for grant in grants.granted() {
            let (Permission::Dir { path, access }, Some(backing)) =
                (&grant.permission, &grant.backing)
            else {
                continue;
            };
            let (host, blocking) = match backing {
                Backing::HostDir(host) => (host, false),
                Backing::BlockingHostDir(host) => (host, true),
                _ => continue,
            };
            if !host.is_dir() {
                return Err(Error::io(
                    host,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("the directory granted at {path} does not exist"),
                    ),
                ));
            }
            dirs.push(GrantedDir {
                host: host.clone(),
                guest: path.clone(),
                access: *access,
                blocking,
            });
        }
        Ok(Box::new(PluginFs { dirs }))
    }
}

/// Whether `inner` is `outer` or inside it, compared as real paths where
/// they exist, so `..` and symlinks cannot step outside.
fn within(inner: &Path, outer: &Path) -> bool {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    real(inner).starts_with(real(outer))
}

struct GrantedDir {
    host: PathBuf,
    guest: String,
    access: Access,
    /// Whether blocking calls may read it on their own thread.
    blocking: bool,
}

struct PluginFs {
    dirs: Vec<GrantedDir>,
}

impl<T: Send + 'static> PluginCapability<T> for PluginFs {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        if self.dirs.is_empty() {
            ImportStatus::Empty { key: "dirs" }
        } else {
            ImportStatus::Granted(
                self.dirs
                    .iter()
                    .map(|d| Permission::Dir {
                        path: d.guest.clone(),
                        access: d.access,
                    })
                    .collect(),
            )
        }
    }

    fn waits(&self) -> Option<&'static str> {
        self.dirs
            .iter()
            .any(|d| !d.blocking)
            .then_some("directories not marked `blocking` by the policy")
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        use wasmtime_wasi::p2::bindings;
        let view = <StoreData<T> as WasiFilesystemView>::filesystem;
        bindings::filesystem::preopens::add_to_linker::<_, WasiFilesystem>(linker, view)?;
        if mode.blocking {
            use bindings::sync::filesystem::types;
            types::add_to_linker::<_, ready::HasReady>(linker, ready::ready::<T>)?;
        } else {
            bindings::filesystem::types::add_to_linker::<_, WasiFilesystem>(linker, view)?;
        }
        if mode.concurrent {
            wasmtime_wasi::p3::filesystem::add_to_linker(linker)?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        // A blocking instance exists only when every directory allows it;
        // its filesystem work then runs on the calling thread.
        setup.wasi.allow_blocking_current_thread(setup.blocking);
        for dir in &self.dirs {
            let perms = match dir.access {
                Access::Read => FsPerms::ReadOnly,
                Access::ReadWrite => FsPerms::ReadWrite,
            };
            setup
                .wasi
                .preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| Error::Io {
                    path: dir.host.clone(),
                    source: std::io::Error::other(format!(
                        "cannot open the directory granted at {}: {e:#}",
                        dir.guest
                    )),
                })?;
        }
        Ok(())
    }
}
