"""{{name}}: a wasi:http handler. GET / answers with a greeting, POST /echo
with the request's body, anything else with 404."""

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.types import (
    Fields,
    IncomingBody,
    IncomingRequest,
    Method_Get,
    Method_Post,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)

from greeting import greeting


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        method = request.method()
        path = request.path_with_query()
        if isinstance(method, Method_Get) and path == "/":
            respond(response_out, 200, greeting("{{name}}").encode())
        elif isinstance(method, Method_Post) and path == "/echo":
            respond(response_out, 200, read_body(request))
        else:
            respond(response_out, 404, b"not found\n")


def read_body(request: IncomingRequest) -> bytes:
    body = request.consume()
    chunks = []
    # A child stream must be released before its body is finished.
    with body.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(64 * 1024))
            except Err as e:
                if isinstance(e.value, StreamError_Closed):
                    break
                raise
    IncomingBody.finish(body)
    return b"".join(chunks)


def respond(response_out: ResponseOutparam, status: int, data: bytes) -> None:
    response = OutgoingResponse(Fields.from_list([("content-type", b"text/plain")]))
    response.set_status_code(status)
    body = response.body()
    ResponseOutparam.set(response_out, Ok(response))
    with body.write() as stream:
        # blocking-write-and-flush takes at most 4096 bytes at a time.
        for i in range(0, len(data), 4096):
            stream.blocking_write_and_flush(data[i : i + 4096])
    OutgoingBody.finish(body, None)
