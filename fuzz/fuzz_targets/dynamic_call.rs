//! Dynamic calls against the echo fixture (`tests/plugins/echo`), whose
//! exports give back what they are given over a world's types: arbitrary
//! values typed by an export's signature must come back the same, through
//! the fast lanes and the general path alike, and through WAVE and JSON;
//! arbitrary text through the WAVE and JSON parsers must end in a value or
//! a typed error. The fixture is `$WASMPLUG_FUZZ_ECHO`, built by
//! `cargo build --release --target wasm32-wasip2 -p echo` in tests/plugins.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use wasmplug::wasmtime::component::types::ComponentItem;
use wasmplug::wasmtime::component::{Type, Val};
use wasmplug::{Error, Plugin, Value};
use wasmplug_fuzz::{arbitrary_val, block_on, has_non_finite, host, same};

/// An export of the fixture: its name and parameter types.
struct Export {
    name: String,
    params: Vec<Type>,
}

fn fixture() -> &'static (Plugin, Vec<Export>) {
    static FIXTURE: OnceLock<(Plugin, Vec<Export>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = std::env::var_os("WASMPLUG_FUZZ_ECHO")
            .expect("WASMPLUG_FUZZ_ECHO names the echo fixture (see fuzz/README.md)");
        let plugin = block_on(host().load_file(&path)).expect("loading the echo fixture");
        let engine = plugin.engine();
        let mut exports = Vec::new();
        for (name, item) in plugin.component().component_type().exports(engine) {
            if let ComponentItem::ComponentFunc(func) = item.ty
                && name.starts_with("echo-")
            {
                exports.push(Export {
                    name: name.to_string(),
                    params: func.params().map(|(_, ty)| ty).collect(),
                });
            }
        }
        assert!(
            exports.len() >= 12,
            "the fixture exports {} echoes",
            exports.len()
        );
        (plugin, exports)
    })
}

fuzz_target!(|data: &[u8]| {
    let (plugin, exports) = fixture();
    let mut u = Unstructured::new(data);
    let Ok(export) = u.choose(exports) else {
        return;
    };
    let Ok(mode) = u.int_in_range(0..=3u8) else {
        return;
    };
    match mode {
        0 => parse_text(export, &mut u),
        1 => counters(plugin, &mut u),
        _ => echo(plugin, export, &mut u),
    }
});

/// Arbitrary values through the call, and through WAVE and JSON.
fn echo(plugin: &Plugin, export: &Export, u: &mut Unstructured<'_>) {
    let mut args = Vec::new();
    for ty in &export.params {
        match arbitrary_val(u, ty) {
            Ok(Some(value)) => args.push(value),
            _ => return,
        }
    }
    for (value, ty) in args.iter().zip(&export.params) {
        let wave = wasmplug::to_wave(value).expect("a value prints as WAVE");
        let back = wasmplug::parse_wave(&export.name, ty, &wave)
            .unwrap_or_else(|e| panic!("{wave} does not parse back: {e}"));
        assert!(
            same(value, &back),
            "WAVE {wave}: {value:?} came back {back:?}"
        );
        if !has_non_finite(value) {
            let json = wasmplug::to_json(value);
            let back = wasmplug::from_json(&export.name, ty, &json)
                .unwrap_or_else(|e| panic!("{json} does not convert back: {e}"));
            assert!(
                same(value, &back),
                "JSON {json}: {value:?} came back {back:?}"
            );
        }
    }
    let mut instance = block_on(plugin.instantiate()).expect("instantiating the fixture");
    let general: Vec<Value> = args.iter().cloned().map(Value::Other).collect();
    let results = block_on(instance.call_values(&export.name, &general))
        .unwrap_or_else(|e| panic!("{}({args:?}): {e}", export.name));
    let expected = match args.as_slice() {
        [one] => one.clone(),
        many => Val::Tuple(many.to_vec()),
    };
    let [result] = results.as_slice() else {
        panic!("{} gave {} results", export.name, results.len());
    };
    let result = Val::from(result.clone());
    assert!(
        same(&expected, &result),
        "{}: gave {expected:?}, got {result:?}",
        export.name
    );
    // The fast lanes carry byte lists and strings whole: the same answer.
    let lane = match args.as_slice() {
        [Val::List(bytes)] if export.name == "echo-bytes" => Value::Bytes(
            bytes
                .iter()
                .map(|b| match b {
                    Val::U8(b) => *b,
                    _ => unreachable!("a list<u8>"),
                })
                .collect(),
        ),
        [Val::String(text)] => Value::String(text.clone()),
        _ => return,
    };
    let fast = block_on(instance.call_values(&export.name, &[lane]))
        .unwrap_or_else(|e| panic!("{} through its fast lane: {e}", export.name));
    let fast = Val::from(fast[0].clone());
    assert!(
        same(&expected, &fast),
        "{}: the fast lane gave {fast:?}",
        export.name
    );
}

/// Arbitrary text through the WAVE and JSON parsers, typed by a parameter.
fn parse_text(export: &Export, u: &mut Unstructured<'_>) {
    let Some(ty) = export.params.first() else {
        return;
    };
    let Ok(text) = u.arbitrary::<&str>() else {
        return;
    };
    match wasmplug::parse_wave(&export.name, ty, text) {
        Ok(value) => {
            let wave = wasmplug::to_wave(&value).expect("a parsed value prints");
            let back = wasmplug::parse_wave(&export.name, ty, &wave)
                .unwrap_or_else(|e| panic!("{text:?} parsed, but {wave} does not: {e}"));
            assert!(same(&value, &back), "{text:?}: {value:?} then {back:?}");
        }
        Err(error) => assert!(matches!(error, Error::Argument { .. }), "{error:?}"),
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text)
        && let Err(error) = wasmplug::from_json(&export.name, ty, &json)
    {
        assert!(matches!(error, Error::Argument { .. }), "{error:?}");
    }
}

/// A resource through dynamic calls: made, used, counted.
fn counters(plugin: &Plugin, u: &mut Unstructured<'_>) {
    let Ok((start, steps)) = u.arbitrary::<(u32, Vec<u32>)>() else {
        return;
    };
    let interface = "wasmplug:echo/counters";
    let mut instance = block_on(plugin.instantiate()).expect("instantiating the fixture");
    let made = block_on(instance.call_values(
        &format!("{interface}#[constructor]counter"),
        &[Value::Other(Val::U32(start))],
    ))
    .expect("making a counter");
    let [Value::Other(counter @ Val::Resource(_))] = made.as_slice() else {
        panic!("the constructor gave {made:?}");
    };
    let mut expected = start;
    for step in steps.into_iter().take(8) {
        expected = expected.wrapping_add(step);
        let added = block_on(instance.call_values(
            &format!("{interface}#[method]counter.add"),
            &[Value::Other(counter.clone()), Value::Other(Val::U32(step))],
        ))
        .expect("adding to a counter");
        assert_eq!(added, [Value::Other(Val::U32(expected))]);
    }
    let value = block_on(instance.call_values(
        &format!("{interface}#[method]counter.value"),
        &[Value::Other(counter.clone())],
    ))
    .expect("reading a counter");
    assert_eq!(value, [Value::Other(Val::U32(expected))]);
}
