//! The outbox (`notifications`) and each message's status history
//! (`notification_status_events`): inserting, reading, moving a message
//! from one status to the next, and the claims that keep overlapping
//! requests from handing a message over, or recording it, twice.

use crm_sql::{Row, Sql, Value, placeholders, transaction};
use crm_templates::TemplateType;
use notification_rules::NotificationStatus;

use crate::StoreError;
use crm_sql::{integer, text};

/// One message, as stored.
#[derive(Debug, Clone, PartialEq)]
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
    /// The email address or number as the sender wrote it (Notify's `to`),
    /// when `recipient` holds it normalised.
    pub sent_to: Option<String>,
    pub one_click_unsubscribe_url: Option<String>,
    /// A letter's: `first`, `second` or `economy`.
    pub postage: Option<String>,
    /// What it went with (Notify's `reply_to_text`): an email's reply-to
    /// address, the sender a text message is from, a letter's contact block.
    pub reply_to: Option<String>,
    /// An email's or letter's body as Notify's API shows it (the template's
    /// text with the values filled in, line ends as written), where `body`
    /// is the plain text providers send.
    pub notify_body: Option<String>,
}

const COLUMNS: &str = "id, channel, template_id, template_version, purpose, contact_id, recipient, subject, body, html, reference, status, consent_id, sender, sender_role, service_id, api_key_id, key_type, created_by_name, idempotency_key, request_hash, scheduled_for, next_attempt_at, attempts, provider, provider_reference, failure_reason, created_at, sent_at, completed_at, updated_at, interaction_id, sent_to, one_click_unsubscribe_url, postage, reply_to, notify_body";

/// One step of a message's status history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEvent {
    pub status: Option<String>,
    pub at: i64,
    pub detail: Option<String>,
}

impl Message {
    fn from_row(v: &Row) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("notification has a bad {what}"));
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
            sent_to: s(32),
            one_click_unsubscribe_url: s(33),
            postage: s(34),
            reply_to: s(35),
            notify_body: s(36),
        })
    }

    /// Whether a test key sent it: nothing is delivered, outcomes are
    /// simulated.
    pub fn is_test(&self) -> bool {
        self.key_type.as_deref() == Some("test")
    }

    /// The body as Notify's API shows it.
    pub fn notify_body(&self) -> &str {
        self.notify_body.as_deref().unwrap_or(&self.body)
    }

    /// A letter's address lines.
    pub fn address_lines(&self) -> Vec<String> {
        if self.channel == TemplateType::Letter {
            serde_json::from_str(&self.recipient).unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    /// Enqueues the message, with the first event of its history. Fails on
    /// a sender's idempotency key already used (its unique index).
    pub fn insert(&self, db: &impl Sql) -> Result<(), StoreError> {
        db.run(
            &format!(
                "INSERT INTO notifications ({COLUMNS}) VALUES ({})",
                placeholders(37)
            ),
            &[
                self.id.as_str().into(),
                self.channel.as_str().into(),
                self.template_id.as_str().into(),
                i64::from(self.template_version).into(),
                self.purpose.as_str().into(),
                self.contact_id.clone().into(),
                self.recipient.as_str().into(),
                self.subject.clone().into(),
                self.body.as_str().into(),
                self.html.clone().into(),
                self.reference.clone().into(),
                self.status.as_str().into(),
                self.consent_id.clone().into(),
                self.sender.as_str().into(),
                self.sender_role.as_str().into(),
                self.service_id.clone().into(),
                self.api_key_id.clone().into(),
                self.key_type.clone().into(),
                self.created_by_name.clone().into(),
                self.idempotency_key.clone().into(),
                self.request_hash.clone().into(),
                self.scheduled_for.into(),
                self.next_attempt_at.into(),
                i64::from(self.attempts).into(),
                self.provider.clone().into(),
                self.provider_reference.clone().into(),
                self.failure_reason.clone().into(),
                self.created_at.into(),
                self.sent_at.into(),
                self.completed_at.into(),
                self.updated_at.into(),
                self.interaction_id.clone().into(),
                self.sent_to.clone().into(),
                self.one_click_unsubscribe_url.clone().into(),
                self.postage.clone().into(),
                self.reply_to.clone().into(),
                self.notify_body.clone().into(),
            ],
        )?;
        append_event(db, &self.id, self.status, self.created_at, None)
    }

    /// Writes back what delivery changes: status, schedule, attempts,
    /// provider, failure and times.
    pub fn save_progress(&self, db: &impl Sql) -> Result<(), StoreError> {
        db.run(
            "UPDATE notifications SET status = ?, next_attempt_at = ?, attempts = ?, provider = ?, provider_reference = ?, failure_reason = ?, sent_at = ?, completed_at = ?, updated_at = ? WHERE id = ?",
            &[
                self.status.as_str().into(),
                self.next_attempt_at.into(),
                i64::from(self.attempts).into(),
                self.provider.clone().into(),
                self.provider_reference.clone().into(),
                self.failure_reason.clone().into(),
                self.sent_at.into(),
                self.completed_at.into(),
                self.updated_at.into(),
                self.id.as_str().into(),
            ],
        )?;
        Ok(())
    }

    /// Moves to `to` if the status rules allow it (a late or repeated
    /// receipt never changes a final outcome), noting the event; the caller
    /// saves. Returns whether it moved.
    pub fn move_to(
        &mut self,
        db: &impl Sql,
        to: NotificationStatus,
        at: i64,
        detail: Option<&str>,
    ) -> Result<bool, StoreError> {
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
    db: &impl Sql,
    id: &str,
    status: NotificationStatus,
    at: i64,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO notification_status_events (notification_id, status, at, detail) VALUES (?, ?, ?, ?)",
        &[id.into(), status.as_str().into(), at.into(), detail.into()],
    )?;
    Ok(())
}

/// The messages matching `condition` (and its order and limit).
fn select(db: &impl Sql, condition: &str, params: &[Value]) -> Result<Vec<Message>, StoreError> {
    db.run(
        &format!("SELECT {COLUMNS} FROM notifications WHERE {condition}"),
        params,
    )?
    .iter()
    .map(Message::from_row)
    .collect()
}

fn first(messages: Vec<Message>) -> Option<Message> {
    messages.into_iter().next()
}

pub fn load(db: &impl Sql, id: &str) -> Result<Option<Message>, StoreError> {
    select(db, "id = ?", &[id.into()]).map(first)
}

/// The message a sender already made with this idempotency key.
pub fn by_idempotency_key(
    db: &impl Sql,
    sender: &str,
    key: &str,
) -> Result<Option<Message>, StoreError> {
    select(
        db,
        "sender = ? AND idempotency_key = ?",
        &[sender.into(), key.into()],
    )
    .map(first)
}

/// The message a provider knows by `reference`.
pub fn by_provider_reference(
    db: &impl Sql,
    provider: &str,
    reference: &str,
) -> Result<Option<Message>, StoreError> {
    select(
        db,
        "provider = ? AND provider_reference = ?",
        &[provider.into(), reference.into()],
    )
    .map(first)
}

/// Status history, oldest first.
pub fn events(db: &impl Sql, id: &str) -> Result<Vec<StatusEvent>, StoreError> {
    Ok(db
        .run(
            "SELECT status, at, detail FROM notification_status_events WHERE notification_id = ? ORDER BY sequence",
            &[id.into()],
        )?
        .iter()
        .map(|r| StatusEvent {
            status: text(&r[0]),
            at: integer(&r[1]).unwrap_or_default(),
            detail: text(&r[2]),
        })
        .collect())
}

/// A message in a contact's portal inbox, and when they first read it
/// (`None`: unread).
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEntry {
    pub message: Message,
    pub read_at: Option<i64>,
}

/// What makes a message part of a contact's portal inbox.
const IN_INBOX: &str = "channel = 'portal' AND contact_id = ? AND status = 'delivered'";

fn inbox_entries(
    db: &impl Sql,
    condition: &str,
    params: &[Value],
) -> Result<Vec<InboxEntry>, StoreError> {
    // `read_at` comes after the message's own columns.
    let read_at = COLUMNS.split(',').count();
    db.run(
        &format!(
            "SELECT {COLUMNS}, (SELECT read_at FROM notification_inbox_reads \
             WHERE notification_id = notifications.id) \
             FROM notifications WHERE {IN_INBOX} {condition}"
        ),
        params,
    )?
    .iter()
    .map(|row| {
        Ok(InboxEntry {
            message: Message::from_row(row)?,
            read_at: integer(&row[read_at]),
        })
    })
    .collect()
}

/// A contact's portal inbox: delivered portal messages, newest first, at
/// most 200, each with whether it was read.
pub fn inbox(db: &impl Sql, contact_id: &str) -> Result<Vec<InboxEntry>, StoreError> {
    inbox_entries(
        db,
        "ORDER BY sent_at DESC, id DESC LIMIT 200",
        &[contact_id.into()],
    )
}

/// Marks message `id` of `contact_id`'s inbox read at `read_at` (a message
/// already read keeps its first time) or, with `None`, unread. `None` when
/// the message is not in that contact's inbox: another's message is not
/// theirs to mark. Run it in a transaction, so the answer is what was
/// written.
pub fn mark_inbox(
    db: &impl Sql,
    contact_id: &str,
    id: &str,
    read_at: Option<i64>,
) -> Result<Option<InboxEntry>, StoreError> {
    let params = [contact_id.into(), id.into()];
    if inbox_entries(db, "AND id = ?", &params)?.is_empty() {
        return Ok(None);
    }
    match read_at {
        Some(at) => db.run(
            "INSERT INTO notification_inbox_reads (notification_id, read_at) VALUES (?, ?) \
             ON CONFLICT (notification_id) DO NOTHING",
            &[id.into(), at.into()],
        )?,
        None => db.run(
            "DELETE FROM notification_inbox_reads WHERE notification_id = ?",
            &[id.into()],
        )?,
    };
    Ok(inbox_entries(db, "AND id = ?", &params)?.pop())
}

/// The messages sent to a contact, newest first (by creation, then id),
/// only those older than message `older_than` when given, at most `limit`.
pub fn of_contact(
    db: &impl Sql,
    contact_id: &str,
    older_than: Option<&str>,
    limit: usize,
) -> Result<Vec<Message>, StoreError> {
    let mut clause = "contact_id = ?".to_string();
    let mut params: Vec<Value> = vec![contact_id.into()];
    newest_first(&mut clause, &mut params, older_than, limit);
    select(db, &clause, &params)
}

/// Ends a listing's `clause`: only messages older than message
/// `older_than` (by creation, then id) when given, newest first, at most
/// `limit`.
fn newest_first(
    clause: &mut String,
    params: &mut Vec<Value>,
    older_than: Option<&str>,
    limit: usize,
) {
    if let Some(older_than) = older_than {
        clause.push_str(
            " AND (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = ?)",
        );
        params.push(older_than.into());
    }
    clause.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    params.push((limit as i64).into());
}

/// The messages a Notify key lists: its service's, sent with keys of its
/// own type (`live`, `team` or `test`), as Notify lists them.
#[derive(Debug, Clone, Copy)]
pub struct ServiceView<'a> {
    pub service_id: &'a str,
    pub key_type: &'a str,
}

/// One of a Notify service's messages, whatever type of key sent it (as
/// Notify answers a read by id).
pub fn of_service(
    db: &impl Sql,
    service_id: &str,
    id: &str,
) -> Result<Option<Message>, StoreError> {
    select(
        db,
        "service_id = ? AND id = ?",
        &[service_id.into(), id.into()],
    )
    .map(first)
}

/// What a Notify listing asks for.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub channel: Option<TemplateType>,
    /// Any of these (none: any status).
    pub statuses: Vec<NotificationStatus>,
    pub reference: Option<String>,
    /// Only messages older than this one (by creation, then id).
    pub older_than: Option<String>,
    pub limit: usize,
}

/// The messages a key lists, newest first.
pub fn list(
    db: &impl Sql,
    view: ServiceView<'_>,
    listing: &Listing,
) -> Result<Vec<Message>, StoreError> {
    let mut clause = "service_id = ? AND key_type = ?".to_string();
    let mut params: Vec<Value> = vec![view.service_id.into(), view.key_type.into()];
    if let Some(channel) = listing.channel {
        clause.push_str(" AND channel = ?");
        params.push(channel.as_str().into());
    }
    if !listing.statuses.is_empty() {
        // By the status shown: a letter's as Notify shows it
        // (`NotificationStatus::as_letter_status`).
        clause.push_str(&format!(
            " AND (CASE WHEN channel = 'letter' AND status IN ('created', 'sending') THEN 'accepted' \
             WHEN channel = 'letter' AND status = 'delivered' THEN 'received' ELSE status END) IN ({})",
            placeholders(listing.statuses.len())
        ));
        params.extend(listing.statuses.iter().map(|s| s.as_str().into()));
    }
    if let Some(reference) = &listing.reference {
        clause.push_str(" AND reference = ?");
        params.push(reference.as_str().into());
    }
    newest_first(
        &mut clause,
        &mut params,
        listing.older_than.as_deref(),
        listing.limit,
    );
    select(db, &clause, &params)
}

/// A contact's queued (`created`) messages for a purpose, on one channel
/// when given.
pub fn queued_for(
    db: &impl Sql,
    contact_id: &str,
    purpose: &str,
    channel: Option<&str>,
) -> Result<Vec<Message>, StoreError> {
    let mut condition = "status = 'created' AND contact_id = ? AND purpose = ?".to_string();
    let mut params: Vec<Value> = vec![contact_id.into(), purpose.into()];
    if let Some(channel) = channel {
        condition.push_str(" AND channel = ?");
        params.push(channel.into());
    }
    select(db, &condition, &params)
}

/// Messages `sending` or `pending` since `sent_before` or earlier, at most
/// 1000.
pub fn in_flight_since(db: &impl Sql, sent_before: i64) -> Result<Vec<Message>, StoreError> {
    select(
        db,
        "status IN ('sending', 'pending') AND sent_at <= ? LIMIT 1000",
        &[sent_before.into()],
    )
}

/// Claims up to `batch` queued messages that are due, in one `BEGIN
/// IMMEDIATE` transaction: each is held for `hold_ms` (its
/// `next_attempt_at` moves past the hold), so overlapping dispatches never
/// hand one over twice. `now` is read under the write lock, not before it:
/// the hold must last its full window from the claim.
pub fn claim_due(
    db: &impl Sql,
    batch: usize,
    hold_ms: i64,
    now: impl FnOnce() -> i64,
) -> Result<Vec<Message>, StoreError> {
    transaction(db, || {
        let now = now();
        let due = select(
            db,
            "status = 'created' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            &[now.into(), (batch as i64).into()],
        )?;
        for chunk in due.chunks(500) {
            let mut params: Vec<Value> = vec![(now + hold_ms).into()];
            params.extend(chunk.iter().map(|m| m.id.as_str().into()));
            db.run(
                &format!(
                    "UPDATE notifications SET next_attempt_at = ? WHERE id IN ({})",
                    placeholders(chunk.len())
                ),
                &params,
            )?;
        }
        Ok(due)
    })
}

/// Final messages to a contact whose interaction is not noted and not
/// claimed (or whose claim lapsed before `now`), oldest first, at most 500.
pub fn unrecorded(db: &impl Sql, now: i64) -> Result<Vec<Message>, StoreError> {
    select(
        db,
        "interaction_id IS NULL AND contact_id IS NOT NULL AND completed_at IS NOT NULL AND (interaction_claim IS NULL OR interaction_claim < ?) ORDER BY completed_at LIMIT 500",
        &[now.into()],
    )
}

/// Claims a message to a contact for recording its interaction until
/// `until`, unless it is recorded or another claim is live at `now`.
/// Returns whether this call holds the claim.
pub fn claim_interaction(
    db: &impl Sql,
    id: &str,
    now: i64,
    until: i64,
) -> Result<bool, StoreError> {
    let claimed = db.run(
        "UPDATE notifications SET interaction_claim = ? WHERE id = ? AND interaction_id IS NULL AND contact_id IS NOT NULL AND (interaction_claim IS NULL OR interaction_claim < ?) RETURNING id",
        &[until.into(), id.into(), now.into()],
    )?;
    Ok(!claimed.is_empty())
}

/// Gives up a claim without recording.
pub fn release_interaction(db: &impl Sql, id: &str) -> Result<(), StoreError> {
    db.run(
        "UPDATE notifications SET interaction_claim = NULL WHERE id = ? AND interaction_id IS NULL",
        &[id.into()],
    )?;
    Ok(())
}

/// Notes the interaction recorded for a message, clearing its claim.
pub fn note_interaction(db: &impl Sql, id: &str, interaction_id: &str) -> Result<(), StoreError> {
    db.run(
        "UPDATE notifications SET interaction_id = ?, interaction_claim = NULL WHERE id = ?",
        &[interaction_id.into(), id.into()],
    )?;
    Ok(())
}
