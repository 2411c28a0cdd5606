//! Telling citizens about their cases: each `case.status-changed` event
//! case management marks for the citizen becomes a message to the case's
//! contact through the same consent-checked send as any other, with the
//! templates `case_update_templates` names (their purpose, `case-updates`
//! when configured as the catalogue suggests, is what consent is asked
//! for), so a withdrawn consent or a do-not-contact entry stops it. Each
//! event is sent at most once: its id is the message's idempotency key.

use crm_component_support::new_id;
use crm_http::Problem;
use notification_rules::KeyType;
use notification_store::case_updates::{self, CaseUpdate};
use notification_store::messages::Message;
use serde_json::json;
use sha2::{Digest, Sha256};
use spin_sdk::sqlite::Connection;

use crate::actor::Actor;
use crate::send::{self, Recipient, SendError, SendRequest, Sender};
use crate::{config, store_problem};

/// Events read per dispatch.
const BATCH: usize = 500;

/// Queues a message for each case change past the cursor that its citizen
/// is to be told of; answers the messages to deliver now. Each send is its
/// own transaction and the cursor moves after it, so a dispatch that dies
/// half way resends nothing: the event's key answers the first message.
pub fn queue(db: &Connection, actor: &Actor, now: i64) -> Result<Vec<Message>, Problem> {
    let templates = config::case_update_templates();
    let cursor = case_updates::cursor(db).map_err(store_problem)?;
    let events = case_updates::after(db, cursor, BATCH).map_err(store_problem)?;
    let mut queued = Vec::new();
    for event in &events {
        let contact = event
            .contact_id
            .as_deref()
            .filter(|_| event.citizen_visible);
        if let (Some(contact), false) = (contact, templates.is_empty()) {
            match send::send(db, &sender(actor), request(event, contact, &templates), now) {
                Ok(sent) if !sent.replayed => queued.push(sent.message),
                Ok(_) => {}
                // Over the limits: this event and the rest wait for the
                // next dispatch.
                Err(SendError::RateLimited { .. } | SendError::DailyLimit { .. }) => break,
                Err(SendError::Internal(problem)) => return Err(problem),
                // Refused (no consent, no usable address): recorded where
                // it was refused; the citizen is told of later changes if
                // that changes.
                Err(refused) => eprintln!(
                    "case update {} (outbox event {}) not sent: {refused}",
                    event.reference.as_deref().unwrap_or("?"),
                    event.event_id
                ),
            }
        }
        case_updates::set_cursor(db, event.event_id).map_err(store_problem)?;
    }
    Ok(queued)
}

/// The CRM itself sends, on the dispatcher's authority.
fn sender(actor: &Actor) -> Sender {
    Sender {
        actor: actor.clone(),
        sender: "crm".into(),
        service_id: None,
        api_key_id: None,
        key_type: KeyType::Live,
        created_by_name: None,
        guest_list: Vec::new(),
    }
}

fn request(event: &CaseUpdate, contact: &str, templates: &[String]) -> SendRequest {
    let personalisation = json!({
        "reference": event.reference.clone().unwrap_or_default(),
        "status": event.status_label.clone().unwrap_or_default(),
    });
    let key = format!("case-update:{}", event.event_id);
    SendRequest {
        id: new_id("ntf"),
        template_ids: templates.to_vec(),
        recipient: Recipient::Contact(contact.to_string()),
        request_hash: format!("{:x}", Sha256::digest(format!("{key}:{personalisation}"))),
        personalisation,
        reference: event.reference.clone(),
        scheduled_for: None,
        idempotency_key: Some(key),
        channel: None,
        one_click_unsubscribe_url: None,
        reply_to_id: None,
        documents: Vec::new(),
    }
}
