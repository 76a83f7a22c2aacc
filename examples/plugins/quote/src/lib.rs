//! Quotes the text with the quotation marks of the user's language: a
//! plugin of the example API 0.3.0, whose `about` has the user's locale.

wit_bindgen::generate!({
    path: "../../host/wit/v0.3.0",
    world: "filter",
    // `wasmplug:plugin/host` comes from another package, which wit-bindgen
    // only generates bindings for when asked.
    generate_all,
});

use example::filters::app;

struct Quote;

impl Guest for Quote {
    fn transform(text: String) -> Result<String, String> {
        let (open, close) = match app::about().locale.as_str() {
            "fr" => ("« ", " »"),
            "de" => ("„", "“"),
            "ja" => ("「", "」"),
            _ => ("“", "”"),
        };
        Ok(format!("{open}{text}{close}"))
    }
}

export!(Quote);
