//! Upper-cases its text and adds an exclamation mark.

wit_bindgen::generate!({
    path: "../../host/wit/v0.1.0",
    world: "filter",
    // `wasmplug:plugin/host` comes from another package, which wit-bindgen
    // only generates bindings for when asked.
    generate_all,
});

use wasmplug::plugin::host::{Level, log};

struct Shout;

impl Guest for Shout {
    fn transform(text: String) -> Result<String, String> {
        if text.is_empty() {
            return Err("nothing to shout".to_string());
        }
        log(Level::Debug, &format!("shouting {} bytes", text.len()));
        Ok(format!("{}!", text.to_uppercase()))
    }
}

export!(Shout);
