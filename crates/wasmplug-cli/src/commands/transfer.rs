//! `wasmplug push` and `pull`: a plugin to and from an OCI registry, in the
//! CNCF Wasm artifact layout that wkg, wasmCloud and Spin read.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use wasmplug::registry::{Credentials, Direction, Registry, Transfer};
use wasmplug::{MANIFEST_FILE, Manifest, WasmBytes};

/// Transfers smaller than this finish before a bar would be worth drawing.
const BAR_FROM_BYTES: u64 = 1 << 20;

/// How to reach registries.
#[derive(Debug, Args)]
pub struct RegistryOptions {
    /// The user name to log in with; by default, what `docker login`
    /// stored in the Docker config, or anonymous.
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,

    /// Read the password for --username from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
}

impl RegistryOptions {
    /// A registry client with these credentials and a progress bar.
    pub fn registry(&self) -> anyhow::Result<Registry> {
        let credentials = match &self.username {
            Some(username) => {
                let mut password = String::new();
                std::io::stdin().read_to_string(&mut password)?;
                Credentials::Basic {
                    username: username.clone(),
                    password: password.trim_end_matches(['\r', '\n']).to_string(),
                }
            }
            None => Credentials::DockerConfig,
        };
        Ok(Registry::new()
            .credentials(credentials)
            .on_progress(transfer_progress()))
    }
}

/// Push a plugin to an OCI registry.
#[derive(Debug, Args)]
pub struct Push {
    /// The plugin's manifest; by default plugin.toml beside the component.
    #[arg(long, value_name = "PATH")]
    manifest: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryOptions,
    /// The component.
    file: PathBuf,
    /// Where it goes: REGISTRY/REPOSITORY:TAG.
    reference: String,
}

/// Pull a plugin from an OCI registry.
#[derive(Debug, Args)]
pub struct Pull {
    /// Where the component goes; by default REPOSITORY.wasm here. The
    /// plugin's manifest, when it has one, goes beside it as plugin.toml.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryOptions,
    /// What to pull: REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@DIGEST.
    reference: String,
}

impl Push {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let wasm = WasmBytes::from_file(&self.file)?;
        let manifest_path = self
            .manifest
            .clone()
            .or_else(|| Manifest::beside(&self.file));
        let manifest = manifest_path
            .map(|path| {
                std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            })
            .transpose()?;
        let registry = self.registry.registry()?;
        let pushed = registry
            .push(&wasm, manifest.as_deref(), &self.reference)
            .await?;
        println!(
            "pushed {} ({:.1} MB{}): digest sha256:{}",
            self.reference,
            wasm.bytes.len() as f64 / 1e6,
            if manifest.is_some() {
                ", with its plugin.toml"
            } else {
                ""
            },
            pushed.digest
        );
        Ok(ExitCode::SUCCESS)
    }
}

impl Pull {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let registry = self.registry.registry()?;
        let pulled = registry.pull(&self.reference).await?;
        let output = self
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.wasm", pulled.repository_name())));
        let manifest_path = output
            .parent()
            .unwrap_or(Path::new("."))
            .join(MANIFEST_FILE);
        if let Some(text) = &pulled.manifest {
            // Checked before anything is written: never half a plugin.
            pulled.plugin_manifest()?;
            if std::fs::read_to_string(&manifest_path).is_ok_and(|old| old != *text) {
                anyhow::bail!(
                    "{} holds another plugin's manifest; pull into an empty folder (-o DIR/FILE)",
                    manifest_path.display()
                );
            }
        }
        if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        }
        write_replacing(&output, &pulled.bytes)?;
        if let Some(text) = &pulled.manifest {
            write_replacing(&manifest_path, text.as_bytes())?;
        }
        println!(
            "pulled {} into {}{}{}",
            pulled.pinned,
            output.display(),
            if pulled.manifest.is_some() {
                format!(" and {}", manifest_path.display())
            } else {
                String::new()
            },
            if pulled.from_cache {
                " (from the cache)"
            } else {
                ""
            }
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// Writes beside `path`, then renames over it: never a half-written file.
fn write_replacing(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A bar on stderr for a component's transfer of a megabyte or more;
/// indicatif draws nothing when stderr is not a terminal.
fn transfer_progress() -> impl Fn(&Transfer<'_>) + Send + Sync + 'static {
    let bar = Mutex::new(None::<ProgressBar>);
    move |transfer| {
        if transfer.total < BAR_FROM_BYTES {
            return;
        }
        let mut bar = bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let shown = bar.get_or_insert_with(|| {
            let verb = match transfer.direction {
                Direction::Push => "pushing",
                Direction::Pull => "pulling",
            };
            ProgressBar::new(transfer.total)
                .with_style(
                    ProgressStyle::with_template(
                        "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
                    )
                    .expect("a valid template"),
                )
                .with_message(format!("{verb} {}", transfer.reference))
        });
        shown.set_position(transfer.done);
        if transfer.done >= transfer.total {
            shown.finish_and_clear();
            *bar = None;
        }
    }
}
