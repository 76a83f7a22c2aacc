//! The workloads of `benches/wit/bench.wit` as Extism exports. Extism passes
//! one byte buffer each way, so `add` takes its two `u32`s little-endian,
//! eight bytes in all, and returns four.

use extism_pdk::{FnResult, plugin_fn};

/// Two `u32`s little-endian, `a` then `b`: one little-endian `u64`.
#[plugin_fn]
pub fn add(pair: u64) -> FnResult<u32> {
    let (a, b) = (pair as u32, (pair >> 32) as u32);
    Ok(a.wrapping_add(b))
}

#[plugin_fn]
pub fn greet(name: String) -> FnResult<String> {
    Ok(format!("Hello, {name}!"))
}

#[plugin_fn]
pub fn echo(data: Vec<u8>) -> FnResult<Vec<u8>> {
    Ok(data)
}

/// ROT13 on ASCII letters, the loop of `tests/plugins/bench`.
#[plugin_fn]
pub fn transform(mut data: Vec<u8>) -> FnResult<Vec<u8>> {
    for byte in &mut data {
        let lower = *byte | 0x20;
        if lower.is_ascii_lowercase() {
            *byte = (*byte & 0xe0) | ((lower - b'a' + 13) % 26 + 1);
        }
    }
    Ok(data)
}
