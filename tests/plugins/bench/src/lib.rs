//! The benchmark workloads of `benches/wit/bench.wit`.

wit_bindgen::generate!({ path: "../../../benches/wit", world: "bench" });

struct Bench;

impl Guest for Bench {
    fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }

    fn echo(data: Vec<u8>) -> Vec<u8> {
        data
    }

    /// ROT13 on ASCII letters: a loop the compiler vectorizes with simd128.
    fn transform(mut data: Vec<u8>) -> Vec<u8> {
        for byte in &mut data {
            let lower = *byte | 0x20;
            if lower.is_ascii_lowercase() {
                *byte = (*byte & 0xe0) | ((lower - b'a' + 13) % 26 + 1);
            }
        }
        data
    }
}

export!(Bench);
