//! Per-channel do-not-contact entries and their lifts (a lift is its own
//! row: the entry itself never changes).

use consent_rules::{Suppression, stored_suppression};
use crm_sql::Sql;

use crate::{StoreError, integer, run, text};

/// A do-not-contact entry as stored, with its lift if it was lifted.
#[derive(Debug, Clone)]
pub struct SuppressionEntry {
    pub id: String,
    pub contact_id: String,
    pub channel: String,
    pub reason: String,
    pub note: Option<String>,
    pub since_ms: i64,
    pub until_ms: Option<i64>,
    pub created_at_ms: i64,
    pub created_by: String,
    pub lift: Option<Lift>,
}

#[derive(Debug, Clone)]
pub struct Lift {
    pub at_ms: i64,
    pub by: String,
    pub reason: String,
}

impl SuppressionEntry {
    /// What the consent check sees: `None` when a lift voided it.
    pub fn suppression(&self) -> Result<Option<Suppression>, StoreError> {
        stored_suppression(
            &self.id,
            &self.contact_id,
            &self.channel,
            &self.reason,
            self.since_ms,
            self.until_ms,
            self.lift.as_ref().map(|l| l.at_ms),
        )
        .map_err(StoreError::from)
    }
}

/// Which do-not-contact entries to read.
#[derive(Debug, Clone, Copy)]
pub enum Suppressions<'a> {
    OfContact(&'a str),
    Id(&'a str),
}

/// Do-not-contact entries, oldest first.
pub fn suppressions(
    db: &impl Sql,
    which: Suppressions<'_>,
) -> Result<Vec<SuppressionEntry>, StoreError> {
    let (filter, id) = match which {
        Suppressions::OfContact(contact) => ("s.contact_id = ?", contact),
        Suppressions::Id(id) => ("s.id = ?", id),
    };
    Ok(run(
        db,
        &format!(
            "SELECT s.id, s.contact_id, s.channel, s.reason, s.note, s.since, s.until,
                    s.created_at, s.created_by, l.lifted_at, l.lifted_by, l.reason
             FROM consent_suppressions s
             LEFT JOIN consent_suppression_lifts l ON l.suppression_id = s.id
             WHERE {filter} ORDER BY s.created_at, s.rowid"
        ),
        &[id.into()],
    )?
    .iter()
    .map(|v| SuppressionEntry {
        id: text(&v[0]).unwrap_or_default(),
        contact_id: text(&v[1]).unwrap_or_default(),
        channel: text(&v[2]).unwrap_or_default(),
        reason: text(&v[3]).unwrap_or_default(),
        note: text(&v[4]),
        since_ms: integer(&v[5]).unwrap_or_default(),
        until_ms: integer(&v[6]),
        created_at_ms: integer(&v[7]).unwrap_or_default(),
        created_by: text(&v[8]).unwrap_or_default(),
        lift: integer(&v[9]).map(|at_ms| Lift {
            at_ms,
            by: text(&v[10]).unwrap_or_default(),
            reason: text(&v[11]).unwrap_or_default(),
        }),
    })
    .collect())
}

/// A do-not-contact entry to add.
#[derive(Debug, Clone, Copy)]
pub struct NewSuppression<'a> {
    pub id: &'a str,
    pub suppression: &'a Suppression,
    pub note: Option<&'a str>,
    pub created_at_ms: i64,
    pub created_by: &'a str,
}

pub fn insert_suppression(db: &impl Sql, new: NewSuppression<'_>) -> Result<(), StoreError> {
    let s = new.suppression;
    run(
        db,
        "INSERT INTO consent_suppressions (id, contact_id, channel, reason, note, since, until, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            new.id.into(),
            s.contact_id().to_string().into(),
            s.channel().to_string().into(),
            s.reason().to_string().into(),
            new.note.into(),
            s.since_ms().into(),
            s.until_ms().into(),
            new.created_at_ms.into(),
            new.created_by.into(),
        ],
    )
    .map(drop)
}

/// Whether entry `id` was lifted; read it in the transaction that lifts it.
pub fn is_lifted(db: &impl Sql, id: &str) -> Result<bool, StoreError> {
    let rows = run(
        db,
        "SELECT 1 FROM consent_suppression_lifts WHERE suppression_id = ?",
        &[id.into()],
    )?;
    Ok(!rows.is_empty())
}

/// Lifts entry `id`.
pub fn insert_lift(db: &impl Sql, id: &str, lift: &Lift) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO consent_suppression_lifts (suppression_id, lifted_at, lifted_by, reason) VALUES (?, ?, ?, ?)",
        &[
            id.into(),
            lift.at_ms.into(),
            lift.by.as_str().into(),
            lift.reason.as_str().into(),
        ],
    )
    .map(drop)
}
