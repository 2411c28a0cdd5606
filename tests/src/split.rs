//! The app split into process groups over one shared state directory (one
//! SQLite file, one key-value file), behind a real nginx whose route map
//! `crm-cli deploy proxy` generates from `spin.toml`: one `crm-host up -c
//! ID…` per replica. The `scale` tests and `crm-bench-scale` start it.

use std::path::{Path, PathBuf};

use crate::proxy::Proxy;
use crate::{Host, cache_args, workspace};

/// A process group: the components its processes serve, and how many
/// processes (replicas) serve them.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub components: Vec<String>,
    pub replicas: usize,
}

impl Group {
    pub fn new(name: &str, components: &[&str], replicas: usize) -> Self {
        Self {
            name: name.to_string(),
            components: components.iter().map(|c| c.to_string()).collect(),
            replicas,
        }
    }
}

/// The groups of a topology file (`deploy/topology.toml`), in its order,
/// each with one replica per upstream it lists for one machine (at least
/// one); the addresses themselves are not used, each replica takes a free
/// port.
pub fn topology(path: &Path) -> Vec<Group> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("in {}: {e}", path.display()));
    let groups = file
        .get("group")
        .and_then(toml::Value::as_table)
        .unwrap_or_else(|| panic!("{} has no [group.*]", path.display()));
    let strings = |value: Option<&toml::Value>| -> Vec<String> {
        value
            .and_then(toml::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    groups
        .iter()
        .map(|(name, group)| Group {
            name: name.clone(),
            components: strings(group.get("components")),
            replicas: strings(group.get("upstreams")).len().max(1),
        })
        .collect()
}

/// The processes of a split deployment and the proxy in front of them.
pub struct Deployment {
    pub groups: Vec<Group>,
    /// Replicas by group, in `groups` order.
    pub replicas: Vec<Vec<Host>>,
    pub proxy: Proxy,
    pub state: tempfile::TempDir,
}

impl Deployment {
    /// Starts every replica on a fresh state directory, then the proxy.
    pub fn start(groups: Vec<Group>) -> Self {
        Self::start_in(tempfile::tempdir().expect("state dir"), groups)
    }

    /// Starts every replica on `state` (which may hold a database already),
    /// one after another from this thread (each dies with it), then the
    /// proxy.
    pub fn start_in(state: tempfile::TempDir, groups: Vec<Group>) -> Self {
        let replicas: Vec<Vec<Host>> = groups
            .iter()
            .map(|group| {
                (0..group.replicas)
                    .map(|_| replica(state.path(), &group.components))
                    .collect()
            })
            .collect();
        let arguments: Vec<String> = groups
            .iter()
            .zip(&replicas)
            .map(|(group, hosts)| {
                let upstreams: Vec<&str> = hosts
                    .iter()
                    .map(|h| h.base.trim_start_matches("http://"))
                    .collect();
                format!(
                    "{}={}@{}",
                    group.name,
                    group.components.join(","),
                    upstreams.join(",")
                )
            })
            .collect();
        let proxy = Proxy::start(&arguments);
        Self {
            groups,
            replicas,
            proxy,
            state,
        }
    }

    pub fn proxy(&self) -> &Host {
        &self.proxy.host
    }

    fn index(&self, name: &str) -> usize {
        self.groups
            .iter()
            .position(|g| g.name == name)
            .unwrap_or_else(|| panic!("no group `{name}`"))
    }

    /// The group `name`.
    pub fn group(&self, name: &str) -> &Group {
        &self.groups[self.index(name)]
    }

    /// Replica `index` of the group `name`.
    pub fn replica(&self, name: &str, index: usize) -> &Host {
        &self.replicas[self.index(name)][index]
    }

    /// The SQLite file every process shares.
    pub fn db_path(&self) -> PathBuf {
        self.state.path().join("sqlite_db.db")
    }

    pub fn db(&self) -> rusqlite::Connection {
        let db = rusqlite::Connection::open(self.db_path()).expect("the shared database");
        db.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        db
    }
}

/// `crm-host up -c ID…` on the app's `spin.toml` with the shared state.
pub fn replica(state: &Path, components: &[impl AsRef<str>]) -> Host {
    let mut args = vec!["--state-dir", state.to_str().expect("utf-8 path")];
    for component in components {
        args.extend(["--component-id", component.as_ref()]);
    }
    let args = cache_args(&args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Host::start(&workspace().join("spin.toml"), &args, &[])
}
