//! One instance of a plugin and every call into it, each under the plugin's
//! limits.
//!
//! A call that traps, hits a limit or runs past its deadline discards the
//! instance: its memory may be half-updated, so it is never called again.
//! Instantiation itself runs under the same guard, since a component's
//! start-up code and initial memories count against the limits too.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{
    ComponentNamedList, Func, Instance as ComponentInstance, InstancePre, Lift, Lower, TypedFunc,
    Val,
};
use wasmtime::{Store, UpdateDeadline};

use crate::call::{CpuLimitReached, guarded, guarded_blocking};
use crate::capability::stdio::{Channel, PluginOutput};
use crate::capability::{HttpState, InstanceSetup};
use crate::dynamic::Signature;
use crate::error::{Error, Result};
use crate::host::HostInner;
use crate::inspect::export_names;
use crate::limits::{CallBudget, MemoryLimiter};
use crate::plugin::{Admitted, Plugin};
use crate::store::{PluginContext, StoreData};
use crate::telemetry::INSTANTIATE;
use crate::text::{MAX_GUEST_MESSAGE, bounded};

/// A live instance: a store and the component instance in it.
pub struct Instance<T: 'static = ()> {
    plugin: Plugin<T>,
    store: Store<StoreData<T>>,
    instance: ComponentInstance,
    discarded: bool,
    /// Made for blocking calls ([`Instance::call_blocking`]) or async ones.
    drive: Drive,
    /// Exports already called by name, with their signatures.
    pub(crate) exports: HashMap<String, (Func, Arc<Signature>)>,
    /// The default world's `run`, once looked up and type-checked.
    run: Option<Func>,
}

/// How a call into an instance is driven: awaited on a fiber, or made
/// synchronously on an instance made for blocking calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drive {
    Async,
    Blocking,
}

impl<T: 'static> std::fmt::Debug for Instance<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("plugin", &self.plugin)
            .field("discarded", &self.discarded)
            .field("drive", &self.drive)
            .finish_non_exhaustive()
    }
}

/// The default world's `run: func(input: string) -> result<string, string>`.
type RunFunc<'a> = TypedFunc<(&'a str,), (Result<String, String>,)>;

impl<T: Send + 'static> Instance<T> {
    pub(crate) async fn new(plugin: Plugin<T>, args: &[String]) -> Result<Self> {
        let limits = plugin.inner.admitted.limits;
        let runtime = plugin.host.tokio_for_call()?;
        // In `Inherit` mode the store starts tasks that drain the output.
        let mut store = match &runtime {
            Some(runtime) => {
                let _entered = runtime.enter();
                new_store(
                    &plugin.inner.admitted,
                    &plugin.host.inner,
                    plugin.engine(),
                    args,
                    false,
                )?
            }
            None => new_store(
                &plugin.inner.admitted,
                &plugin.host.inner,
                plugin.engine(),
                args,
                false,
            )?,
        };
        let pre = plugin.inner.pre.clone();
        let instance = guarded(
            &mut store,
            &limits,
            runtime,
            INSTANTIATE,
            async |store| pre.instantiate_async(store).await,
            Ok,
        )
        .await?;
        Ok(Instance {
            plugin,
            store,
            instance,
            discarded: false,
            drive: Drive::Async,
            exports: HashMap::new(),
            run: None,
        })
    }

    pub(crate) fn new_blocking(plugin: Plugin<T>, pre: InstancePre<StoreData<T>>) -> Result<Self> {
        let mut store = new_store(
            &plugin.inner.admitted,
            &plugin.host.inner,
            plugin.engine(),
            &[],
            true,
        )?;
        let limits = plugin.inner.admitted.limits;
        let instance = guarded_blocking(
            &mut store,
            &limits,
            INSTANTIATE,
            |store| pre.instantiate(store),
            Ok,
        )?;
        Ok(Instance {
            plugin,
            store,
            instance,
            discarded: false,
            drive: Drive::Blocking,
            exports: HashMap::new(),
            run: None,
        })
    }

    /// The default world's `run`, typed: looked up and checked on the first
    /// call only, since a kept instance may take many.
    fn run_func<'a>(&mut self) -> Result<RunFunc<'a>> {
        let func = match self.run {
            Some(func) => func,
            None => {
                let func = self.func("run")?;
                func.typed::<(&str,), (Result<String, String>,)>(&self.store)
                    .map_err(|e| Error::ExportType {
                        plugin: self.plugin.name().to_string(),
                        export: "run".into(),
                        reason: format!(
                            "expected `run: func(input: string) -> result<string, string>` of \
                             world wasmplug:plugin/plugin@0.1.0: {e:#}"
                        ),
                    })?;
                *self.run.insert(func)
            }
        };
        // SAFETY: `func` was type-checked above as this very signature;
        // the borrow's lifetime makes no difference to its type at run time.
        Ok(unsafe { TypedFunc::new_unchecked(func) })
    }

    /// What turns `run`'s `err`, the plugin's answer, into [`Error::Guest`].
    fn run_answer(&self) -> impl FnOnce((Result<String, String>,)) -> Result<String> + use<T> {
        let plugin = self.plugin.inner.admitted.name.clone();
        move |(output,)| output.map_err(|message| guest_error(&plugin, message))
    }

    /// Runs `call` of `export` under the plugin's limits. Use it for typed
    /// calls through bindings made with `bindgen!`, calling their async
    /// functions (the bindings need `exports: { default: async }`): the CPU
    /// limit pauses the guest at every epoch tick, which a synchronous call
    /// cannot do. `export` names the call in its span, statistics and
    /// [`crate::CallRecord`].
    ///
    /// ```ignore
    /// let filter = instance.bind(|store, instance| Filter::new(store, instance))?;
    /// let out = instance
    ///     .call("transform", async |store| filter.call_transform(store, "hi").await)
    ///     .await?;
    /// ```
    pub async fn call<R>(
        &mut self,
        export: &str,
        call: impl AsyncFnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        self.call_answer(export, call, Ok).await
    }

    /// [`Self::call`], with `answer` making the caller's result of the
    /// call's, inside the guard, so that the call is recorded as it ends.
    pub(crate) async fn call_answer<R, A>(
        &mut self,
        export: &str,
        call: impl AsyncFnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
        answer: impl FnOnce(R) -> Result<A>,
    ) -> Result<A> {
        self.check_callable(Drive::Async)?;
        let limits = self.plugin.inner.admitted.limits;
        let runtime = self.plugin.host.tokio_for_call()?;
        let outcome = guarded(&mut self.store, &limits, runtime, export, call, answer).await;
        self.settle(outcome)
    }

    /// Discards the instance after a failed call; a plugin's own `err`
    /// answer leaves it as sound as any answer.
    fn settle<A>(&mut self, outcome: Result<A>) -> Result<A> {
        self.discarded = outcome
            .as_ref()
            .is_err_and(|e| !matches!(e, Error::Guest { .. }));
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
    /// let add = instance.typed_func::<(u32, u32), (u32,)>("add")?;
    /// let (sum,) = instance.call_blocking("add", |store| add.call(store, (1, 2)))?;
    /// ```
    pub fn call_blocking<R>(
        &mut self,
        export: &str,
        call: impl FnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        self.call_blocking_answer(export, call, Ok)
    }

    /// [`Self::call_blocking`] with an `answer`, as [`Self::call_answer`].
    fn call_blocking_answer<R, A>(
        &mut self,
        export: &str,
        call: impl FnOnce(&mut Store<StoreData<T>>) -> wasmtime::Result<R>,
        answer: impl FnOnce(R) -> Result<A>,
    ) -> Result<A> {
        self.check_callable(Drive::Blocking)?;
        let limits = self.plugin.inner.admitted.limits;
        let outcome = guarded_blocking(&mut self.store, &limits, export, call, answer);
        self.settle(outcome)
    }

    /// Calls the default world's `run(input)` on a blocking instance.
    ///
    /// Directly, not as the async `run` polled once: that future has room
    /// for an async call's state, and building and polling it cost a
    /// blocking call of `run` 14% more (7,110 instructions against 6,262).
    pub fn run_blocking(&mut self, input: &str) -> Result<String> {
        let run = self.run_func()?;
        let answer = self.run_answer();
        self.call_blocking_answer("run", |store| run.call(store, (input,)), answer)
    }

    /// Calls `func` with `params` as `drive` says, under the limits, with
    /// `answer` as in [`Self::call_answer`].
    pub(crate) async fn call_typed<P, R, A>(
        &mut self,
        drive: Drive,
        export: &str,
        func: TypedFunc<P, R>,
        params: P,
        answer: impl FnOnce(R) -> Result<A>,
    ) -> Result<A>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        match drive {
            Drive::Async => {
                let call =
                    async |store: &mut Store<StoreData<T>>| func.call_async(store, params).await;
                self.call_answer(export, call, answer).await
            }
            Drive::Blocking => {
                self.call_blocking_answer(export, |store| func.call(store, params), answer)
            }
        }
    }

    /// Fails if the instance was discarded or made for the other kind of
    /// call.
    fn check_callable(&self, drive: Drive) -> Result<()> {
        if self.discarded {
            return Err(Error::InstanceDiscarded {
                plugin: self.plugin.name().to_string(),
            });
        }
        if self.drive != drive {
            return Err(self.plugin.not_blocking(if drive == Drive::Blocking {
                "this instance was made by `instantiate`: use `call`, or make one with \
                 `instantiate_blocking`"
            } else {
                "this instance was made by `instantiate_blocking`: use `call_blocking`"
            }));
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
        let answer = self.run_answer();
        self.call_typed(Drive::Async, "run", run, (input,), answer)
            .await
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
                            .find(|i| crate::capability::unversioned(i) == interface)?;
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

    /// Calls an export, `export` by name, with dynamic values; `results`
    /// are returned.
    pub async fn call_func(&mut self, export: &str, func: Func, args: &[Val]) -> Result<Vec<Val>> {
        self.call_func_answer(Drive::Async, export, func, args, Ok)
            .await
    }

    /// [`Self::call_func`] driven as `drive` says, with an `answer`, as
    /// [`Self::call_answer`].
    pub(crate) async fn call_func_answer<A>(
        &mut self,
        drive: Drive,
        export: &str,
        func: Func,
        args: &[Val],
        answer: impl FnOnce(Vec<Val>) -> Result<A>,
    ) -> Result<A> {
        let mut results = vec![Val::Bool(false); func.ty(&self.store).results().len()];
        match drive {
            Drive::Async => {
                let call = async |store: &mut Store<StoreData<T>>| {
                    func.call_async(store, args, &mut results).await?;
                    Ok(results)
                };
                self.call_answer(export, call, answer).await
            }
            Drive::Blocking => {
                let call = |store: &mut Store<StoreData<T>>| {
                    func.call(store, args, &mut results)?;
                    Ok(results)
                };
                self.call_blocking_answer(export, call, answer)
            }
        }
    }

    /// An exported function with its signature checked against `P` and
    /// `R`, to call inside [`Self::call`] or [`Self::call_blocking`]; a
    /// mismatch is [`Error::ExportType`].
    pub fn typed_func<P, R>(&mut self, export: &str) -> Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        self.func(export)?
            .typed::<P, R>(&self.store)
            .map_err(|e| Error::ExportType {
                plugin: self.plugin.name().to_string(),
                export: export.to_string(),
                reason: format!("{e:#}"),
            })
    }

    /// The store, for this crate's dynamic calls; hosts reach it only
    /// inside a guarded call, so no call escapes the limits.
    pub(crate) fn store_mut(&mut self) -> &mut Store<StoreData<T>> {
        &mut self.store
    }

    /// The application's data for this instance, as its host interfaces
    /// left it.
    pub fn host_data(&self) -> &T {
        self.store.data().host()
    }

    /// The application's data for this instance, to change between calls.
    pub fn host_data_mut(&mut self) -> &mut T {
        self.store.data_mut().host_mut()
    }

    /// The plugin this is an instance of.
    pub fn plugin(&self) -> &Plugin<T> {
        &self.plugin
    }

    /// How calls into this instance are driven.
    pub(crate) fn drive(&self) -> Drive {
        self.drive
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

/// The plugin's own error message, bounded, as [`Error::Guest`].
pub(crate) fn guest_error(plugin: &str, message: String) -> Error {
    Error::Guest {
        plugin: plugin.to_string(),
        message: bounded(message, MAX_GUEST_MESSAGE),
    }
}

/// A store for one instance of `admitted` on `engine`, its WASI context set
/// up by each capability, with its limiter and CPU budget. While the
/// budget lasts, each epoch tick yields for an async call and continues for
/// a `blocking` one.
pub(crate) fn new_store<T: Send + 'static>(
    admitted: &Admitted<T>,
    host: &HostInner<T>,
    engine: &wasmtime::Engine,
    args: &[String],
    blocking: bool,
) -> Result<Store<StoreData<T>>> {
    let budget = Arc::new(CallBudget::default());
    let telemetry = &admitted.telemetry;
    let output =
        |channel| PluginOutput::new(telemetry.label.clone(), channel, host.stdio, budget.clone());
    let (stdout, stderr) = (output(Channel::Stdout), output(Channel::Stderr));
    let argv: Vec<String> = std::iter::once(admitted.name.to_string())
        .chain(args.iter().cloned())
        .collect();
    let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
    let mut http = HttpState::new(telemetry.label.clone(), admitted.limits.timeout);
    let mut keyvalue = None;
    let mut setup = InstanceSetup {
        wasi: &mut wasi,
        blocking,
        args: &argv,
        stdout: &stdout,
        stderr: &stderr,
        http: &mut http,
        keyvalue: &mut keyvalue,
    };
    for capability in &admitted.capabilities {
        capability.prepare(&mut setup)?;
    }
    let limits = admitted.limits;
    let context = PluginContext {
        telemetry: telemetry.clone(),
        _alive: telemetry.alive(),
        host_interfaces: admitted
            .grants
            .permissions()
            .any(|p| matches!(p, crate::permission::Permission::Interface { .. })),
        config: admitted.config.clone(),
        budget: budget.clone(),
        stdout,
        stderr,
    };
    let data = StoreData::new(
        wasi.build_p1(),
        http,
        keyvalue,
        MemoryLimiter::new(limits.memory, budget.clone(), Some(telemetry.clone())),
        context,
        (host.new_data)(),
    );
    let mut store = Store::new(engine, data);
    store.limiter(|data| &mut data.limiter);
    // What the host takes from the guest in one call: wasmtime counts it
    // down afresh from this for every call and every host call.
    store.set_hostcall_fuel(usize::try_from(limits.transfer).unwrap_or(usize::MAX));
    let cpu = limits.cpu;
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
