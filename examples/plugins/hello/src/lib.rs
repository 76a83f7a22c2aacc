use wasmplug_guest::{Plugin, export_plugin};

struct Hello;

impl Plugin for Hello {
    fn run(input: String) -> Result<String, String> {
        wasmplug_guest::info("greeting");
        Ok(format!("Hello, {input}!"))
    }
}

export_plugin!(Hello);
