//! Commands: programs run for their exit status, as `wasmtime run` runs
//! them (`wasmplug run`), under the same limits, capabilities and
//! permissions as any plugin.
//!
//! Which path a program takes is decided here, and only here:
//!
//! - A preview1 core module exporting `_start` (what `wasm32-wasip1`
//!   builds) runs natively on wasmtime-wasi's preview1 functions, as
//!   `wasmtime run` runs it: a core module that need not export its memory,
//!   whose `proc_exit` status passes through exactly, and whose calls with
//!   a bad descriptor get an error back rather than trapping.
//! - A component runs the newest `wasi:cli/run` it exports: 0.3 (on an
//!   engine with component-model concurrency, where its async `run` can
//!   run) before 0.2. Toolchains that build WASI 0.3 programs export both,
//!   and leave the 0.2 one a stub.
//! - A preview1 module loaded as a plugin of a typed world
//!   ([`crate::Host::load_file`]) is wrapped with the preview1 adapter
//!   instead ([`crate::WasmBytes::into_component`]): a world's exports need
//!   a component.

use std::sync::Arc;

use wasmtime::{ExternType, Linker, Module};

use crate::call::guarded;
use crate::compile::Wasm;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::instance::new_store;
use crate::limits::Limits;
use crate::plugin::{Admitted, LoadRequest, Plugin, admit, load};
use crate::policy::{Grants, PluginIdentity};
use crate::source::SourceKind;
use crate::store::StoreData;

/// A program to run: a `wasi:cli/run` component or a preview1 command
/// module. Cheap to clone; each run gets a fresh instance.
pub struct Command<T: 'static = ()> {
    host: Host<T>,
    program: Arc<Program<T>>,
}

impl<T: 'static> Clone for Command<T> {
    fn clone(&self) -> Self {
        Command {
            host: self.host.clone(),
            program: self.program.clone(),
        }
    }
}

enum Program<T: 'static> {
    Preview1 {
        admitted: Box<Admitted<T>>,
        pre: wasmtime::InstancePre<StoreData<T>>,
    },
    Component {
        plugin: Plugin<T>,
        run: RunExport,
    },
}

/// The `wasi:cli/run` a component is run through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunExport {
    P2,
    P3,
}

/// The preview1 module names that wasmtime-wasi implements.
const PREVIEW1_MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

pub(crate) fn load_command<T: Send + 'static>(
    host: Host<T>,
    request: LoadRequest,
) -> Result<Command<T>> {
    let program = match request.bytes.kind {
        SourceKind::Component => {
            let plugin = load(host.clone(), request)?;
            let run = newest_run(&plugin)?;
            Program::Component { plugin, run }
        }
        SourceKind::Preview1Command => preview1(&host, request)?,
        SourceKind::Preview1Reactor => {
            return Err(Error::MissingExport {
                plugin: request.default_name,
                export: "_start".into(),
                available: "no `_start`: a preview1 module without it is a library, not a \
                            command"
                    .into(),
            });
        }
    };
    Ok(Command {
        host,
        program: Arc::new(program),
    })
}

/// A preview1 module compiled as a core module and linked with WASI's
/// preview1 (and preview0) functions, whatever else it imports refused.
fn preview1<T: Send + 'static>(host: &Host<T>, request: LoadRequest) -> Result<Program<T>> {
    let settings = &*host.inner;
    let consent = request.consent(settings).clone();
    let bytes = request.bytes;
    let admitted = admit(
        settings,
        &consent,
        &bytes,
        request.manifest,
        request.default_name,
    )?;
    let (_, module) = admitted.compiler(settings).compile::<Module>(
        &Wasm {
            origin: &bytes.origin,
            bytes: &bytes.bytes,
            digest: &bytes.sha256,
        },
        admitted.limits.fuel.is_some(),
        // Its imports are checked once compiled: a module's are few, and
        // compiling one takes milliseconds.
        &|_| Ok(()),
    )?;
    for import in module.imports() {
        let is_wasi = PREVIEW1_MODULES.contains(&import.module())
            && matches!(import.ty(), ExternType::Func(_));
        if !is_wasi {
            return Err(Error::MissingImport {
                plugin: admitted.name.to_string(),
                import: format!("{}::{}", import.module(), import.name()),
                hint: Some("a preview1 command may import only WASI's functions".into()),
            });
        }
    }
    match module.get_export("_start") {
        Some(ExternType::Func(ty)) if ty.params().len() == 0 && ty.results().len() == 0 => {}
        _ => {
            return Err(Error::ExportType {
                plugin: admitted.name.to_string(),
                export: "_start".into(),
                reason: "a command's `_start` takes and returns nothing".into(),
            });
        }
    }
    let mut linker = Linker::new(module.engine());
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, StoreData::preview1)
        .and_then(|()| wasmtime_wasi::p0::add_to_linker_async(&mut linker, StoreData::preview1))
        .map_err(|e| admitted.link_error(e))?;
    let pre = linker
        .instantiate_pre(&module)
        .map_err(|e| admitted.link_error(e))?;
    tracing::debug!(plugin = %admitted.name, sha256 = %bytes.sha256, "preview1 command loaded");
    Ok(Program::Preview1 {
        admitted: Box::new(admitted),
        pre,
    })
}

/// The newest `wasi:cli/run` the component exports that its engine can
/// run: 0.3 needs component-model concurrency.
fn newest_run<T: 'static>(plugin: &Plugin<T>) -> Result<RunExport> {
    let engine = plugin.engine();
    let concurrent = plugin.inner.flavor.concurrent;
    let mut best: Option<(semver::Version, RunExport)> = None;
    for (name, _) in plugin.component().component_type().exports(engine) {
        let Some(version) = name.strip_prefix("wasi:cli/run@") else {
            continue;
        };
        let Ok(version) = semver::Version::parse(version) else {
            continue;
        };
        let run = match (version.major, version.minor) {
            (0, 2) => RunExport::P2,
            (0, 3) if concurrent => RunExport::P3,
            _ => continue,
        };
        if best.as_ref().is_none_or(|(newest, _)| version > *newest) {
            best = Some((version, run));
        }
    }
    best.map(|(_, run)| run)
        .ok_or_else(|| Error::MissingExport {
            plugin: plugin.name().to_string(),
            export: "wasi:cli/run".into(),
            available: crate::inspect::export_names(plugin.component(), engine).join(", "),
        })
}

impl<T: Send + 'static> Command<T> {
    /// Runs the program with `args` after its name, under its limits (the
    /// whole run is one call); returns its exit status. A trap, a limit hit
    /// or the deadline is an error, as for any call.
    pub async fn run(&self, args: &[String]) -> Result<i32> {
        let outcome = match &*self.program {
            Program::Preview1 { admitted, pre, .. } => self.run_preview1(admitted, pre, args).await,
            Program::Component { plugin, run } => run_component(plugin, *run, args).await,
        };
        match outcome {
            Ok(()) => Ok(0),
            Err(Error::Exit { code, .. }) => Ok(code),
            Err(error) => Err(error),
        }
    }

    async fn run_preview1(
        &self,
        admitted: &Admitted<T>,
        pre: &wasmtime::InstancePre<StoreData<T>>,
        args: &[String],
    ) -> Result<()> {
        let host = &self.host.inner;
        let engine = pre.module().engine();
        let runtime = self.host.tokio_for_call()?;
        let mut store = match &runtime {
            Some(runtime) => {
                let _entered = runtime.enter();
                new_store(admitted, host, engine, args, false)?
            }
            None => new_store(admitted, host, engine, args, false)?,
        };
        guarded(
            &mut store,
            &admitted.limits,
            runtime,
            "_start",
            async |store| {
                let instance = pre.instantiate_async(&mut *store).await?;
                if let Ok(initialize) =
                    instance.get_typed_func::<(), ()>(&mut *store, "_initialize")
                {
                    initialize.call_async(&mut *store, ()).await?;
                }
                let start = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
                start.call_async(&mut *store, ()).await
            },
            Ok,
        )
        .await
    }
}

/// Runs a component's `wasi:cli/run`; its `err` is status 1, as the
/// preview1 adapter and `wasmtime run` make it.
async fn run_component<T: Send + 'static>(
    plugin: &Plugin<T>,
    run: RunExport,
    args: &[String],
) -> Result<()> {
    let mut instance = plugin.instantiate_with_args(args).await?;
    let outcome = match run {
        RunExport::P2 => {
            let command = instance.bind(|store, instance| {
                wasmtime_wasi::p2::bindings::Command::new(store, instance)
            })?;
            instance
                .call("wasi:cli/run#run", async |store| {
                    command.wasi_cli_run().call_run(store).await
                })
                .await?
        }
        RunExport::P3 => {
            let command = instance.bind(|store, instance| {
                wasmtime_wasi::p3::bindings::Command::new(store, instance)
            })?;
            instance
                .call("wasi:cli/run#run", async |store| {
                    store
                        .run_concurrent(async |store| command.wasi_cli_run().call_run(store).await)
                        .await?
                })
                .await?
        }
    };
    outcome.map_err(|()| Error::Exit {
        plugin: plugin.name().to_string(),
        code: 1,
    })
}

impl<T: 'static> std::fmt::Debug for Command<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("identity", self.identity())
            .field("kind", &self.source_kind())
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Command<T> {
    /// The program's name: from its manifest, or else its file name.
    pub fn name(&self) -> &str {
        &self.admitted().name
    }

    /// Who it is, as consent is remembered.
    pub fn identity(&self) -> &PluginIdentity {
        &self.admitted().identity
    }

    /// What it was given, and what was refused by whom.
    pub fn grants(&self) -> &Grants {
        &self.admitted().grants
    }

    /// What it has done since it was loaded; see [`Plugin::stats`].
    pub fn stats(&self) -> crate::PluginStats {
        self.admitted().telemetry.snapshot()
    }

    /// The limits its run is under.
    pub fn limits(&self) -> &Limits {
        &self.admitted().limits
    }

    /// Whether it is a component or a preview1 module, run natively.
    pub fn source_kind(&self) -> SourceKind {
        self.admitted().kind
    }

    fn admitted(&self) -> &Admitted<T> {
        match &*self.program {
            Program::Preview1 { admitted, .. } => admitted,
            Program::Component { plugin, .. } => &plugin.inner.admitted,
        }
    }
}
