//! The currency of the permission decision: what a plugin may be given
//! ([`Permission`]), what it asks for and why ([`Request`]), a permission
//! given with what backs it ([`Grant`]), and a request that was not given,
//! with the party that said no ([`Refusal`]).
//!
//! Every party speaks in these terms: the plugin's manifest requests
//! permissions, the operator's policy allows them (with patterns: `*` for
//! any name, `HOST:*` for any port), the user consents to them, and what a
//! plugin gets is their intersection. Each capability owns the meaning of
//! its variants; this module only names them.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::text::Untrusted;

/// One thing a plugin may be given. Hosts match on it: a refusal or a
/// denied import carries the permission as this value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "capability", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Permission {
    /// A directory at `path` inside the guest, read-only or read-write. The
    /// host directory behind it is a [`Backing`], never the plugin's choice.
    Dir { path: String, access: Access },
    /// An environment variable by name.
    Env { name: String },
    /// Outgoing connections to `HOST:PORT` (`HOST:*` for any port).
    Net { address: String },
    /// Outgoing HTTP requests to an origin, `SCHEME://HOST:PORT`
    /// (`SCHEME://HOST:*` for any port).
    Http { origin: String },
    /// A key-value bucket of the plugin's own store (`*` for any, in a
    /// policy).
    KeyValue { bucket: String },
    /// A host interface, e.g. `example:filters/app`.
    Interface { name: String },
    /// Real wall and monotonic clocks; without them both stand still.
    Clocks,
    /// Secure randomness; without it the guest gets a fixed sequence.
    Random,
    /// The host's standard input.
    Stdin,
}

/// Read-only or read-write.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    #[default]
    Read,
    ReadWrite,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read-only",
            Access::ReadWrite => "read-write",
        })
    }
}

impl fmt::Display for Permission {
    /// The permission as people read it: `env LANG`, `dir /data (read-only)`,
    /// `net api.example.com:443`, `interface example:filters/app`, `clocks`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permission::Dir { path, access } => {
                write!(f, "dir {} ({access})", Untrusted(path))
            }
            Permission::Env { name } => write!(f, "env {}", Untrusted(name)),
            Permission::Net { address } => write!(f, "net {}", Untrusted(address)),
            Permission::Http { origin } => write!(f, "http {}", Untrusted(origin)),
            Permission::KeyValue { bucket } => write!(f, "keyvalue {}", Untrusted(bucket)),
            Permission::Interface { name } => write!(f, "interface {}", Untrusted(name)),
            Permission::Clocks => f.write_str("clocks"),
            Permission::Random => f.write_str("random"),
            Permission::Stdin => f.write_str("stdin"),
        }
    }
}

/// A permission the plugin asks for, with the reason shown to whoever
/// decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub permission: Permission,
    pub reason: String,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.permission, Untrusted(&self.reason))
    }
}

/// What stands behind a permission on the host's side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Backing {
    /// The host directory behind a guest path.
    HostDir(PathBuf),
    /// A read-only host directory behind a guest path, which blocking calls
    /// read on their own thread rather than through tokio's blocking pool:
    /// the operator's `blocking = true`, for a disk it knows to answer
    /// promptly.
    BlockingHostDir(PathBuf),
    /// The value an environment variable has; without one, the host's own.
    Value(String),
}

/// A permission as a party gives it: an operator's allowance (which may
/// use patterns) or a user's consent, with what backs it if anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub permission: Permission,
    pub backing: Option<Backing>,
}

impl Grant {
    pub fn new(permission: Permission) -> Self {
        Grant {
            permission,
            backing: None,
        }
    }

    /// `path` inside the guest, backed by `host`.
    pub fn dir(path: impl Into<String>, host: impl Into<PathBuf>, access: Access) -> Self {
        Grant {
            permission: Permission::Dir {
                path: path.into(),
                access,
            },
            backing: Some(Backing::HostDir(host.into())),
        }
    }

    /// An environment variable with the host's own value (`*` for any
    /// variable, in a policy).
    pub fn env(name: impl Into<String>) -> Self {
        Grant::new(Permission::Env { name: name.into() })
    }

    /// An environment variable with a value of the host's choosing.
    pub fn env_value(name: impl Into<String>, value: impl Into<String>) -> Self {
        Grant {
            permission: Permission::Env { name: name.into() },
            backing: Some(Backing::Value(value.into())),
        }
    }

    /// Connections to `HOST:PORT` (`HOST:*` for any port; `*:*` for any
    /// address, in a policy).
    pub fn net(address: impl Into<String>) -> Self {
        Grant::new(Permission::Net {
            address: address.into(),
        })
    }

    /// HTTP requests to `SCHEME://HOST:PORT` (`SCHEME://HOST:*` for any
    /// port; `SCHEME://*:*` for any origin of a scheme, in a policy).
    pub fn http(origin: impl Into<String>) -> Self {
        Grant::new(Permission::Http {
            origin: origin.into(),
        })
    }

    /// A bucket of the plugin's key-value store (`*` for any, in a
    /// policy).
    pub fn bucket(name: impl Into<String>) -> Self {
        Grant::new(Permission::KeyValue {
            bucket: name.into(),
        })
    }

    /// A host interface by name (`*` for any, in a policy).
    pub fn interface(name: impl Into<String>) -> Self {
        Grant::new(Permission::Interface { name: name.into() })
    }

    pub fn clocks() -> Self {
        Grant::new(Permission::Clocks)
    }

    pub fn random() -> Self {
        Grant::new(Permission::Random)
    }

    pub fn stdin() -> Self {
        Grant::new(Permission::Stdin)
    }

    /// `path` inside the guest, read-only, backed by `host`, which blocking
    /// calls may read on their own thread (see [`Backing::BlockingHostDir`]).
    pub fn blocking_dir(path: impl Into<String>, host: impl Into<PathBuf>) -> Self {
        Grant {
            permission: Permission::Dir {
                path: path.into(),
                access: Access::Read,
            },
            backing: Some(Backing::BlockingHostDir(host.into())),
        }
    }

    /// `HOST[::GUEST]` as `wasmtime run --dir` takes it: the host directory
    /// at a guest path, or at its own path when no guest path is given.
    pub fn parse_dir(spec: &str, access: Access) -> crate::Result<Self> {
        let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
        if host.is_empty() || guest.is_empty() {
            return Err(crate::Error::InvalidSetting {
                what: "directory",
                value: spec.into(),
                reason: "write it as HOST or HOST::GUEST".into(),
            });
        }
        Ok(Grant::dir(guest, host, access))
    }

    /// `NAME` (the host's own value) or `NAME=VALUE`.
    pub fn parse_env(spec: &str) -> crate::Result<Self> {
        match spec.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok(Grant::env_value(name, value)),
            None if !spec.is_empty() => Ok(Grant::env(spec)),
            _ => Err(crate::Error::InvalidSetting {
                what: "environment variable",
                value: spec.into(),
                reason: "write it as NAME or NAME=VALUE".into(),
            }),
        }
    }

    /// `HOST:PORT`, `HOST:*` or `[IPV6]:PORT`, checked and normalized.
    pub fn parse_net(spec: &str) -> crate::Result<Self> {
        let pattern = crate::capability::NetPattern::parse(spec)?;
        Ok(Grant::net(pattern.to_string()))
    }

    /// `SCHEME://HOST[:PORT]`, checked and normalized (the port defaults to
    /// the scheme's).
    pub fn parse_http(spec: &str) -> crate::Result<Self> {
        let origin = crate::capability::Origin::parse(spec)?;
        Ok(Grant::http(origin.to_string()))
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.permission)?;
        match &self.backing {
            Some(Backing::HostDir(host)) => {
                write!(f, " from {}", Untrusted(&host.display().to_string()))
            }
            Some(Backing::BlockingHostDir(host)) => write!(
                f,
                " from {}, blocking",
                Untrusted(&host.display().to_string())
            ),
            Some(Backing::Value(_)) => f.write_str(" (value given)"),
            None => Ok(()),
        }
    }
}

/// Who decides about a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Party {
    /// The plugin: its manifest did not request the permission.
    Plugin,
    /// The operator: the policy does not allow it.
    Operator,
    /// The user: no consent was given.
    User,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Plugin => "the plugin's manifest",
            Party::Operator => "the operator's policy",
            Party::User => "the user",
        })
    }
}

/// A request that was not granted: which party refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub request: Request,
    pub party: Party,
    /// What the refusing party has, e.g. the policy's allowances for the
    /// capability, or why the user was not asked.
    pub detail: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is refused by {}: {}",
            self.request, self.party, self.detail
        )
    }
}

/// A reason as a manifest gives it: text that says why, not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reason(pub(crate) String);

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let reason = String::deserialize(d)?;
        if reason.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "say why the plugin needs this permission",
            ));
        }
        Ok(Reason(reason))
    }
}

impl Permission {
    /// Whether this names many permissions (`*`, `*:*`), as only a policy
    /// may.
    pub fn is_pattern(&self) -> bool {
        match self {
            Permission::Dir { path, .. } => path == "*",
            Permission::Env { name } | Permission::Interface { name } => name == "*",
            Permission::KeyValue { bucket } => bucket == "*",
            Permission::Net { address } => address.starts_with("*:"),
            Permission::Http { origin } => origin.contains("://*:"),
            Permission::Clocks | Permission::Random | Permission::Stdin => false,
        }
    }
}
