//! HTTP both ways: plugins' outgoing requests checked against their grants
//! (the deny matrix, against servers these tests start on 127.0.0.1), and
//! plugins serving requests, misbehaving ones included.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use wasmplug::{Error, Grant, Host, HttpHandler, Limits, Policy, ServeOptions};
use wasmplug_tests::local_http::{http_request, local_server};
use wasmplug_tests::{guest, staged};

/// The manifest of the `http-fetch` plugin with `permissions` under
/// `[permissions]`.
fn fetch_manifest(permissions: &str) -> String {
    format!("[plugin]\nname = \"fetch\"\nversion = \"0.1.0\"\n\n[permissions]\n{permissions}\n")
}

fn host(policy: Policy, limits: Limits) -> Host {
    Host::builder()
        .policy(policy)
        .limits(limits)
        .build()
        .unwrap()
}

/// A server on 127.0.0.1 that accepts connections and never answers.
async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    addr
}

/// Loads `http-fetch` with `permissions` requested and `policy`, and
/// fetches `input` (a URL, and optionally `\ntimeout-ms=N`).
async fn fetch(permissions: &str, policy: Policy, input: &str) -> wasmplug::Result<String> {
    let (_dir, path) = staged("http_fetch", Some(&fetch_manifest(permissions)));
    let limits = Limits::default().timeout(Duration::from_secs(3));
    let plugin = host(policy, limits).load_file(&path).await.unwrap();
    plugin.run(input).await
}

fn granted_local(addr: SocketAddr) -> (String, Policy) {
    (
        format!(r#"http = [{{ origin = "http://{addr}", reason = "reads a local service" }}]"#),
        Policy::new().allow(Grant::http(format!("http://{addr}"))),
    )
}

fn denied(outcome: wasmplug::Result<String>) -> String {
    match outcome {
        Err(Error::Guest { message, .. }) => {
            assert!(message.contains("HttpRequestDenied"), "{message}");
            message
        }
        other => panic!("expected the request to be denied, got {other:?}"),
    }
}

#[tokio::test]
async fn a_granted_origin_is_reached() {
    let server = local_server().await;
    let (permissions, policy) = granted_local(server);
    let answer = fetch(&permissions, policy, &format!("http://{server}/ok"))
        .await
        .unwrap();
    assert_eq!(answer, "200 fine");
}

/// componentize-js puts `wasi:http` in every component: a plugin importing
/// it without a grant loads, and its requests fail when made.
#[tokio::test]
async fn a_plugin_importing_http_without_a_grant_loads_and_is_denied_at_call_time() {
    let server = local_server().await;
    let plugin = Host::builder()
        .build()
        .unwrap()
        .load_file(guest("http_fetch"))
        .await
        .unwrap();
    let http = plugin
        .imports()
        .iter()
        .find(|i| i.name.starts_with("wasi:http/outgoing-handler"))
        .expect("the plugin imports wasi:http");
    assert_eq!(http.status, wasmplug::ImportStatus::Empty { key: "http" });
    denied(plugin.run(&format!("http://{server}/ok")).await);
}

#[tokio::test]
async fn an_origin_not_granted_is_denied() {
    let server = local_server().await;
    let other = local_server().await;
    let (permissions, policy) = granted_local(server);
    denied(fetch(&permissions, policy, &format!("http://{other}/ok")).await);
}

#[tokio::test]
async fn an_ip_literal_not_granted_is_denied() {
    let server = local_server().await;
    let (permissions, policy) = granted_local(server);
    // The same port on another loopback address is another origin.
    let url = format!("http://127.0.0.2:{}/ok", server.port());
    denied(fetch(&permissions, policy, &url).await);
}

/// Extism's allowlist was bypassed by a redirect: here the guest follows
/// it with a request of its own, checked like the first.
#[tokio::test]
async fn a_redirect_to_an_origin_not_granted_is_denied() {
    let granted = local_server().await;
    let other = local_server().await;
    let (permissions, policy) = granted_local(granted);
    let url = format!("http://{granted}/redirect?to=http://{other}/ok");
    let message = denied(fetch(&permissions, policy, &url).await);
    assert!(message.contains(&other.to_string()), "{message}");
}

/// A name is not an IP literal: `localhost` resolves to loopback, which a
/// grant reaches only by naming the address.
#[tokio::test]
async fn a_granted_name_resolving_to_loopback_is_denied() {
    let server = local_server().await;
    let origin = format!("http://localhost:{}", server.port());
    let permissions = format!(r#"http = [{{ origin = "{origin}", reason = "a local service" }}]"#);
    let policy = Policy::new().allow(Grant::http(&origin));
    denied(fetch(&permissions, policy, &format!("{origin}/ok")).await);
}

#[tokio::test]
async fn the_operator_caps_what_the_manifest_asks() {
    let server = local_server().await;
    let (permissions, _) = granted_local(server);
    // The policy allows https only: the plugin's http request is refused
    // at load as a grant, and denied at call time.
    let policy = Policy::new().allow(Grant::http("https://*:*"));
    denied(fetch(&permissions, policy, &format!("http://{server}/ok")).await);
}

#[tokio::test]
async fn a_server_that_never_answers_is_given_up_on_by_the_deadline_or_sooner() {
    let server = silent_server().await;
    let (permissions, policy) = granted_local(server);
    // The guest's own first-byte timeout.
    let input = format!("http://{server}/\ntimeout-ms=200");
    match fetch(&permissions, policy.clone(), &input).await {
        Err(Error::Guest { message, .. }) => assert!(message.contains("Timeout"), "{message}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    // Without one, the plugin's deadline (3 s here, not wasmtime's 600 s).
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        fetch(&permissions, policy, &format!("http://{server}/")),
    )
    .await
    .expect("the request must end at the plugin's deadline");
    match outcome {
        Err(Error::Deadline { .. }) => {}
        Err(Error::Guest { message, .. }) => assert!(message.contains("Timeout"), "{message}"),
        other => panic!("expected the deadline, got {other:?}"),
    }
}

// --- Serving ---

/// The WASI 0.2 and 0.3 handlers, which answer the same paths the same way.
const HANDLERS: [&str; 2] = ["http_handler", "p3_http_handler"];

/// The test plugin `name` served on 127.0.0.1 with tight limits; the
/// server runs until the test ends.
async fn serve_handler(name: &str) -> SocketAddr {
    let limits = Limits::default()
        .cpu(Duration::from_millis(300))
        .timeout(Duration::from_secs(2));
    let host = host(Policy::default(), limits);
    let plugin = host.load_file(guest(name)).await.unwrap();
    let handler = HttpHandler::new(plugin, ServeOptions::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Keeps the host alive with the server.
        let _host = host;
        handler.serve(listener, std::future::pending()).await
    });
    addr
}

#[tokio::test]
async fn a_handler_answers_and_echoes() {
    for name in HANDLERS {
        let addr = serve_handler(name).await;
        assert_eq!(
            http_request(addr, "GET", "/", "").await,
            (200, Ok("hello from wasmplug\n".to_string())),
            "{name}"
        );
        assert_eq!(
            http_request(addr, "POST", "/echo", "round trip").await,
            (200, Ok("round trip".to_string())),
            "{name}"
        );
        assert_eq!(
            http_request(addr, "GET", "/nowhere", "").await.0,
            404,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_handler_that_loops_panics_or_sleeps_gets_500_and_the_server_goes_on() {
    for (name, paths) in [
        ("http_handler", &["/loop", "/panic", "/sleep"][..]),
        ("p3_http_handler", &["/loop", "/panic"][..]),
    ] {
        let addr = serve_handler(name).await;
        for path in paths {
            let (status, _) = http_request(addr, "GET", path, "").await;
            assert_eq!(status, 500, "{name} {path}");
            assert_eq!(
                http_request(addr, "GET", "/", "").await.0,
                200,
                "{name} must answer after {path}"
            );
        }
    }
}

#[tokio::test]
async fn a_response_streamed_forever_is_cut_off_at_the_deadline() {
    for name in HANDLERS {
        let addr = serve_handler(name).await;
        let (status, body) = http_request(addr, "GET", "/stream", "").await;
        assert_eq!(status, 200, "{name}: the response had started");
        match body {
            Ok(body) => panic!(
                "{name}: a cut-off body of {} bytes looked complete",
                body.len()
            ),
            Err(error) => assert_ne!(error, "the body never ended", "{name}"),
        }
        assert_eq!(http_request(addr, "GET", "/", "").await.0, 200, "{name}");
    }
}

#[tokio::test]
async fn a_component_without_a_handler_is_refused_as_a_server() {
    let plugin = Host::builder()
        .build()
        .unwrap()
        .load_file(guest("hello"))
        .await
        .unwrap();
    match HttpHandler::new(plugin, ServeOptions::default()) {
        Err(Error::MissingExport { export, .. }) => {
            assert!(export.contains("wasi:http/incoming-handler"), "{export}")
        }
        other => panic!("expected MissingExport, got {:?}", other.err()),
    }
}

#[tokio::test]
async fn shutting_down_lets_a_request_in_flight_finish() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = Host::builder().build().unwrap();
    let plugin = host.load_file(guest("http_handler")).await.unwrap();
    let handler = HttpHandler::new(plugin, ServeOptions::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        handler
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
    });
    // Half a request body: the handler is waiting for the rest when the
    // server is told to stop.
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 10\r\nconnection: close\r\n\r\nlast ")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.write_all(b"words").await.unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("last words"), "{response}");
    server.await.unwrap().unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
