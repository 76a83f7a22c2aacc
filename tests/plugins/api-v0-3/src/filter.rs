// The filter both API guests build, against the bindings their `lib.rs`
// generated: the text and the application's name and version from `about`.

struct Filter;

impl Guest for Filter {
    fn transform(text: String) -> Result<String, String> {
        let about = example::filters::app::about();
        Ok(format!("{text} ({} {})", about.name, about.version))
    }
}

export!(Filter);
