//! Raw wasmtime's side of the benchmarks: a store holding just WASI, which
//! the Rust guest imports.

use wasmtime::component::ResourceTable;
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
