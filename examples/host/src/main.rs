//! A classic plugin host: every plugin in a folder gets the same text and
//! transforms it, through typed bindings generated from the host's own WIT
//! world (`wit/filter.wit`). Plugins may call back into the `app` interface,
//! which the host offers and its policy grants to those that request it.
//!
//! Usage: `example-host PLUGINS_DIR [TEXT]`; each plugin lives in its own
//! folder with its `.wasm` and `plugin.toml`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bindings::Filter;
use bindings::example::filters::app;
use wasmplug::{Grant, Host, HostBuilder, HostInterface, Policy, StoreData};
use wasmtime::component::HasSelf;

/// Typed bindings for the host's world, `example:filters/filter`.
mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "filter",
        exports: { default: async },
    });
}

/// What the host keeps for each plugin instance.
struct App {
    name: String,
}

impl app::Host for App {
    fn name(&mut self) -> String {
        self.name.clone()
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "plugins".into()));
    let text = args
        .next()
        .unwrap_or_else(|| "plugins are components".into());

    // `name` answers at once, so plugins using it can take blocking calls.
    let app = HostInterface::new("example:filters/app", |linker| {
        app::add_to_linker::<_, HasSelf<App>>(linker, StoreData::host_mut)
    })
    .synchronous();
    let policy = Policy::new().allow(Grant::interface(app.name()));
    let host = HostBuilder::with_data(|| App {
        name: "example-host".into(),
    })
    .policy(policy)
    .interface(app)
    .build()?;

    for component in plugin_files(&dir)? {
        match host.block_on(transform(&host, &component, &text))? {
            Ok((name, output)) => println!("{name:>10}: {output}"),
            Err(error) => println!("{:>10}: error: {error}", component.display()),
        }
    }
    Ok(())
}

/// Loads one plugin and calls its `transform` export under its limits.
async fn transform(
    host: &Host<App>,
    component: &Path,
    text: &str,
) -> wasmplug::Result<(String, String)> {
    let plugin = host.load_file(component).await?;
    let mut instance = plugin.instantiate().await?;
    let filter = instance.bind(|store, instance| Filter::new(store, instance))?;
    let output = instance
        .call(async |store| filter.call_transform(store, text).await)
        .await?
        .map_err(|message| wasmplug::Error::Guest {
            plugin: plugin.name().into(),
            message,
        })?;
    Ok((plugin.name().to_string(), output))
}

/// The `.wasm` file in each folder of `dir`, in name order.
fn plugin_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let folder = entry?.path();
        if !folder.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&folder)? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "wasm") {
                files.push(file);
            }
        }
    }
    files.sort();
    Ok(files)
}
