//! A check tried without the linter: its host interface answered by mocks,
//! as `wasmplug call --mock` does on the command line.

use wasmplug::{Host, Mock};
use wasmplug_tests::example_guest;

#[test]
fn a_check_runs_against_mocks_of_its_host() -> wasmplug::Result<()> {
    let host = Host::builder()
        .mock(Mock::new("lint:host/env#file-name", "\"main.rs\"")?)
        .mock(Mock::new("lint:host/env#config", "some(\"NOTE\")")?)
        .build()?;
    let plugin = host.block_on(host.load_file(example_guest("todo-comments")))??;
    let mut instance = host.block_on(plugin.instantiate())??;
    let source = "\"// NOTE: mocks answer\\n// TODO: not a marker here\"".to_string();
    let found = host.block_on(instance.call_wave("lint", &[source]))??;
    assert_eq!(
        found,
        [r#"[{line: 1, severity: info, message: "NOTE: mocks answer"}]"#]
    );
    Ok(())
}
