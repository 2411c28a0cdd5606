//! After a run, whether the stores every process shared still hold what one
//! process would have: each acknowledged intake one contact and no person
//! twice, one whole audit trail (through the API and offline with
//! `crm-cli audit verify`), and every contact's interactions one whole
//! chain holding exactly the appends acknowledged.

use crm_tests::Host;
use crm_tests::auth::{cli, lasting_token};
use crm_tests::split::Deployment;

/// What a run acknowledged, to hold the stores to.
pub struct Acknowledged {
    pub seeded: u64,
    pub intakes: usize,
    pub appends: usize,
}

/// The stores after a run.
pub struct Verdict {
    pub contacts: u64,
    pub expected_contacts: u64,
    /// Email match keys filed under more than one contact.
    pub duplicated_emails: u64,
    pub audit_entries: u64,
    pub audit_valid: bool,
    pub audit_offline: bool,
    pub chains: usize,
    pub broken_chains: Vec<String>,
    pub chained_entries: u64,
    pub expected_entries: u64,
}

impl Verdict {
    pub fn holds(&self) -> bool {
        self.contacts == self.expected_contacts
            && self.duplicated_emails == 0
            && self.audit_valid
            && self.audit_offline
            && self.broken_chains.is_empty()
            && self.chained_entries == self.expected_entries
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ok = |good: bool| if good { "ok" } else { "FAILED" };
        write!(
            f,
            "{} contacts (expected {}: {}); {} emails on more than one contact; audit trail of {} entries valid through the API: {}, `crm-cli audit verify`: {}; {} interaction chains, {} broken; {} entries chained for {} appends acknowledged: {}",
            self.contacts,
            self.expected_contacts,
            ok(self.contacts == self.expected_contacts),
            self.duplicated_emails,
            self.audit_entries,
            ok(self.audit_valid),
            ok(self.audit_offline),
            self.chains,
            self.broken_chains.len(),
            self.chained_entries,
            self.expected_entries,
            ok(self.chained_entries == self.expected_entries),
        )?;
        if !self.broken_chains.is_empty() {
            write!(f, " (broken: {})", self.broken_chains.join(", "))?;
        }
        Ok(())
    }
}

/// Checks `deployment`'s stores, asking the API at `api` (the proxy, or
/// the one process).
pub fn check(deployment: &Deployment, api: &Host, acknowledged: &Acknowledged) -> Verdict {
    let db = deployment.db();
    let count = |sql: &str| -> u64 {
        db.query_row(sql, [], |row| row.get::<_, i64>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
    };
    let contacts = count("SELECT COUNT(*) FROM contacts");
    let duplicated_emails = count(
        "SELECT COUNT(*) FROM (SELECT key FROM contact_match_keys WHERE key LIKE 'em:%' \
         GROUP BY key HAVING COUNT(*) > 1)",
    );
    let chained_entries = count("SELECT COALESCE(SUM(length), 0) FROM interaction_chains");
    let chained: Vec<String> = db
        .prepare("SELECT contact_id FROM interaction_chains ORDER BY contact_id")
        .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
        .expect("the interaction chains");

    let auditor = lasting_token("bench-scale-auditor", &["auditor"], 3600);
    let auditor = api.as_caller(&auditor).purpose("audit");
    let trail = auditor.get("/api/audit/verify");
    assert_eq!(trail.status, 200, "{}", trail.body);
    let trail = trail.json();
    let offline = cli(&[
        "audit",
        "verify",
        "--db",
        deployment.db_path().to_str().expect("utf-8 path"),
    ]);
    let broken_chains = chained
        .iter()
        .filter(|contact| {
            let verdict = auditor.get(&format!("/api/interactions/verify?contact_id={contact}"));
            assert_eq!(verdict.status, 200, "{}", verdict.body);
            verdict.json()["valid"] != true
        })
        .cloned()
        .collect();
    Verdict {
        contacts,
        expected_contacts: acknowledged.seeded + acknowledged.intakes as u64,
        duplicated_emails,
        audit_entries: trail["entries"].as_u64().unwrap_or_default(),
        audit_valid: trail["valid"] == true,
        audit_offline: offline.status.success(),
        chains: chained.len(),
        broken_chains,
        chained_entries,
        expected_entries: acknowledged.appends as u64,
    }
}
