//! A `wasi:http/proxy` component that behaves by request path, to test the
//! host's HTTP serving: `/`, `/echo` and `/print` answer normally, `/loop`,
//! `/stream` and `/sleep` never finish (the host's limits must stop them),
//! `/panic` traps, anything else is a 404.

use std::io::{Read as _, Write as _};

use wasip2::clocks::monotonic_clock;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Handler;

impl Guest for Handler {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path_with_query = request.path_with_query().unwrap_or_default();
        let path = path_with_query.split('?').next().unwrap_or_default();
        match path {
            "/" => respond(response_out, 200, "text/plain", b"hello from wasmplug\n"),
            "/echo" => {
                let body = read_body(&request);
                respond(response_out, 200, "application/octet-stream", &body);
            }
            // Burns CPU without ever calling the host, so only fuel or an
            // epoch deadline can end it.
            "/loop" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/panic" => panic!("handler panicked on purpose"),
            "/stream" => stream_forever(response_out),
            // Blocks in the host, not in guest code: a deadline has to
            // interrupt the wait itself.
            "/sleep" => {
                monotonic_clock::subscribe_duration(3600 * 1_000_000_000).block();
                respond(response_out, 200, "text/plain", b"slept\n");
            }
            "/print" => {
                println!("handling /print");
                eprintln!("handling /print");
                respond(response_out, 200, "text/plain", b"printed\n");
            }
            _ => respond(response_out, 404, "text/plain", b"not found\n"),
        }
    }
}

wasip2::http::proxy::export!(Handler);

/// Sends a complete response. Write errors mean the client went away, and
/// there is no one left to tell, so they are ignored.
fn respond(out: ResponseOutparam, status: u16, content_type: &str, body: &[u8]) {
    let headers = Fields::from_list(&[
        ("content-type".to_string(), content_type.as_bytes().to_vec()),
        (
            "content-length".to_string(),
            body.len().to_string().into_bytes(),
        ),
    ])
    .expect("valid headers");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("valid status");
    let outgoing = response.body().expect("body taken once");
    ResponseOutparam::set(out, Ok(response));
    {
        // The stream is a child of the body: it must go before `finish`.
        let mut stream = outgoing.write().expect("stream taken once");
        if stream.write_all(body).is_err() || stream.blocking_flush().is_err() {
            return;
        }
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

/// Sends headers, then `tick\n` chunks until the host stops the handler
/// (or the client leaves); the body is never finished.
fn stream_forever(out: ResponseOutparam) {
    let headers = Fields::from_list(&[("content-type".to_string(), b"text/plain".to_vec())])
        .expect("valid headers");
    let response = OutgoingResponse::new(headers);
    let outgoing = response.body().expect("body taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().expect("stream taken once");
    while stream.blocking_write_and_flush(b"tick\n").is_ok() {}
}

/// Reads the whole request body.
fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let body = request.consume().expect("body consumed once");
    let mut stream = body.stream().expect("stream taken once");
    let mut bytes = Vec::new();
    stream
        .read_to_end(&mut bytes)
        .expect("readable request body");
    bytes
}
