//! The runtime configuration file (`--runtime-config-file`): where each
//! key-value store and SQLite database label lives. Only Spin's local-file
//! backends (`type = "spin"`) are built in; anything else fails at start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub key_value_store: BTreeMap<String, StoreConfig>,
    #[serde(default)]
    pub sqlite_database: BTreeMap<String, StoreConfig>,
}

#[derive(Debug, Deserialize)]
pub struct StoreConfig {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: Option<PathBuf>,
}

impl RuntimeConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let mut config: Self = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}", e.message().trim_end()))
            .with_context(|| format!("invalid runtime config {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for (what, stores) in [
            ("key_value_store", &mut config.key_value_store),
            ("sqlite_database", &mut config.sqlite_database),
        ] {
            for (label, store) in stores.iter_mut() {
                if store.kind != "spin" {
                    bail!(
                        "runtime config [{what}.{label}]: type `{}` is not built into crm-host (supported: `spin`)",
                        store.kind
                    );
                }
                if let Some(p) = &store.path {
                    store.path = Some(base.join(p));
                }
            }
        }
        Ok(config)
    }

    /// The file backing a label: from the config, or Spin's default for `default`.
    pub fn file_for(
        stores: &BTreeMap<String, StoreConfig>,
        label: &str,
        state_dir: &Path,
        default_file: &str,
    ) -> Result<PathBuf> {
        match stores.get(label) {
            Some(StoreConfig {
                path: Some(path), ..
            }) => Ok(path.clone()),
            Some(StoreConfig { path: None, .. }) => Ok(state_dir.join(format!("{label}.db"))),
            None if label == "default" => Ok(state_dir.join(default_file)),
            None => bail!("label `{label}` is not defined in the runtime config"),
        }
    }
}
