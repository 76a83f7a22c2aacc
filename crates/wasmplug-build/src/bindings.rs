//! Bindings from wit-bindgen's C and Go generators, run in-process.

use wasmplug::Language;
use wit_bindgen_core::{Files, WorldGenerator};

use crate::error::{BuildError, Result};
use crate::world_check::Wit;

/// The C bindings: a header, a C file and the world as an object file.
pub(crate) fn c(wit: &Wit) -> Result<Files> {
    generate(Language::C, wit, wit_bindgen_c::Opts::default().build())
}

/// The Go bindings, with a stub for each export when `stubs` is set.
pub(crate) fn go(wit: &Wit, stubs: bool) -> Result<Files> {
    let options = wit_bindgen_go::Opts {
        generate_stubs: stubs,
        // gofmt runs afterwards, from the Go toolchain found.
        format: wit_bindgen_go::Format::False,
        quiet: true,
        ..Default::default()
    };
    generate(Language::Go, wit, options.build())
}

fn generate(
    language: Language,
    wit: &Wit,
    mut generator: Box<dyn WorldGenerator>,
) -> Result<Files> {
    let mut files = Files::default();
    // The generators may add to the Resolve, so they get a copy.
    generator
        .generate(&mut wit.resolve.clone(), wit.world, &mut files)
        .map_err(|e| BuildError::Bindings {
            language,
            reason: format!("{e:#}"),
        })?;
    Ok(files)
}
