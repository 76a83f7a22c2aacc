//! A WASI 0.3 program as Rust's `wasm32-wasip2` target builds one: `run`
//! of `wasi:cli/run@0.3` does the work, and `main`, which the target
//! exports as `wasi:cli/run@0.2`, is a stub that panics. A host that runs
//! the 0.2 export gets the panic.

struct Program;

wasip3::cli::command::export!(Program);

impl wasip3::exports::cli::run::Guest for Program {
    async fn run() -> Result<(), ()> {
        println!("hello from p3");
        let args: Vec<String> = std::env::args().skip(1).collect();
        match args.first().map(String::as_str) {
            Some("fail") => Err(()),
            _ => Ok(()),
        }
    }
}

fn main() {
    panic!("main is a stub");
}
