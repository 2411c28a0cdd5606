//! The consent tables (migration 0005), the one place their rows are read
//! and written, shared by the `consent` HTTP component and the
//! `consent-leaf`. Rows are read back through `consent-rules`'s checks
//! ([`consent_rules::StoredRecord`] and friends); nothing is cached, so every
//! answer is the system of record's. The caller holds the transaction
//! (`BEGIN IMMEDIATE`) a change's reads and writes share.

mod catalogue;
mod links;
mod suppressions;
mod withdrawal;

#[cfg(test)]
mod tests;

use consent_rules::{
    Appended, Channel, ConsentRecord, ContactId, CorruptRow, Decision, PurposeId, Reason,
    StoredEvent, StoredRecord, decide, stored_purpose, stored_suppression,
};
use crm_http::Problem;
use crm_sql::{Row, Sql, SqlError, Value, integer, text};
use thiserror::Error;

pub use catalogue::{
    LatestRevision, PurposeEntry, current_purpose, insert_notice, insert_purpose, latest_revision,
    notice, notices, purpose_at, purposes,
};
pub use links::{Redemption, insert_redemption, nonce_used};
pub use suppressions::{
    Lift, NewSuppression, SuppressionEntry, Suppressions, insert_lift, insert_suppression,
    is_lifted, suppressions,
};
pub use withdrawal::{write_record_plan, write_withdrawal};

/// Why the store could not answer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// What the database said is in the log ([`run`]).
    #[error("database: {0}")]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
    /// A row the change needs is not there.
    #[error("{0}")]
    Missing(&'static str),
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            // SQLite's words name tables and columns, so they went to the
            // log, not to the caller.
            StoreError::Sql(_) => {
                Problem::internal("a database statement failed (the details are in the log)")
            }
            StoreError::Corrupt(_) | StoreError::Missing(_) => Problem::internal(e.to_string()),
        }
    }
}

/// Runs one statement, logging a failure with the statement that failed.
fn run(db: &impl Sql, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
    crm_sql::run_logged(db, sql, params).map_err(StoreError::Sql)
}

/// Which consent records to read.
#[derive(Debug, Clone, Copy)]
pub enum Records<'a> {
    /// All of a contact's records: their current consents and full history.
    OfContact(&'a str),
    /// The records no other record supersedes for one contact, purpose and
    /// channel: the one that rules, normally alone.
    Current {
        contact: &'a str,
        purpose: &'a str,
        channel: Channel,
    },
    /// One record.
    Id(&'a str),
}

/// A record's columns and one of its events' (NULLs when it has none yet),
/// as [`RecordRows`] reads them.
const RECORD_COLUMNS: &str = "r.id, r.contact_id, r.grantor_id, r.grantor_relationship, r.purpose,
    r.lawful_basis, r.data_categories, r.channel, r.decision, r.notice_id, r.notice_version,
    r.collection, r.given_at, r.valid_until, r.recorded_at, r.supersedes,
    e.at, e.kind, e.actor_kind, e.actor_id, e.via, e.superseded_by";
const RECORD_FROM: &str = "consent_records r LEFT JOIN consent_events e ON e.record_id = r.id";
/// Oldest record first (ties in the order stored), events as appended.
const RECORD_ORDER: &str = "r.recorded_at, r.rowid, e.id";
/// Only the records no other record supersedes.
const NOT_SUPERSEDED: &str =
    "NOT EXISTS (SELECT 1 FROM consent_records s WHERE s.supersedes = r.id)";

/// Gathers records from rows of [`RECORD_COLUMNS`], one row per event.
#[derive(Default)]
struct RecordRows(Vec<(StoredRecord, Vec<StoredEvent>)>);

impl RecordRows {
    fn push(&mut self, v: &[Value]) {
        let id = text(&v[0]).unwrap_or_default();
        if self.0.last().is_none_or(|(r, _)| r.id != id) {
            self.0.push((
                StoredRecord {
                    id: id.clone(),
                    contact_id: text(&v[1]).unwrap_or_default(),
                    grantor_id: text(&v[2]),
                    grantor_relationship: text(&v[3]),
                    purpose: text(&v[4]).unwrap_or_default(),
                    lawful_basis: text(&v[5]).unwrap_or_default(),
                    data_categories: text(&v[6]).unwrap_or_default(),
                    channel: text(&v[7]).unwrap_or_default(),
                    decision: text(&v[8]).unwrap_or_default(),
                    notice_id: text(&v[9]).unwrap_or_default(),
                    notice_version: integer(&v[10]).unwrap_or_default(),
                    collection: text(&v[11]).unwrap_or_default(),
                    given_at_ms: integer(&v[12]).unwrap_or_default(),
                    valid_until_ms: integer(&v[13]),
                    recorded_at_ms: integer(&v[14]).unwrap_or_default(),
                    supersedes: text(&v[15]),
                },
                Vec::new(),
            ));
        }
        if let Some(kind) = text(&v[17]) {
            let events = &mut self.0.last_mut().expect("pushed above").1;
            events.push(StoredEvent {
                record_id: id,
                at_ms: integer(&v[16]).unwrap_or_default(),
                kind,
                actor_kind: text(&v[18]).unwrap_or_default(),
                actor_id: text(&v[19]),
                via: text(&v[20]).unwrap_or_default(),
                superseded_by: text(&v[21]),
            });
        }
    }

    fn into_records(self) -> Result<Vec<ConsentRecord>, StoreError> {
        self.0
            .into_iter()
            .map(|(record, events)| Ok(record.into_record(events)?))
            .collect()
    }
}

/// The records `which` names, each with its events in the order appended,
/// oldest record first (ties in the order stored).
pub fn records(db: &impl Sql, which: Records<'_>) -> Result<Vec<ConsentRecord>, StoreError> {
    let (filter, params) = match which {
        Records::OfContact(contact) => (
            "r.contact_id = ?".to_string(),
            vec![Value::Text(contact.into())],
        ),
        Records::Current {
            contact,
            purpose,
            channel,
        } => (
            format!("r.contact_id = ? AND r.purpose = ? AND r.channel = ? AND {NOT_SUPERSEDED}"),
            vec![
                Value::Text(contact.into()),
                Value::Text(purpose.into()),
                Value::Text(channel.to_string()),
            ],
        ),
        Records::Id(id) => ("r.id = ?".to_string(), vec![Value::Text(id.into())]),
    };
    let rows = run(
        db,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE {filter} ORDER BY {RECORD_ORDER}"
        ),
        &params,
    )?;
    let mut records = RecordRows::default();
    for row in &rows {
        records.push(row);
    }
    records.into_records()
}

/// The contact a record is about, without reading the rest of it (to
/// authorise before disclosing anything).
pub fn record_contact(db: &impl Sql, id: &str) -> Result<Option<String>, StoreError> {
    let rows = run(
        db,
        "SELECT contact_id FROM consent_records WHERE id = ?",
        &[id.into()],
    )?;
    Ok(rows.first().and_then(|r| text(&r[0])))
}

/// Who stored a row and in which request.
#[derive(Debug, Clone, Copy)]
pub struct Written<'a> {
    pub by: &'a str,
    pub request_id: &'a str,
    pub at_ms: i64,
}

/// Inserts a new record with its events.
pub fn insert_record(
    db: &impl Sql,
    record: &ConsentRecord,
    written: Written<'_>,
) -> Result<(), StoreError> {
    let row = StoredRecord::from_record(record);
    run(
        db,
        "INSERT INTO consent_records (id, contact_id, grantor_id, grantor_relationship, purpose,
             lawful_basis, data_categories, channel, decision, notice_id, notice_version,
             collection, given_at, valid_until, recorded_at, recorded_by, request_id, supersedes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(row.id),
            Value::Text(row.contact_id),
            row.grantor_id.into(),
            row.grantor_relationship.into(),
            Value::Text(row.purpose),
            Value::Text(row.lawful_basis),
            Value::Text(row.data_categories),
            Value::Text(row.channel),
            Value::Text(row.decision),
            Value::Text(row.notice_id),
            Value::Integer(row.notice_version),
            Value::Text(row.collection),
            Value::Integer(row.given_at_ms),
            row.valid_until_ms.into(),
            Value::Integer(row.recorded_at_ms),
            Value::Text(written.by.into()),
            Value::Text(written.request_id.into()),
            row.supersedes.into(),
        ],
    )?;
    for event in &record.events {
        append_event(
            db,
            &Appended {
                record_id: record.id.clone(),
                event: event.clone(),
            },
            written,
        )?;
    }
    Ok(())
}

/// Appends one event to a record.
pub fn append_event(
    db: &impl Sql,
    appended: &Appended,
    written: Written<'_>,
) -> Result<(), StoreError> {
    let row = StoredEvent::from_event(&appended.record_id, &appended.event);
    run(
        db,
        "INSERT INTO consent_events (record_id, at, kind, actor_kind, actor_id, via, superseded_by,
             recorded_at, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(row.record_id),
            Value::Integer(row.at_ms),
            Value::Text(row.kind),
            Value::Text(row.actor_kind),
            row.actor_id.into(),
            Value::Text(row.via),
            row.superseded_by.into(),
            Value::Integer(written.at_ms),
            Value::Text(written.request_id.into()),
        ],
    )
    .map(drop)
}

/// Writes an event to the shared outbox (migration 0003); call it inside
/// the transaction that makes the change it announces.
pub fn outbox(
    db: &impl Sql,
    topic: &str,
    aggregate_id: &str,
    payload: &str,
    written: Written<'_>,
) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO outbox_events (topic, aggregate_id, payload, occurred_at, request_id)
         VALUES (?, ?, ?, ?, ?)",
        &[
            Value::Text(topic.into()),
            Value::Text(aggregate_id.into()),
            Value::Text(payload.into()),
            Value::Integer(written.at_ms),
            Value::Text(written.request_id.into()),
        ],
    )
    .map(drop)
}

/// Why a check could not be answered at all (as opposed to a denial).
#[derive(Debug)]
pub enum CheckError {
    /// The caller named no valid contact id.
    BadContact(String),
    /// The database failed or holds a row that fails its checks.
    Store(StoreError),
}

impl CheckError {
    /// What the caller is told.
    pub fn detail(self) -> String {
        match self {
            Self::BadContact(reason) => format!("contact: {reason}"),
            Self::Store(e) => Problem::from(e).detail,
        }
    }
}

impl From<StoreError> for CheckError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Everything a check reads, in one statement (each statement is a trip
/// through the host): the purpose's current revision (`p` rows: id,
/// category, basis, description), the contact's do-not-contact entries on
/// the channel with their lifts (`s`: id, contact, channel, reason, since,
/// until, lifted at) and the records that rule for the contact, purpose and
/// channel with their events (`r`: [`RECORD_COLUMNS`]). ?1 purpose,
/// ?2 contact, ?3 channel.
fn check_sql() -> String {
    let pad = |n: usize| vec!["NULL"; n].join(", ");
    format!(
        "SELECT 'p', id, category, lawful_basis, description, {p_pad}
           FROM consent_purposes p
          WHERE id = ?1 AND revision = (SELECT MAX(revision) FROM consent_purposes q WHERE q.id = ?1)
         UNION ALL
         SELECT 's', s.id, s.contact_id, s.channel, s.reason, s.since, s.until, l.lifted_at, {s_pad}
           FROM consent_suppressions s
           LEFT JOIN consent_suppression_lifts l ON l.suppression_id = s.id
          WHERE s.contact_id = ?2 AND s.channel = ?3
         UNION ALL
         SELECT 'r', {RECORD_COLUMNS}, r.rowid, e.id
           FROM {RECORD_FROM}
          WHERE r.contact_id = ?2 AND r.purpose = ?1 AND r.channel = ?3 AND {NOT_SUPERSEDED}
         ORDER BY 1, 16, 24, 25",
        p_pad = pad(20),
        s_pad = pad(17),
    )
}

/// May `contact` be processed or contacted for `purpose` over `channel` at
/// `at_ms`? Reads the purpose, the channel's do-not-contact entries and the
/// ruling record afresh (one statement), then applies
/// [`consent_rules::decide`]. A channel consent does not cover (`None`) is
/// `unsupported-channel`; an unknown purpose is `unknown-purpose`.
pub fn check(
    db: &impl Sql,
    contact: &str,
    purpose: &str,
    channel: Option<Channel>,
    at_ms: i64,
) -> Result<Decision, CheckError> {
    let contact_id = ContactId::parse(contact).map_err(|e| CheckError::BadContact(e.0))?;
    let Some(channel) = channel else {
        return Ok(Decision::unanswerable(Reason::UnsupportedChannel));
    };
    if PurposeId::parse(purpose).is_err() {
        return Ok(Decision::unanswerable(Reason::UnknownPurpose));
    }
    let rows = run(
        db,
        &check_sql(),
        &[
            Value::Text(purpose.into()),
            Value::Text(contact.into()),
            Value::Text(channel.to_string()),
        ],
    )?;
    let mut found = None;
    let mut active = Vec::new();
    let mut records = RecordRows::default();
    for v in &rows {
        let field = |i: usize| text(&v[i]).unwrap_or_default();
        match text(&v[0]).as_deref() {
            Some("p") => {
                found = Some(
                    stored_purpose(&field(1), &field(2), &field(3), &field(4))
                        .map_err(StoreError::from)?,
                );
            }
            Some("s") => active.extend(
                stored_suppression(
                    &field(1),
                    &field(2),
                    &field(3),
                    &field(4),
                    integer(&v[5]).unwrap_or_default(),
                    integer(&v[6]),
                    integer(&v[7]),
                )
                .map_err(StoreError::from)?,
            ),
            _ => records.push(&v[1..]),
        }
    }
    let Some(purpose) = found else {
        return Ok(Decision::unanswerable(Reason::UnknownPurpose));
    };
    // `decide` weighs the entries only for purposes that contact the
    // person, and the records only for purposes resting on consent.
    Ok(decide(
        &contact_id,
        &purpose,
        channel,
        &records.into_records()?,
        &active,
        at_ms,
    ))
}
