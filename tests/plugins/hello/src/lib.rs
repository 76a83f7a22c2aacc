//! Greets its input, using the `greeting` config value when it is set.

use wasmplug_guest::{Plugin, export_plugin};

struct Hello;

impl Plugin for Hello {
    fn run(input: String) -> Result<String, String> {
        if input.is_empty() {
            return Err("input is empty".to_string());
        }
        wasmplug_guest::info(&format!("greeting {input}"));
        let greeting = wasmplug_guest::config("greeting").unwrap_or_else(|| "Hello".to_string());
        Ok(format!("{greeting}, {input}!"))
    }
}

export_plugin!(Hello);
