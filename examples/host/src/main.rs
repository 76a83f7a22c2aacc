//! `example-host PLUGINS_DIR [TEXT]`: every plugin of the folder (each in a
//! folder of its own with its `.wasm` and `plugin.toml`) transforms the
//! text, through the bindings of the API version it was built against.

use std::path::PathBuf;

use example_host::{api_version, host, transform};
use wasmplug::PluginSet;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "plugins".into()));
    let text = args
        .next()
        .unwrap_or_else(|| "plugins are components".into());
    let locale = std::env::var("LANG")
        .ok()
        .and_then(|lang| lang.get(..2).map(str::to_string))
        .filter(|code| code.chars().all(|c| c.is_ascii_alphabetic()))
        .unwrap_or_else(|| "en".into());
    let host = host(&locale)?;

    let set = host.block_on(PluginSet::builder(&host, &dir).watch(false).open())??;
    for entry in set.entries() {
        let label = entry
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if let Some(error) = &entry.error {
            println!("{label:>10}: error: {error}");
            continue;
        }
        let Some(plugin) = entry.plugin else { continue };
        let api = api_version(&plugin);
        match host.block_on(transform(&plugin, &text))? {
            Ok(output) => println!("{:>10} [{api}]: {output}", plugin.name()),
            Err(error) => println!("{:>10} [{api}]: error: {error}", plugin.name()),
        }
    }
    Ok(())
}
