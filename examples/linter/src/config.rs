//! The linter's settings: `[checks.NAME]` tables of strings, which each
//! check reads through `env.config(key)`.
//!
//! ```toml
//! [checks.line-length]
//! max-length = "80"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    checks: BTreeMap<String, BTreeMap<String, String>>,
}

impl Config {
    pub fn read(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The settings of the check named `check`.
    pub fn of(&self, check: &str) -> BTreeMap<String, String> {
        self.checks.get(check).cloned().unwrap_or_default()
    }
}
