//! {{name}}: a wasi:http handler. `GET /` answers with a greeting, `POST
//! /echo` with the request's body, anything else with 404.

use std::io::{Read, Write};

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Handler;

wasip2::http::proxy::export!(Handler);

impl Guest for Handler {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let (status, body) = match (request.method(), path.as_str()) {
            (Method::Get, "/") => (200, greeting("{{name}}").into_bytes()),
            (Method::Post, "/echo") => (200, read_body(&request)),
            _ => (404, b"not found\n".to_vec()),
        };
        respond(response_out, status, &body);
    }
}

/// The logic, kept apart from WASI so that `cargo test` runs it natively.
fn greeting(name: &str) -> String {
    format!("hello from {name}\n")
}

fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Ok(body) = request.consume() {
        if let Ok(mut stream) = body.stream() {
            // Reading stops at the end of the body, or at a failed read.
            let _ = stream.read_to_end(&mut bytes);
        }
    }
    bytes
}

fn respond(response_out: ResponseOutparam, status: u16, bytes: &[u8]) {
    let headers = Fields::from_list(&[("content-type".into(), b"text/plain".to_vec())])
        .unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(body) = response.body() else { return };
    ResponseOutparam::set(response_out, Ok(response));
    if let Ok(mut stream) = body.write() {
        // A client that went away is no error of the handler's.
        let _ = stream.write_all(bytes);
        let _ = stream.blocking_flush();
    }
    let _ = OutgoingBody::finish(body, None);
}

#[cfg(test)]
mod tests {
    #[test]
    fn greets_by_name() {
        assert_eq!(super::greeting("wasm"), "hello from wasm\n");
    }
}
