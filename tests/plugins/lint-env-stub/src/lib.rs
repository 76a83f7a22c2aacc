//! The example linter's `env` interface, answered from environment
//! variables: `config("max-length")` reads `LINT_MAX_LENGTH`, `file-name`
//! reads `LINT_FILE` (`stub.txt` when unset). What it reads depends on what
//! it was granted, which is how tests see that a composition gets only
//! what both of its parts were granted.

wit_bindgen::generate!({
    path: "wit",
    world: "stub",
    generate_all,
});

use exports::lint::host::env::Guest;

struct Stub;

impl Guest for Stub {
    fn config(key: String) -> Option<String> {
        std::env::var(format!("LINT_{}", key.to_uppercase().replace('-', "_"))).ok()
    }

    fn file_name() -> String {
        std::env::var("LINT_FILE").unwrap_or_else(|_| "stub.txt".into())
    }
}

export!(Stub);
