//! Offline verification of the audit trail in a database file, read through
//! `audit-store` and checked with the same chain and checkpoint rules the
//! `audit` component applies.

use anyhow::Result;
use audit_chain::checkpoint::{CheckpointCheck, CheckpointFailure};
use audit_chain::{BrokenLink, ChainVerifier};
use audit_store::Filter;
use rusqlite::Connection;

/// What a walk of the trail found.
pub struct Report {
    pub entries: u64,
    pub head: String,
    pub broken: Option<BrokenLink>,
    pub checkpoints: usize,
    pub checkpoint_failures: Vec<CheckpointFailure>,
    pub signatures_checked: bool,
}

impl Report {
    pub fn valid(&self) -> bool {
        self.broken.is_none() && self.checkpoint_failures.is_empty()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({
            "valid": self.valid(),
            "entries": self.entries,
            "head_hash": self.head,
            "checkpoints": {
                "count": self.checkpoints,
                "signatures_checked": self.signatures_checked,
                "failures": self.checkpoint_failures.iter().map(|f| serde_json::json!({
                    "checkpoint": f.id, "size": f.size, "reason": f.reason,
                })).collect::<Vec<_>>(),
            },
        });
        if let Some(link) = &self.broken {
            json["first_broken_sequence"] = link.sequence.into();
            json["reason"] = link.reason.into();
        }
        json
    }
}

/// Entries read per query, so memory stays flat on a long trail.
const BATCH: u64 = 1_000;

pub fn verify(db: &Connection, public_key: Option<&str>) -> Result<Report> {
    let checkpoints = audit_store::checkpoints(db)?;
    let mut held = CheckpointCheck::new(&checkpoints);
    let mut verifier = ChainVerifier::default();
    held.observe(0, verifier.head());
    let mut broken = None;
    let mut after = 0;
    'walk: loop {
        let batch = audit_store::entries(db, &Filter::default(), after, BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.sequence;
        for entry in &batch {
            if let Err(link) = verifier.push(&entry.chained()) {
                broken = Some(link);
                break 'walk;
            }
            held.observe(verifier.verified(), verifier.head());
        }
    }
    let checkpoint_failures = held.finish(broken.is_none(), &checkpoints, public_key);
    Ok(Report {
        entries: verifier.verified(),
        head: verifier.head().to_string(),
        broken,
        checkpoints: checkpoints.len(),
        checkpoint_failures,
        signatures_checked: public_key.is_some(),
    })
}
