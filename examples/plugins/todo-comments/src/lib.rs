//! A check for the example linter: each line holding one of the markers
//! (`TODO` and `FIXME` unless the linter's `markers` setting lists others,
//! separated by commas) is a finding; `FIXME` is a warning, the rest are
//! notes. Changelogs are skipped: their TODOs are history.

wit_bindgen::generate!({
    path: "../../linter/wit",
    world: "check",
});

use lint::host::env;
use lint::host::types::Severity;

struct TodoComments;

impl Guest for TodoComments {
    fn lint(source: String) -> Vec<Diagnostic> {
        if env::file_name().to_ascii_uppercase().starts_with("CHANGELOG") {
            return Vec::new();
        }
        let markers = match env::config("markers") {
            Some(markers) if markers.trim().is_empty() => {
                // Reaches the host's log, or its stderr, labelled.
                eprintln!("the `markers` setting is empty; looking for TODO and FIXME");
                "TODO,FIXME".to_string()
            }
            Some(markers) => markers,
            None => "TODO,FIXME".into(),
        };
        let markers: Vec<&str> = markers.split(',').map(str::trim).collect();
        findings(&source, &markers)
    }
}

/// A finding for each line holding one of `markers`.
fn findings(source: &str, markers: &[&str]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let Some(marker) = markers.iter().find(|m| !m.is_empty() && line.contains(*m)) else {
            continue;
        };
        let rest = line.split_once(marker).map_or("", |(_, rest)| rest);
        let note = rest.trim_start_matches([':', ' ']).trim();
        found.push(Diagnostic {
            line: index as u32 + 1,
            severity: if *marker == "FIXME" {
                Severity::Warning
            } else {
                Severity::Info
            },
            message: if note.is_empty() {
                format!("{marker} left here")
            } else {
                format!("{marker}: {note}")
            },
        });
    }
    found
}

export!(TodoComments);
