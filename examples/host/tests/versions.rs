//! The example host serves its API at three versions: plugins built against
//! each run unchanged, and one built for a version it does not speak is
//! refused, naming the versions it does.

use std::path::Path;
use std::process::Command;

use wasmplug_tests::{example_guest, repo_root};

/// Places an example plugin in `dir`, in a folder of its own, with its
/// manifest (or `manifest` instead).
fn place(dir: &Path, folder: &str, plugin: &str, manifest: Option<&str>) {
    let folder = dir.join(folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(example_guest(plugin), folder.join(format!("{plugin}.wasm"))).unwrap();
    let manifest_path = folder.join("plugin.toml");
    match manifest {
        Some(text) => std::fs::write(manifest_path, text).unwrap(),
        None => {
            let source = repo_root()
                .join("examples/plugins")
                .join(plugin)
                .join("plugin.toml");
            std::fs::copy(source, manifest_path).unwrap();
        }
    }
}

#[test]
fn plugins_of_every_api_version_run_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for plugin in ["shout", "reverse", "credits", "quote"] {
        place(dir.path(), plugin, plugin, None);
    }
    let future = "[plugin]\nname = \"future\"\nversion = \"1.0.0\"\n\
                  world = \"example:filters/filter@0.4.0\"\n";
    place(dir.path(), "future", "shout", Some(future));

    let output = Command::new(env!("CARGO_BIN_EXE_example-host"))
        .arg(dir.path())
        .arg("plugins are components")
        .env("LANG", "fr_FR.UTF-8")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "   credits [0.2.0]: plugins are components (by example-host 0.1.0)",
            "    future: error: plugin `future` needs example:filters/filter@0.4.0, but this \
             host speaks example:filters/filter 0.3.0, 0.2.0, 0.1.0; use a build of the plugin \
             made for one of those, or a host that speaks example:filters/filter@0.4.0",
            "     quote [0.3.0]: « plugins are components »",
            "   reverse [0.1.0]: components are plugins (via example-host)",
            "     shout [0.1.0]: PLUGINS ARE COMPONENTS!",
        ]
    );
}
