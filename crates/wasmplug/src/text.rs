//! Text that comes from a plugin or its manifest, made safe to show.
//!
//! A guest's log line, its error message, its stderr quoted in a crash
//! report and a manifest's reasons all end up on a terminal or in a log.
//! Control characters in them could move the cursor, recolour the screen or
//! start a new line that looks like the host's own output, so they are
//! shown escaped (`\n`, `\u{1b}`), and long texts are cut to a bound.

use std::borrow::Cow;
use std::fmt;

/// Guest error messages longer than this are cut before they are kept.
pub(crate) const MAX_GUEST_MESSAGE: usize = 4096;

/// Displays a string with its control characters escaped.
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_control(self.0))
    }
}

/// `text` with every control character (newlines and escapes included)
/// written as a Rust escape; borrowed when there is none.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_control() => escaped.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// `text` cut to at most `max` bytes at a character boundary, saying how
/// much was left out.
pub(crate) fn bounded(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let dropped = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("… ({dropped} more bytes)"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("plain text"), "plain text");
        assert!(matches!(escape_control("plain"), Cow::Borrowed(_)));
        assert_eq!(
            escape_control("a\nerror: forged\r\u{1b}[31m"),
            "a\\nerror: forged\\r\\u{1b}[31m"
        );
        assert_eq!(Untrusted("tab\there").to_string(), "tab\\there");
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        assert_eq!(bounded("short".into(), 10), "short");
        let cut = bounded("ééééé".into(), 3);
        assert_eq!(cut, "é… (8 more bytes)");
    }
}
