//! A TOML file read section by section, so that the file's owner (the
//! manifest, the policy) reads its fixed parts and each capability reads
//! its own key, and every mistake is reported with its line and column.

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// A parsed TOML file and its text, which error positions refer to.
pub(crate) struct Document<'i> {
    text: &'i str,
    root: Spanned<DeTable<'i>>,
}

/// One `key = value` of a table, e.g. `env = [...]` under `[permissions]`.
pub(crate) struct Entry<'d, 'i> {
    text: &'i str,
    key: &'d Spanned<std::borrow::Cow<'i, str>>,
    value: &'d Spanned<DeValue<'i>>,
}

impl<'i> Document<'i> {
    pub(crate) fn parse(text: &'i str) -> Result<Self, String> {
        let root = DeTable::parse(text).map_err(|e| describe(text, &e))?;
        Ok(Document { text, root })
    }

    /// The whole file as `T`, which reads the fixed parts and leaves the
    /// capabilities' tables to [`Self::entries`].
    pub(crate) fn fixed<T: DeserializeOwned>(&self) -> Result<T, String> {
        T::deserialize(ValueDeserializer::from(Spanned::new(
            self.root.span(),
            DeValue::Table(self.root.get_ref().clone()),
        )))
        .map_err(|e| describe(self.text, &e))
    }

    /// The entries of the table at `path` (e.g. `["plugins", "hello",
    /// "allow"]`); none when the table is absent, an error when the path
    /// leads to something that is not a table.
    pub(crate) fn entries(&self, path: &[&str]) -> Result<Vec<Entry<'_, 'i>>, String> {
        let mut table = self.root.get_ref();
        for (depth, name) in path.iter().enumerate() {
            let Some((key, value)) = table.get_key_value(*name) else {
                return Ok(Vec::new());
            };
            match value.get_ref() {
                DeValue::Table(inner) => table = inner,
                _ => {
                    return Err(at(
                        self.text,
                        key.span().start,
                        &format!("`{}` must be a table", path[..=depth].join(".")),
                    ));
                }
            }
        }
        Ok(table
            .iter()
            .map(|(key, value)| Entry {
                text: self.text,
                key,
                value,
            })
            .collect())
    }
}

impl Entry<'_, '_> {
    pub(crate) fn key(&self) -> &str {
        self.key.get_ref()
    }

    /// The value as `T`; a mistake inside it is reported where it is.
    pub(crate) fn value<T: DeserializeOwned>(&self) -> Result<T, String> {
        T::deserialize(ValueDeserializer::from(self.value.clone()))
            .map_err(|e| describe(self.text, &e))
    }

    /// An error about this entry, positioned at its key.
    pub(crate) fn error(&self, message: &str) -> String {
        at(self.text, self.key.span().start, message)
    }
}

/// A TOML error as `line L, column C: message`.
pub(crate) fn describe(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => at(text, span.start, error.message()),
        None => error.message().to_string(),
    }
}

fn at(text: &str, offset: usize, message: &str) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("line {line}, column {column}: {}", message.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fixed {
        name: String,
        #[serde(default)]
        #[allow(dead_code, reason = "read section by section")]
        section: serde::de::IgnoredAny,
    }

    #[test]
    fn entries_are_read_with_their_positions() {
        let text = "name = \"a\"\n[section]\nnumbers = [1, 2]\nword = 3\n";
        let doc = Document::parse(text).unwrap();
        assert_eq!(doc.fixed::<Fixed>().unwrap().name, "a");
        let entries = doc.entries(&["section"]).unwrap();
        assert_eq!(entries.len(), 2);
        let numbers = entries.iter().find(|e| e.key() == "numbers").unwrap();
        assert_eq!(numbers.value::<Vec<u8>>().unwrap(), [1, 2]);
        let word = entries.iter().find(|e| e.key() == "word").unwrap();
        let err = word.value::<String>().unwrap_err();
        assert!(err.starts_with("line 4, column 8:"), "{err}");
        assert!(word.error("no").starts_with("line 4, column 1:"));
        assert!(doc.entries(&["absent"]).unwrap().is_empty());
        let err = doc.entries(&["name", "deeper"]).err().unwrap();
        assert!(err.contains("`name` must be a table"), "{err}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = Document::parse("[plugin\nname = 1").err().unwrap();
        assert!(err.starts_with("line 1"), "{err}");
    }
}
