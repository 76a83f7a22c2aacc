//! C stubs, taken from the header wit-bindgen's C generator makes for the
//! world, so their signatures are exactly the ones the build will declare.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::Result;
use crate::files::write as write_file;
use crate::world_check::Wit;

pub(super) fn write(wit: &Wit, root: &Path) -> Result<()> {
    let files = crate::bindings::c(wit)?;
    let (header_name, header) = files
        .iter()
        .find(|(name, _)| name.ends_with(".h"))
        .expect("the C generator writes a header");
    let header = String::from_utf8_lossy(header);
    let world = wit.qualified_world_name();
    let mut c = format!(
        "/*\n * The plugin's implementation of `{world}`. Each export starts as a\n \
         * stub that aborts: replace the bodies. `{header_name}` is generated from\n \
         * the world by `wasmplug build` (see build/bindings after a build).\n \
         *\n \
         * Ownership: arguments of exports are yours to free (the `*_free`\n \
         * helpers); results must be allocated with malloc, since they are freed\n \
         * after the call.\n \
         */\n#include <stdlib.h>\n\n#include \"{header_name}\"\n"
    );
    for resource in resource_structs(&header) {
        let _ = write!(
            c,
            "\n/* The state of one resource; the bindings hold pointers to it. */\n\
             struct {resource} {{\n    int unused;\n}};\n"
        );
    }
    for prototype in export_prototypes(&header) {
        let _ = write!(
            c,
            "\n{} {{\n    abort();\n}}\n",
            prototype.trim_end_matches(';')
        );
    }
    for destructor in destructors(&header) {
        let _ = write!(
            c,
            "\n{} {{\n    free(rep);\n}}\n",
            destructor.trim_end_matches(';')
        );
    }
    write_file(&root.join("src/plugin.c"), &c)
}

/// The declarations between "Exported Functions" and "Helper Functions".
fn export_prototypes(header: &str) -> Vec<&str> {
    let mut inside = false;
    let mut prototypes = Vec::new();
    for line in header.lines() {
        if line.starts_with("// Exported Functions from") {
            inside = true;
        } else if line.starts_with("// Helper Functions") {
            inside = false;
        } else if inside && line.ends_with(");") && !line.starts_with("//") {
            prototypes.push(line);
        }
    }
    prototypes
}

/// `void exports_..._destructor(... *rep);`, one per exported resource.
fn destructors(header: &str) -> impl Iterator<Item = &str> {
    header
        .lines()
        .filter(|line| line.starts_with("void exports_") && line.contains("_destructor("))
}

/// The structs the author defines: `typedef struct X X;` for each exported
/// resource's representation.
fn resource_structs(header: &str) -> Vec<String> {
    header
        .lines()
        .filter_map(|line| line.strip_prefix("typedef struct "))
        .filter(|rest| rest.starts_with("exports_") && !rest.contains('{'))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}
