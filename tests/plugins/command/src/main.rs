//! A command: prints a greeting naming its WASI version, then its arguments,
//! one per line, and exits with the first argument as status when it is an
//! integer; given `flood`, it prints lines until it is stopped. Built for `wasm32-wasip1` it is a core module exporting
//! `_start`; for `wasm32-wasip2`, a `wasi:cli/run` component.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let version = if cfg!(target_env = "p1") { "p1" } else { "p2" };
    println!("hello from {version}");
    if args.first().is_some_and(|arg| arg == "flood") {
        let line = "x".repeat(99);
        loop {
            println!("{line}");
        }
    }
    for arg in &args {
        println!("{arg}");
    }
    if let Some(code) = args.first().and_then(|arg| arg.parse::<i32>().ok()) {
        std::process::exit(code);
    }
}
