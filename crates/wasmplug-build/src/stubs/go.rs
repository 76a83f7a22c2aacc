//! Go stubs from wit-bindgen's Go generator: with `generate_stubs` it adds a
//! stub for each export (and a struct per exported resource) to the
//! generated code of each `export_*` package. Only those stubs go into the
//! project, as `export_*/exports.go`; the build generates the rest.

use std::path::Path;
use std::process::Command;

use crate::error::Result;
use crate::files::write as write_file;
use crate::world_check::Wit;

/// The file each `export_*` package's stubs go to.
const STUB_FILE: &str = "exports.go";

pub(super) fn write(wit: &Wit, root: &Path) -> Result<()> {
    let files = crate::bindings::go(wit, true)?;
    for (name, contents) in files.iter() {
        let Some(package) = name
            .strip_suffix("/wit_bindings.go")
            .filter(|dir| dir.starts_with("export_"))
        else {
            continue;
        };
        let text = String::from_utf8_lossy(contents);
        let stubs = extract_stubs(&text);
        if stubs.is_empty() {
            continue;
        }
        let imports = used_imports(&text, &stubs);
        let mut file = format!(
            "// The plugin's exports, each a stub that panics: replace the bodies.\n\
             // The build generates the rest of package {package} beside this file.\n\
             package {package}\n"
        );
        if !imports.is_empty() {
            file.push_str(&format!("\nimport (\n{}\n)\n", imports.join("\n")));
        }
        for stub in stubs {
            file.push('\n');
            file.push_str(&stub);
        }
        let path = root.join(package).join(STUB_FILE);
        write_file(&path, &file)?;
        // Only for whoever reads the stubs: they build unformatted too.
        if let Some(gofmt) = crate::lang::go::gofmt() {
            let _ = Command::new(gofmt).arg("-w").arg(&path).output();
        }
    }
    Ok(())
}

/// The stub functions (from their `// TODO: Implement` comment to their
/// closing brace) and the resource structs with their `OnDrop`.
fn extract_stubs(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut stubs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let starts_stub = line == "// TODO: Implement"
            || (line.starts_with("type ")
                && line.ends_with(" struct {")
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.contains("pinner runtime.Pinner")));
        if starts_stub {
            let end = (i..lines.len())
                .find(|&j| lines[j] == "}")
                .unwrap_or(lines.len() - 1);
            stubs.push(format!("{}\n", lines[i..=end].join("\n")));
            i = end + 1;
        } else if line.starts_with("func (self *") && line.ends_with(") OnDrop() {}") {
            stubs.push(format!("{line}\n"));
            i += 1;
        } else {
            i += 1;
        }
    }
    stubs
}

/// The lines of the generated import block that the stubs use.
fn used_imports(text: &str, stubs: &[String]) -> Vec<String> {
    let code = stubs.concat();
    let Some(start) = text.find("import (") else {
        return Vec::new();
    };
    let block = &text[start + "import (".len()..];
    let block = &block[..block.find(')').unwrap_or(block.len())];
    block
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter(|line| {
            let (alias, path) = match line.split_once(' ') {
                Some((alias, path)) => (Some(alias), path),
                None => (None, *line),
            };
            let path = path.trim_matches('"');
            let name = alias.unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
            code.contains(&format!("{name}."))
        })
        .map(|line| format!("\t{line}"))
        .collect()
}
