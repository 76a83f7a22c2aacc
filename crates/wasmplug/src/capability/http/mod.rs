//! Outgoing HTTP (`wasi:http`), only to granted `SCHEME://HOST:PORT`
//! origins.
//!
//! A component that imports `wasi:http` is linked whether or not it was
//! granted anything, as with every other WASI interface: what it was not
//! granted fails at call time with `HttpRequestDenied`. Requests go out
//! through [`send`], never wasmtime's default sender, so that every
//! request, and every hop of a redirect the guest chooses to follow, is
//! checked against the grants, the name is resolved and vetted here, and
//! the connection goes to the address that was vetted.

mod send;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{WasiHttp, WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::pattern::{self, AddressPattern, pattern_of};
use super::{
    Capability, Import, ImportStatus, InstanceSetup, LinkMode, NetPattern, PluginCapability,
};
use crate::document::Entry;
use crate::error::{Error, Result};
use crate::permission::{Grant, Permission, Reason, Request};
use crate::policy::Grants;
use crate::store::StoreData;
use crate::telemetry::PluginLabel;

pub(crate) struct Http;

/// `SCHEME://HOST:PORT`, where the port may be `*` and, in a policy, the
/// host may be `*`: a scheme before the `HOST:PORT` of a [`NetPattern`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    pub address: NetPattern,
}

impl Origin {
    /// Parses `SCHEME://HOST[:PORT]`; a missing port is the scheme's own.
    pub fn parse(spec: &str) -> Result<Self> {
        let origin = Self::parse_any(spec)?;
        if origin.address.host == "*" {
            return Err(invalid_origin(
                spec,
                "the host must be a name or an IP address",
            ));
        }
        Ok(origin)
    }

    /// Like [`Self::parse`], and `*` for any host, as a policy may say.
    fn parse_any(spec: &str) -> Result<Self> {
        let (scheme, rest) = spec.split_once("://").ok_or_else(|| {
            invalid_origin(
                spec,
                "write it as SCHEME://HOST or SCHEME://HOST:PORT, with `*` for any port",
            )
        })?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(invalid_origin(spec, "the scheme must be http or https")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(invalid_origin(
                spec,
                "an origin has no path, query or user name: write SCHEME://HOST:PORT",
            ));
        }
        // `HOST` alone gets the scheme's port; an IPv6 address, brackets.
        let address = match split_host_port(rest) {
            (host, Some(port)) if !host.contains(':') => format!("{host}:{port}"),
            (host, port) => format!("[{host}]:{}", port.unwrap_or(&default_port.to_string())),
        };
        let address = NetPattern::parse_any(&address).map_err(|e| match e {
            Error::InvalidSetting { reason, .. } => invalid_origin(spec, &reason),
            other => other,
        })?;
        Ok(Origin { scheme, address })
    }

    /// The part of `requested` this origin covers.
    fn meet(&self, requested: &Origin) -> Option<Origin> {
        (self.scheme == requested.scheme).then_some(())?;
        Some(Origin {
            scheme: requested.scheme.clone(),
            address: self.address.meet(&requested.address)?,
        })
    }

    /// Whether a request to `scheme://host:port` falls under this origin.
    fn covers(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.scheme == scheme
            && (self.address.host == "*" || self.address.host == host)
            && self.address.port.is_none_or(|p| p == port)
    }

    /// Whether this origin names `ip` itself, as an IP literal: only that
    /// lets a request reach an address that is otherwise refused (loopback,
    /// private, link-local). A name never does, `localhost` included, since
    /// what a name resolves to can change under the operator's feet.
    fn names(&self, ip: IpAddr) -> bool {
        self.address
            .host
            .parse::<IpAddr>()
            .is_ok_and(|own| own.to_canonical() == ip.to_canonical())
    }
}

/// `host` and the port after it, for `name:80`, `[::1]:80`, `::1`, `name`.
fn split_host_port(text: &str) -> (&str, Option<&str>) {
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => ("", None),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (text, None),
    }
}

fn invalid_origin(spec: &str, reason: &str) -> Error {
    Error::InvalidSetting {
        what: "HTTP origin",
        value: spec.into(),
        reason: reason.into(),
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.address)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpRequest {
    origin: String,
    reason: Reason,
}

impl AddressPattern for Origin {
    fn from_request(text: &str) -> Result<Self> {
        Self::parse(text)
    }

    fn from_allowance(text: &str) -> Result<Self> {
        Self::parse_any(text)
    }

    fn narrow(&self, requested: &Self) -> Option<Self> {
        self.meet(requested)
    }

    fn permission(origin: String) -> Permission {
        Permission::Http { origin }
    }

    fn text(permission: &Permission) -> Option<&str> {
        match permission {
            Permission::Http { origin } => Some(origin),
            _ => None,
        }
    }
}

impl<T: Send + 'static> Capability<T> for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn key(&self) -> Option<&'static str> {
        Some("http")
    }

    fn requests(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Request>, String> {
        let requests: Vec<HttpRequest> = entry.value()?;
        let asked = requests.into_iter().map(|r| (r.origin, r.reason.0));
        pattern::requests::<Origin>(entry, asked)
    }

    fn allowances(&self, entry: &Entry<'_, '_>) -> std::result::Result<Vec<Grant>, String> {
        pattern::allowances::<Origin>(entry)
    }

    fn owns(&self, permission: &Permission) -> bool {
        matches!(permission, Permission::Http { .. })
    }

    fn meet(&self, requested: &Permission, given: &Permission) -> Option<Permission> {
        pattern::meet::<Origin>(requested, given)
    }

    fn provides(&self, import: &Import) -> bool {
        import.package() == "wasi:http"
            && matches!(
                import.interface.as_str(),
                "wasi:http/types" | "wasi:http/outgoing-handler" | "wasi:http/client"
            )
    }

    fn for_plugin(&self, _plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        let granted = pattern::granted::<Origin>(grants);
        let origins = granted.iter().filter_map(pattern_of).collect();
        Ok(Box::new(PluginHttp {
            rules: Arc::new(Rules { origins }),
            granted,
        }))
    }
}

/// The origins one plugin may send requests to.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    origins: Vec<Origin>,
}

impl Rules {
    /// The granted origin a request to `scheme://host:port` falls under.
    fn matching(&self, scheme: &str, host: &str, port: u16) -> Option<&Origin> {
        self.origins.iter().find(|o| o.covers(scheme, host, port))
    }
}

struct PluginHttp {
    rules: Arc<Rules>,
    granted: Vec<Permission>,
}

impl<T: Send + 'static> PluginCapability<T> for PluginHttp {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        ImportStatus::pieces(&self.granted, "http")
    }

    fn waits(&self) -> Option<&'static str> {
        (!self.granted.is_empty()).then_some("outgoing HTTP requests")
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        if mode.blocking {
            wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker)?;
        } else {
            wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
        }
        if mode.concurrent {
            use wasmtime_wasi_http::p3::bindings::http::{client, types};
            client::add_to_linker::<_, WasiHttp>(linker, StoreData::<T>::http)?;
            types::add_to_linker::<_, WasiHttp>(linker, StoreData::<T>::http)?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        setup.http.hooks.rules = self.rules.clone();
        Ok(())
    }
}

/// What one instance holds for `wasi:http`: wasmtime's context and the
/// hooks that send its requests.
pub(crate) struct HttpState {
    ctx: WasiHttpCtx,
    pub(crate) hooks: send::Outbound,
}

impl HttpState {
    /// Nothing granted: every request is denied until the capability sets
    /// the plugin's rules. `timeout` caps connecting and the wait for the
    /// first byte, since wasmtime's own defaults are 600 s.
    pub(crate) fn new(plugin: PluginLabel, timeout: Duration) -> Self {
        HttpState {
            ctx: WasiHttpCtx::new(),
            hooks: send::Outbound::new(plugin, timeout),
        }
    }
}

impl<T: Send> WasiHttpView for StoreData<T> {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let (http, table) = self.http_and_table();
        WasiHttpCtxView {
            ctx: &mut http.ctx,
            table,
            hooks: &mut http.hooks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(spec: &str) -> Origin {
        Origin::parse_any(spec).unwrap()
    }

    #[test]
    fn origins_parse_with_default_ports_and_print_normalized() {
        assert_eq!(
            origin("https://API.example.com").to_string(),
            "https://api.example.com:443"
        );
        assert_eq!(
            origin("http://example.com/").to_string(),
            "http://example.com:80"
        );
        assert_eq!(origin("http://[::1]:8080").to_string(), "http://[::1]:8080");
        assert_eq!(origin("https://*:*").to_string(), "https://*:*");
        for bad in [
            "example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://user@example.com",
            "https://*.example.com",
            "https://example.com:99999",
        ] {
            assert!(Origin::parse_any(bad).is_err(), "{bad} should be refused");
        }
        assert!(
            Origin::parse("https://*:443").is_err(),
            "only a policy may say any host"
        );
    }

    #[test]
    fn a_policy_pattern_meets_a_request_on_scheme_host_and_port() {
        let request = origin("https://api.example.com");
        assert_eq!(origin("https://*:*").meet(&request), Some(request.clone()));
        assert_eq!(
            origin("https://*:443").meet(&request),
            Some(request.clone())
        );
        assert_eq!(origin("http://*:*").meet(&request), None, "scheme differs");
        assert_eq!(
            origin("https://*:8443").meet(&request),
            None,
            "port differs"
        );
        assert_eq!(origin("https://other.example.com").meet(&request), None);
    }

    #[test]
    fn only_an_origin_naming_an_internal_address_reaches_it() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(origin("http://127.0.0.1:80").names(loopback));
        assert!(origin("http://[::ffff:127.0.0.1]:80").names(loopback));
        assert!(!origin("http://localhost:80").names(loopback));
        assert!(!origin("http://example.com:80").names(loopback));
        assert!(!origin("http://*:*").names(loopback));
        assert!(!origin("http://10.0.0.1:80").names(loopback));
    }
}
