//! The record of each message's outcome: once its status is final, an
//! outbound interaction in the contact's interaction log (category
//! `notification`, outcome the final status) and an audit entry.
//!
//! This runs after the status change has committed (the leaves write with
//! their own connections). If the interaction log cannot be written, the
//! message keeps no `interaction_id` and the next dispatch records it.

use crm_component_support::audit::Outcome;
use crm_component_support::query;
use crm_http::Problem;
use crm_templates::TemplateType;
use spin_sdk::sqlite::{Connection, Value};

use crate::actor::Actor;
use crate::crm::interactions::log::{self, Direction, NewInteraction};
use crate::store::{self, Message};
use crate::wit_channel;

fn subject(message: &Message) -> String {
    match (&message.subject, message.channel) {
        (Some(subject), _) if !subject.is_empty() => subject.clone(),
        (_, TemplateType::Sms) => "Text message".to_string(),
        (_, channel) => format!("{channel} message"),
    }
}

/// Appends the interaction of a message to a contact.
fn append_interaction(db: &Connection, actor: &Actor, message: &Message) -> Result<(), String> {
    let Some(contact_id) = &message.contact_id else {
        return Ok(());
    };
    let id = log::append(&NewInteraction {
        context: actor.context(),
        contact_id: contact_id.clone(),
        channel: wit_channel(message.channel),
        direction: Direction::Outbound,
        occurred_at: message.sent_at.unwrap_or(message.created_at),
        subject: subject(message),
        notes: None,
        notification_id: Some(message.id.clone()),
        case_reference: None,
        category: Some("notification".into()),
        tags: vec![
            message.channel.as_str().to_string(),
            message.purpose.clone(),
        ],
        outcome: Some(message.status.as_str().to_string()),
    })?;
    query(
        db,
        "UPDATE notifications SET interaction_id = ? WHERE id = ?",
        &[Value::Text(id), Value::Text(message.id.clone())],
    )
    .map(drop)
    .map_err(|p| p.detail)
}

/// Records final messages: the interaction, then the audit entry. Failures
/// are reported, not raised: the status change has already happened.
pub fn finalise(db: &Connection, actor: &Actor, messages: &[Message]) {
    for message in messages {
        if let Err(e) = append_interaction(db, actor, message) {
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
/// before. Returns how many.
pub fn catch_up(db: &Connection, actor: &Actor) -> Result<usize, Problem> {
    let pending = store::load_where(
        db,
        "interaction_id IS NULL AND contact_id IS NOT NULL AND completed_at IS NOT NULL ORDER BY completed_at LIMIT 500",
        &[],
    )?;
    let mut recorded = 0;
    for message in pending.iter().filter(|m| m.status.is_final()) {
        if append_interaction(db, actor, message).is_ok() {
            recorded += 1;
        }
    }
    Ok(recorded)
}
