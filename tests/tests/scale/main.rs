//! The app split into process groups over one shared state directory (one
//! SQLite file, one key-value file), behind a real nginx whose route map
//! `crm-cli deploy proxy` generates from `spin.toml`: two replicas of
//! contact-intake, consent, two replicas of {interaction-log,
//! notification, audit}, and cases. Requests reach the right group through the proxy,
//! and the guarantees of one process hold across processes: racing
//! duplicate intakes make one contact, the audit trail and each contact's
//! interactions stay one gapless chain, an `Idempotency-Key` is honoured by
//! every replica, and killing a replica (of intake, or of records in the
//! middle of appends) loses no acknowledged write and forks no chain, and a
//! records process killed and restarted catches up from the outbox
//! (`split`).

use std::path::Path;
use std::sync::OnceLock;

use crm_tests::proxy::Proxy;
use crm_tests::{Host, cache_args, on_lasting_thread, workspace};

mod split;

/// The groups: name, components, replicas.
const GROUPS: [(&str, &[&str], usize); 5] = [
    ("intake", &["contact-intake"], 2),
    ("consent", &["consent"], 1),
    ("records", &["interaction-log", "notification", "audit"], 2),
    ("cases", &["cases"], 1),
    ("web", &["web"], 1),
];

/// The processes of a split deployment and the proxy in front of them.
pub struct Deployment {
    /// Replicas by group, in [`GROUPS`] order.
    pub groups: Vec<Vec<Host>>,
    pub proxy: Proxy,
    pub state: tempfile::TempDir,
}

impl Deployment {
    /// Starts every replica on one state directory, then the proxy.
    pub fn start() -> Self {
        let state = tempfile::tempdir().expect("state dir");
        let groups: Vec<Vec<Host>> = GROUPS
            .iter()
            .map(|(_, components, replicas)| {
                (0..*replicas)
                    .map(|_| replica(state.path(), components))
                    .collect()
            })
            .collect();
        let arguments: Vec<String> = GROUPS
            .iter()
            .zip(&groups)
            .map(|((name, components, _), hosts)| {
                let upstreams: Vec<&str> = hosts
                    .iter()
                    .map(|h| h.base.trim_start_matches("http://"))
                    .collect();
                format!("{name}={}@{}", components.join(","), upstreams.join(","))
            })
            .collect();
        let proxy = Proxy::start(&arguments);
        Self {
            groups,
            proxy,
            state,
        }
    }

    pub fn proxy(&self) -> &Host {
        &self.proxy.host
    }

    /// Replica `index` of the group `name`.
    pub fn replica(&self, name: &str, index: usize) -> &Host {
        let group = GROUPS
            .iter()
            .position(|(n, _, _)| *n == name)
            .expect("a group");
        &self.groups[group][index]
    }

    pub fn db(&self) -> rusqlite::Connection {
        let db = rusqlite::Connection::open(self.state.path().join("sqlite_db.db"))
            .expect("the shared database");
        db.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        db
    }
}

/// `crm-host up -c ID…` on the app's `spin.toml` with the shared state.
fn replica(state: &Path, components: &[&str]) -> Host {
    let mut args = vec!["--state-dir", state.to_str().expect("utf-8 path")];
    for component in components {
        args.extend(["--component-id", component]);
    }
    let args = cache_args(&args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Host::start(&workspace().join("spin.toml"), &args, &[])
}

/// The deployment most tests share (none of them stops a process of it).
fn shared() -> &'static Deployment {
    static DEPLOYMENT: OnceLock<Deployment> = OnceLock::new();
    DEPLOYMENT.get_or_init(|| on_lasting_thread(Deployment::start))
}
