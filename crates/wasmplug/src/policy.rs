//! What the host grants, and what a plugin ends up with.
//!
//! A plugin gets the intersection of what its manifest requests and what the
//! [`Policy`] grants; [`Policy::resolve`] computes it once at load and lists
//! every request that was refused, so `wasmplug check` can show both.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::manifest::{Access, DirRequest, EnvRequest, InterfaceRequest, NetRequest, Permissions};

/// The grants of the host (its operator and user). Empty by default: a
/// policy grants nothing it does not name.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub dirs: Vec<DirGrant>,
    pub env: Vec<EnvGrant>,
    pub net: Vec<NetPattern>,
    /// Host interfaces by name without version, e.g. `example:filters/app`.
    pub interfaces: BTreeSet<String>,
    pub clocks: bool,
    pub random: bool,
    pub stdin: bool,
}

/// A host directory offered at a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    pub host: PathBuf,
    pub guest: String,
    pub access: Access,
}

/// An environment variable; without a value, the host's own value is passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvGrant {
    pub name: String,
    pub value: Option<String>,
}

/// `HOST:PORT` where the port may be `*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NetPattern {
    pub host: String,
    pub port: Option<u16>,
}

impl DirGrant {
    /// Parses `HOST[::GUEST]` as `wasmtime run --dir` does; without a guest
    /// path the directory appears at the host path as written.
    pub fn parse(spec: &str, access: Access) -> Result<Self> {
        let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
        if host.is_empty() || guest.is_empty() {
            return Err(Error::InvalidSetting {
                what: "directory",
                value: spec.into(),
                reason: "write it as HOST or HOST::GUEST".into(),
            });
        }
        Ok(DirGrant {
            host: host.into(),
            guest: guest.into(),
            access,
        })
    }
}

impl EnvGrant {
    /// Parses `NAME` or `NAME=VALUE`.
    pub fn parse(spec: &str) -> Result<Self> {
        let (name, value) = match spec.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (spec, None),
        };
        if name.is_empty() {
            return Err(Error::InvalidSetting {
                what: "environment variable",
                value: spec.into(),
                reason: "write it as NAME or NAME=VALUE".into(),
            });
        }
        Ok(EnvGrant {
            name: name.into(),
            value,
        })
    }
}

impl NetPattern {
    /// Parses `HOST:PORT`, `HOST:*` or `[IPV6]:PORT`.
    pub fn parse(spec: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidSetting {
            what: "network address",
            value: spec.into(),
            reason: reason.into(),
        };
        let (host, port) = spec
            .rsplit_once(':')
            .ok_or_else(|| invalid("write it as HOST:PORT, with `*` for any port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('*') {
            return Err(invalid("the host must be a name or an IP address"));
        }
        let port = match port {
            "*" => None,
            p => Some(
                p.parse::<u16>()
                    .map_err(|_| invalid("the port must be a number from 0 to 65535 or `*`"))?,
            ),
        };
        Ok(NetPattern {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether this grant covers a requested pattern.
    fn covers(&self, requested: &NetPattern) -> bool {
        self.host == requested.host && (self.port.is_none() || self.port == requested.port)
    }

    /// Whether the host part is a name that needs DNS.
    pub(crate) fn is_name(&self) -> bool {
        self.host.parse::<IpAddr>().is_err()
    }

    /// The socket addresses this pattern allows, resolved now.
    pub(crate) fn resolve(&self) -> Vec<(IpAddr, Option<u16>)> {
        let ips: Vec<IpAddr> = match self.host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => (self.host.as_str(), 0)
                .to_socket_addrs()
                .map(|addrs| addrs.map(|a: SocketAddr| a.ip()).collect())
                .unwrap_or_else(|e| {
                    tracing::warn!(host = %self.host, "cannot resolve granted host: {e}");
                    Vec::new()
                }),
        };
        ips.into_iter().map(|ip| (ip, self.port)).collect()
    }
}

impl fmt::Display for NetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => write!(f, "{host}:{p}"),
            None => write!(f, "{host}:*"),
        }
    }
}

/// What a plugin is given after its requests meet the policy.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub dirs: Vec<DirGrant>,
    /// Names and the values the guest will see.
    pub env: Vec<(String, String)>,
    pub net: Vec<NetPattern>,
    pub interfaces: BTreeSet<String>,
    pub clocks: bool,
    pub random: bool,
    pub stdin: bool,
    /// Requests the policy refused, each with the plugin's reason.
    pub denied: Vec<Refusal>,
}

/// One request that was not granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The permission as a user would grant it, e.g. `--env HOME`.
    pub permission: String,
    /// Why the plugin asked for it.
    pub reason: String,
}

impl Policy {
    /// Intersects a plugin's requests with this policy.
    pub fn resolve(&self, requested: &Permissions) -> Grants {
        let mut denied = Vec::new();
        let mut refuse = |permission: String, reason: &str| {
            denied.push(Refusal {
                permission,
                reason: reason.to_string(),
            })
        };
        let mut dirs = Vec::new();
        for DirRequest {
            path,
            access,
            reason,
        } in &requested.dirs
        {
            match self.dirs.iter().find(|g| &g.guest == path) {
                Some(grant) => dirs.push(DirGrant {
                    host: grant.host.clone(),
                    guest: path.clone(),
                    access: (*access).min(grant.access),
                }),
                None => refuse(
                    format!(
                        "{} HOST::{path}",
                        if *access == Access::ReadWrite {
                            "--dir"
                        } else {
                            "--ro-dir"
                        }
                    ),
                    reason,
                ),
            }
        }
        let mut env = Vec::new();
        for EnvRequest { name, reason } in &requested.env {
            let value = self
                .env
                .iter()
                .find(|g| &g.name == name)
                .and_then(|g| g.value.clone().or_else(|| std::env::var(name).ok()));
            match value {
                Some(value) => env.push((name.clone(), value)),
                None => refuse(format!("--env {name}"), reason),
            }
        }
        let mut net = Vec::new();
        for NetRequest { host, reason } in &requested.net {
            match NetPattern::parse(host) {
                Ok(pattern) if self.net.iter().any(|g| g.covers(&pattern)) => net.push(pattern),
                _ => refuse(format!("--allow-net {host}"), reason),
            }
        }
        let mut interfaces = BTreeSet::new();
        for InterfaceRequest { name, reason } in &requested.interfaces {
            let unversioned = unversioned(name);
            if self.interfaces.contains(unversioned) {
                interfaces.insert(unversioned.to_string());
            } else {
                refuse(format!("interface {unversioned}"), reason);
            }
        }
        let mut flag = |asked: &Option<String>, granted: bool, name: &str| match asked {
            Some(_) if granted => true,
            Some(reason) => {
                refuse(name.to_string(), reason);
                false
            }
            None => false,
        };
        let clocks = flag(&requested.clocks, self.clocks, "clocks");
        let random = flag(&requested.random, self.random, "random");
        let stdin = flag(&requested.stdin, self.stdin, "stdin");
        Grants {
            dirs,
            env,
            net,
            interfaces,
            clocks,
            random,
            stdin,
            denied,
        }
    }

    /// The requests a plugin without a manifest is taken to make: everything
    /// this policy grants. Used where the person granting is the person
    /// running the plugin, as on the command line.
    pub fn implied_request(&self) -> Permissions {
        const REASON: &str = "granted on the command line";
        Permissions {
            clocks: self.clocks.then(|| REASON.into()),
            random: self.random.then(|| REASON.into()),
            stdin: self.stdin.then(|| REASON.into()),
            dirs: self
                .dirs
                .iter()
                .map(|d| DirRequest {
                    path: d.guest.clone(),
                    access: d.access,
                    reason: REASON.into(),
                })
                .collect(),
            env: self
                .env
                .iter()
                .map(|e| EnvRequest {
                    name: e.name.clone(),
                    reason: REASON.into(),
                })
                .collect(),
            net: self
                .net
                .iter()
                .map(|n| NetRequest {
                    host: n.to_string(),
                    reason: REASON.into(),
                })
                .collect(),
            interfaces: self
                .interfaces
                .iter()
                .map(|i| InterfaceRequest {
                    name: i.clone(),
                    reason: REASON.into(),
                })
                .collect(),
        }
    }
}

/// `ns:pkg/iface@1.2.3` without its `@version`.
pub(crate) fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(path: &str, access: Access) -> DirRequest {
        DirRequest {
            path: path.into(),
            access,
            reason: "why".into(),
        }
    }

    #[test]
    fn grants_are_the_intersection_of_request_and_policy() {
        let policy = Policy {
            dirs: vec![DirGrant::parse("/tmp/x::/data", Access::ReadWrite).unwrap()],
            env: vec![EnvGrant::parse("GREETING=hi").unwrap()],
            net: vec![NetPattern::parse("127.0.0.1:*").unwrap()],
            clocks: true,
            ..Policy::default()
        };
        let request = Permissions {
            dirs: vec![dir("/data", Access::Read), dir("/etc", Access::Read)],
            env: vec![
                EnvRequest {
                    name: "GREETING".into(),
                    reason: "r".into(),
                },
                EnvRequest {
                    name: "SECRET".into(),
                    reason: "r".into(),
                },
            ],
            net: vec![
                NetRequest {
                    host: "127.0.0.1:8080".into(),
                    reason: "r".into(),
                },
                NetRequest {
                    host: "10.0.0.1:80".into(),
                    reason: "r".into(),
                },
            ],
            random: Some("seeds".into()),
            ..Permissions::default()
        };
        let grants = policy.resolve(&request);
        assert_eq!(grants.dirs.len(), 1);
        assert_eq!(
            grants.dirs[0].access,
            Access::Read,
            "request narrows access"
        );
        assert_eq!(grants.env, vec![("GREETING".into(), "hi".into())]);
        assert_eq!(
            grants.net,
            vec![NetPattern::parse("127.0.0.1:8080").unwrap()]
        );
        assert!(!grants.clocks, "granted but not requested");
        assert!(!grants.random, "requested but not granted");
        let denied: Vec<_> = grants
            .denied
            .iter()
            .map(|r| r.permission.as_str())
            .collect();
        assert_eq!(
            denied,
            [
                "--ro-dir HOST::/etc",
                "--env SECRET",
                "--allow-net 10.0.0.1:80",
                "random"
            ]
        );
    }

    #[test]
    fn net_patterns_parse() {
        assert_eq!(
            NetPattern::parse("[::1]:443").unwrap().to_string(),
            "[::1]:443"
        );
        assert_eq!(
            NetPattern::parse("Example.com:*").unwrap().host,
            "example.com"
        );
        assert!(NetPattern::parse("example.com").is_err());
        assert!(NetPattern::parse("*:80").is_err());
        assert!(NetPattern::parse("a:99999").is_err());
    }

    #[test]
    fn implied_request_asks_for_exactly_the_policy() {
        let policy = Policy {
            dirs: vec![DirGrant::parse("data", Access::Read).unwrap()],
            env: vec![EnvGrant::parse("A=1").unwrap()],
            random: true,
            ..Policy::default()
        };
        let grants = policy.resolve(&policy.implied_request());
        assert!(grants.denied.is_empty());
        assert_eq!(grants.dirs[0].guest, "data");
        assert!(grants.random && !grants.clocks);
    }
}
