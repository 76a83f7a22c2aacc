//! `wasmplug new`: scaffold a plugin project that builds as it is.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::Language;
use wasmplug_build::{Scaffold, Template, scaffold};

/// Create a plugin project in a new folder NAME.
#[derive(Debug, Args)]
pub struct New {
    /// The plugin's language: rust, python, js, c or go.
    #[arg(long)]
    lang: Language,
    /// A WIT file or folder defining the world to implement; the default
    /// world (`wasmplug:plugin/plugin`) when absent.
    #[arg(long)]
    wit: Option<PathBuf>,
    /// The world to implement, when the WIT defines several.
    #[arg(long)]
    world: Option<String>,
    /// What to start from: `plugin` (the default world, or the `--wit`
    /// world), or `http`, a wasi:http handler for `wasmplug serve`
    /// (rust, python, js).
    #[arg(long, default_value = "plugin")]
    template: Template,
    /// The plugin's name, and the folder made for it.
    name: String,
}

impl New {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let dir = scaffold(&Scaffold {
            language: self.lang,
            name: self.name.clone(),
            parent: std::env::current_dir()?,
            wit: self.wit,
            world: self.world,
            template: self.template,
        })?;
        let kind = match self.template {
            Template::Http => "HTTP handler",
            Template::Plugin => "plugin",
        };
        println!(
            "created {} ({} {kind}) in {}",
            self.name,
            self.lang,
            dir.display()
        );
        match self.template {
            Template::Http => println!(
                "next: cd {name} && wasmplug build -o dist/{name}/ && \
                 wasmplug serve --addr 127.0.0.1:8080 dist/{name}/{name}.wasm",
                name = self.name
            ),
            Template::Plugin => println!("next: cd {} && wasmplug build", self.name),
        }
        Ok(ExitCode::SUCCESS)
    }
}
