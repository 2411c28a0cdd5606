//! The outbox rows (`notifications`) and their status history: reading,
//! inserting, and moving a message from one status to the next.

use crm_component_support::{integer, query, text};
use crm_http::Problem;
use crm_templates::TemplateType;
use notification_rules::NotificationStatus;
use spin_sdk::sqlite::{Connection, RowResult as Row, Value};

/// One message, as stored.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub channel: TemplateType,
    pub template_id: String,
    pub template_version: u32,
    pub purpose: String,
    pub contact_id: Option<String>,
    /// Email address, E.164 number, the contact id (portal) or the postal
    /// address lines as a JSON array (letter).
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub html: Option<String>,
    pub reference: Option<String>,
    pub status: NotificationStatus,
    pub consent_id: Option<String>,
    pub sender: String,
    pub sender_role: String,
    pub service_id: Option<String>,
    pub api_key_id: Option<String>,
    pub key_type: Option<String>,
    pub created_by_name: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub scheduled_for: Option<i64>,
    pub next_attempt_at: Option<i64>,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub updated_at: i64,
    pub interaction_id: Option<String>,
}

pub const COLUMNS: &str = "id, channel, template_id, template_version, purpose, contact_id, recipient, subject, body, html, reference, status, consent_id, sender, sender_role, service_id, api_key_id, key_type, created_by_name, idempotency_key, request_hash, scheduled_for, next_attempt_at, attempts, provider, provider_reference, failure_reason, created_at, sent_at, completed_at, updated_at, interaction_id";

fn opt_text(value: Option<&String>) -> Value {
    value.map_or(Value::Null, |v| Value::Text(v.clone()))
}

fn opt_int(value: Option<i64>) -> Value {
    value.map_or(Value::Null, Value::Integer)
}

impl Message {
    pub fn from_row(row: &Row) -> Result<Self, Problem> {
        let v = &row.values;
        let corrupt =
            |what: &str| Problem::internal(format!("stored notification has a bad {what}"));
        let s = |i: usize| text(&v[i]);
        Ok(Self {
            id: s(0).unwrap_or_default(),
            channel: s(1)
                .as_deref()
                .and_then(TemplateType::parse)
                .ok_or_else(|| corrupt("channel"))?,
            template_id: s(2).unwrap_or_default(),
            template_version: integer(&v[3]).unwrap_or(1) as u32,
            purpose: s(4).unwrap_or_default(),
            contact_id: s(5),
            recipient: s(6).unwrap_or_default(),
            subject: s(7),
            body: s(8).unwrap_or_default(),
            html: s(9),
            reference: s(10),
            status: s(11)
                .as_deref()
                .and_then(NotificationStatus::parse)
                .ok_or_else(|| corrupt("status"))?,
            consent_id: s(12),
            sender: s(13).unwrap_or_default(),
            sender_role: s(14).unwrap_or_default(),
            service_id: s(15),
            api_key_id: s(16),
            key_type: s(17),
            created_by_name: s(18),
            idempotency_key: s(19),
            request_hash: s(20),
            scheduled_for: integer(&v[21]),
            next_attempt_at: integer(&v[22]),
            attempts: integer(&v[23]).unwrap_or(0) as u32,
            provider: s(24),
            provider_reference: s(25),
            failure_reason: s(26),
            created_at: integer(&v[27]).unwrap_or_default(),
            sent_at: integer(&v[28]),
            completed_at: integer(&v[29]),
            updated_at: integer(&v[30]).unwrap_or_default(),
            interaction_id: s(31),
        })
    }

    /// Whether a test key sent it: nothing is delivered, outcomes are
    /// simulated.
    pub fn is_test(&self) -> bool {
        self.key_type.as_deref() == Some("test")
    }

    /// A letter's address lines.
    pub fn address_lines(&self) -> Vec<String> {
        if self.channel == TemplateType::Letter {
            serde_json::from_str(&self.recipient).unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    pub fn insert(&self, db: &Connection) -> Result<(), Problem> {
        let placeholders = vec!["?"; 32].join(", ");
        query(
            db,
            &format!("INSERT INTO notifications ({COLUMNS}) VALUES ({placeholders})"),
            &[
                Value::Text(self.id.clone()),
                Value::Text(self.channel.as_str().into()),
                Value::Text(self.template_id.clone()),
                Value::Integer(self.template_version.into()),
                Value::Text(self.purpose.clone()),
                opt_text(self.contact_id.as_ref()),
                Value::Text(self.recipient.clone()),
                opt_text(self.subject.as_ref()),
                Value::Text(self.body.clone()),
                opt_text(self.html.as_ref()),
                opt_text(self.reference.as_ref()),
                Value::Text(self.status.as_str().into()),
                opt_text(self.consent_id.as_ref()),
                Value::Text(self.sender.clone()),
                Value::Text(self.sender_role.clone()),
                opt_text(self.service_id.as_ref()),
                opt_text(self.api_key_id.as_ref()),
                opt_text(self.key_type.as_ref()),
                opt_text(self.created_by_name.as_ref()),
                opt_text(self.idempotency_key.as_ref()),
                opt_text(self.request_hash.as_ref()),
                opt_int(self.scheduled_for),
                opt_int(self.next_attempt_at),
                Value::Integer(self.attempts.into()),
                opt_text(self.provider.as_ref()),
                opt_text(self.provider_reference.as_ref()),
                opt_text(self.failure_reason.as_ref()),
                Value::Integer(self.created_at),
                opt_int(self.sent_at),
                opt_int(self.completed_at),
                Value::Integer(self.updated_at),
                opt_text(self.interaction_id.as_ref()),
            ],
        )?;
        append_event(db, &self.id, self.status, self.created_at, None)
    }

    /// Writes back what delivery changes: status, schedule, attempts,
    /// provider, failure and times.
    pub fn save_progress(&self, db: &Connection) -> Result<(), Problem> {
        query(
            db,
            "UPDATE notifications SET status = ?, next_attempt_at = ?, attempts = ?, provider = ?, provider_reference = ?, failure_reason = ?, sent_at = ?, completed_at = ?, updated_at = ? WHERE id = ?",
            &[
                Value::Text(self.status.as_str().into()),
                opt_int(self.next_attempt_at),
                Value::Integer(self.attempts.into()),
                opt_text(self.provider.as_ref()),
                opt_text(self.provider_reference.as_ref()),
                opt_text(self.failure_reason.as_ref()),
                opt_int(self.sent_at),
                opt_int(self.completed_at),
                Value::Integer(self.updated_at),
                Value::Text(self.id.clone()),
            ],
        )
        .map(drop)
    }

    /// Moves to `to` if the status rules allow it (a late or repeated
    /// receipt never changes a final outcome), noting the event; the caller
    /// saves. Returns whether it moved.
    pub fn move_to(
        &mut self,
        db: &Connection,
        to: NotificationStatus,
        at: i64,
        detail: Option<&str>,
    ) -> Result<bool, Problem> {
        if !NotificationStatus::can_transition(self.status, to) {
            return Ok(false);
        }
        self.status = to;
        self.updated_at = at;
        if to.is_final() {
            self.completed_at = Some(at);
            self.next_attempt_at = None;
        }
        append_event(db, &self.id, to, at, detail)?;
        Ok(true)
    }
}

fn append_event(
    db: &Connection,
    id: &str,
    status: NotificationStatus,
    at: i64,
    detail: Option<&str>,
) -> Result<(), Problem> {
    query(
        db,
        "INSERT INTO notification_status_events (notification_id, status, at, detail) VALUES (?, ?, ?, ?)",
        &[
            Value::Text(id.into()),
            Value::Text(status.as_str().into()),
            Value::Integer(at),
            detail.map_or(Value::Null, |d| Value::Text(d.into())),
        ],
    )
    .map(drop)
}

pub fn load(db: &Connection, id: &str) -> Result<Option<Message>, Problem> {
    let rows = query(
        db,
        &format!("SELECT {COLUMNS} FROM notifications WHERE id = ?"),
        &[Value::Text(id.to_string())],
    )?;
    rows.rows.first().map(Message::from_row).transpose()
}

pub fn load_where(
    db: &Connection,
    condition: &str,
    params: &[Value],
) -> Result<Vec<Message>, Problem> {
    let rows = query(
        db,
        &format!("SELECT {COLUMNS} FROM notifications WHERE {condition}"),
        params,
    )?;
    rows.rows.iter().map(Message::from_row).collect()
}

/// The message a sender already made with this idempotency key.
pub fn by_idempotency_key(
    db: &Connection,
    sender: &str,
    key: &str,
) -> Result<Option<Message>, Problem> {
    Ok(load_where(
        db,
        "sender = ? AND idempotency_key = ?",
        &[Value::Text(sender.into()), Value::Text(key.into())],
    )?
    .into_iter()
    .next())
}

/// Status history, oldest first.
pub fn events(db: &Connection, id: &str) -> Result<Vec<serde_json::Value>, Problem> {
    let rows = query(
        db,
        "SELECT status, at, detail FROM notification_status_events WHERE notification_id = ? ORDER BY sequence",
        &[Value::Text(id.into())],
    )?;
    Ok(rows
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "status": text(&r.values[0]),
                "at": crm_domain::rfc3339_utc(integer(&r.values[1]).unwrap_or_default()),
                "detail": text(&r.values[2]),
            })
        })
        .collect())
}
