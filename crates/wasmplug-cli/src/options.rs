//! Options shared by the commands that load a plugin, spelled as
//! `wasmtime run` spells them where it has them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use wasmplug::{
    Access, ArtifactCache, CompileEvent, DirGrant, EnvGrant, Host, Limits, NetPattern, Plugin,
    Policy, StdioMode,
};

#[derive(Debug, Args)]
pub struct LoadOptions {
    /// Grant a host directory read-write, at GUEST or at its own path.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,

    /// Grant a host directory read-only.
    #[arg(long = "ro-dir", value_name = "HOST[::GUEST]")]
    pub ro_dirs: Vec<String>,

    /// Grant an environment variable, with a value or the host's own.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    pub env: Vec<String>,

    /// Allow connections to HOST:PORT (`*` for any port).
    #[arg(long = "allow-net", value_name = "HOST:PORT")]
    pub net: Vec<String>,

    /// Wall-clock time allowed for each call, e.g. 500ms or 2s (the CPU
    /// limit rises with it when it is longer than the CPU limit).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Memory (all memories and tables) allowed, e.g. 64MiB.
    #[arg(long = "max-memory", value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,

    /// Run with a deterministic fuel limit of N units per call.
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,

    /// The plugin's manifest; by default plugin.toml beside the component.
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// Set a configuration value the plugin reads with `config(KEY)`.
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub config: Vec<(String, String)>,

    /// Compile without reading or filling the compiled-component cache.
    #[arg(long = "no-cache")]
    pub no_cache: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    wasmplug::parse_duration(text).map_err(|e| e.to_string())
}

fn parse_size(text: &str) -> Result<u64, String> {
    wasmplug::parse_size(text).map_err(|e| e.to_string())
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.into(), value.into())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

impl LoadOptions {
    /// What the command line grants. Clocks and randomness are granted as
    /// `wasmtime run` does; a manifest still has to request them.
    pub fn policy(&self, stdin: bool) -> wasmplug::Result<Policy> {
        let dirs = self
            .dirs
            .iter()
            .map(|d| DirGrant::parse(d, Access::ReadWrite))
            .chain(
                self.ro_dirs
                    .iter()
                    .map(|d| DirGrant::parse(d, Access::Read)),
            )
            .collect::<wasmplug::Result<_>>()?;
        Ok(Policy {
            dirs,
            env: self
                .env
                .iter()
                .map(|e| EnvGrant::parse(e))
                .collect::<wasmplug::Result<_>>()?,
            net: self
                .net
                .iter()
                .map(|n| NetPattern::parse(n))
                .collect::<wasmplug::Result<_>>()?,
            clocks: true,
            random: true,
            stdin,
            ..Policy::default()
        })
    }

    /// Limits: the defaults, with what was given here as both the default
    /// and the ceiling, so a manifest cannot ask past the command line.
    fn limits(&self) -> (Limits, Limits) {
        let mut defaults = Limits::default();
        let mut ceiling = Limits {
            memory: 4 << 30,
            cpu: Duration::from_secs(300),
            timeout: Duration::from_secs(300),
            fuel: None,
            output: 64 << 20,
        };
        for limits in [&mut defaults, &mut ceiling] {
            if let Some(timeout) = self.timeout {
                limits.timeout = timeout;
                limits.cpu = limits.cpu.max(timeout);
            }
            if let Some(memory) = self.max_memory {
                limits.memory = memory;
            }
            if self.fuel.is_some() {
                limits.fuel = self.fuel;
            }
        }
        (defaults, ceiling)
    }

    pub fn host(&self, stdio: StdioMode, stdin: bool) -> wasmplug::Result<Host> {
        let (defaults, ceiling) = self.limits();
        let cache = if self.no_cache {
            None
        } else {
            ArtifactCache::at_default_dir()
        };
        let mut builder = Host::builder()
            .on_compile(progress(cache.is_some()))
            .cache(cache)
            .policy(self.policy(stdin)?)
            .limits(defaults)
            .max_limits(ceiling)
            .stdio(stdio)
            .implicit_requests(true);
        for (key, value) in &self.config {
            builder = builder.config(key, value);
        }
        builder.build()
    }

    /// Loads the plugin and warns about each permission it asked for in vain,
    /// since the guest will only see a refusal from inside.
    pub async fn load(&self, host: &Host, file: &Path) -> wasmplug::Result<Plugin> {
        let plugin = match &self.manifest {
            Some(manifest) => host.load_file_with_manifest(file, manifest).await?,
            None => host.load_file(file).await?,
        };
        for refusal in &plugin.grants().denied {
            tracing::warn!(
                plugin = plugin.name(),
                "not granted: {} (requested because: {})",
                refusal.permission,
                refusal.reason
            );
        }
        Ok(plugin)
    }
}

/// A spinner on stderr while a component compiles (seconds for Python and
/// JavaScript plugins); indicatif draws nothing when stderr is not a terminal.
fn progress(cached: bool) -> impl Fn(&CompileEvent<'_>) + Send + Sync + 'static {
    let note = if cached {
        ", once: the result is cached"
    } else {
        ""
    };
    let spinner = std::sync::Mutex::new(None::<ProgressBar>);
    move |event| {
        let mut spinner = spinner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            CompileEvent::Started { origin, size } => {
                let bar = ProgressBar::new_spinner()
                    .with_style(
                        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                            .expect("a valid template"),
                    )
                    .with_message(format!(
                        "compiling {origin} ({:.1} MB){note}",
                        *size as f64 / 1e6
                    ));
                bar.enable_steady_tick(Duration::from_millis(100));
                *spinner = Some(bar);
            }
            CompileEvent::Finished { .. } => {
                if let Some(bar) = spinner.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}
