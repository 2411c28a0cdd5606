//! The consent tables (migration 0005) on Spin SQLite, shared by the
//! `consent` HTTP component and the `consent-leaf`. Rows are read back
//! through `consent-rules`'s checks ([`consent_rules::StoredRecord`] and
//! friends); nothing is cached, so every answer is the system of record's.

use consent_rules::{
    Appended, Channel, ConsentRecord, ContactId, CorruptRow, Decision, PrivacyNotice, Purpose,
    PurposeId, Reason, StoredEvent, StoredNotice, StoredRecord, Suppression, decide,
    stored_purpose, stored_suppression,
};
use crm_component_support::{integer, query, text};
use crm_http::Problem;
use spin_sdk::sqlite::{Connection, Value};

fn corrupt(e: CorruptRow) -> Problem {
    Problem::internal(e.to_string())
}

fn opt_text(value: Option<String>) -> Value {
    value.map_or(Value::Null, Value::Text)
}

fn opt_integer(value: Option<i64>) -> Value {
    value.map_or(Value::Null, Value::Integer)
}

/// A purpose's current entry and its revision number.
#[derive(Debug, Clone)]
pub struct PurposeEntry {
    pub purpose: Purpose,
    pub revision: i64,
    pub revised_at_ms: i64,
    pub revised_by: String,
}

const PURPOSE_COLUMNS: &str =
    "id, revision, category, lawful_basis, description, revised_at, revised_by";

fn purpose_entries(
    db: &Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<PurposeEntry>, Problem> {
    query(db, sql, params)?
        .rows
        .iter()
        .map(|row| {
            let v = &row.values;
            Ok(PurposeEntry {
                purpose: stored_purpose(
                    &text(&v[0]).unwrap_or_default(),
                    &text(&v[2]).unwrap_or_default(),
                    &text(&v[3]).unwrap_or_default(),
                    &text(&v[4]).unwrap_or_default(),
                )
                .map_err(corrupt)?,
                revision: integer(&v[1]).unwrap_or_default(),
                revised_at_ms: integer(&v[5]).unwrap_or_default(),
                revised_by: text(&v[6]).unwrap_or_default(),
            })
        })
        .collect()
}

/// The current revision of every purpose, by id.
pub fn purposes(db: &Connection) -> Result<Vec<PurposeEntry>, Problem> {
    purpose_entries(
        db,
        &format!(
            "SELECT {PURPOSE_COLUMNS} FROM consent_purposes p
             WHERE revision = (SELECT MAX(revision) FROM consent_purposes q WHERE q.id = p.id)
             ORDER BY id"
        ),
        &[],
    )
}

/// The revision of purpose `id` in force at `at_ms` (the first one, for a
/// time before it existed); `None` for an unknown purpose.
pub fn purpose_at(db: &Connection, id: &str, at_ms: i64) -> Result<Option<PurposeEntry>, Problem> {
    Ok(purpose_entries(
        db,
        &format!(
            "SELECT {PURPOSE_COLUMNS} FROM consent_purposes WHERE id = ?1
             ORDER BY revised_at <= ?2 DESC,
                      CASE WHEN revised_at <= ?2 THEN revision ELSE -revision END DESC
             LIMIT 1"
        ),
        &[Value::Text(id.to_string()), Value::Integer(at_ms)],
    )?
    .pop())
}

/// The current revision of purpose `id`.
pub fn current_purpose(db: &Connection, id: &str) -> Result<Option<PurposeEntry>, Problem> {
    purpose_at(db, id, i64::MAX)
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

    fn into_records(self) -> Result<Vec<ConsentRecord>, Problem> {
        self.0
            .into_iter()
            .map(|(record, events)| record.into_record(events).map_err(corrupt))
            .collect()
    }
}

/// The records `which` names, each with its events in the order appended,
/// oldest record first (ties in the order stored).
pub fn records(db: &Connection, which: Records<'_>) -> Result<Vec<ConsentRecord>, Problem> {
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
    let rows = query(
        db,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE {filter} ORDER BY {RECORD_ORDER}"
        ),
        &params,
    )?;
    let mut records = RecordRows::default();
    for row in &rows.rows {
        records.push(&row.values);
    }
    records.into_records()
}

/// The contact a record is about, without reading the rest of it (to
/// authorise before disclosing anything).
pub fn record_contact(db: &Connection, id: &str) -> Result<Option<String>, Problem> {
    let rows = query(
        db,
        "SELECT contact_id FROM consent_records WHERE id = ?",
        &[Value::Text(id.into())],
    )?;
    Ok(rows.rows.first().and_then(|r| text(&r.values[0])))
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
    db: &Connection,
    record: &ConsentRecord,
    written: Written<'_>,
) -> Result<(), Problem> {
    let row = StoredRecord::from_record(record);
    query(
        db,
        "INSERT INTO consent_records (id, contact_id, grantor_id, grantor_relationship, purpose,
             lawful_basis, data_categories, channel, decision, notice_id, notice_version,
             collection, given_at, valid_until, recorded_at, recorded_by, request_id, supersedes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(row.id),
            Value::Text(row.contact_id),
            opt_text(row.grantor_id),
            opt_text(row.grantor_relationship),
            Value::Text(row.purpose),
            Value::Text(row.lawful_basis),
            Value::Text(row.data_categories),
            Value::Text(row.channel),
            Value::Text(row.decision),
            Value::Text(row.notice_id),
            Value::Integer(row.notice_version),
            Value::Text(row.collection),
            Value::Integer(row.given_at_ms),
            opt_integer(row.valid_until_ms),
            Value::Integer(row.recorded_at_ms),
            Value::Text(written.by.into()),
            Value::Text(written.request_id.into()),
            opt_text(row.supersedes),
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
    db: &Connection,
    appended: &Appended,
    written: Written<'_>,
) -> Result<(), Problem> {
    let row = StoredEvent::from_event(&appended.record_id, &appended.event);
    query(
        db,
        "INSERT INTO consent_events (record_id, at, kind, actor_kind, actor_id, via, superseded_by,
             recorded_at, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(row.record_id),
            Value::Integer(row.at_ms),
            Value::Text(row.kind),
            Value::Text(row.actor_kind),
            opt_text(row.actor_id),
            Value::Text(row.via),
            opt_text(row.superseded_by),
            Value::Integer(written.at_ms),
            Value::Text(written.request_id.into()),
        ],
    )
    .map(drop)
}

/// Writes an event to the shared outbox (migration 0003); call it inside
/// the transaction that makes the change it announces.
pub fn outbox(
    db: &Connection,
    topic: &str,
    aggregate_id: &str,
    payload: &str,
    written: Written<'_>,
) -> Result<(), Problem> {
    query(
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

/// One version of a privacy notice.
pub fn notice(db: &Connection, id: &str, version: i64) -> Result<Option<PrivacyNotice>, Problem> {
    Ok(notices(db, Some((id, Some(version))))?.pop())
}

/// Every privacy notice version (or those of one id, or one version), by
/// id and version.
pub fn notices(
    db: &Connection,
    which: Option<(&str, Option<i64>)>,
) -> Result<Vec<PrivacyNotice>, Problem> {
    let (filter, params) = match which {
        None => ("1", vec![]),
        Some((id, None)) => ("id = ?", vec![Value::Text(id.into())]),
        Some((id, Some(version))) => (
            "id = ? AND version = ?",
            vec![Value::Text(id.into()), Value::Integer(version)],
        ),
    };
    query(
        db,
        &format!(
            "SELECT id, version, language, title, text, url, published_at FROM privacy_notices
             WHERE {filter} ORDER BY id, version"
        ),
        &params,
    )?
    .rows
    .iter()
    .map(|row| {
        let v = &row.values;
        StoredNotice {
            id: text(&v[0]).unwrap_or_default(),
            version: integer(&v[1]).unwrap_or_default(),
            language: text(&v[2]).unwrap_or_default(),
            title: text(&v[3]).unwrap_or_default(),
            text: text(&v[4]),
            url: text(&v[5]),
            published_at_ms: integer(&v[6]).unwrap_or_default(),
        }
        .into_notice()
        .map_err(corrupt)
    })
    .collect()
}

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
    pub fn suppression(&self) -> Result<Option<Suppression>, Problem> {
        stored_suppression(
            &self.id,
            &self.contact_id,
            &self.channel,
            &self.reason,
            self.since_ms,
            self.until_ms,
            self.lift.as_ref().map(|l| l.at_ms),
        )
        .map_err(corrupt)
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
    db: &Connection,
    which: Suppressions<'_>,
) -> Result<Vec<SuppressionEntry>, Problem> {
    let (filter, id) = match which {
        Suppressions::OfContact(contact) => ("s.contact_id = ?", contact),
        Suppressions::Id(id) => ("s.id = ?", id),
    };
    Ok(query(
        db,
        &format!(
            "SELECT s.id, s.contact_id, s.channel, s.reason, s.note, s.since, s.until,
                    s.created_at, s.created_by, l.lifted_at, l.lifted_by, l.reason
             FROM consent_suppressions s
             LEFT JOIN consent_suppression_lifts l ON l.suppression_id = s.id
             WHERE {filter} ORDER BY s.created_at, s.rowid"
        ),
        &[Value::Text(id.into())],
    )?
    .rows
    .iter()
    .map(|row| {
        let v = &row.values;
        SuppressionEntry {
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
        }
    })
    .collect())
}

/// Why a check could not be answered at all (as opposed to a denial).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// The caller named no valid contact id.
    BadContact(String),
    /// The database failed or holds a row that fails its checks.
    Store(String),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadContact(reason) => write!(f, "contact: {reason}"),
            Self::Store(detail) => f.write_str(detail),
        }
    }
}

impl From<Problem> for CheckError {
    fn from(p: Problem) -> Self {
        Self::Store(p.detail)
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
    db: &Connection,
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
    let rows = query(
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
    for row in &rows.rows {
        let v = &row.values;
        let field = |i: usize| text(&v[i]).unwrap_or_default();
        match text(&v[0]).as_deref() {
            Some("p") => {
                found = Some(
                    stored_purpose(&field(1), &field(2), &field(3), &field(4)).map_err(corrupt)?,
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
                .map_err(corrupt)?,
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
