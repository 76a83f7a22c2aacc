//! Credits the application, and its version, after the text: a plugin of
//! the example API 0.2.0, which added `app.about`.

wit_bindgen::generate!({
    path: "../../host/wit/v0.2.0",
    world: "filter",
    // `wasmplug:plugin/host` comes from another package, which wit-bindgen
    // only generates bindings for when asked.
    generate_all,
});

use example::filters::app;

struct Credits;

impl Guest for Credits {
    fn transform(text: String) -> Result<String, String> {
        let about = app::about();
        Ok(format!("{text} (by {} {})", about.name, about.version))
    }
}

export!(Credits);
