//! A WASI preview 1 command: prints a greeting and then its arguments, one
//! per line, and exits with the first argument as status when it is an
//! integer.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("hello from p1");
    for arg in &args {
        println!("{arg}");
    }
    if let Some(code) = args.first().and_then(|arg| arg.parse::<i32>().ok()) {
        std::process::exit(code);
    }
}
