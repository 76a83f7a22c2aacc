//! A `wasi:http/handler@0.3` component, the WASI 0.3 counterpart of
//! `http-handler`, with the same paths and texts: `/` and `/echo` answer
//! normally, `/loop` and `/stream` never finish (the host's limits must stop
//! them), `/panic` traps, anything else is a 404.
//!
//! As a cdylib it exports no `wasi:cli/run`, so unlike `p3-command` it needs
//! no stub `main`.

use wasip3::exports::http::handler::Guest;
use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::{wit_bindgen, wit_future, wit_stream};

struct Handler;

impl Guest for Handler {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let path_with_query = request.get_path_with_query().unwrap_or_default();
        let path = path_with_query.split('?').next().unwrap_or_default();
        match path {
            "/" => Ok(respond(
                200,
                "text/plain",
                b"hello from wasmplug\n".to_vec(),
            )),
            "/echo" => {
                let body = read_body(request).await;
                Ok(respond(200, "application/octet-stream", body))
            }
            // Burns CPU without ever calling the host or yielding, so only
            // fuel or an epoch deadline can end it.
            "/loop" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/panic" => panic!("handler panicked on purpose"),
            "/stream" => Ok(stream_forever()),
            _ => Ok(respond(404, "text/plain", b"not found\n".to_vec())),
        }
    }
}

wasip3::http::service::export!(Handler);

/// A complete response. Its body is written by a spawned task, after
/// `handle` has returned the response; a write the client doesn't take
/// (it went away) is dropped, as there is no one left to tell.
fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    let headers = Fields::from_list(&[
        ("content-type".to_string(), content_type.as_bytes().to_vec()),
        (
            "content-length".to_string(),
            body.len().to_string().into_bytes(),
        ),
    ])
    .expect("valid headers");
    let (mut body_tx, body_rx) = wit_stream::new();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (response, _sent) = Response::new(headers, Some(body_rx), trailers_rx);
    response.set_status_code(status).expect("valid status");
    wit_bindgen::spawn_local(async move {
        let _ = body_tx.write_all(body).await;
        // Closes the body, then resolves the trailers to "none".
        drop(body_tx);
        drop(trailers_tx);
    });
    response
}

/// A 200 whose body is `tick\n` chunks until the host stops the handler (or
/// the client leaves); the body is never finished.
fn stream_forever() -> Response {
    let headers = Fields::from_list(&[("content-type".to_string(), b"text/plain".to_vec())])
        .expect("valid headers");
    let (mut body_tx, body_rx) = wit_stream::new();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (response, _sent) = Response::new(headers, Some(body_rx), trailers_rx);
    wit_bindgen::spawn_local(async move {
        let _trailers_tx = trailers_tx;
        while body_tx.write_all(b"tick\n".to_vec()).await.is_empty() {}
    });
    response
}

/// Reads the whole request body.
async fn read_body(request: Request) -> Vec<u8> {
    // `res` would tell the host that handling failed; this handler never
    // does, so the writer's default, `Ok(())`, goes when it is dropped.
    let (res_tx, res_rx) = wit_future::new(|| Ok(()));
    let (body, _trailers) = Request::consume_body(request, res_rx);
    let bytes = body.collect().await;
    drop(res_tx);
    bytes
}
