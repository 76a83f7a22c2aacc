//! `run(url)`: GETs an http or https URL through `wasi:http` and answers
//! `"STATUS BODY"`.
//!
//! Redirects are followed here, not by the host, so that every hop is an
//! outgoing request of its own that the host has to check. A second input
//! line `timeout-ms=N` sets the connect and first-byte timeouts. Failures
//! read `"URL : ErrorCode"`, e.g. `"http://x/ : HttpRequestDenied"`, naming
//! the hop that failed.

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingResponse, Method, OutgoingRequest, RequestOptions, Scheme,
    http_error_code,
};
use wasip2::io::streams::StreamError;
use wasmplug_guest::{Plugin, export_plugin};

/// Redirects followed before giving up, so that a redirect loop ends.
const MAX_REDIRECTS: usize = 5;

struct HttpFetch;

impl Plugin for HttpFetch {
    fn run(input: String) -> Result<String, String> {
        let mut lines = input.lines();
        let mut url = lines.next().unwrap_or_default().trim().to_string();
        let timeout_ns = match lines.next().map(str::trim) {
            None | Some("") => None,
            Some(line) => Some(parse_timeout(line)?),
        };
        let mut redirects = 0;
        loop {
            let response = get(&url, timeout_ns).map_err(|e| format!("{url} : {e}"))?;
            let status = response.status();
            let location = match status {
                301 | 302 | 303 | 307 | 308 => header(&response, "location"),
                _ => None,
            };
            let Some(location) = location else {
                let body = read_body(response).map_err(|e| format!("{url} : {e}"))?;
                return Ok(format!("{status} {}", String::from_utf8_lossy(&body)));
            };
            if redirects == MAX_REDIRECTS {
                return Err(format!("{url} : more than {MAX_REDIRECTS} redirects"));
            }
            redirects += 1;
            url = resolve(&url, &location);
        }
    }
}

export_plugin!(HttpFetch);

/// Parses `timeout-ms=N` into nanoseconds, the unit of `wasi:clocks`.
fn parse_timeout(line: &str) -> Result<u64, String> {
    line.strip_prefix("timeout-ms=")
        .and_then(|ms| ms.parse::<u64>().ok())
        .and_then(|ms| ms.checked_mul(1_000_000))
        .ok_or_else(|| format!("second line must be timeout-ms=N, not {line:?}"))
}

/// Sends one GET and waits for the response head; the error is printable.
fn get(url: &str, timeout_ns: Option<u64>) -> Result<IncomingResponse, String> {
    let (scheme, authority, path_with_query) = split_url(url).ok_or("not an http or https URL")?;
    let request = OutgoingRequest::new(Fields::new());
    request
        .set_method(&Method::Get)
        .map_err(|()| "method rejected")?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "scheme rejected")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| "authority rejected")?;
    request
        .set_path_with_query(Some(&path_with_query))
        .map_err(|()| "path rejected")?;
    let options = match timeout_ns {
        None => None,
        Some(ns) => {
            let options = RequestOptions::new();
            options
                .set_connect_timeout(Some(ns))
                .map_err(|()| "connect-timeout not supported")?;
            options
                .set_first_byte_timeout(Some(ns))
                .map_err(|()| "first-byte-timeout not supported")?;
            Some(options)
        }
    };
    let future = outgoing_handler::handle(request, options).map_err(code)?;
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response),
        Some(Ok(Err(e))) => Err(code(e)),
        Some(Err(())) => Err("response already taken".to_string()),
        None => Err("response not ready after blocking".to_string()),
    }
}

/// Reads the whole body, keeping the `error-code` when the stream fails.
fn read_body(response: IncomingResponse) -> Result<Vec<u8>, String> {
    let body = response.consume().map_err(|()| "body already consumed")?;
    let stream = body.stream().map_err(|()| "body stream already taken")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(http_error_code(&e).map_or_else(|| e.to_debug_string(), code));
            }
        }
    }
    Ok(bytes)
}

/// The first value of header `name`, if it is UTF-8.
fn header(response: &IncomingResponse, name: &str) -> Option<String> {
    let values = response.headers().get(name);
    let value = values.into_iter().next()?;
    String::from_utf8(value).ok()
}

/// Prints an `error-code` as its case name (`HttpRequestDenied`): the
/// generated `Debug` prefixes the type (`ErrorCode::HttpRequestDenied`).
fn code(e: ErrorCode) -> String {
    let debug = format!("{e:?}");
    debug
        .strip_prefix("ErrorCode::")
        .unwrap_or(&debug)
        .to_string()
}

/// Splits `scheme://authority/path?query` (dropping any `#fragment`).
fn split_url(url: &str) -> Option<(Scheme, &str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return None,
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.is_empty() {
        return None;
    }
    // An empty path is `/`, also before a bare query.
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    Some((scheme, authority, path))
}

/// Resolves a `location` against the URL that sent it.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(network_path) = location.strip_prefix("//") {
        return format!("{scheme}://{network_path}");
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    // A relative path replaces the last segment of the base path.
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{scheme}://{authority}{dir}{location}")
}
