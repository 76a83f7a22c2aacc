//! Raw wasmtime's side of the benchmarks: a store holding just WASI, which
//! the Rust guest imports, and the hostile guest's `run` on it.

use wasmplug_tests::guest;
use wasmtime::component::{Component, Linker, ResourceTable, TypedFunc, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub struct Raw {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Raw {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A store for raw wasmtime with an empty WASI context.
pub fn raw_store(engine: &Engine) -> Store<Raw> {
    raw_store_with(engine, WasiCtx::builder().build())
}

/// A store for raw wasmtime with `wasi`.
pub fn raw_store_with(engine: &Engine, wasi: WasiCtx) -> Store<Raw> {
    Store::new(
        engine,
        Raw {
            wasi,
            table: ResourceTable::new(),
        },
    )
}

/// The default world's `run`, typed.
pub type RawRun = TypedFunc<(&'static str,), (Result<String, String>,)>;

/// The hostile guest's `run` on raw wasmtime in `store`: synchronous WASI,
/// and the default world's `log` and `config` linked as functions that do
/// nothing.
pub fn raw_hostile(mut store: Store<Raw>) -> (Store<Raw>, RawRun) {
    let engine = store.engine().clone();
    let component = Component::from_file(&engine, guest("hostile")).unwrap();
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let mut host = linker.instance("wasmplug:plugin/host@0.1.0").unwrap();
    host.func_new("log", |_, _, _, _| Ok(())).unwrap();
    host.func_new("config", |_, _, _, results| {
        results[0] = Val::Option(None);
        Ok(())
    })
    .unwrap();
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func(&mut store, "run").unwrap();
    (store, run)
}
