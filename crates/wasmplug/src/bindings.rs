//! Host-side bindings for the default world's `host` interface; its `run`
//! export is called through a typed function in `instance`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "wasmplug:plugin/plugin",
    imports: { default: trappable },
});
