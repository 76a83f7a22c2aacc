//! Options shared by the commands that load a plugin, spelled as
//! `wasmtime run` spells them where it has them, and the three parties of
//! every permission as the command line has them: the plugin's manifest,
//! the operator's policy file, and the person at the terminal, whose flags
//! grant and who is asked about the rest.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use wasmplug::{
    Access, ArtifactCache, CompileEvent, Consent, ConsentAnswer, ConsentRequest, Grant, GrantStore,
    Host, HostBuilder, Limits, Mock, Plugin, Policy, StdioMode, Untrusted,
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

    /// Allow HTTP requests to SCHEME://HOST[:PORT] (`*` for any port).
    #[arg(long = "allow-http", value_name = "SCHEME://HOST[:PORT]")]
    pub http: Vec<String>,

    /// Consent, for this run only, to every permission the policy allows
    /// and the plugin requests, without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// The operator's policy; by default $WASMPLUG_POLICY, or
    /// ~/.config/wasmplug/policy.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

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

    /// Answer an imported function the host does not provide with a fixed
    /// value, in WAVE: `lint:host/env#config=some("strict")`. The other
    /// functions of that interface fail the call, naming themselves.
    #[arg(long = "mock", value_name = "IFACE#FUNC=WAVE")]
    pub mocks: Vec<String>,

    /// A component whose exports satisfy the plugin's imports, composed
    /// with it; the two run under what both are granted, each by its own
    /// manifest.
    #[arg(long = "with", value_name = "COMPONENT")]
    pub with: Vec<PathBuf>,
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

/// What the command itself gives every plugin, as `wasmtime run` does.
pub struct Defaults {
    /// Standard output and error: captured as log lines, or passed through.
    pub stdio: StdioMode,
    /// Whether the plugin may read the terminal's standard input.
    pub stdin: bool,
}

impl LoadOptions {
    /// The operator's policy: see [`operator_policy`].
    pub fn policy(&self) -> wasmplug::Result<Policy> {
        operator_policy(self.policy.as_deref())
    }

    /// What the flags grant, with clocks and randomness as `wasmtime run`
    /// gives them.
    fn given(&self, defaults: &Defaults) -> wasmplug::Result<Vec<Grant>> {
        let mut given = vec![Grant::clocks(), Grant::random()];
        if defaults.stdin {
            given.push(Grant::stdin());
        }
        for dir in &self.dirs {
            given.push(Grant::parse_dir(dir, Access::ReadWrite)?);
        }
        for dir in &self.ro_dirs {
            given.push(Grant::parse_dir(dir, Access::Read)?);
        }
        for env in &self.env {
            given.push(Grant::parse_env(env)?);
        }
        for net in &self.net {
            given.push(Grant::parse_net(net)?);
        }
        for origin in &self.http {
            given.push(Grant::parse_http(origin)?);
        }
        Ok(given)
    }

    /// The user's consent: the flags, then see [`user_consent`]; `--yes`
    /// is for this run only.
    fn consent(&self, defaults: &Defaults) -> wasmplug::Result<Consent> {
        Ok(user_consent(self.given(defaults)?, self.yes, false))
    }

    /// Limits: the defaults, with what was given here as both the default
    /// and the ceiling, so a manifest can ask for less but not for more.
    fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(timeout) = self.timeout {
            limits = limits.timeout(timeout).cpu(limits.cpu.max(timeout));
        }
        if let Some(memory) = self.max_memory {
            limits = limits.memory(memory);
        }
        if let Some(fuel) = self.fuel {
            limits = limits.fuel(fuel);
        }
        limits
    }

    pub fn host(&self, defaults: Defaults) -> wasmplug::Result<Host> {
        self.host_builder(defaults)?.build()
    }

    /// The host as the options configure it, for a command to add to.
    pub fn host_builder(&self, defaults: Defaults) -> wasmplug::Result<HostBuilder> {
        let limits = self.limits();
        let cache = if self.no_cache {
            None
        } else {
            ArtifactCache::at_default_dir()
        };
        let mut builder = Host::builder()
            .on_compile(compile_progress(cache.is_some()))
            .cache(cache)
            .policy(self.policy()?)
            .consent(self.consent(&defaults)?)
            .limits(limits)
            .max_limits(limits)
            .stdio(defaults.stdio)
            .implicit_requests(true);
        for (key, value) in &self.config {
            builder = builder.config(key, value);
        }
        for mock in &self.mocks {
            builder = builder.mock(Mock::parse(mock)?);
        }
        Ok(builder)
    }

    /// Loads the plugin and warns about each permission it asked for in
    /// vain and would have used, since the guest will only see a refusal
    /// from inside.
    pub async fn load(&self, host: &Host, file: &Path) -> wasmplug::Result<Plugin> {
        let plugin = match &self.manifest {
            _ if !self.with.is_empty() => {
                host.load_composed(file, self.manifest.as_deref(), &self.with)
                    .await?
            }
            Some(manifest) => host.load_file_with_manifest(file, manifest).await?,
            None => host.load_file(file).await?,
        };
        for refusal in plugin.unmet() {
            tracing::warn!(plugin = plugin.name(), "not granted: {refusal}");
        }
        Ok(plugin)
    }
}

/// The operator's policy: the file given, the default one if it exists, or
/// else none, where the person at the terminal is the operator.
pub fn operator_policy(path: Option<&Path>) -> wasmplug::Result<Policy> {
    let path = match path {
        Some(path) => Some(path.to_path_buf()),
        None => Policy::default_path().filter(|p| p.is_file()),
    };
    match path {
        Some(path) => Policy::from_file(&path),
        None => Ok(Policy::unrestricted()),
    }
}

/// The user's consent: what was `given`, what was remembered, and then, on
/// a terminal, a question whose answers are remembered; with `yes`, consent
/// to the rest without asking, remembered when `remember_yes`; without a
/// terminal, the load stops and says what is missing.
pub fn user_consent(given: Vec<Grant>, yes: bool, remember_yes: bool) -> Consent {
    let mut consent = Consent::none();
    for grant in given {
        consent = consent.given(grant);
    }
    if let Some(path) = GrantStore::default_path() {
        consent = consent.remembered(GrantStore::at(path));
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if yes {
        consent.prompt(move |request| ConsentAnswer::all(request, remember_yes))
    } else if interactive {
        consent.prompt(ask)
    } else {
        consent.prompt(|_| ConsentAnswer::Abort)
    }
}

/// Asks at the terminal about each permission, and remembers the answers
/// that granted.
fn ask(request: &ConsentRequest<'_>) -> ConsentAnswer {
    let mut stderr = std::io::stderr().lock();
    let stdin = std::io::stdin();
    let _ = match request.previously {
        Some(before) => writeln!(
            stderr,
            "{} asks for more than {before} was given:",
            request.plugin
        ),
        None => writeln!(stderr, "{} asks for:", request.plugin),
    };
    let mut granted = Vec::new();
    for asked in request.requests {
        let _ = write!(
            stderr,
            "  {}\n    because: {}\n  allow? [y/N] ",
            asked.permission,
            Untrusted(&asked.reason)
        );
        let _ = stderr.flush();
        let mut answer = String::new();
        if stdin.lock().read_line(&mut answer).is_err() {
            break;
        }
        if matches!(answer.trim(), "y" | "Y" | "yes") {
            granted.push(asked.permission.clone());
        }
    }
    ConsentAnswer::Grant {
        permissions: granted,
        remember: true,
    }
}

/// A spinner on stderr while a component compiles (seconds for Python and
/// JavaScript plugins); indicatif draws nothing when stderr is not a terminal.
pub fn compile_progress(cached: bool) -> impl Fn(&CompileEvent<'_>) + Send + Sync + 'static {
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
