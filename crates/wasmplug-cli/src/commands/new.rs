//! `wasmplug new`: scaffold a plugin project that builds as it is.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::Language;
use wasmplug_build::{Scaffold, scaffold};

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
        })?;
        println!(
            "created {} ({} plugin) in {}",
            self.name,
            self.lang,
            dir.display()
        );
        println!("next: cd {} && wasmplug build", self.name);
        Ok(ExitCode::SUCCESS)
    }
}
