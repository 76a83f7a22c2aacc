//! Reverses the order of the words in its text and names the application it
//! ran in.

wit_bindgen::generate!({
    path: "../../host/wit/v0.1.0",
    world: "filter",
    // `wasmplug:plugin/host` comes from another package, which wit-bindgen
    // only generates bindings for when asked.
    generate_all,
});

use example::filters::app;

struct Reverse;

impl Guest for Reverse {
    fn transform(text: String) -> Result<String, String> {
        let words: Vec<&str> = text.split_whitespace().rev().collect();
        Ok(format!("{} (via {})", words.join(" "), app::name()))
    }
}

export!(Reverse);
