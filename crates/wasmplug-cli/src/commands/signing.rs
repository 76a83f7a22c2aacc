//! `wasmplug keygen`, `sign` and `verify`: Ed25519 signatures embedded in
//! a component, in the format wasmsign2 reads and writes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use wasmplug::signature::{self, PublicKey, SigningKey};

/// Make a signing key pair: KEY (secret) and KEY.pub (public).
#[derive(Debug, Args)]
pub struct Keygen {
    /// Where the secret key goes; the public key goes beside it, as
    /// KEY.pub. Existing files are not overwritten.
    key: PathBuf,
}

/// Add a signature to a component (others it has stay valid).
#[derive(Debug, Args)]
pub struct Sign {
    /// The secret key (from `wasmplug keygen`, or wasmsign2's).
    #[arg(long, short = 'k', value_name = "KEY")]
    key: PathBuf,
    /// Where the signed component goes; by default over FILE.
    #[arg(long, short = 'o', value_name = "OUT")]
    output: Option<PathBuf>,
    /// The component.
    file: PathBuf,
}

/// Check a component's signature against public keys.
#[derive(Debug, Args)]
pub struct Verify {
    /// A public key to trust (KEY.pub); repeat for several.
    #[arg(long, short = 'k', value_name = "PUB", required = true)]
    key: Vec<PathBuf>,
    /// The component.
    file: PathBuf,
}

impl Keygen {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let public_path = with_suffix(&self.key, ".pub");
        for path in [&self.key, &public_path] {
            if path.exists() {
                anyhow::bail!("{} already exists; choose another name", path.display());
            }
        }
        let key = SigningKey::generate()?;
        write_new(&self.key, &key.to_bytes(), 0o600)?;
        write_new(&public_path, &key.public_key().to_bytes(), 0o644)?;
        println!(
            "key {}: secret {}, public {}",
            key.public_key().id(),
            self.key.display(),
            public_path.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}

impl Sign {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let key = SigningKey::from_file(&self.key)?;
        let bytes = read(&self.file)?;
        let signed = signature::sign(&bytes, &key)?;
        let output = self.output.as_ref().unwrap_or(&self.file);
        // Beside the target, then renamed over it: never a half-written file.
        let partial = with_suffix(output, ".partial");
        std::fs::write(&partial, &signed)
            .and_then(|()| std::fs::rename(&partial, output))
            .map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
        println!(
            "signed {} with key {}",
            output.display(),
            key.public_key().id()
        );
        Ok(ExitCode::SUCCESS)
    }
}

impl Verify {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let trusted = self
            .key
            .iter()
            .map(|path| PublicKey::from_file(path))
            .collect::<wasmplug::Result<Vec<_>>>()?;
        let bytes = read(&self.file)?;
        match signature::verify(&bytes, &trusted) {
            Ok(keys) => {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                println!("{}: signed by {}", self.file.display(), keys.join(", "));
                Ok(ExitCode::SUCCESS)
            }
            Err(problem) => {
                eprintln!("error: {} is not verified: {problem}", self.file.display());
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes a file that must not exist yet, with `mode` on Unix.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
