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

    /// ROT13 on ASCII letters: its `% 26` keeps the loop scalar.
    fn transform(mut data: Vec<u8>) -> Vec<u8> {
        for byte in &mut data {
            let lower = *byte | 0x20;
            if lower.is_ascii_lowercase() {
                *byte = (*byte & 0xe0) | ((lower - b'a' + 13) % 26 + 1);
            }
        }
        data
    }

    fn upper(mut data: Vec<u8>) -> Vec<u8> {
        upper_case(&mut data);
        data
    }

    fn upper_wide(mut data: Vec<u8>) -> Vec<u8> {
        let mut blocks = data.chunks_exact_mut(WIDE);
        for block in &mut blocks {
            // A fixed-length inner loop: unrolled into straight-line vector
            // code, with no back edge of its own to check.
            let block: &mut [u8; WIDE] = block.try_into().expect("chunks are WIDE long");
            for byte in block {
                *byte = upper_byte(*byte);
            }
        }
        upper_case(blocks.into_remainder());
        data
    }
}

/// Bytes per iteration of `upper_wide`'s outer loop.
const WIDE: usize = 256;

fn upper_case(data: &mut [u8]) {
    for byte in data {
        *byte = upper_byte(*byte);
    }
}

/// Branch-free, so that it vectorizes: subtract 32 from `a`..=`z`.
fn upper_byte(byte: u8) -> u8 {
    byte - (u8::from(byte.wrapping_sub(b'a') < 26) << 5)
}

export!(Bench);
