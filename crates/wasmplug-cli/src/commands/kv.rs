//! `wasmplug kv`: look at and change a plugin's key-value store, as an
//! operator does, while no host holds it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use wasmplug::{KeyValueStore, KvQuota};

/// Read and change a plugin's key-value store.
#[derive(Debug, Args)]
pub struct Kv {
    /// Where stores live; by default $WASMPLUG_DATA_DIR, or wasmplug in the
    /// platform's data directory.
    #[arg(long = "data-dir", value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// The plugin's buckets with their key counts, or the keys of BUCKET.
    List {
        plugin: String,
        bucket: Option<String>,
    },
    /// Write the value at KEY to standard output, as it is stored.
    Get {
        plugin: String,
        bucket: String,
        key: String,
    },
    /// Set KEY to VALUE (the plugin's quotas apply).
    Set {
        plugin: String,
        bucket: String,
        key: String,
        value: String,
    },
    /// Delete KEY.
    Delete {
        plugin: String,
        bucket: String,
        key: String,
    },
}

impl Kv {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let dir = self
            .data_dir
            .or_else(KeyValueStore::default_dir)
            .ok_or_else(|| anyhow::anyhow!("no data directory: pass --data-dir or set HOME"))?;
        let open = |plugin: &str| KeyValueStore::open(&dir, plugin, KvQuota::default());
        match self.action {
            Action::List { plugin, bucket } => {
                let store = open(&plugin)?;
                match bucket {
                    Some(bucket) => {
                        for key in store.keys(&bucket)? {
                            println!("{}", wasmplug::escape_control(&key));
                        }
                    }
                    None => {
                        for bucket in store.buckets()? {
                            let keys = store.keys(&bucket)?.len();
                            println!("{}\t{keys} keys", wasmplug::escape_control(&bucket));
                        }
                        eprintln!("{} bytes used", store.used_bytes()?);
                    }
                }
            }
            Action::Get {
                plugin,
                bucket,
                key,
            } => match open(&plugin)?.get(&bucket, &key)? {
                Some(value) => std::io::stdout().write_all(&value)?,
                None => {
                    eprintln!("error: no key `{key}` in bucket `{bucket}` of plugin `{plugin}`");
                    return Ok(ExitCode::FAILURE);
                }
            },
            Action::Set {
                plugin,
                bucket,
                key,
                value,
            } => open(&plugin)?.set(&bucket, &key, value.as_bytes())?,
            Action::Delete {
                plugin,
                bucket,
                key,
            } => open(&plugin)?.delete(&bucket, &key)?,
        }
        Ok(ExitCode::SUCCESS)
    }
}
