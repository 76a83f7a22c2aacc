//! `wasmplug inspect`: a component's imports and exports as WIT, its size,
//! SHA-256 and manifest.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::{ComponentBytes, Manifest};

/// Show a component's exports and imports, its size, SHA-256 and manifest.
#[derive(Debug, Args)]
pub struct Inspect {
    /// The component (or preview1 module) to inspect.
    file: PathBuf,
    /// Print the component's whole world as WIT too, WASI included.
    #[arg(long)]
    wit: bool,
    /// The manifest; by default plugin.toml beside the component.
    #[arg(long, value_name = "PATH")]
    manifest: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl Inspect {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let source = ComponentBytes::from_file(&self.file)?;
        let inspection = wasmplug::inspect(&source)?;
        let manifest_path = self
            .manifest
            .clone()
            .or_else(|| Manifest::beside(&self.file));
        let manifest = match &manifest_path {
            Some(path) => {
                // Validate it fully, then show it as written.
                Manifest::from_file(path)?;
                let text = std::fs::read_to_string(path)?;
                Some(toml::from_str::<toml::Table>(&text)?)
            }
            None => None,
        };
        if self.json {
            let mut value = serde_json::to_value(&inspection)?;
            value["kind"] = format!("{:?}", source.kind).into();
            value["manifest"] = serde_json::to_value(&manifest)?;
            println!("{}", serde_json::to_string_pretty(&value)?);
            return Ok(ExitCode::SUCCESS);
        }
        println!("file:    {}", self.file.display());
        println!("size:    {} bytes", inspection.size);
        println!("sha256:  {}", inspection.sha256);
        println!("kind:    {:?}", source.kind);
        println!("exports:");
        for signature in &inspection.signatures {
            println!("  {signature}");
        }
        println!("imports:");
        for import in inspection.world_imports() {
            println!("  {import}");
        }
        let wasi = inspection.wasi_summary();
        if !wasi.is_empty() {
            println!("WASI imports:");
            for line in wasi {
                println!("  {line}");
            }
        }
        match (&manifest_path, &manifest) {
            (Some(path), Some(table)) => {
                println!("manifest: {}", path.display());
                for line in toml::to_string(table)?.lines() {
                    println!("  {line}");
                }
            }
            _ => println!("manifest: none"),
        }
        if self.wit {
            println!("\n{}", inspection.wit.trim_end());
        } else {
            println!("(the whole world as WIT: --wit)");
        }
        Ok(ExitCode::SUCCESS)
    }
}
