//! Serving HTTP with a plugin that is a `wasi:http` handler: it exports
//! `wasi:http/incoming-handler@0.2.x` or `wasi:http/handler@0.3.x`.
//!
//! A WASI 0.2 request gets an instance of its own and runs under the
//! plugin's limits as one call of `handle`, which lasts until the guest has
//! written its whole response: the CPU limit and the deadline cover a body
//! the guest is still streaming, and a response cut off by them ends the
//! connection rather than pretending to be complete. WASI 0.3 requests go
//! to [`workers`]. A request that fails before its response starts is
//! answered 500, with the typed error in the host's log; nothing a guest
//! does stops the server.

mod workers;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper::body::{Frame, Incoming};
use hyper::header::HeaderValue;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tracing::Instrument;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::Proxy;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use wasmtime_wasi_http::handler::ProxyHandler;
use wasmtime_wasi_http::p3::bindings::ServicePre;
use workers::Workers;

use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::telemetry::Usage;

/// The interfaces a plugin may export to serve HTTP, WASI 0.2's and 0.3's.
const HANDLER_P2: &str = "wasi:http/incoming-handler@0.2";
const HANDLER_P3: &str = "wasi:http/handler@0.3";

/// A response as the server sends it.
pub type HttpResponse = hyper::Response<HyperOutgoingBody>;

/// How many requests run at once, and what a request may be.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Requests handled at once; more wait for a turn. Each holds an
    /// instance, with up to the plugin's memory limit.
    pub max_concurrent_requests: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            max_concurrent_requests: 100,
        }
    }
}

impl ServeOptions {
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.max_concurrent_requests = requests.max(1);
        self
    }
}

/// A plugin answering HTTP requests. Cheap to clone; clones share the
/// bound on concurrent requests.
pub struct HttpHandler<T: Send + 'static = ()> {
    inner: Arc<HandlerInner<T>>,
}

impl<T: Send + 'static> Clone for HttpHandler<T> {
    fn clone(&self) -> Self {
        HttpHandler {
            inner: self.inner.clone(),
        }
    }
}

struct HandlerInner<T: Send + 'static> {
    plugin: Plugin<T>,
    /// `None` for a WASI 0.2 handler, whose requests each get an instance.
    workers: Option<ProxyHandler<Workers<T>>>,
    turns: Arc<Semaphore>,
    next_request: AtomicU64,
}

impl<T: Send + 'static> HttpHandler<T> {
    /// A handler for `plugin`, which must export
    /// `wasi:http/incoming-handler@0.2` or `wasi:http/handler@0.3`;
    /// otherwise [`Error::MissingExport`].
    pub fn new(plugin: Plugin<T>, options: ServeOptions) -> Result<Self> {
        let exports = crate::inspect::export_names(plugin.component(), plugin.engine());
        let workers = if exports.iter().any(|e| e.starts_with(HANDLER_P3)) {
            let pre =
                ServicePre::new(plugin.inner.pre.clone()).map_err(|e| Error::WorldMismatch {
                    plugin: plugin.name().to_string(),
                    reason: format!("{e:#}"),
                })?;
            Some(ProxyHandler::new(Workers {
                plugin: plugin.clone(),
                pre,
            }))
        } else if exports.iter().any(|e| e.starts_with(HANDLER_P2)) {
            None
        } else {
            return Err(Error::MissingExport {
                plugin: plugin.name().to_string(),
                export: format!("{HANDLER_P2}.x or {HANDLER_P3}.x (the wasi:http/proxy world)"),
                available: exports.join(", "),
            });
        };
        Ok(HttpHandler {
            inner: Arc::new(HandlerInner {
                plugin,
                workers,
                turns: Arc::new(Semaphore::new(options.max_concurrent_requests.max(1))),
                next_request: AtomicU64::new(1),
            }),
        })
    }

    /// The plugin serving the requests.
    pub fn plugin(&self) -> &Plugin<T> {
        &self.inner.plugin
    }

    /// Answers one request. Never fails: a request the plugin could not
    /// answer is a 500, and the reason goes to the log as an error event
    /// naming the plugin and the request.
    pub async fn handle<B>(&self, request: hyper::Request<B>) -> HttpResponse
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let id = self.inner.next_request.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!(
            target: "wasmplug::http",
            "request",
            id,
            method = %request.method(),
            path = %crate::text::Untrusted(request.uri().path()),
        );
        let Ok(turn) = self.inner.turns.clone().acquire_owned().await else {
            return failure(StatusCode::SERVICE_UNAVAILABLE);
        };
        match &self.inner.workers {
            Some(workers) => self.through_workers(workers, request, turn, span).await,
            None => self.in_own_instance(request, turn, span).await,
        }
    }

    /// A WASI 0.3 request, handed to the workers.
    async fn through_workers<B>(
        &self,
        workers: &ProxyHandler<Workers<T>>,
        request: hyper::Request<B>,
        turn: OwnedSemaphorePermit,
        span: tracing::Span,
    ) -> HttpResponse
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let plugin = &self.inner.plugin;
        let telemetry = &plugin.inner.admitted.telemetry;
        let timer = telemetry.start("handle");
        let stopped = workers::Stopped::default();
        let request = request.map(|body| body.map_err(Into::into).boxed_unsync());
        let outcome = workers
            .handle(stopped.clone(), request)
            .await
            .map_err(|e| workers::request_error(plugin, &e));
        telemetry.finish(
            timer,
            "handle",
            outcome.as_ref().map(|_| ()),
            Usage::default(),
        );
        drop(turn);
        match outcome {
            Ok(response) => ended_by(response, BodyEnd::Unless(stopped)),
            Err(error) => {
                span.in_scope(
                    || tracing::error!(target: "wasmplug::http", "request failed: {error}"),
                );
                failure(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// A WASI 0.2 request, in an instance of its own.
    async fn in_own_instance<B>(
        &self,
        request: hyper::Request<B>,
        turn: OwnedSemaphorePermit,
        span: tracing::Span,
    ) -> HttpResponse
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let (sender, response) = oneshot::channel();
        let (finished, call_outcome) = oneshot::channel();
        let plugin = self.inner.plugin.clone();
        // The call goes on after the response starts, while the guest writes
        // its body; its task holds the turn until then.
        let call = tokio::spawn(
            async move {
                let outcome = respond(plugin, request, sender).await;
                drop(turn);
                if let Err(error) = &outcome {
                    tracing::error!(target: "wasmplug::http", "request failed: {error}");
                }
                let _ = finished.send(outcome.is_ok());
                outcome
            }
            .instrument(span.clone()),
        );
        match response.await {
            Ok(Ok(response)) => ended_by(response, BodyEnd::Call(call_outcome)),
            Ok(Err(code)) => {
                span.in_scope(|| {
                    tracing::warn!(target: "wasmplug::http", "the plugin answered with an error: {code:?}")
                });
                failure(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Err(_) => {
                // A failed call has logged its error in the request's span.
                match call.await {
                    Ok(Ok(())) => span.in_scope(|| {
                        tracing::error!(
                            target: "wasmplug::http",
                            "request failed: the plugin returned without setting a response"
                        )
                    }),
                    Err(e) => span.in_scope(
                        || tracing::error!(target: "wasmplug::http", "request failed: {e}"),
                    ),
                    Ok(Err(_)) => {}
                }
                failure(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// Accepts connections on `listener` and answers their requests until
    /// `shutdown` resolves; then stops accepting, lets the requests in
    /// flight finish, and returns.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, go on.
                        tracing::warn!(target: "wasmplug::http", "accepting a connection failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            // Small body chunks (server-sent events) must not wait for Nagle.
            let _ = stream.set_nodelay(true);
            let handler = self.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler.handle(request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(target: "wasmplug::http", %peer, "connection ended: {e}");
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// Runs one request in an instance of its own: the response goes out on
/// `sender` as soon as the guest sets it, and the call goes on until the
/// guest has written the whole body.
async fn respond<T: Send + 'static, B>(
    plugin: Plugin<T>,
    request: hyper::Request<B>,
    sender: oneshot::Sender<std::result::Result<HttpResponse, ErrorCode>>,
) -> Result<()>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let mut instance = plugin.instantiate().await?;
    let proxy = instance.bind(|store, instance| Proxy::new(store, instance))?;
    let (request, outparam) = {
        let mut http = instance.store_mut().data_mut().http();
        let request = http
            .new_incoming_request(Scheme::Http, request)
            .map_err(Error::runtime)?;
        (
            request,
            http.new_response_outparam(sender).map_err(Error::runtime)?,
        )
    };
    instance
        .call("handle", async |store| {
            proxy
                .wasi_http_incoming_handler()
                .call_handle(store, request, outparam)
                .await
        })
        .await
}

/// A short plain-text error answer; the reason stays in the host's log.
fn failure(status: StatusCode) -> HttpResponse {
    let text = format!("{status}\n");
    let mut response = hyper::Response::new(
        Full::new(Bytes::from(text))
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `response` with its body's end checked by `end`.
fn ended_by(response: HttpResponse, end: BodyEnd) -> HttpResponse {
    response.map(|body| {
        CallBody {
            body,
            end: Some(end),
        }
        .boxed_unsync()
    })
}

/// A response body that ends well only if the guest finished writing it: a
/// guest stopped by a limit while streaming leaves a body that wasmtime
/// ends as if it were complete, so its end is checked, and is an error
/// (which cuts the connection) when the guest was stopped.
struct CallBody {
    body: HyperOutgoingBody,
    /// Taken once the body has ended.
    end: Option<BodyEnd>,
}

/// How a body's end is known to be the guest's own.
enum BodyEnd {
    /// WASI 0.2: the call of `handle` writes the body; it must succeed.
    Call(oneshot::Receiver<bool>),
    /// WASI 0.3: the request must not have been stopped.
    Unless(workers::Stopped),
}

impl hyper::body::Body for CallBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let Some(end) = this.end.as_mut() else {
            return Poll::Ready(None);
        };
        if let Some(frame) = ready!(Pin::new(&mut this.body).poll_frame(cx)) {
            return Poll::Ready(Some(frame));
        }
        let finished = match end {
            BodyEnd::Call(outcome) => ready!(Pin::new(outcome).poll(cx)).unwrap_or(false),
            BodyEnd::Unless(stopped) => !stopped.load(std::sync::atomic::Ordering::Acquire),
        };
        self.end = None;
        if finished {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpResponseIncomplete)))
        }
    }
}
