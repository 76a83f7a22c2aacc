//! The guard around every call into a plugin, async or blocking, and
//! instantiation too: arm the limits, run, settle what the call wrote, and
//! classify a failure into its typed error from recorded state and error
//! types, never from messages.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::component::ResourceTableError;
use wasmtime::{AsContextMut, PoolConcurrencyLimitError, Store, Trap, WasmBacktrace};
use wasmtime_wasi::I32Exit;

use crate::capability::NotMocked;
use crate::error::{Error, Limit, Result};
use crate::limits::Limits;
use crate::store::{PluginContext, StoreData};
use crate::telemetry::{CallTimer, Usage};
use crate::text::{MAX_GUEST_MESSAGE, bounded};

/// The error the epoch callback raises once the CPU budget is spent.
#[derive(Debug, thiserror::Error)]
#[error("CPU time limit reached")]
pub(crate) struct CpuLimitReached;

/// Runs `call` (of `export`) with the budget reset, the limits armed and
/// the wall-clock deadline around it, in the call's span, and types and
/// records its outcome: an error, or what `answer` makes of its result (a
/// plugin's `err` answer is [`Error::Guest`] for the callers that know it
/// is one).
///
/// Calls work on any executor: one polled outside tokio runs with
/// `runtime` (the host's own) entered at every poll, for the timers the
/// deadline needs and the blocking pool and timers WASI's host functions
/// use. The timer is armed only when the first poll does not finish the
/// call, and counts from then: most calls never pause, and even reading the
/// clock costs as much as such a call. A call pauses at its first wait in a
/// host call or at the first epoch tick (10 ms), so the deadline is late by
/// at most that. (The first poll is made here rather than in a function of
/// its own: moving the call's future into another costs more than the rest
/// of this guard.)
pub(crate) async fn guarded<T: Send + 'static, R, A>(
    store: &mut Store<StoreData<T>>,
    limits: &Limits,
    runtime: Option<tokio::runtime::Handle>,
    export: &str,
    call: impl AsyncFnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
    answer: impl FnOnce(R) -> Result<A>,
) -> Result<A> {
    arm(&mut *store, limits)?;
    let timer = store.data().context().telemetry.start(export);
    let timeout = limits.timeout;
    let outcome = {
        let mut future = pin!(call(store));
        let first = poll_fn(|cx| {
            let _entered = runtime.as_ref().map(|r| r.enter());
            let _span = timer.span.enter();
            Poll::Ready(future.as_mut().poll(cx))
        })
        .await;
        match first {
            Poll::Ready(output) => Some(output),
            Poll::Pending => {
                let mut rest =
                    pin!(async move { tokio::time::timeout(timeout, future).await.ok() });
                poll_fn(|cx| {
                    let _entered = runtime.as_ref().map(|r| r.enter());
                    let _span = timer.span.enter();
                    rest.as_mut().poll(cx)
                })
                .await
            }
        }
    };
    settle(store, limits, export, timer, outcome, answer)
}

/// [`guarded`] for a blocking call: no deadline, since nothing the plugin
/// may use can make it wait, and the CPU limit stops it. It runs on the
/// caller's thread ([`on_this_thread`]).
pub(crate) fn guarded_blocking<T: Send + 'static, R, A>(
    store: &mut Store<StoreData<T>>,
    limits: &Limits,
    export: &str,
    call: impl FnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
    answer: impl FnOnce(R) -> Result<A>,
) -> Result<A> {
    arm(&mut *store, limits)?;
    let timer = store.data().context().telemetry.start(export);
    let outcome = {
        let _span = timer.span.enter();
        on_this_thread(|| call(&mut *store))
    };
    settle(store, limits, export, timer, Some(outcome), answer)
}

/// Runs `work`, a blocking call, on this thread, wherever that is. A
/// blocking call never enters tokio (see `capability::io`), so it is safe
/// on any thread; what remains is not to hold up other tasks:
///
/// - outside tokio, and on tokio's blocking pool, it simply runs;
/// - on a worker of a multi-thread runtime, `block_in_place` first hands the
///   worker's queued tasks to another thread, so none of them waits;
/// - on a current-thread runtime, tokio gives no way to tell its one thread
///   from its blocking pool's, so the call runs where it is, for at most
///   its CPU time limit; make it from `spawn_blocking` there.
///
/// Only a tokio task (async, or on the blocking pool) can be on a worker,
/// and asking whether there is one is a thread-local read, where asking
/// for the runtime clones its handle: the common case, a thread of the
/// host's own, pays the former only.
fn on_this_thread<R>(work: impl FnOnce() -> R) -> R {
    if tokio::task::try_id().is_none() {
        return work();
    }
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// The outcome of `future` if it finishes without pausing: a blocking
/// call's, or a host function's on behalf of one. A pause is
/// [`WouldWait`], since nothing could wake a blocking call.
///
/// Inlined, so that `future` is built where it is polled rather than moved
/// here: a blocking dynamic call's future holds room for its async twin's
/// state, and the move cost it 3% (400 instructions a call of `greet`).
#[inline(always)]
pub(crate) fn ready_now<F: Future>(future: F) -> std::result::Result<F::Output, WouldWait> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(WouldWait),
    }
}

/// A blocking call reached something that had to wait.
#[derive(Debug, thiserror::Error)]
#[error(
    "a blocking call had to wait, which nothing granted to this plugin should make it do; \
     make the call with `instantiate` and `call` instead"
)]
pub(crate) struct WouldWait;

/// Arms the limits for one call (or one request being served): the budget
/// afresh, the next epoch tick charged, the fuel refilled.
pub(crate) fn arm<T: Send + 'static>(
    mut store: impl AsContextMut<Data = StoreData<T>>,
    limits: &Limits,
) -> Result<()> {
    let mut store = store.as_context_mut();
    store.data().context().budget.reset(limits);
    store.set_epoch_deadline(1);
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel).map_err(Error::runtime)?;
    }
    Ok(())
}

/// Flushes what the call wrote, types its outcome and records it; `None`
/// is a call stopped at its deadline.
fn settle<T: Send + 'static, R, A>(
    store: &mut Store<StoreData<T>>,
    limits: &Limits,
    export: &str,
    timer: CallTimer,
    outcome: Option<wasmtime::Result<R>>,
    answer: impl FnOnce(R) -> Result<A>,
) -> Result<A> {
    let fuel = limits
        .fuel
        .map(|given| given.saturating_sub(store.get_fuel().unwrap_or(0)));
    let context = store.data().context();
    let budget = &context.budget;
    if budget.wrote_output() {
        context.stdout.flush_pending();
        context.stderr.flush_pending();
    }
    let outcome = match outcome {
        Some(Ok(value)) => answer(value),
        Some(Err(error)) => Err(classify(error, context, limits)),
        None => Err(Error::Deadline {
            plugin: context.name().to_string(),
            timeout: limits.timeout,
        }),
    };
    let usage = Usage {
        cpu_ticks: budget.cpu_ticks(),
        fuel,
        output_dropped: budget.output_dropped(),
    };
    context
        .telemetry
        .finish(timer, export, outcome.as_ref().map(|_| ()), usage);
    outcome
}

/// Turns a failed call into its typed error, from what was recorded and the
/// error's type.
pub(crate) fn classify(error: wasmtime::Error, context: &PluginContext, limits: &Limits) -> Error {
    let plugin = context.name().to_string();
    if refused_sync_call(&error) {
        return Error::HostBinding {
            plugin,
            reason: "a synchronous call was made inside `Instance::call`, where calls must be \
                     able to pause; generate the bindings with `exports: { default: async }` \
                     and `.await` their `call_*` functions, or make the instance with \
                     `Plugin::instantiate_blocking` and call it through `call_blocking`"
                .into(),
            source: Some(error.into_boxed_dyn_error()),
        };
    }
    if let Some(would_wait) = error.downcast_ref::<WouldWait>() {
        return Error::NotBlocking {
            plugin,
            reason: would_wait.to_string(),
        };
    }
    let trap = error.downcast_ref::<Trap>().copied();
    let limit = context
        .budget
        .tripped()
        .or(match trap {
            Some(Trap::OutOfFuel) => Some(Limit::Fuel),
            Some(Trap::StackOverflow) => Some(Limit::Stack),
            Some(Trap::Interrupt) => Some(Limit::CpuTime),
            _ => None,
        })
        .or_else(|| transfer_exhausted(&error).then_some(Limit::Transfer));
    if let Some(limit) = limit {
        let detail = match limit {
            Limit::Memory => format!("{} MiB", limits.memory / (1024 * 1024)),
            Limit::CpuTime => humantime::format_duration(limits.cpu).to_string(),
            Limit::Fuel => format!("{} units", limits.fuel.unwrap_or_default()),
            Limit::Output => format!("{} bytes per call", limits.output),
            Limit::Transfer => format!("{} bytes per call", limits.transfer),
            Limit::Stack => String::new(),
        };
        return Error::LimitExceeded {
            plugin,
            limit,
            detail,
        };
    }
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return Error::Exit {
            plugin,
            code: exit.0,
        };
    }
    if let Some(not_mocked) = error.downcast_ref::<NotMocked>() {
        return Error::Host {
            plugin,
            reason: not_mocked.to_string(),
            source: Some(error.into_boxed_dyn_error()),
        };
    }
    if error.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
        return Error::HostResources {
            plugin,
            reason: format!("{error:#}"),
        };
    }
    let guest_fault = match trap {
        Some(trap) => Some(trap.to_string()),
        None => match error.downcast_ref::<ResourceTableError>() {
            Some(e) => Some(format!(
                "the plugin used a handle that is not its own ({e})"
            )),
            // Without the host's own interfaces, only WASI's functions and
            // this crate's could have failed, on what the guest gave them.
            None if !context.host_interfaces => Some(error.root_cause().to_string()),
            None => None,
        },
    };
    match guest_fault {
        Some(message) => Error::Trap {
            plugin,
            message,
            backtrace: error
                .downcast_ref::<WasmBacktrace>()
                .map(|b| bounded(b.to_string(), MAX_GUEST_MESSAGE)),
            stderr_tail: context.stderr.tail(),
        },
        // Not the guest's code: one of the host's own interfaces failed.
        None => Error::Host {
            plugin,
            reason: format!("{error:#}"),
            source: Some(error.into_boxed_dyn_error()),
        },
    }
}

/// wasmtime's refusal of a synchronous call on a store that needs async
/// ones (an instance made by an async instantiation is): the host's own
/// bindings mistake, before any guest code runs. wasmtime gives it no type
/// of its own, and nothing else tells it from a guest's bad result, so its
/// message (a constant of wasmtime's, not text a plugin can write) is
/// compared, and pinned by a test as `transfer_exhausted`'s type name is.
fn refused_sync_call(error: &wasmtime::Error) -> bool {
    error.downcast_ref::<Trap>().is_none()
        && error.root_cause().to_string()
            == "store configuration requires that `*_async` functions are used instead"
}

/// Whether wasmtime refused to take more data from the guest than the
/// call's hostcall fuel, its transfer limit, allows. wasmtime keeps that
/// error's type private; its `Debug` form is the type's name, which a test
/// of this crate pins.
fn transfer_exhausted(error: &wasmtime::Error) -> bool {
    format!("{:?}", error.root_cause()) == "HostcallFuelExhausted"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A future that finishes without pausing gives its output; one that
    /// pauses, even once, is `WouldWait` rather than a hang, since a
    /// blocking call has nothing to wake it.
    #[test]
    fn only_a_future_that_never_pauses_is_ready_now() {
        assert_eq!(ready_now(async { 7 }).unwrap(), 7);
        assert!(ready_now(std::future::pending::<()>()).is_err());
        let mut paused = false;
        let pauses_once = poll_fn(move |cx| {
            if paused {
                return Poll::Ready(());
            }
            paused = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        let err = ready_now(pauses_once).unwrap_err();
        assert!(err.to_string().contains("had to wait"), "{err}");
    }
}
