//! `slugify(text)`: the text's words in lower case, joined by hyphens, as
//! URLs want them (`The Left Hand of Darkness` → `the-left-hand-of-darkness`).
//! NULL stays NULL; numbers are slugified as their text.

wit_bindgen::generate!({
    path: "../../sqlplug/wit",
    world: "scalar",
});

// The world's `use types.{value}` brings `Value` in with the bindings.

struct Slugify;

impl Guest for Slugify {
    fn call(args: Vec<Value>) -> Result<Value, String> {
        let text = match args.as_slice() {
            [Value::Null] => return Ok(Value::Null),
            [Value::Text(text)] => text.clone(),
            [Value::Integer(n)] => n.to_string(),
            [Value::Real(x)] => x.to_string(),
            [Value::Blob(_)] => return Err("slugify takes text, not a blob".into()),
            _ => return Err(format!("slugify takes 1 argument, not {}", args.len())),
        };
        Ok(Value::Text(slug(&text)))
    }
}

/// Letters and digits in lower case; every run of anything else, one hyphen.
fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.ends_with('-') {
        slug.pop();
    }
    slug
}

export!(Slugify);

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn words_join_with_hyphens() {
        assert_eq!(slug("The Left Hand of Darkness"), "the-left-hand-of-darkness");
        assert_eq!(slug("  Dune: Messiah!! "), "dune-messiah");
        assert_eq!(slug("Šógun"), "šógun");
    }
}
