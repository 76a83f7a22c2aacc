//! Outgoing connections, only to granted `HOST:PORT` patterns.
//!
//! Hosts are resolved when the plugin is loaded, so a guest can reach exactly
//! the addresses its grants named then. Binding is allowed only for the
//! implicit wildcard bind that precedes a connection; listening and accepting
//! are never allowed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::sockets::SocketAddrUse;

use crate::policy::NetPattern;

/// The resolved addresses a plugin may connect to.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetAllowList {
    allowed: Arc<Vec<(IpAddr, Option<u16>)>>,
    needs_dns: bool,
}

impl NetAllowList {
    pub(crate) fn resolve(patterns: &[NetPattern]) -> Self {
        NetAllowList {
            allowed: Arc::new(patterns.iter().flat_map(NetPattern::resolve).collect()),
            needs_dns: patterns.iter().any(NetPattern::is_name),
        }
    }

    fn permits(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        match usage {
            SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => self
                .allowed
                .iter()
                .any(|(ip, port)| *ip == addr.ip() && port.is_none_or(|p| p == addr.port())),
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                !self.allowed.is_empty() && addr.ip().is_unspecified() && addr.port() == 0
            }
            _ => false,
        }
    }

    pub(crate) fn apply(&self, wasi: &mut WasiCtxBuilder) {
        let list = self.clone();
        wasi.allow_ip_name_lookup(self.needs_dns)
            .allow_tcp(!self.allowed.is_empty())
            .allow_udp(!self.allowed.is_empty())
            .socket_addr_check(move |addr, usage| {
                let permitted = list.permits(addr, usage);
                if !permitted {
                    tracing::debug!(%addr, ?usage, "socket use denied");
                }
                Box::pin(async move { permitted })
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_granted_addresses_connect() {
        let list = NetAllowList::resolve(&[
            NetPattern::parse("127.0.0.1:8080").unwrap(),
            NetPattern::parse("::1:*").unwrap(),
        ]);
        let allowed: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let wrong_port: SocketAddr = "127.0.0.1:8081".parse().unwrap();
        let any_port: SocketAddr = "[::1]:9".parse().unwrap();
        assert!(list.permits(allowed, SocketAddrUse::TcpConnect));
        assert!(!list.permits(wrong_port, SocketAddrUse::TcpConnect));
        assert!(list.permits(any_port, SocketAddrUse::TcpConnect));
        assert!(!list.permits(allowed, SocketAddrUse::TcpListen));
        assert!(list.permits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!list.permits("0.0.0.0:80".parse().unwrap(), SocketAddrUse::TcpBind));
        let none = NetAllowList::resolve(&[]);
        assert!(!none.permits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpBind));
    }
}
