//! Offline verification of the audit trail in a database file, with the same
//! chain and checkpoint rules the `audit` component applies.

use anyhow::Result;
use audit_chain::checkpoint::{Checkpoint, CheckpointCheck, CheckpointFailure, SignedCheckpoint};
use audit_chain::{BrokenLink, ChainVerifier, Entry, Stored};
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

/// One stored row, owned.
struct Row {
    sequence: i64,
    recorded_at: i64,
    text: [String; 6],
    prev_hash: String,
    hash: String,
    purpose: Option<String>,
    subject: Option<String>,
    detail: Option<String>,
}

pub fn verify(db: &Connection, public_key: Option<&str>) -> Result<Report> {
    let checkpoints = stored_checkpoints(db)?;
    let mut held = CheckpointCheck::new(&checkpoints);
    let mut verifier = ChainVerifier::default();
    held.observe(0, verifier.head());
    let mut statement = db.prepare(
        "SELECT sequence, recorded_at, request_id, actor_id, role, action, resource, outcome, prev_hash, hash, purpose, subject_contact_id, detail
         FROM audit_entries ORDER BY sequence",
    )?;
    let rows = statement.query_map([], |r| {
        Ok(Row {
            sequence: r.get(0)?,
            recorded_at: r.get(1)?,
            text: [
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ],
            prev_hash: r.get(8)?,
            hash: r.get(9)?,
            purpose: r.get(10)?,
            subject: r.get(11)?,
            detail: r.get(12)?,
        })
    })?;
    let mut broken = None;
    for row in rows {
        let row = row?;
        let stored = Stored {
            entry: Entry {
                sequence: row.sequence as u64,
                recorded_at: row.recorded_at,
                request_id: &row.text[0],
                actor_id: &row.text[1],
                role: &row.text[2],
                purpose: row.purpose.as_deref(),
                action: &row.text[3],
                resource: &row.text[4],
                outcome: &row.text[5],
                subject_contact_id: row.subject.as_deref(),
                detail: row.detail.as_deref(),
            },
            prev_hash: &row.prev_hash,
            hash: &row.hash,
        };
        if let Err(link) = verifier.push(&stored) {
            broken = Some(link);
            break;
        }
        held.observe(verifier.verified(), verifier.head());
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

fn stored_checkpoints(db: &Connection) -> Result<Vec<SignedCheckpoint>> {
    let mut statement = db.prepare(
        "SELECT id, size, head_hash, created_at, key_id, signature FROM audit_checkpoints ORDER BY id",
    )?;
    let rows = statement.query_map([], |r| {
        Ok(SignedCheckpoint {
            id: r.get(0)?,
            checkpoint: Checkpoint {
                size: r.get::<_, i64>(1)? as u64,
                head_hash: r.get(2)?,
                created_at: r.get(3)?,
                key_id: r.get(4)?,
            },
            signature: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
