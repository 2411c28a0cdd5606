//! The app split into process groups over one shared state directory (one
//! SQLite file, one key-value file), behind a real nginx whose route map
//! `crm-cli deploy proxy` generates from `spin.toml`
//! (`crm_tests::split`): two replicas of contact-intake, consent, two
//! replicas of {interaction-log, notification, audit}, and cases. Requests
//! reach the right group through the proxy, and the guarantees of one
//! process hold across processes: racing duplicate intakes make one
//! contact, the audit trail and each contact's interactions stay one
//! gapless chain, an `Idempotency-Key` is honoured by every replica, and
//! killing a replica (of intake, or of records in the middle of appends)
//! loses no acknowledged write and forks no chain, and a records process
//! killed and restarted catches up from the outbox (`split`).

use std::sync::OnceLock;

use crm_tests::on_lasting_thread;
use crm_tests::split::{Deployment, Group};

mod split;

/// The groups the tests run: deploy/topology.toml's, with two records
/// replicas, so appends race across processes too.
fn groups() -> Vec<Group> {
    vec![
        Group::new("intake", &["contact-intake"], 2),
        Group::new("consent", &["consent"], 1),
        Group::new("records", &["interaction-log", "notification", "audit"], 2),
        Group::new("cases", &["cases"], 1),
        Group::new("web", &["web"], 1),
    ]
}

/// The deployment most tests share (none of them stops a process of it).
fn shared() -> &'static Deployment {
    static DEPLOYMENT: OnceLock<Deployment> = OnceLock::new();
    DEPLOYMENT.get_or_init(|| on_lasting_thread(|| Deployment::start(groups())))
}
