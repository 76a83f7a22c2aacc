//! Random WIT (`wit-smith`) made into a component (`wit-component`'s dummy
//! module and encoder), then loaded, instantiated, and every exported
//! function called with a value of each parameter's type. The dummy's
//! functions trap, and a trap must come back as a typed error.

#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use wasmplug::wasmtime::component::types::ComponentItem;
use wasmplug::{Error, Value};
use wasmplug_fuzz::{block_on, host, zero_val};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::decoding::DecodedWasm;
use wit_parser::{ManglingAndAbi, Resolve, WorldId, WorldItem};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(mut config) = u.arbitrary::<wit_smith::Config>() else {
        return;
    };
    // What a plugin world holds: no component-model async, and no
    // `implements`, which the wasmtime the host is built on refuses.
    config.async_ = false;
    config.futures = false;
    config.streams = false;
    config.error_context = false;
    config.fixed_length_lists = false;
    config.implements = false;
    let Ok(wit) = wit_smith::smith(&config, &mut u) else {
        return;
    };
    let Ok(DecodedWasm::WitPackage(resolve, package)) = wit_parser::decoding::decode(&wit) else {
        return;
    };
    // The package's own worlds, and one world exporting each of its
    // interfaces: random worlds seldom export anything.
    for world in resolve.packages[package].worlds.values() {
        exercise_world(resolve.clone(), *world);
    }
    for interface in resolve.packages[package].interfaces.values() {
        let mut resolve = resolve.clone();
        let Some(name) = resolve.id_of(*interface) else {
            continue;
        };
        let wit = format!("package wasmplug:fuzz-exports; world exports {{ export {name}; }}");
        let Ok(exports) = resolve.push_str("exports.wit", &wit) else {
            continue;
        };
        if let Ok(world) = resolve.select_world(&[exports], Some("exports")) {
            exercise_world(resolve, world);
        }
    }
});

/// Makes `world` into a component and calls what it exports.
fn exercise_world(mut resolve: Resolve, world: WorldId) {
    types_only_imports(&mut resolve, world);
    if let Some(component) = component(&resolve, world) {
        exercise(component);
    }
}

/// Leaves `world` importing nothing but types: a host denies the imports
/// it was not given, so a random world's imported functions would stop
/// nearly every component at load. Its freestanding imported functions
/// become exports, so that there is more to call; imported interfaces stay
/// for the types exports use from them, without their functions.
fn types_only_imports(resolve: &mut Resolve, world: WorldId) {
    let world = &mut resolve.worlds[world];
    let imports = std::mem::take(&mut world.imports);
    for (key, item) in imports {
        match item {
            WorldItem::Function(_) => {
                if !world.exports.contains_key(&key) {
                    world.exports.insert(key, item);
                }
            }
            WorldItem::Interface { id, .. } => {
                resolve.interfaces[id].functions.clear();
                world.imports.insert(key, item);
            }
            WorldItem::Type { .. } => {
                world.imports.insert(key, item);
            }
        }
    }
}

fn component(resolve: &Resolve, world: WorldId) -> Option<Vec<u8>> {
    let mut module = wit_component::dummy_module(resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8)
        .ok()?;
    ComponentEncoder::default()
        .module(&module)
        .ok()?
        .validate(true)
        .encode()
        .ok()
}

fn exercise(component: Vec<u8>) {
    let plugin = match block_on(host().load_bytes("wit", component, None)) {
        Ok(plugin) => plugin,
        Err(Error::InvalidComponent { .. } | Error::MissingImport { .. }) => return,
        Err(other) => panic!("a component of random WIT failed to load: {other:?}"),
    };
    let engine = plugin.engine();
    let mut exports = Vec::new();
    for (name, item) in plugin.component().component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(func) => exports.push((name.to_string(), func)),
            ComponentItem::ComponentInstance(instance) => {
                for (func_name, item) in instance.exports(engine) {
                    if let ComponentItem::ComponentFunc(func) = item.ty {
                        exports.push((format!("{name}#{func_name}"), func));
                    }
                }
            }
            _ => {}
        }
    }
    for (name, func) in exports {
        let Some(args) = func
            .params()
            .map(|(_, ty)| zero_val(&ty).map(Value::Other))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let Ok(mut instance) = block_on(plugin.instantiate()) else {
            return;
        };
        match block_on(instance.call_values(&name, &args)) {
            Ok(_) => {}
            Err(Error::Trap { .. } | Error::LimitExceeded { .. } | Error::Deadline { .. }) => {}
            Err(Error::Argument { .. } | Error::MissingExport { .. }) => {}
            Err(other) => panic!("calling {name} of a dummy component: {other:?}"),
        }
    }
}
