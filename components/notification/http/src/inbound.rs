//! Received text messages: `POST /api/notifications/inbound/{provider}`, a
//! public route with the provider's own credential (as its delivery
//! receipts: the webhook's HMAC signature, upstream Notify's bearer
//! token). Both send Notify's received-text callback body: `id` (the
//! provider's), `source_number`, `destination_number`, `message` and
//! optionally `date_received` (RFC 3339; else now).
//!
//! The message belongs to the service whose text message sender is the
//! number it was sent to (compared as numbers, however written); a number
//! no service, or several, send from is refused, so a text is never shown
//! to the wrong service. A provider's repeat of one it handed over before
//! keeps the first.

use crm_component_support::audit::Outcome;
use crm_component_support::{Db, json, json_body, now_ms};
use crm_http::{FieldError, Problem};
use notification_rules::same_sender;
use notification_store::received_texts::{self, ReceivedText};
use notification_store::senders::{self, SenderKind};
use serde_json::{Value as Json, json};
use spin_sdk::http::{Request, Response};

use crate::receipts::authenticated_provider;
use crate::store_problem;

/// The longest text message kept: Notify's inbound limit of 459
/// characters is a provider's concatenated message; more is refused.
const MAX_CONTENT_CHARS: usize = 2000;
/// The longest number or provider id taken.
const MAX_FIELD_CHARS: usize = 100;

pub fn receive(req: &Request, provider_name: &str, request_id: &str) -> Result<Response, Problem> {
    let (provider, actor) = authenticated_provider(req, provider_name, request_id)?;
    let body: Json = json_body(req)?;
    let mut errors = Vec::new();
    let mut field = |name: &str, max: usize| -> String {
        match body.get(name).and_then(Json::as_str).map(str::trim) {
            Some(value) if !value.is_empty() && value.chars().count() <= max => value.to_string(),
            _ => {
                errors.push(FieldError::new(
                    name,
                    format!("is required: text of 1 to {max} characters"),
                ));
                String::new()
            }
        }
    };
    let reference = field("id", MAX_FIELD_CHARS);
    let user_number = field("source_number", MAX_FIELD_CHARS);
    let notify_number = field("destination_number", MAX_FIELD_CHARS);
    let content = field("message", MAX_CONTENT_CHARS);
    let received_at = match body.get("date_received") {
        None | Some(Json::Null) => Some(now_ms()),
        Some(raw) => raw
            .as_str()
            .and_then(|raw| crm_domain::parse_rfc3339_ms(raw).ok()),
    };
    if received_at.is_none() {
        errors.push(FieldError::new(
            "date_received",
            "must be an RFC 3339 time such as 2026-12-07T16:55:09.000000Z",
        ));
    }
    let (Some(created_at), true) = (received_at, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let db = Db::default();
    let db = db.get()?;
    let mut services: Vec<String> = senders::all_of_kind(db, SenderKind::SmsSender)
        .map_err(store_problem)?
        .into_iter()
        .filter(|sender| same_sender(&sender.value, &notify_number))
        .map(|sender| sender.service_id)
        .collect();
    services.sort();
    services.dedup();
    let service_id = match services.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Problem::not_found(format!(
                "no service receives text messages at {notify_number}"
            )));
        }
        _ => {
            return Err(Problem::conflict(
                "sender-number-shared",
                format!(
                    "several services send from {notify_number}, so a text to it has no one owner"
                ),
            ));
        }
    };
    let received = ReceivedText {
        id: uuid::Uuid::new_v4().to_string(),
        service_id,
        user_number,
        notify_number,
        content,
        created_at,
        provider: provider.as_str().to_string(),
        provider_reference: reference,
    };
    // Audited before it is kept: nothing is kept that the trail lacks.
    actor.record(
        "notification.receive-text",
        &format!(
            "notify-service/{}/received-text-messages",
            received.service_id
        ),
        None,
        Outcome::Allowed,
        Some(&received.provider_reference),
    )?;
    let (kept, new) = received_texts::receive(db, &received).map_err(store_problem)?;
    Ok(json(
        if new { 201 } else { 200 },
        &json!({ "id": kept.id, "service_id": kept.service_id, "new": new }),
    ))
}
