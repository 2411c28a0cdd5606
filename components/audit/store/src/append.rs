//! Appending to the chain from its tip.

use std::borrow::Cow;

use audit_chain::{Entry, GENESIS};
use crm_http::Problem;
use crm_sql::{Sql, Value};
use thiserror::Error;

use crate::entries::COLUMNS;
use crate::{StoreError, integer, run, text};

/// Attempts an append may lose to others before it gives up (each lost
/// attempt means another append succeeded, so the chain moves on).
const MAX_ATTEMPTS: usize = 100;

/// An entry to append: what happened; the chain gives it its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEntry<'a> {
    pub request_id: &'a str,
    pub actor_id: &'a str,
    pub role: &'a str,
    pub purpose: Option<&'a str>,
    pub action: &'a str,
    pub resource: &'a str,
    /// `allowed`, `denied` or `failed`.
    pub outcome: &'a str,
    pub subject_contact_id: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// The most characters an entry keeps of any of its texts: what a request
/// chooses (a path, a header) cannot grow the trail without bound.
pub const MAX_TEXT_CHARS: usize = 512;

/// `text` as the trail keeps it: control characters escaped (`\u{1}`), cut
/// to [`MAX_TEXT_CHARS`] characters with the cut marked `…`.
pub(crate) fn bounded(text: &str) -> Cow<'_, str> {
    if text.chars().count() <= MAX_TEXT_CHARS && !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut kept = String::new();
    let mut count = 0;
    for c in text.chars() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.into()
        };
        let len = piece.chars().count();
        if count + len >= MAX_TEXT_CHARS {
            kept.push('…');
            return Cow::Owned(kept);
        }
        kept.push_str(&piece);
        count += len;
    }
    Cow::Owned(kept)
}

/// A new entry's texts as the trail keeps them ([`bounded`]).
struct Kept<'a> {
    request_id: Cow<'a, str>,
    actor_id: Cow<'a, str>,
    role: Cow<'a, str>,
    purpose: Option<Cow<'a, str>>,
    action: Cow<'a, str>,
    resource: Cow<'a, str>,
    outcome: Cow<'a, str>,
    subject_contact_id: Option<Cow<'a, str>>,
    detail: Option<Cow<'a, str>>,
}

impl<'a> NewEntry<'a> {
    fn kept(&self) -> Kept<'a> {
        Kept {
            request_id: bounded(self.request_id),
            actor_id: bounded(self.actor_id),
            role: bounded(self.role),
            purpose: self.purpose.map(bounded),
            action: bounded(self.action),
            resource: bounded(self.resource),
            outcome: bounded(self.outcome),
            subject_contact_id: self.subject_contact_id.map(bounded),
            detail: self.detail.map(bounded),
        }
    }
}

impl Kept<'_> {
    fn at(&self, sequence: u64, recorded_at: i64) -> Entry<'_> {
        Entry {
            sequence,
            recorded_at,
            request_id: &self.request_id,
            actor_id: &self.actor_id,
            role: &self.role,
            purpose: self.purpose.as_deref(),
            action: &self.action,
            resource: &self.resource,
            outcome: &self.outcome,
            subject_contact_id: self.subject_contact_id.as_deref(),
            detail: self.detail.as_deref(),
        }
    }
}

/// Where an appended entry landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub sequence: u64,
    pub hash: String,
    pub recorded_at: i64,
}

#[derive(Debug, Error)]
pub enum AppendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the audit trail is too busy to append to; try again")]
    Busy,
}

impl From<crm_sql::SqlError> for AppendError {
    fn from(e: crm_sql::SqlError) -> Self {
        Self::Store(e.into())
    }
}

impl From<AppendError> for Problem {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Store(e) => e.into(),
            AppendError::Busy => Problem::unavailable(e.to_string()),
        }
    }
}

/// Entries per INSERT: 13 variables each (and one for the guard), well
/// under SQLite's 32,766 variables per statement.
const ENTRIES_PER_STATEMENT: usize = 1_000;

/// Appends `entries` in order, all or none, each recorded at `now()` (but
/// never earlier than the entry before: times follow the chain).
///
/// Extends the chain from its tip with one guarded statement: the INSERT
/// adds nothing if another append extended the chain since the tip was
/// read, and then the append reads the new tip and tries again. So no
/// transaction stays open while the entries are hashed, and the write lock
/// is held for one statement. More entries than one statement binds are
/// appended in one transaction ([`append_in_transaction`]).
pub fn append(
    db: &impl Sql,
    entries: &[NewEntry<'_>],
    now: impl Fn() -> i64,
) -> Result<Vec<Receipt>, AppendError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // SQLite's NORMAL, on whichever connection appends (a freshly migrated
    // one too): a read's entry is in the WAL when the read is answered,
    // where it survives a crash of the runtime, and reaches the disk
    // moments later, so a read waits for no sync of its own. A request that
    // changes data commits FULL, and is answered only once its entries are
    // durable too (crm-host settles a request's NORMAL commits with its FULL
    // ones; in rollback-journal mode NORMAL syncs at commit anyway). Speed
    // only, never correctness: a backend that refuses the pragma (libSQL)
    // appends at its own durability.
    let _ = db.run("PRAGMA synchronous = NORMAL", &[]);
    if entries.len() > ENTRIES_PER_STATEMENT {
        return crm_sql::transaction(db, || append_in_transaction(db, entries, now));
    }
    for _ in 0..MAX_ATTEMPTS {
        let tip = tip(db)?;
        let (params, receipts) = chained(&tip, entries, &now);
        if insert(db, params, Some(tip.sequence))? {
            return Ok(receipts);
        }
    }
    Err(AppendError::Busy)
}

/// Appends `entries` in order for a caller inside a write transaction
/// (`BEGIN IMMEDIATE`): the tip cannot move under it, so the entries go in
/// as many statements as they need, and commit with the caller's own writes
/// or roll back with them. The connection's `synchronous` is left as the
/// caller has it.
pub fn append_in_transaction(
    db: &impl Sql,
    entries: &[NewEntry<'_>],
    now: impl Fn() -> i64,
) -> Result<Vec<Receipt>, AppendError> {
    let tip = tip(db)?;
    let (params, receipts) = chained(&tip, entries, &now);
    for chunk in params.chunks(ENTRIES_PER_STATEMENT * COLUMN_COUNT) {
        insert(db, chunk.to_vec(), None)?;
    }
    Ok(receipts)
}

/// The newest entry: its sequence, hash and time.
struct Tip {
    sequence: u64,
    hash: String,
    recorded_at: i64,
}

fn tip(db: &impl Sql) -> Result<Tip, StoreError> {
    let rows = run(
        db,
        "SELECT sequence, hash, recorded_at FROM audit_entries ORDER BY sequence DESC LIMIT 1",
        &[],
    )?;
    Ok(match rows.first() {
        Some(row) => Tip {
            sequence: integer(&row[0]).unwrap_or(0) as u64,
            hash: text(&row[1]).unwrap_or_default(),
            recorded_at: integer(&row[2]).unwrap_or(0),
        },
        None => Tip {
            sequence: 0,
            hash: GENESIS.to_string(),
            recorded_at: 0,
        },
    })
}

/// `entries` chained onto `tip`: every entry's column values in order, and
/// where each lands.
fn chained(
    tip: &Tip,
    entries: &[NewEntry<'_>],
    now: &impl Fn() -> i64,
) -> (Vec<Value>, Vec<Receipt>) {
    let recorded_at = now().max(tip.recorded_at);
    let mut prev_hash = tip.hash.clone();
    let mut params = Vec::with_capacity(entries.len() * COLUMN_COUNT + 1);
    let mut receipts = Vec::with_capacity(entries.len());
    for (sequence, new) in (tip.sequence + 1..).zip(entries) {
        let kept = new.kept();
        let entry = kept.at(sequence, recorded_at);
        let hash = entry.hash(&prev_hash);
        push_columns(&entry, &prev_hash, &hash, &mut params);
        prev_hash = hash.clone();
        receipts.push(Receipt {
            sequence,
            hash,
            recorded_at,
        });
    }
    (params, receipts)
}

/// Inserts the entries whose column values are `params`. Guarded by the
/// tip's sequence, it inserts nothing (and answers `false`) if the chain
/// has moved past that tip.
fn insert(db: &impl Sql, mut params: Vec<Value>, guard: Option<u64>) -> Result<bool, StoreError> {
    let rows = vec![format!("({})", ["?"; COLUMN_COUNT].join(", ")); params.len() / COLUMN_COUNT]
        .join(", ");
    let Some(tip_sequence) = guard else {
        run(
            db,
            &format!("INSERT INTO audit_entries ({COLUMNS}) VALUES {rows}"),
            &params,
        )?;
        return Ok(true);
    };
    params.push(tip_sequence.into());
    let insert = format!(
        "INSERT INTO audit_entries ({COLUMNS}) SELECT * FROM (VALUES {rows}) \
         WHERE NOT EXISTS (SELECT 1 FROM audit_entries WHERE sequence > ?) RETURNING sequence"
    );
    Ok(!run(db, &insert, &params)?.is_empty())
}

/// Values per entry, in [`COLUMNS`] order.
const COLUMN_COUNT: usize = 13;

/// Pushes `entry`'s column values, in [`COLUMNS`] order.
fn push_columns(entry: &Entry<'_>, prev_hash: &str, hash: &str, params: &mut Vec<Value>) {
    params.extend([
        entry.sequence.into(),
        entry.recorded_at.into(),
        entry.request_id.into(),
        entry.actor_id.into(),
        entry.role.into(),
        entry.purpose.into(),
        entry.action.into(),
        entry.resource.into(),
        entry.outcome.into(),
        entry.subject_contact_id.into(),
        entry.detail.into(),
        prev_hash.into(),
        hash.into(),
    ]);
}
