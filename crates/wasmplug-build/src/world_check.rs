//! The target world, read from the project's WIT, and the check that a built
//! component implements it.

use std::path::{Path, PathBuf};

use wit_bindgen_core::wit_parser::decoding::{DecodedWasm, decode};
use wit_bindgen_core::wit_parser::{Resolve, WorldId, WorldItem};

use crate::error::{BuildError, Result};

/// A world and the WIT that defines it.
#[derive(Debug, Clone)]
pub struct Wit {
    pub resolve: Resolve,
    pub world: WorldId,
    pub dir: PathBuf,
}

impl Wit {
    /// Parses the WIT folder `dir` (with its `deps/`) and selects `world`,
    /// e.g. `wasmplug:plugin/plugin@0.1.0` or a bare world name, or the
    /// package's only world.
    pub fn load(dir: &Path, world: Option<&str>) -> Result<Self> {
        let wit_error = |reason: String| BuildError::Wit {
            dir: dir.to_path_buf(),
            reason,
        };
        let mut resolve = Resolve::new();
        let (package, _) = resolve
            .push_dir(dir)
            .map_err(|e| wit_error(format!("{e:#}")))?;
        let world = resolve
            .select_world(&[package], world)
            .map_err(|e| wit_error(format!("{e:#}")))?;
        Ok(Wit {
            resolve,
            world,
            dir: dir.to_path_buf(),
        })
    }

    /// The interfaces with functions the world imports, by full name:
    /// those a host must provide (an interface of types only needs nothing).
    pub fn imported_interfaces(&self) -> Vec<String> {
        self.resolve.worlds[self.world]
            .imports
            .iter()
            .filter(|(_, item)| match item {
                WorldItem::Interface { id, .. } => {
                    !self.resolve.interfaces[*id].functions.is_empty()
                }
                _ => false,
            })
            .map(|(key, _)| self.resolve.name_world_key(key))
            .collect()
    }

    /// Whether the world exports `interface` (e.g.
    /// `wasi:http/incoming-handler`), in any version.
    pub fn exports_interface(&self, interface: &str) -> bool {
        self.resolve.worlds[self.world].exports.keys().any(|key| {
            let name = self.resolve.name_world_key(key);
            name.split('@').next() == Some(interface)
        })
    }

    /// The world's full name, e.g. `wasmplug:plugin/plugin@0.1.0`.
    pub fn qualified_world_name(&self) -> String {
        let world = &self.resolve.worlds[self.world];
        match world.package {
            Some(package) => {
                let name = &self.resolve.packages[package].name;
                let version = name
                    .version
                    .as_ref()
                    .map(|v| format!("@{v}"))
                    .unwrap_or_default();
                format!("{}:{}/{}{version}", name.namespace, name.name, world.name)
            }
            None => world.name.clone(),
        }
    }
}

/// Checks that `component` exports everything `wit`'s world exports, with
/// the same types, and imports nothing but the world's imports and WASI.
///
/// Language runtimes import parts of WASI their world never mentions, so
/// the component's WASI imports are added to the world before comparing;
/// the host decides at load time which of them it grants.
pub fn check_world(component: &[u8], wit: &Wit) -> Result<()> {
    let world_name = wit.qualified_world_name();
    let mismatch = |reason: String| BuildError::WorldMismatch {
        world: world_name.clone(),
        reason,
    };
    let (built, built_world) = match decode(component) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => {
            return Err(mismatch(
                "the output is a WIT package, not a component".into(),
            ));
        }
        Err(e) => return Err(mismatch(format!("it cannot be decoded: {e:#}"))),
    };

    let mut resolve = wit.resolve.clone();
    let remap = resolve
        .merge(built)
        .map_err(|e| mismatch(format!("its WIT disagrees with the project's: {e:#}")))?;
    let built_world = remap
        .map_world(built_world, Default::default())
        .map_err(|e| mismatch(format!("{e:#}")))?;

    let mut extra_imports = Vec::new();
    let mut foreign = Vec::new();
    for (key, item) in &resolve.worlds[built_world].imports {
        if resolve.worlds[wit.world].imports.contains_key(key) {
            continue;
        }
        let name = resolve.name_world_key(key);
        match item {
            WorldItem::Interface { .. } if name.starts_with("wasi:") => {
                extra_imports.push((key.clone(), item.clone()));
            }
            // Types the world's interfaces use come along with them.
            WorldItem::Type { .. } => {}
            _ => foreign.push(name),
        }
    }
    if !foreign.is_empty() {
        return Err(mismatch(format!(
            "it imports {}, which the world does not offer",
            foreign.join(", ")
        )));
    }
    let mut target = resolve.worlds[wit.world].clone();
    target.imports.extend(extra_imports);
    target.name = format!("{}-as-built", target.name);
    let target = resolve.worlds.alloc(target);

    wit_component::targets(&resolve, target, component, false)
        .map_err(|e| mismatch(describe_targets_error(&e)))
}

/// Keeps the validator's own words, without the lines about the component
/// made to run the check and the byte offset within it.
fn describe_targets_error(error: &anyhow::Error) -> String {
    let text: Vec<String> = error.chain().map(|c| c.to_string()).collect();
    text.join("\n")
        .lines()
        .filter(|line| {
            !line.starts_with("failed to validate encoded bytes") && !line.contains("-as-built`")
        })
        .map(|line| match line.find(" (at offset 0x") {
            Some(end) => &line[..end],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use wit_bindgen_core::wit_parser::ManglingAndAbi;
    use wit_component::StringEncoding;

    use super::*;

    /// Two worlds: one with a host import, one exporting another function.
    const WIT: &str = r#"
        package test:check@0.1.0;
        interface host { ping: func() -> u32; }
        world greeter {
            import host;
            export greet: func(name: string) -> string;
        }
        world counter {
            export count: func(text: string) -> u32;
        }
        world greeter-typed-differently {
            export greet: func(name: string) -> u32;
        }
    "#;

    fn wit(world: &str) -> Wit {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.wit"), WIT).unwrap();
        Wit::load(dir.path(), Some(world)).unwrap()
    }

    /// A component that implements `world` and does nothing.
    fn component(wit: &Wit) -> Vec<u8> {
        let mut module =
            wit_component::dummy_module(&wit.resolve, wit.world, ManglingAndAbi::Standard32);
        wit_component::embed_component_metadata(
            &mut module,
            &wit.resolve,
            wit.world,
            StringEncoding::UTF8,
            false,
        )
        .unwrap();
        wit_component::ComponentEncoder::default()
            .module(&module)
            .unwrap()
            .encode()
            .unwrap()
    }

    #[test]
    fn a_component_of_the_world_passes() {
        let greeter = wit("greeter");
        check_world(&component(&greeter), &greeter).unwrap();
        assert_eq!(greeter.qualified_world_name(), "test:check/greeter@0.1.0");
        assert_eq!(greeter.imported_interfaces(), ["test:check/host@0.1.0"]);
    }

    #[test]
    fn a_missing_export_is_named() {
        let err = check_world(&component(&wit("counter")), &wit("greeter")).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, BuildError::WorldMismatch { .. }), "{err:?}");
        assert!(
            message.ends_with("missing export named `greet`"),
            "{message}"
        );
    }

    #[test]
    fn a_different_type_is_a_mismatch() {
        let err = check_world(
            &component(&wit("greeter-typed-differently")),
            &wit("greeter"),
        )
        .unwrap_err();
        assert!(matches!(err, BuildError::WorldMismatch { .. }), "{err:?}");
        assert!(
            err.to_string().ends_with(
                "type mismatch for export `greet`; type mismatch with result type; \
                 expected primitive `string` found primitive `u32`"
            ),
            "{err}"
        );
    }

    #[test]
    fn an_import_the_world_lacks_is_named() {
        let err = check_world(&component(&wit("greeter")), &wit("counter")).unwrap_err();
        assert!(
            err.to_string().contains("imports test:check/host@0.1.0"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_a_mismatch_not_a_panic() {
        let err = check_world(b"\0asm garbage", &wit("greeter")).unwrap_err();
        assert!(matches!(err, BuildError::WorldMismatch { .. }), "{err:?}");
    }

    #[test]
    fn an_unknown_world_is_a_wit_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.wit"), WIT).unwrap();
        let err = Wit::load(dir.path(), Some("nope")).unwrap_err();
        assert!(matches!(err, BuildError::Wit { .. }), "{err:?}");
        let err = Wit::load(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("multiple worlds"), "{err}");
    }
}
