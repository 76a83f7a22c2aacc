//! Serving a WASI 0.3 handler (`wasi:http/handler@0.3`) with
//! wasmtime-wasi-http's workers, as `wasmtime serve` does: an instance
//! serves up to [`MAX_REUSE`] requests one after another, on the
//! concurrent engine that WASI 0.3 needs.
//!
//! Each request arms the plugin's limits afresh and expires at its
//! deadline. One request at a time per instance keeps each request's CPU
//! budget its own; the workers still spare an instantiation per request.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    ExpirationError, HandlerState, Instance, Proxy, ShouldAccept, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::call::{CpuLimitReached, arm, classify};
use crate::error::{Error, Limit};
use crate::instance::new_store;
use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::store::StoreData;

/// Requests one instance serves before it is dropped (wasmtime serve's
/// default for WASI 0.3).
const MAX_REUSE: usize = 128;
/// How long an idle instance is kept for the next request.
const IDLE: Duration = Duration::from_secs(1);

/// What the workers make instances from.
pub(super) struct Workers<T: 'static> {
    pub(super) plugin: Plugin<T>,
    pub(super) pre: ServicePre<StoreData<T>>,
}

impl<T: Send + 'static> HandlerState for Workers<T> {
    type StoreData = StoreData<T>;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker<T>;

    async fn instantiate(&self) -> wasmtime::Result<Instance<StoreData<T>, Expiry, Worker<T>>> {
        let admitted = &self.plugin.inner.admitted;
        let limits = admitted.limits;
        let mut store = new_store(
            admitted,
            &self.plugin.host.inner,
            self.plugin.engine(),
            &[],
            false,
        )?;
        arm(&mut store, &limits)?;
        let service = tokio::time::timeout(limits.timeout, self.pre.instantiate_async(&mut store))
            .await
            .map_err(|_| Error::Deadline {
                plugin: self.plugin.name().to_string(),
                timeout: limits.timeout,
            })??;
        Ok(Instance {
            store,
            proxy: Proxy::P3(service),
            view: <StoreData<T> as WasiHttpView>::http,
            expiration: Expiry {
                request_timeout: limits.timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: Worker {
                plugin: self.plugin.name().to_string(),
                limits,
                requests: Mutex::new(Vec::new()),
                data: PhantomData,
            },
        })
    }
}

/// Set when a request was stopped (its instance failed, or its deadline
/// passed) before its response was whole: the response's body, which
/// wasmtime ends as if it were complete, is then cut off.
pub(super) type Stopped = Arc<AtomicBool>;

/// One instance's bookkeeping.
pub(super) struct Worker<T> {
    plugin: String,
    limits: Limits,
    /// The requests it took that may still be streaming.
    requests: Mutex<Vec<Weak<AtomicBool>>>,
    data: PhantomData<fn() -> T>,
}

impl<T: Send + 'static> WorkerState for Worker<T> {
    type StoreData = StoreData<T>;
    type RequestData = Stopped;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= MAX_REUSE {
            ShouldAccept::Never
        } else if concurrent >= 1 {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        store: StoreContextMut<'_, StoreData<T>>,
        stopped: Stopped,
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync + 'static>> {
        if let Err(error) = arm(store, &self.limits) {
            tracing::error!(target: "wasmplug::http", plugin = %self.plugin, "{error}");
        }
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        requests.retain(|r| r.strong_count() > 0);
        requests.push(Arc::downgrade(&stopped));
        let timeout = self.limits.timeout;
        Box::pin(async move {
            tokio::time::sleep(timeout).await;
            stopped.store(true, Ordering::Release);
        })
    }

    fn drop(&self, store: Store<StoreData<T>>, result: wasmtime::Result<()>) {
        if result.is_err() {
            // Before the store goes, and with it the bodies it writes.
            let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
            for stopped in requests.iter().filter_map(Weak::upgrade) {
                stopped.store(true, Ordering::Release);
            }
        }
        if let Err(error) = result {
            let error = classify(error, store.data().context(), &self.limits);
            tracing::error!(target: "wasmplug::http", plugin = %self.plugin, "an instance serving requests failed: {error}");
        }
    }
}

/// When an instance is done with: idle for [`IDLE`], or busy with one
/// request for longer than its deadline.
pub(super) struct Expiry {
    request_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiry {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let timeout = match status {
            WorkerStatus::Idle => IDLE,
            _ => self.request_timeout,
        };
        let Some(deadline) = start.checked_add(timeout) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

/// A failed request's error as its statistics count it; the instance's
/// own failure, classified with its store, goes to the log when it is
/// dropped.
pub(super) fn request_error(plugin: &Plugin<impl Send>, error: &wasmtime::Error) -> Error {
    let name = plugin.name().to_string();
    let limits = plugin.limits();
    if error.is::<ExpirationError>() {
        return Error::Deadline {
            plugin: name,
            timeout: limits.timeout,
        };
    }
    if error.chain().any(|e| e.is::<CpuLimitReached>()) {
        return Error::LimitExceeded {
            plugin: name,
            limit: Limit::CpuTime,
            detail: humantime::format_duration(limits.cpu).to_string(),
        };
    }
    Error::Trap {
        plugin: name,
        message: format!("{error:#}"),
        backtrace: None,
        stderr_tail: Vec::new(),
    }
}
