//! One instance of a plugin and every call into it, each under the plugin's
//! limits.
//!
//! A call that traps, hits a limit or runs past its deadline discards the
//! instance: its memory may be half-updated, so it is never called again.
//! Instantiation itself runs under the same guard, since a component's
//! start-up code and initial memories count against the limits too.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use wasmtime::component::{Func, Instance as ComponentInstance, InstancePre, TypedFunc, Val};
use wasmtime::{Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::I32Exit;

use crate::capabilities::WasiSetup;
use crate::capabilities::stdio::{Channel, PluginOutput};
use crate::dynamic::Signature;
use crate::error::{Error, Limit, Result};
use crate::inspect::export_names;
use crate::limits::{CallBudget, Limits, MemoryLimiter};
use crate::plugin::Plugin;
use crate::store::{PluginContext, StoreData};

/// A live instance: a store and the component instance in it.
pub struct Instance<T: 'static = ()> {
    plugin: Plugin<T>,
    store: Store<StoreData<T>>,
    instance: ComponentInstance,
    discarded: bool,
    /// Made for blocking calls ([`Instance::call_blocking`]) rather than
    /// async ones.
    blocking: bool,
    /// Exports already called by name, with their signatures.
    pub(crate) exports: HashMap<String, (Func, Arc<Signature>)>,
}

/// The default world's `run: func(input: string) -> result<string, string>`.
type RunFunc<'a> = TypedFunc<(&'a str,), (Result<String, String>,)>;

/// The error the epoch callback raises once the CPU budget is spent.
#[derive(Debug, thiserror::Error)]
#[error("CPU time limit reached")]
struct CpuLimitReached;

impl<T: Send + 'static> Instance<T> {
    pub(crate) async fn new(plugin: Plugin<T>, args: &[String]) -> Result<Self> {
        let mut store = new_store(&plugin, args, false)?;
        let pre = plugin.inner.pre.clone();
        let limits = plugin.inner.limits;
        let instance = guarded(&mut store, &limits, async |store| {
            pre.instantiate_async(store).await
        })
        .await?;
        Ok(Instance {
            plugin,
            store,
            instance,
            discarded: false,
            blocking: false,
            exports: HashMap::new(),
        })
    }

    pub(crate) fn new_blocking(plugin: Plugin<T>, pre: InstancePre<StoreData<T>>) -> Result<Self> {
        let mut store = new_store(&plugin, &[], true)?;
        let limits = plugin.inner.limits;
        let instance = guarded_blocking(&mut store, &limits, |store| pre.instantiate(store))?;
        Ok(Instance {
            plugin,
            store,
            instance,
            discarded: false,
            blocking: true,
            exports: HashMap::new(),
        })
    }

    /// The default world's `run`, typed.
    fn run_func<'a>(&mut self) -> Result<RunFunc<'a>> {
        self.func("run")?
            .typed::<(&str,), (Result<String, String>,)>(&self.store)
            .map_err(|e| Error::ExportType {
                plugin: self.plugin.name().to_string(),
                export: "run".into(),
                reason: format!(
                    "expected `run: func(input: string) -> result<string, string>` of world \
                     wasmplug:plugin/plugin@0.1.0: {e:#}"
                ),
            })
    }

    /// An `err` from `run` is the plugin's answer, [`Error::Guest`].
    fn run_output(&self, output: Result<String, String>) -> Result<String> {
        output.map_err(|message| Error::Guest {
            plugin: self.plugin.name().to_string(),
            message,
        })
    }

    /// Runs `call` under the plugin's limits. Use it for typed calls through
    /// bindings made with `bindgen!`, calling their async functions (the
    /// bindings need `exports: { default: async }`): the CPU limit pauses
    /// the guest at every epoch tick, which a synchronous call cannot do.
    ///
    /// ```ignore
    /// let filter = instance.bind(|store, instance| Filter::new(store, instance))?;
    /// let out = instance.call(async |store| filter.call_transform(store, "hi").await).await?;
    /// ```
    pub async fn call<R>(
        &mut self,
        call: impl AsyncFnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        self.check_callable(false)?;
        let limits = self.plugin.inner.limits;
        let outcome = guarded(&mut self.store, &limits, call).await;
        self.discarded = outcome.is_err();
        outcome
    }

    /// Runs `call` under the plugin's limits on an instance made by
    /// [`Plugin::instantiate_blocking`], calling typed functions
    /// synchronously (`func.call(store, args)`, or bindings made without
    /// `exports: { default: async }`). The CPU time limit stops a guest that
    /// runs too long; nothing else can make it wait.
    ///
    /// ```ignore
    /// let mut instance = plugin.instantiate_blocking()?;
    /// let add = instance.func("add")?.typed::<(u32, u32), (u32,)>(instance.store())?;
    /// let (sum,) = instance.call_blocking(|store| add.call(store, (1, 2)))?;
    /// ```
    pub fn call_blocking<R>(
        &mut self,
        call: impl FnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        self.check_callable(true)?;
        let limits = self.plugin.inner.limits;
        let outcome = guarded_blocking(&mut self.store, &limits, call);
        self.discarded = outcome.is_err();
        outcome
    }

    /// Calls the default world's `run(input)` on a blocking instance.
    pub fn run_blocking(&mut self, input: &str) -> Result<String> {
        let run = self.run_func()?;
        let (output,) = self.call_blocking(|store| run.call(store, (input,)))?;
        self.run_output(output)
    }

    /// Fails if the instance was discarded or made for the other kind of
    /// call, or, for a blocking call, if the caller is in an async runtime
    /// (the plugin itself was checked when the instance was made).
    fn check_callable(&self, blocking: bool) -> Result<()> {
        if self.discarded {
            return Err(Error::InstanceDiscarded {
                plugin: self.plugin.name().to_string(),
            });
        }
        if self.blocking != blocking {
            return Err(self.plugin.not_blocking(if blocking {
                "this instance was made by `instantiate`: use `call`, or make one with \
                 `instantiate_blocking`"
            } else {
                "this instance was made by `instantiate_blocking`: use `call_blocking`"
            }));
        }
        if blocking {
            self.plugin.check_outside_runtime()?;
        }
        Ok(())
    }

    /// Makes typed bindings generated by `bindgen!` for this instance, e.g.
    /// `instance.bind(|store, instance| Filter::new(store, instance))`; a
    /// component that does not fit the world is [`Error::WorldMismatch`].
    pub fn bind<B>(
        &mut self,
        new: impl FnOnce(&mut Store<StoreData<T>>, &ComponentInstance) -> wasmtime::Result<B>,
    ) -> Result<B> {
        new(&mut self.store, &self.instance).map_err(|e| Error::WorldMismatch {
            plugin: self.plugin.name().to_string(),
            reason: format!("{e:#}"),
        })
    }

    /// Calls the default world's `run(input)`; an `err` from the plugin is
    /// [`Error::Guest`].
    pub async fn run(&mut self, input: &str) -> Result<String> {
        let run = self.run_func()?;
        let (output,) = self
            .call(async |store| run.call_async(store, (input,)).await)
            .await?;
        self.run_output(output)
    }

    /// Looks up an exported function by `name` or `interface#name`; the
    /// interface may be given without its version.
    pub fn func(&mut self, export: &str) -> Result<Func> {
        let (interface, name) = match export.split_once('#') {
            Some((interface, name)) => (Some(interface), name),
            None => (None, export),
        };
        let component = self.plugin.component();
        let parent = match interface {
            Some(interface) => Some(
                component
                    .get_export_index(None, interface)
                    .or_else(|| {
                        let full = export_names(component, self.plugin.engine())
                            .into_iter()
                            .filter_map(|e| e.split_once('#').map(|(i, _)| i.to_string()))
                            .find(|i| crate::policy::unversioned(i) == interface)?;
                        component.get_export_index(None, &full)
                    })
                    .ok_or_else(|| self.missing_export(export))?,
            ),
            None => None,
        };
        let index = component
            .get_export_index(parent.as_ref(), name)
            .ok_or_else(|| self.missing_export(export))?;
        self.instance
            .get_func(&mut self.store, index)
            .ok_or_else(|| Error::ExportType {
                plugin: self.plugin.name().to_string(),
                export: export.to_string(),
                reason: "it is not a function".into(),
            })
    }

    /// Calls an export with dynamic values; `results` are returned.
    pub async fn call_func(&mut self, func: Func, args: &[Val]) -> Result<Vec<Val>> {
        let mut results = vec![Val::Bool(false); func.ty(&self.store).results().len()];
        self.call(async |store| func.call_async(store, args, &mut results).await)
            .await?;
        Ok(results)
    }

    /// The store, for typed bindings' constructors and host interfaces.
    pub fn store(&mut self) -> &mut Store<StoreData<T>> {
        &mut self.store
    }

    /// The component instance, for typed bindings' constructors.
    pub fn component_instance(&self) -> &ComponentInstance {
        &self.instance
    }

    /// The plugin this is an instance of.
    pub fn plugin(&self) -> &Plugin<T> {
        &self.plugin
    }

    /// Whether a failed call has made this instance unusable.
    pub fn is_discarded(&self) -> bool {
        self.discarded
    }

    fn missing_export(&self, export: &str) -> Error {
        Error::MissingExport {
            plugin: self.plugin.name().to_string(),
            export: export.to_string(),
            available: export_names(self.plugin.component(), self.plugin.engine()).join(", "),
        }
    }
}

/// A store for one instance of `plugin`, with its WASI context, limiter
/// and CPU budget. While the budget lasts, each epoch tick yields for an
/// async call and continues for a `blocking` one.
fn new_store<T: Send + 'static>(
    plugin: &Plugin<T>,
    args: &[String],
    blocking: bool,
) -> Result<Store<StoreData<T>>> {
    let inner = &plugin.inner;
    let host = &plugin.host.inner;
    let budget = Arc::new(CallBudget::default());
    let output =
        |channel| PluginOutput::new(inner.name.clone(), channel, host.stdio, budget.clone());
    let (stdout, stderr) = (output(Channel::Stdout), output(Channel::Stderr));
    let argv: Vec<String> = std::iter::once(inner.name.to_string())
        .chain(args.iter().cloned())
        .collect();
    let wasi = WasiSetup {
        grants: &inner.grants,
        net: &inner.net,
        args: &argv,
        stdout: stdout.clone(),
        stderr: stderr.clone(),
    }
    .build()?;
    let context = PluginContext {
        name: inner.name.clone(),
        config: inner.config.clone(),
        budget: budget.clone(),
        stdout,
        stderr,
    };
    let data = StoreData::new(
        wasi,
        MemoryLimiter::new(inner.limits.memory, budget.clone()),
        context,
        (host.new_data)(),
    );
    let mut store = Store::new(plugin.engine(), data);
    store.limiter(|data| &mut data.limiter);
    let cpu = inner.limits.cpu;
    let next: fn(u64) -> UpdateDeadline = if blocking {
        UpdateDeadline::Continue
    } else {
        UpdateDeadline::Yield
    };
    store.epoch_deadline_callback(move |_| {
        if budget.charge_tick(cpu) {
            Ok(next(1))
        } else {
            Err(wasmtime::Error::new(CpuLimitReached))
        }
    });
    Ok(store)
}

/// Runs `call` with the budget reset, the CPU and fuel limits armed and the
/// wall-clock deadline around it, and turns any failure into its typed error.
async fn guarded<T: Send + 'static, R>(
    store: &mut Store<StoreData<T>>,
    limits: &Limits,
    call: impl AsyncFnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
) -> Result<R> {
    arm(store, limits)?;
    let outcome = within(limits.timeout, call(store)).await;
    settle(store, limits, outcome)
}

/// [`guarded`] for a blocking call: no deadline, since nothing the plugin
/// may use can make it wait, and the CPU limit stops it.
fn guarded_blocking<T: Send + 'static, R>(
    store: &mut Store<StoreData<T>>,
    limits: &Limits,
    call: impl FnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
) -> Result<R> {
    arm(store, limits)?;
    let outcome = call(store);
    settle(store, limits, Some(outcome))
}

fn arm<T: Send + 'static>(store: &mut Store<StoreData<T>>, limits: &Limits) -> Result<()> {
    store.data().context().budget.reset(limits);
    store.set_epoch_deadline(1);
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel).map_err(Error::runtime)?;
    }
    Ok(())
}

/// Flushes what the call wrote and types its outcome; `None` is a call
/// stopped at its deadline.
fn settle<T: Send + 'static, R>(
    store: &mut Store<StoreData<T>>,
    limits: &Limits,
    outcome: Option<wasmtime::Result<R>>,
) -> Result<R> {
    let context = store.data().context();
    if context.budget.wrote_output() {
        context.stdout.flush_pending();
        context.stderr.flush_pending();
    }
    match outcome {
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => Err(classify(error, context, limits)),
        None => Err(Error::Deadline {
            plugin: context.name.to_string(),
            timeout: limits.timeout,
        }),
    }
}

/// Runs `future` until it finishes or `timeout` passes (`None`). The timer
/// is armed only when the first poll does not finish the call, and counts
/// from then: most calls never pause, and even reading the clock costs as
/// much as such a call. A call pauses at its first wait in a host call or
/// at the first epoch tick (10 ms), so the deadline is late by at most that.
async fn within<F: Future>(timeout: Duration, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    if let Poll::Ready(output) = poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
        return Some(output);
    }
    tokio::time::timeout(timeout, future).await.ok()
}

/// Turns a failed call into its typed error, from what was recorded and the
/// error's type, never its message.
fn classify(error: wasmtime::Error, context: &PluginContext, limits: &Limits) -> Error {
    let plugin = &*context.name;
    let limit = context
        .budget
        .tripped()
        .or_else(|| match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => Some(Limit::Fuel),
            Some(Trap::StackOverflow) => Some(Limit::Stack),
            Some(Trap::Interrupt) => Some(Limit::CpuTime),
            _ => None,
        });
    if let Some(limit) = limit {
        let detail = match limit {
            Limit::Memory => format!("{} MiB", limits.memory / (1024 * 1024)),
            Limit::CpuTime => humantime::format_duration(limits.cpu).to_string(),
            Limit::Fuel => format!("{} units", limits.fuel.unwrap_or_default()),
            Limit::Output => format!("{} bytes per call", limits.output),
            Limit::Stack => String::new(),
        };
        return Error::LimitExceeded {
            plugin: plugin.to_string(),
            limit,
            detail,
        };
    }
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return Error::Exit {
            plugin: plugin.to_string(),
            code: exit.0,
        };
    }
    let message = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => error.root_cause().to_string(),
    };
    Error::Trap {
        plugin: plugin.to_string(),
        message,
        backtrace: error.downcast_ref::<WasmBacktrace>().map(|b| b.to_string()),
        stderr_tail: context.stderr.tail(),
    }
}
