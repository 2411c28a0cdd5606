//! The record of each message's outcome: once its status is final, an
//! outbound interaction in the contact's interaction log (category
//! `notification`, outcome the final status) and an audit entry.
//!
//! This runs after the status change has committed (the leaves write with
//! their own connections), by whoever made the message final (a receipt,
//! a delivery, a dispatch's cancellation or time-out) and by every dispatch
//! for the final messages not yet recorded. So that racing requests record
//! a message once, each first claims it: one statement sets
//! `interaction_claim` (ms since the epoch) on a message with no
//! `interaction_id` and no live claim, and only the request whose statement
//! changed the row appends. Once appended, the interaction's id is noted
//! and the claim cleared. If the interaction log cannot be written, the
//! claim is released and the next dispatch records the message; a claim
//! left by a crash lapses after [`CLAIM_MS`], and a dispatch then records
//! it. A crash after the append but before its id is noted leaves the id
//! unnoted until then; the recorder that retries is answered with the same
//! interaction (the log keeps one per notification id), and notes it.

use crm_component_support::audit::Outcome;
use crm_component_support::now_ms;
use crm_http::Problem;
use crm_templates::TemplateType;
use notification_store::{Message, messages};
use spin_sdk::sqlite::Connection;

use crate::actor::Actor;
use crate::crm::interactions::log::{self, Direction, NewInteraction};
use crate::{store_problem, wit_channel};

fn subject(message: &Message) -> String {
    match (&message.subject, message.channel) {
        (Some(subject), _) if !subject.is_empty() => subject.clone(),
        (_, TemplateType::Sms) => "Text message".to_string(),
        (_, channel) => format!("{channel} message"),
    }
}

/// How long a claim to record a message's interaction holds: far longer
/// than an append takes. The message of a request that crashed holding one
/// is recorded by the first dispatch after it lapses.
const CLAIM_MS: i64 = 5 * 60 * 1000;

/// A store failure, as a reason to log.
fn detail(error: notification_store::StoreError) -> String {
    store_problem(error).detail
}

/// Records the interaction of a message to a contact, unless it is
/// recorded or being recorded. Returns whether this call recorded it.
fn record_interaction(
    db: &Connection,
    actor: &Actor,
    message: &Message,
    now: i64,
) -> Result<bool, String> {
    let claimed = message.contact_id.is_some()
        && messages::claim_interaction(db, &message.id, now, now + CLAIM_MS).map_err(detail)?;
    if !claimed {
        return Ok(false);
    }
    let id = match append_interaction(actor, message) {
        Ok(id) => id,
        Err(e) => {
            // Released so the next dispatch may record the message at
            // once; if even that fails, the claim lapses.
            if let Err(e) = messages::release_interaction(db, &message.id) {
                eprintln!(
                    "notification {}: claim not released (it lapses): {}",
                    message.id,
                    detail(e)
                );
            }
            return Err(e);
        }
    };
    // On failure the claim is kept: once it lapses, a dispatch is answered
    // with this same interaction and notes it.
    messages::note_interaction(db, &message.id, &id)
        .map(|()| true)
        .map_err(|e| format!("interaction {id} appended but not noted: {}", detail(e)))
}

/// Appends the interaction of a message to its contact; returns its id.
fn append_interaction(actor: &Actor, message: &Message) -> Result<String, String> {
    let contact_id = message.contact_id.clone().unwrap_or_default();
    log::append(&NewInteraction {
        context: actor.context(),
        contact_id,
        channel: wit_channel(message.channel),
        direction: Direction::Outbound,
        occurred_at: message.sent_at.unwrap_or(message.created_at),
        subject: subject(message),
        notes: None,
        notification_id: Some(message.id.clone()),
        source_id: None,
        case_reference: None,
        category: Some("notification".into()),
        tags: vec![
            message.channel.as_str().to_string(),
            message.purpose.clone(),
        ],
        outcome: Some(message.status.as_str().to_string()),
    })
}

/// Records final messages: the interaction, then the audit entry. Failures
/// are reported, not raised: the status change has already happened.
pub fn finalise(db: &Connection, actor: &Actor, messages: &[Message]) {
    let now = now_ms();
    for message in messages {
        if let Err(e) = record_interaction(db, actor, message, now) {
            eprintln!(
                "notification {}: interaction not recorded yet: {e}",
                message.id
            );
        }
        let audited = actor.record(
            "notification.status",
            &format!("notification/{}", message.id),
            message.contact_id.as_deref(),
            Outcome::Allowed,
            Some(message.status.as_str()),
        );
        if let Err(e) = audited {
            eprintln!(
                "notification {}: final status not audited: {}",
                message.id, e.detail
            );
        }
    }
}

/// Records the final messages whose interaction could not be written
/// before, or whose claim lapsed, skipping those another request is
/// recording. Returns how many this call recorded.
pub fn catch_up(db: &Connection, actor: &Actor) -> Result<usize, Problem> {
    let now = now_ms();
    let pending = messages::unrecorded(db, now).map_err(store_problem)?;
    let mut recorded = 0;
    for message in pending.iter().filter(|m| m.status.is_final()) {
        match record_interaction(db, actor, message, now) {
            Ok(true) => recorded += 1,
            Ok(false) => {}
            Err(e) => eprintln!(
                "notification {}: interaction not recorded yet: {e}",
                message.id
            ),
        }
    }
    Ok(recorded)
}
