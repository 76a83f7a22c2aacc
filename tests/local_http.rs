//! HTTP on 127.0.0.1 for tests and benchmarks: a server whose answers the
//! tests know, and a client that reports a body cut off.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// A server on 127.0.0.1: `/ok` answers `fine`, `/redirect?to=URL`
/// answers 302 to URL.
pub async fn local_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = hyper::service::service_fn(|request: hyper::Request<_>| async move {
                let response = match request.uri().path() {
                    "/ok" => hyper::Response::new(Full::new(Bytes::from("fine"))),
                    "/redirect" => {
                        let to = request
                            .uri()
                            .query()
                            .unwrap_or("")
                            .trim_start_matches("to=");
                        let mut response = hyper::Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = hyper::StatusCode::FOUND;
                        response
                            .headers_mut()
                            .insert("location", to.parse().unwrap());
                        response
                    }
                    _ => {
                        let mut response = hyper::Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = hyper::StatusCode::NOT_FOUND;
                        response
                    }
                };
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    addr
}

/// One request on a connection of its own: the status, and the body or
/// why it could not be read whole.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Result<String, String>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body =
        match tokio::time::timeout(Duration::from_secs(60), response.into_body().collect()).await {
            Ok(Ok(body)) => Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the body never ended".to_string()),
        };
    (status, body)
}
