//! A plugin that misbehaves on request, for testing the host's limits and
//! sandbox.
//!
//! The input is a command word, optionally followed by a space and an
//! argument, e.g. `read /etc/passwd`. Commands that never return keep doing
//! real work; `black_box` stops the optimizer from proving the work useless
//! and removing it.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmplug_guest::{Plugin, export_plugin};

/// Counts `count` calls; it only grows past 1 if the host reuses an instance.
static CALLS: AtomicU64 = AtomicU64::new(0);

struct Hostile;

impl Plugin for Hostile {
    fn run(input: String) -> Result<String, String> {
        let (command, arg) = input.split_once(' ').unwrap_or((&input, ""));
        match command {
            "echo" => Ok(arg.to_string()),
            "count" => Ok((CALLS.fetch_add(1, Ordering::SeqCst) + 1).to_string()),
            "loop" => spin(),
            "grow" => grow(),
            "recurse" => Ok(recurse(0).to_string()),
            "recurse-shadow" => Ok(recurse_shadow(0).to_string()),
            "sleep" => sleep(),
            "flood" => flood(),
            "panic" => panic!("plugin gave up: {arg}"),
            "read" | "symlink-read" => std::fs::read_to_string(arg).map_err(|e| e.to_string()),
            "write" => std::fs::write(arg, "written")
                .map(|()| "ok".to_string())
                .map_err(|e| e.to_string()),
            "list" => list(arg),
            "env" => std::env::var_os(arg)
                .map(|value| value.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{arg} not present")),
            "connect" => connect(arg),
            "resolve" => resolve(arg),
            "fail" => Err(long_error(arg)),
            "time" => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|since| since.as_secs().to_string())
                .map_err(|e| e.to_string()),
            "stderr" => {
                eprintln!("{arg}");
                Ok(String::new())
            }
            "log" => {
                wasmplug_guest::warn(arg);
                Ok(String::new())
            }
            "config" => wasmplug_guest::config(arg).ok_or_else(|| format!("{arg} not set")),
            _ => Err(format!("unknown command: {command}")),
        }
    }
}

export_plugin!(Hostile);

/// Burns CPU without calling anything, so only the host's interruption of
/// running wasm code (fuel or epochs) can stop it.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Leaks 1 MiB blocks until the host's memory limit stops it, writing to
/// every page so that the memory is really used.
fn grow() -> ! {
    const BLOCK: usize = 1 << 20;
    let mut hoard = Vec::new();
    loop {
        let mut block = vec![0u8; BLOCK];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        hoard.push(black_box(block));
    }
}

/// Recurses until the wasm stack runs out: small frames that live in wasm
/// locals, with work after the call so it is not a tail call.
#[allow(unconditional_recursion, reason = "overflowing the stack is the point")]
fn recurse(depth: u64) -> u64 {
    let below = recurse(black_box(depth + 1));
    below.wrapping_mul(black_box(depth | 1))
}

/// Recurses until the stack Rust keeps in linear memory runs out: each
/// frame holds an array that is read after the recursive call.
#[allow(unconditional_recursion, reason = "overflowing the stack is the point")]
fn recurse_shadow(depth: u64) -> u64 {
    let mut frame = [0u8; 256];
    frame[(depth % 256) as usize] = 1;
    let below = recurse_shadow(black_box(depth + 1));
    below + u64::from(black_box(&frame)[0])
}

/// Blocks in the host's clock poll, an hour at a time, forever.
fn sleep() -> ! {
    loop {
        std::thread::sleep(black_box(Duration::from_secs(3600)));
    }
}

/// Writes 100-byte lines to stdout until the host stops it.
fn flood() -> ! {
    let line = "x".repeat(99);
    loop {
        println!("{line}");
    }
}

/// Lists the names in a directory, sorted so that tests can compare them.
fn list(path: &str) -> Result<String, String> {
    let mut names = std::fs::read_dir(path)
        .and_then(|entries| {
            entries
                .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
                .collect::<std::io::Result<Vec<_>>>()
        })
        .map_err(|e| e.to_string())?;
    names.sort();
    Ok(names.join("\n"))
}

/// Looks a name up through `wasi:sockets/ip-name-lookup`.
fn resolve(name: &str) -> Result<String, String> {
    use std::net::ToSocketAddrs;
    (name, 80)
        .to_socket_addrs()
        .map(|addrs| {
            let ips: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
            ips.join(" ")
        })
        .map_err(|e| e.to_string())
}

/// An error message of `size` bytes that tries to forge a line of the
/// host's own output and to clear the screen.
fn long_error(size: &str) -> String {
    let size: usize = size.parse().unwrap_or(0);
    let mut message = String::from("bad\nerror: the host is compromised\u{1b}[2J ");
    while message.len() < size {
        message.push('x');
    }
    message
}

fn connect(address: &str) -> Result<String, String> {
    std::net::TcpStream::connect(address)
        .map(|_| "connected".to_string())
        .map_err(|e| e.to_string())
}
