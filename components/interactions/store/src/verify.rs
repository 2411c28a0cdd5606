//! Walks one contact's chain in sequence order, a page at a time, through
//! [`ChainVerifier`]; also checks the one derived column the hashes do not
//! cover (`root_sequence`) and the chain row's tip.
//!
//! The tip and the pages are separate reads, not one read transaction (on
//! `crm-host` any `BEGIN` takes the database's write gate, which would stall
//! every writer for the whole walk). So the walk stops at the tip it read:
//! entries appended meanwhile lie past it. A disposal committed meanwhile
//! can still show a tombstone whose disposal entry lies past it; that moves
//! the tip, so a walk that fails while the tip moved is taken again. Entries
//! past a tip wound back over them are still caught: they lie past the tip
//! read after them.

use std::collections::HashMap;

use interactions_rules::values::{ContactId, EntryId};
use interactions_rules::{ChainHead, ChainTip, ChainVerifier, EntryBody};

use crate::StoreError;
use crate::chain::{self, Contact};
use crate::rows::{ENTRY_COLUMNS, decode};
use crm_sql::{Sql, Value};

/// Entries read per query.
const PAGE: u64 = 1000;

/// Walks of one verification at most, while writes keep moving the tip.
const WALKS: usize = 3;

/// The first problem found in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub sequence: i64,
    pub id: Option<String>,
    pub reason: String,
}

/// What a walk of a contact's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Entries that held before the first problem (all of them if none).
    pub entries: u64,
    /// The verified chain's length and head, when it holds.
    pub head: Option<ChainHead>,
    pub broken: Option<Broken>,
    /// Whether the stored tip (what the next append links to) is the
    /// verified head: a tail cut off the entries alone shows here.
    pub tip_matches: bool,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.broken.is_none() && self.tip_matches
    }
}

/// Verifies `contact_id`'s chain; `None` when the contact has no log.
pub fn verify(db: &impl Sql, contact_id: &ContactId) -> Result<Option<Verdict>, StoreError> {
    let Some(contact) = chain::find(db, contact_id)? else {
        return Ok(None);
    };
    let mut tip = chain::tip_of(db, &contact)?;
    let mut walks = 1;
    loop {
        let verdict = walk_to(db, &contact, &tip)?;
        if verdict.is_valid() {
            return past_the_tip(db, &contact, verdict).map(Some);
        }
        if walks == WALKS {
            return Ok(Some(verdict));
        }
        let moved = chain::tip_of(db, &contact)?;
        if moved == tip {
            return Ok(Some(verdict));
        }
        tip = moved;
        walks += 1;
    }
}

/// `verdict` (of a chain that held up to the tip walked to), broken if
/// entries lie past the stored tip. The last sequence is read before the
/// tip, so an append committed meanwhile is inside the tip read.
fn past_the_tip(db: &impl Sql, contact: &Contact, verdict: Verdict) -> Result<Verdict, StoreError> {
    let last = match db
        .run(
            "SELECT MAX(sequence) FROM interaction_entries WHERE contact_key = ?",
            &[contact.key.into()],
        )?
        .first()
        .map(|row| &row[0])
    {
        Some(Value::Integer(last)) => *last,
        _ => 0,
    };
    let tip = chain::tip_of(db, contact)?;
    if last <= tip.sequence as i64 {
        return Ok(verdict);
    }
    Ok(Verdict {
        head: None,
        broken: Some(Broken {
            sequence: tip.sequence as i64 + 1,
            id: None,
            reason: "entries lie past the chain's stored tip".into(),
        }),
        tip_matches: false,
        ..verdict
    })
}

/// Walks the chain's entries up to `tip` and compares its head with `tip`.
fn walk_to(db: &impl Sql, contact: &Contact, tip: &ChainTip) -> Result<Verdict, StoreError> {
    let mut walk = Walk::default();
    let mut after = 0u64;
    'pages: loop {
        let rows = db.run(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM interaction_entries WHERE contact_key = ? AND sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?"
            ),
            &[
                contact.key.into(),
                after.into(),
                tip.sequence.into(),
                PAGE.into(),
            ],
        )?;
        for row in &rows {
            after = match row.first() {
                Some(Value::Integer(s)) => *s as u64,
                _ => after,
            };
            if let Err(broken) = walk.push(contact, row) {
                return Ok(Verdict {
                    entries: walk.entries,
                    head: None,
                    broken: Some(broken),
                    tip_matches: false,
                });
            }
        }
        if (rows.len() as u64) < PAGE {
            break 'pages;
        }
    }
    let entries = walk.entries;
    match walk.verifier.finish() {
        Err(link) => Ok(Verdict {
            entries,
            head: None,
            broken: Some(Broken {
                sequence: link.sequence as i64,
                id: Some(link.id.to_string()),
                reason: link.reason.to_string(),
            }),
            tip_matches: false,
        }),
        Ok(head) => Ok(Verdict {
            entries,
            head: Some(head),
            broken: None,
            tip_matches: head.length == tip.sequence && head.hash == tip.hash,
        }),
    }
}

#[derive(Default)]
struct Walk {
    verifier: ChainVerifier,
    entries: u64,
    /// The interaction each entry so far is about.
    roots: HashMap<EntryId, u64>,
}

impl Walk {
    fn push(&mut self, contact: &Contact, row: &[Value]) -> Result<(), Broken> {
        let stored = decode(contact, row).map_err(|e| Broken {
            sequence: match e {
                StoreError::Corrupt { sequence, .. } => sequence,
                _ => -1,
            },
            id: None,
            reason: format!("unreadable: {e}"),
        })?;
        let entry = &stored.entry;
        self.verifier.push(entry).map_err(|link| Broken {
            sequence: link.sequence as i64,
            id: Some(link.id.to_string()),
            reason: link.reason.to_string(),
        })?;
        let expected = match &entry.body {
            EntryBody::Interaction { .. } => None,
            EntryBody::Amendment { amends: of, .. }
            | EntryBody::Disposal(interactions_rules::Disposal { disposes: of, .. }) => {
                self.roots.get(of).copied()
            }
        };
        if expected != stored.root_sequence {
            return Err(Broken {
                sequence: entry.sequence as i64,
                id: Some(entry.id.to_string()),
                reason: "root_sequence does not name the interaction the entry is about".into(),
            });
        }
        self.roots.insert(entry.id.clone(), stored.root());
        self.entries += 1;
        Ok(())
    }
}
