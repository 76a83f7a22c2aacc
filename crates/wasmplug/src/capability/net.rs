//! Outgoing connections (`wasi:sockets`), only to granted `HOST:PORT`
//! patterns.
//!
//! Granted host names are resolved once, when the plugin is loaded, and a
//! guest can connect to exactly the addresses they named then. Name lookup
//! is this module's own: it answers the granted names with those addresses
//! and nothing else, without a query, so a guest cannot use DNS to reach a
//! name it was not granted or to smuggle data out in one. Binding is
//! allowed only for the implicit wildcard bind that precedes a connection;
//! listening and accepting are never allowed.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use serde::Deserialize;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::p2::{DynPollable, Network, Pollable, subscribe};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSockets, WasiSocketsView};

use super::pattern::{self, AddressPattern, pattern_of};
use super::{Capability, Import, ImportStatus, InstanceSetup, LinkMode, PluginCapability};
use crate::document::Entry;
use crate::error::{Error, Result};
use crate::permission::{Grant, Permission, Reason, Request};
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Net;

/// `HOST:PORT` where the port may be `*`; in a policy the host may be `*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NetPattern {
    pub host: String,
    pub port: Option<u16>,
}

impl NetPattern {
    /// Parses `HOST:PORT`, `HOST:*` or `[IPV6]:PORT`.
    pub fn parse(spec: &str) -> Result<Self> {
        let pattern = Self::parse_any(spec)?;
        if pattern.host == "*" {
            return Err(invalid_address(
                spec,
                "the host must be a name or an IP address",
            ));
        }
        Ok(pattern)
    }

    /// Like [`Self::parse`], and `*` for any host, as a policy may say.
    pub(crate) fn parse_any(spec: &str) -> Result<Self> {
        let (host, port) = spec
            .rsplit_once(':')
            .ok_or_else(|| invalid_address(spec, "write it as HOST:PORT, with `*` for any port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || (host.contains('*') && host != "*") {
            return Err(invalid_address(
                spec,
                "the host must be a name, an IP address or `*`",
            ));
        }
        let port = match port {
            "*" => None,
            p => Some(p.parse::<u16>().map_err(|_| {
                invalid_address(spec, "the port must be a number from 0 to 65535 or `*`")
            })?),
        };
        Ok(NetPattern {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The part of `requested` this pattern covers.
    pub(crate) fn meet(&self, requested: &NetPattern) -> Option<NetPattern> {
        if self.host != "*" && self.host != requested.host {
            return None;
        }
        let port = match (self.port, requested.port) {
            (Some(a), Some(b)) if a != b => return None,
            (a, b) => b.or(a),
        };
        Some(NetPattern {
            host: requested.host.clone(),
            port,
        })
    }

    /// Whether the host part is a name that needs DNS.
    fn is_name(&self) -> bool {
        self.host.parse::<IpAddr>().is_err()
    }

    /// The addresses the host stands for, resolved now.
    fn resolve(&self) -> Vec<IpAddr> {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => (self.host.as_str(), 0)
                .to_socket_addrs()
                .map(|addrs| addrs.map(|a: SocketAddr| a.ip().to_canonical()).collect())
                .unwrap_or_else(|e| {
                    tracing::warn!(host = %self.host, "cannot resolve granted host: {e}");
                    Vec::new()
                }),
        }
    }
}

fn invalid_address(spec: &str, reason: &str) -> Error {
    Error::InvalidSetting {
        what: "network address",
        value: spec.into(),
        reason: reason.into(),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetRequest {
    host: String,
    reason: Reason,
}

impl AddressPattern for NetPattern {
    fn from_request(text: &str) -> Result<Self> {
        Self::parse(text)
    }

    fn from_allowance(text: &str) -> Result<Self> {
        Self::parse_any(text)
    }

    fn narrow(&self, requested: &Self) -> Option<Self> {
        self.meet(requested)
    }

    fn permission(address: String) -> Permission {
        Permission::Net { address }
    }

    fn text(permission: &Permission) -> Option<&str> {
        match permission {
            Permission::Net { address } => Some(address),
            _ => None,
        }
    }
}

impl<T: Send + 'static> Capability<T> for Net {
    fn name(&self) -> &'static str {
        "net"
    }

    fn key(&self) -> Option<&'static str> {
        Some("net")
    }

    fn requests(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Request>, String> {
        let requests: Vec<NetRequest> = entry.value()?;
        let asked = requests.into_iter().map(|r| (r.host, r.reason.0));
        pattern::requests::<NetPattern>(entry, asked)
    }

    fn allowances(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Grant>, String> {
        pattern::allowances::<NetPattern>(entry)
    }

    fn owns(&self, permission: &Permission) -> bool {
        matches!(permission, Permission::Net { .. })
    }

    fn meet(&self, requested: &Permission, given: &Permission) -> Option<Permission> {
        pattern::meet::<NetPattern>(requested, given)
    }

    fn provides(&self, import: &Import) -> bool {
        import.package() == "wasi:sockets"
    }

    fn for_plugin(&self, _plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        let granted = pattern::granted::<NetPattern>(grants);
        let patterns: Vec<NetPattern> = granted
            .iter()
            .filter_map(pattern_of::<NetPattern>)
            .filter(|p| p.host != "*")
            .collect();
        Ok(Box::new(PluginNet {
            allowed: Arc::new(AllowList::resolve(&patterns)),
            granted,
        }))
    }
}

/// The resolved addresses a plugin may connect to, and the names it may
/// look up.
#[derive(Debug, Default)]
struct AllowList {
    addresses: Vec<(IpAddr, Option<u16>)>,
    names: BTreeMap<String, Vec<IpAddr>>,
}

impl AllowList {
    fn resolve(patterns: &[NetPattern]) -> Self {
        let mut list = AllowList::default();
        for pattern in patterns {
            let ips = pattern.resolve();
            list.addresses
                .extend(ips.iter().map(|ip| (*ip, pattern.port)));
            if pattern.is_name() {
                list.names
                    .entry(pattern.host.clone())
                    .or_default()
                    .extend(ips);
            }
        }
        list
    }

    fn permits(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        let ip = addr.ip().to_canonical();
        match usage {
            SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => self
                .addresses
                .iter()
                .any(|(allowed, port)| *allowed == ip && port.is_none_or(|p| p == addr.port())),
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                !self.addresses.is_empty() && ip.is_unspecified() && addr.port() == 0
            }
            _ => false,
        }
    }

    /// What a lookup of `name` answers: the addresses of a granted name,
    /// an IP literal as itself, nothing for any other name.
    fn lookup(&self, name: &str) -> Option<Vec<IpAddr>> {
        if let Ok(ip) = name.trim_start_matches('[').trim_end_matches(']').parse() {
            return Some(vec![ip]);
        }
        self.names.get(&name.to_ascii_lowercase()).cloned()
    }
}

struct PluginNet {
    allowed: Arc<AllowList>,
    granted: Vec<Permission>,
}

impl<T: Send + 'static> PluginCapability<T> for PluginNet {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        ImportStatus::pieces(&self.granted, "net")
    }

    fn waits(&self) -> Option<&'static str> {
        (!self.granted.is_empty()).then_some("network access")
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        use wasmtime_wasi::p2::bindings::{sockets, sync};
        let view = <StoreData<T> as WasiSocketsView>::sockets;
        let options = sockets::network::LinkOptions::default();
        sockets::tcp_create_socket::add_to_linker::<_, WasiSockets>(linker, view)?;
        sockets::instance_network::add_to_linker::<_, WasiSockets>(linker, view)?;
        sockets::network::add_to_linker::<_, WasiSockets>(linker, &options, view)?;
        if mode.blocking {
            sync::sockets::tcp::add_to_linker::<_, WasiSockets>(linker, view)?;
            sync::sockets::udp::add_to_linker::<_, WasiSockets>(linker, view)?;
            sync::sockets::udp_create_socket::add_to_linker::<_, WasiSockets>(linker, view)?;
        } else {
            sockets::tcp::add_to_linker::<_, WasiSockets>(linker, view)?;
            sockets::udp::add_to_linker::<_, WasiSockets>(linker, view)?;
            sockets::udp_create_socket::add_to_linker::<_, WasiSockets>(linker, view)?;
        }
        lookup_p2(linker, self.allowed.clone())?;
        if mode.concurrent {
            wasmtime_wasi::p3::bindings::sockets::types::add_to_linker::<_, WasiSockets>(
                linker, view,
            )?;
            lookup_p3(linker, self.allowed.clone())?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        let list = self.allowed.clone();
        let any = !list.addresses.is_empty();
        setup
            .wasi
            .allow_ip_name_lookup(false)
            .allow_tcp(any)
            .allow_udp(any)
            .socket_addr_check(move |addr, usage| {
                let permitted = list.permits(addr, usage);
                if !permitted {
                    tracing::debug!(%addr, ?usage, "socket use denied");
                }
                Box::pin(async move { permitted })
            });
        Ok(())
    }
}

/// The answer to one lookup, handed out address by address.
struct Lookup(std::vec::IntoIter<IpAddr>);

#[wasmtime_wasi::async_trait]
impl Pollable for Lookup {
    async fn ready(&mut self) {}
}

/// `wasi:sockets/ip-name-lookup` of WASI 0.2, answered from `allowed`.
fn lookup_p2<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
    allowed: Arc<AllowList>,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddress};
    let mut lookup = linker.instance("wasi:sockets/ip-name-lookup@0.2.12")?;
    lookup.resource(
        "resolve-address-stream",
        ResourceType::host::<Lookup>(),
        |mut store, rep| {
            store
                .data_mut()
                .table()
                .delete(Resource::<Lookup>::new_own(rep))?;
            Ok(())
        },
    )?;
    lookup.func_wrap(
        "resolve-addresses",
        move |mut store, (network, name): (Resource<Network>, String)| {
            let table = store.data_mut().table();
            table.get(&network)?;
            Ok((match allowed.lookup(&name) {
                Some(ips) => Ok(table.push(Lookup(ips.into_iter()))?),
                None => {
                    tracing::debug!(name = %crate::text::Untrusted(&name), "name lookup denied");
                    Err(ErrorCode::NameUnresolvable)
                }
            },))
        },
    )?;
    lookup.func_wrap(
        "[method]resolve-address-stream.resolve-next-address",
        |mut store, (this,): (Resource<Lookup>,)| {
            let next = store.data_mut().table().get_mut(&this)?.0.next();
            Ok((Ok::<_, ErrorCode>(next.map(IpAddress::from)),))
        },
    )?;
    lookup.func_wrap(
        "[method]resolve-address-stream.subscribe",
        |mut store, (this,): (Resource<Lookup>,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            Ok((subscribe(store.data_mut().table(), this)?,))
        },
    )?;
    Ok(())
}

/// `wasi:sockets/ip-name-lookup` of WASI 0.3, answered from `allowed`.
fn lookup_p3<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
    allowed: Arc<AllowList>,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::p3::bindings::sockets::{ip_name_lookup::ErrorCode, types::IpAddress};
    let mut lookup = linker.instance("wasi:sockets/ip-name-lookup@0.3.0")?;
    lookup.func_wrap_concurrent("resolve-addresses", move |_, (name,): (String,)| {
        let answer = match allowed.lookup(&name) {
            Some(ips) => Ok(ips.into_iter().map(IpAddress::from).collect::<Vec<_>>()),
            None => Err(ErrorCode::NameUnresolvable),
        };
        Box::pin(async move { Ok((answer,)) })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> NetPattern {
        NetPattern::parse_any(text).unwrap()
    }

    #[test]
    fn only_granted_addresses_connect() {
        let list = AllowList::resolve(&[pattern("127.0.0.1:8080"), pattern("::1:*")]);
        let allowed: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let wrong_port: SocketAddr = "127.0.0.1:8081".parse().unwrap();
        let any_port: SocketAddr = "[::1]:9".parse().unwrap();
        assert!(list.permits(allowed, SocketAddrUse::TcpConnect));
        assert!(!list.permits(wrong_port, SocketAddrUse::TcpConnect));
        assert!(list.permits(any_port, SocketAddrUse::TcpConnect));
        assert!(!list.permits(allowed, SocketAddrUse::TcpListen));
        assert!(list.permits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!list.permits("0.0.0.0:80".parse().unwrap(), SocketAddrUse::TcpBind));
        let none = AllowList::resolve(&[]);
        assert!(!none.permits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpBind));
    }

    #[test]
    fn only_granted_names_resolve() {
        let list = AllowList::resolve(&[pattern("localhost:80")]);
        assert!(!list.lookup("localhost").unwrap().is_empty());
        assert!(list.lookup("LOCALHOST").is_some());
        assert_eq!(list.lookup("secret.example.com"), None);
        assert_eq!(
            list.lookup("10.1.2.3"),
            Some(vec!["10.1.2.3".parse().unwrap()])
        );
    }

    #[test]
    fn patterns_meet_at_the_narrower() {
        let meet = |given: &str, requested: &str| {
            pattern(given)
                .meet(&pattern(requested))
                .map(|p| p.to_string())
        };
        assert_eq!(meet("a.com:*", "a.com:443").as_deref(), Some("a.com:443"));
        assert_eq!(meet("a.com:443", "a.com:*").as_deref(), Some("a.com:443"));
        assert_eq!(meet("*:*", "b.com:80").as_deref(), Some("b.com:80"));
        assert_eq!(meet("a.com:443", "a.com:80"), None);
        assert_eq!(meet("a.com:*", "b.com:80"), None);
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
        assert!(NetPattern::parse_any("*:80").is_ok());
        assert!(NetPattern::parse_any("*.example.com:80").is_err());
        assert!(NetPattern::parse("a:99999").is_err());
    }
}
