// {{name}}: a wasi:http handler. GET / answers with a greeting, POST /echo
// with the request's body, anything else with 404. StarlingMonkey turns
// each call of wasi:http/incoming-handler#handle into a `fetch` event.

import { greeting } from "./greeting.js";

addEventListener("fetch", (event) => event.respondWith(handle(event.request)));

/**
 * @param {Request} request
 * @returns {Promise<Response>}
 */
async function handle(request) {
  const { pathname } = new URL(request.url);
  if (request.method === "GET" && pathname === "/") {
    return new Response(greeting("{{name}}"), {
      headers: { "content-type": "text/plain" },
    });
  }
  if (request.method === "POST" && pathname === "/echo") {
    return new Response(await request.arrayBuffer(), {
      headers: { "content-type": "text/plain" },
    });
  }
  return new Response("not found\n", { status: 404 });
}
