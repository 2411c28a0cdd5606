//! The runtime configuration file (`--runtime-config-file`): where each
//! key-value store and SQLite database label lives. Built in are Spin's
//! local-file backends (`type = "spin"`) and, for key-value, Redis
//! (`type = "redis"`); anything else fails at start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub key_value_store: BTreeMap<String, KeyValueConfig>,
    #[serde(default)]
    pub sqlite_database: BTreeMap<String, SqliteConfig>,
}

/// Where a key-value store label lives.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum KeyValueConfig {
    /// A SQLite file (`path`, else `<state dir>/<label>.db`).
    Spin { path: Option<PathBuf> },
    /// A Redis server, `redis://` or `rediss://`.
    Redis { url: String },
}

/// Where a SQLite database label lives.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SqliteConfig {
    Spin { path: Option<PathBuf> },
}

impl RuntimeConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let mut config: Self = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}", e.message().trim_end()))
            .with_context(|| format!("invalid runtime config {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for (label, store) in &mut config.key_value_store {
            match store {
                KeyValueConfig::Spin { path } => *path = path.as_ref().map(|p| base.join(p)),
                KeyValueConfig::Redis { url } => {
                    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                        bail!(
                            "runtime config [key_value_store.{label}]: `url` must be redis:// or rediss://, not `{url}`"
                        );
                    }
                }
            }
        }
        for store in config.sqlite_database.values_mut() {
            let SqliteConfig::Spin { path } = store;
            *path = path.as_ref().map(|p| base.join(p));
        }
        Ok(config)
    }

    /// The file backing a `type = "spin"` label: from the config, or Spin's
    /// default for `default`.
    pub fn file_for(
        path: Option<&Option<PathBuf>>,
        label: &str,
        state_dir: &Path,
        default_file: &str,
    ) -> Result<PathBuf> {
        match path {
            Some(Some(path)) => Ok(path.clone()),
            Some(None) => Ok(state_dir.join(format!("{label}.db"))),
            None if label == "default" => Ok(state_dir.join(default_file)),
            None => bail!("label `{label}` is not defined in the runtime config"),
        }
    }
}
