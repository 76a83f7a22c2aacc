//! The {{name}} plugin: greets whoever it is given.

use wasmplug_guest::{Plugin, export_plugin};

struct Greeter;

impl Plugin for Greeter {
    fn run(input: String) -> Result<String, String> {
        wasmplug_guest::info(&format!("greeting {input}"));
        greeting(&input)
    }
}

export_plugin!(Greeter);

/// The plugin's logic, kept free of host calls so that `cargo test` can
/// check it natively.
fn greeting(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("give me a name to greet".into());
    }
    Ok(format!("Hello, {name}!"))
}

#[cfg(test)]
mod tests {
    use super::greeting;

    #[test]
    fn greets_by_name() {
        assert_eq!(greeting("world").unwrap(), "Hello, world!");
    }

    #[test]
    fn refuses_an_empty_name() {
        assert!(greeting("  ").is_err());
    }
}
