//! Records the optimization level this crate is built at, which is that of
//! Cranelift too in the usual case (both are dependencies of the host, and
//! a profile's `package."*"` setting covers both): unoptimized, Cranelift
//! compiles plugins 15–25 times slower, and the library says so.

fn main() {
    let level = std::env::var("OPT_LEVEL").unwrap_or_default();
    println!("cargo:rustc-env=WASMPLUG_OPT_LEVEL={level}");
    println!("cargo:rerun-if-changed=build.rs");
}
