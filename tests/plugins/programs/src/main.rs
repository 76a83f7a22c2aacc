//! Ordinary WASI programs, one per first argument, for the corpus in
//! `tests/commands/cases.toml` that `wasmplug run` is checked against (and,
//! where it is installed, `wasmtime run`). Built for `wasm32-wasip1` (a
//! core module exporting `_start`) and `wasm32-wasip2` (a component).

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (program, rest) = args.split_first().map_or(("", &[][..]), |(p, r)| (p.as_str(), r));
    match program {
        // Each argument on a line of its own.
        "args" => rest.iter().for_each(|arg| println!("{arg}")),
        // The variable named, or status 2 when it is not set.
        "env" => match std::env::var(&rest[0]) {
            Ok(value) => println!("{value}"),
            Err(_) => std::process::exit(2),
        },
        "exit" => std::process::exit(rest[0].parse().unwrap_or(100)),
        "stdio" => {
            println!("to stdout");
            eprintln!("to stderr");
        }
        // Writes a file under the directory given, reads it back, lists it.
        "files" => {
            let dir = &rest[0];
            std::fs::write(format!("{dir}/note.txt"), "kept").unwrap();
            let back = std::fs::read_to_string(format!("{dir}/note.txt")).unwrap();
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            println!("{back} {}", names.join(","));
            match std::fs::read_to_string("/etc/passwd") {
                Ok(_) => println!("outside the directory: readable"),
                Err(_) => println!("outside the directory: refused"),
            }
        }
        "clock" => {
            let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let start = Instant::now();
            let later = Instant::now();
            println!(
                "after 2020: {}, monotonic: {}",
                since.as_secs() > 1_577_836_800,
                later >= start
            );
        }
        "random" => {
            let mut a = [0u8; 16];
            let mut b = [0u8; 16];
            getrandom(&mut a);
            getrandom(&mut b);
            println!("two draws differ: {}", a != b);
        }
        "stdin" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).unwrap();
            print!("{}", text.to_uppercase());
            std::io::stdout().flush().unwrap();
        }
        "panic" => panic!("boom"),
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = black_box(n.wrapping_add(1));
            }
        }
        "grow" => {
            let mut hoard = Vec::new();
            loop {
                let mut block = vec![0u8; 1 << 20];
                block[4096] = 1;
                hoard.push(black_box(block));
            }
        }
        "recurse" => println!("{}", recurse(0)),
        other => {
            eprintln!("unknown program `{other}`");
            std::process::exit(64);
        }
    }
}

/// Randomness through std's hasher seeds, which WASI's random functions
/// supply: two fresh `RandomState`s differ when the host's entropy is real.
fn getrandom(out: &mut [u8; 16]) {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    out[..8].copy_from_slice(&hasher.finish().to_le_bytes());
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(1);
    out[8..].copy_from_slice(&hasher.finish().to_le_bytes());
}

#[allow(unconditional_recursion, reason = "overflowing the stack is the point")]
fn recurse(depth: u64) -> u64 {
    recurse(black_box(depth + 1)).wrapping_mul(black_box(depth | 1))
}
