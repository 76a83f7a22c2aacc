//! How a plugin's HTTP request leaves the host: checked against the
//! granted origins, its name resolved and every address vetted here, the
//! connection made to a vetted address, with timeouts capped by the
//! plugin's deadline. Redirects are answers like any other: a guest that
//! follows one makes a new request, which is checked again.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::{Origin, Rules};
use crate::telemetry::PluginLabel;

/// The `wasi:http` hooks of one instance.
pub(crate) struct Outbound {
    pub(super) rules: Arc<Rules>,
    plugin: PluginLabel,
    /// The plugin's wall-clock limit: no wait may last longer.
    timeout: Duration,
}

/// A response, and the future that drives its connection to the end.
type Exchange = (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
);

/// What the future of a sent request resolves to, as the hooks return it.
type Sent = wasmtime_wasi_http::Result<Exchange>;

impl Outbound {
    pub(super) fn new(plugin: PluginLabel, timeout: Duration) -> Self {
        Outbound {
            rules: Arc::default(),
            plugin,
            timeout,
        }
    }
}

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = Sent> + Send> {
        let target = Target::of(&request, &self.rules);
        let plugin = self.plugin.clone();
        let timeouts = Timeouts::capped(options, self.timeout);
        Box::new(async move {
            let outcome = async {
                let target = target?;
                let addresses = target.vetted_addresses().await?;
                send(request, &target, &addresses, timeouts).await
            }
            .await;
            outcome.map_err(|denial| denial.report(&plugin))
        })
    }
}

/// Why a request did not go out, or what it failed with.
enum Denial {
    /// Refused by the host: the guest gets `HttpRequestDenied`, the host a
    /// log line with `why`.
    Refused { url: String, why: String },
    /// Failed on the way: the guest gets `error`.
    Failed(HttpError),
}

impl Denial {
    fn report(self, plugin: &PluginLabel) -> HttpError {
        match self {
            Denial::Refused { url, why } => {
                tracing::warn!(
                    target: "wasmplug::http",
                    plugin = %plugin.name,
                    url = %crate::text::Untrusted(&url),
                    "outgoing HTTP request denied: {why}"
                );
                HttpError::HttpRequestDenied
            }
            Denial::Failed(error) => error,
        }
    }
}

impl From<HttpError> for Denial {
    fn from(error: HttpError) -> Self {
        Denial::Failed(error)
    }
}

/// Where a request goes, once it is known to fall under a grant.
struct Target {
    url: String,
    https: bool,
    host: String,
    port: u16,
    origin: Origin,
}

impl Target {
    fn of(request: &http::Request<WasiBody>, rules: &Rules) -> Result<Target, Denial> {
        let uri = request.uri();
        let url = uri.to_string();
        let refused = |why: &str| Denial::Refused {
            url: url.clone(),
            why: why.to_string(),
        };
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let https = match scheme.as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(refused("only http and https are allowed")),
        };
        let host = uri
            .host()
            .ok_or_else(|| refused("the request names no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let origin = rules
            .matching(&scheme, &host, port)
            .cloned()
            .ok_or_else(|| {
                refused(&format!(
                    "{scheme}://{host}:{port} is not granted (add it under [permissions] http \
                     in the plugin's manifest, and the operator's policy must allow it)"
                ))
            })?;
        Ok(Target {
            url,
            https,
            host,
            port,
            origin,
        })
    }

    /// The addresses the host stands for, each one vetted: a loopback,
    /// private, link-local or otherwise internal address is refused unless
    /// the granted origin names it, so a public name that resolves inside
    /// the network (or to 169.254.169.254) reaches nothing.
    async fn vetted_addresses(&self) -> Result<Vec<SocketAddr>, Denial> {
        let addresses: Vec<SocketAddr> = match self.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, self.port)],
            Err(_) => tokio::net::lookup_host((self.host.as_str(), self.port))
                .await
                .map_err(|e| HttpError::DnsError {
                    rcode: Some(e.to_string()),
                    info_code: None,
                })?
                .collect(),
        };
        if addresses.is_empty() {
            return Err(HttpError::DestinationNotFound.into());
        }
        match refused_address(&self.origin, &addresses) {
            Some(internal) => Err(Denial::Refused {
                url: self.url.clone(),
                why: format!(
                    "{} resolves to {internal}, an internal address; only an origin naming it \
                     (http://{internal}:PORT) reaches it",
                    self.host
                ),
            }),
            None => Ok(addresses),
        }
    }
}

/// The first of `addresses` that `origin` may not reach: one that is
/// internal and that the origin does not name. One is enough to refuse
/// them all: a name answering with both is not to be trusted.
fn refused_address(origin: &Origin, addresses: &[SocketAddr]) -> Option<IpAddr> {
    addresses
        .iter()
        .map(|a| a.ip().to_canonical())
        .find(|ip| is_internal(*ip) && !origin.names(*ip))
}

/// Whether `ip` is inside this machine or its network rather than on the
/// internet: loopback, private, link-local (cloud metadata at
/// 169.254.169.254), shared, unspecified, broadcast or multicast.
fn is_internal(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                // Carrier-grade NAT, 100.64.0.0/10.
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    }
}

/// The waits of one request, each at most the plugin's deadline.
#[derive(Clone, Copy)]
struct Timeouts {
    connect: Duration,
    first_byte: Duration,
}

impl Timeouts {
    fn capped(options: Option<RequestOptions>, cap: Duration) -> Self {
        let pick = |asked: Option<Duration>| asked.map_or(cap, |asked| asked.min(cap));
        Timeouts {
            connect: pick(options.and_then(|o| o.connect_timeout)),
            first_byte: pick(options.and_then(|o| o.first_byte_timeout)),
        }
    }
}

/// Connects to the first of `addresses` that answers, over TLS for https,
/// and sends `request` on an HTTP/1.1 connection of its own.
async fn send(
    mut request: http::Request<WasiBody>,
    target: &Target,
    addresses: &[SocketAddr],
    timeouts: Timeouts,
) -> Result<Exchange, Denial> {
    let stream = tokio::time::timeout(timeouts.connect, TcpStream::connect(addresses))
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(HttpError::Connect)?;
    let io: Box<dyn Io> = if target.https {
        let name = rustls::pki_types::ServerName::try_from(target.host.clone())
            .map_err(|_| HttpError::HttpRequestUriInvalid)?;
        let tls = tokio_rustls::TlsConnector::from(tls_config());
        Box::new(
            tokio::time::timeout(timeouts.connect, tls.connect(name, stream))
                .await
                .map_err(|_| HttpError::ConnectionTimeout)?
                .map_err(HttpError::Tls)?,
        )
    } else {
        Box::new(stream)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(HttpError::from)?;
    // The request line carries the path only; the `host` header names the
    // authority.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    *request.uri_mut() = path.parse().map_err(|_| HttpError::HttpRequestUriInvalid)?;

    let mut connection = Box::pin(connection);
    let mut connection_done = false;
    let response = {
        let first_byte = tokio::time::timeout(timeouts.first_byte, sender.send_request(request));
        tokio::pin!(first_byte);
        loop {
            tokio::select! {
                sent = &mut first_byte => break sent,
                ended = &mut connection, if !connection_done => {
                    connection_done = true;
                    ended.map_err(HttpError::from)?;
                }
            }
        }
    }
    .map_err(|_| HttpError::ConnectionReadTimeout)?
    .map_err(HttpError::from)?;
    let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
    let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async move {
        if !connection_done {
            connection.await.map_err(HttpError::from)?;
        }
        Ok(())
    });
    Ok((response, io))
}

/// A connection, plain or over TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Io for S {}

/// TLS with the web's root certificates and ring, the one crypto provider
/// of the binary.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_told_from_public_ones() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "100.128.0.1",
        ] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_name_resolving_inside_the_network_is_refused_and_an_ip_grant_is_not() {
        let granted = Origin::parse("http://metadata.example:80").unwrap();
        let at = |ip: &str| vec![SocketAddr::new(ip.parse().unwrap(), 80)];
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert_eq!(
            refused_address(&granted, &at("169.254.169.254")),
            Some(metadata)
        );
        assert!(refused_address(&granted, &at("93.184.216.34")).is_none());
        let mixed = [at("93.184.216.34"), at("10.0.0.5")].concat();
        assert!(refused_address(&granted, &mixed).is_some());
        let by_ip = Origin::parse("http://169.254.169.254").unwrap();
        assert!(refused_address(&by_ip, &at("169.254.169.254")).is_none());
    }

    #[test]
    fn timeouts_never_exceed_the_plugin_deadline() {
        let cap = Duration::from_secs(10);
        let asked = RequestOptions {
            connect_timeout: Some(Duration::from_secs(600)),
            first_byte_timeout: Some(Duration::from_millis(50)),
            between_bytes_timeout: None,
        };
        let t = Timeouts::capped(Some(asked), cap);
        assert_eq!(t.connect, cap);
        assert_eq!(t.first_byte, Duration::from_millis(50));
        assert_eq!(Timeouts::capped(None, cap).first_byte, cap);
    }
}
