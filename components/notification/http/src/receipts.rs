//! Delivery receipts from providers: `POST /api/notifications/receipts/{id}`
//! where `{id}` names the provider. A public route with its own check:
//!
//! - `webhook`: the body is signed with the webhook's shared secret
//!   (`x-crm-signature: sha256=<hex HMAC-SHA256>`); the body is
//!   `{"id": "<our message id or the provider's reference>", "status": "delivered"}`.
//! - `notify`: upstream Notify's callback, with the bearer token configured
//!   for it upstream (`notification_notify_callback_token`); its
//!   `reference` is our message id.
//!
//! A status that does not follow from the current one (a late or repeated
//! receipt) changes nothing and is answered 200 with `applied: false`.
//! Received text messages (`inbound`) come from the same providers, with
//! the same credentials.

use crm_component_support::audit::Outcome;
use crm_component_support::{Db, json, json_body, now_ms};
use crm_http::{FieldError, Problem};
use notification_rules::{NotificationStatus, same_secret, verify_body_signature};
use notification_store::{Message, messages};
use serde_json::{Value as Json, json};
use spin_sdk::http::{Request, Response};

use crate::actor::Actor;
use crate::config::{self, ProviderKind};
use crate::{callbacks, in_transaction, records, store_problem};

fn provider(name: &str) -> Option<ProviderKind> {
    match name {
        "webhook" => Some(ProviderKind::Webhook),
        "notify" => Some(ProviderKind::NotifyRelay),
        _ => None,
    }
}

fn authentic(req: &Request, provider: ProviderKind) -> bool {
    let Some(secret) = config::receipt_secret(provider) else {
        return false;
    };
    let header = |name: &str| req.header(name).and_then(|v| v.as_str());
    match provider {
        ProviderKind::Webhook => verify_body_signature(
            secret.as_bytes(),
            req.body(),
            header(notification_rules::SIGNATURE_HEADER),
        ),
        ProviderKind::NotifyRelay => header("authorization")
            .and_then(|h| notification_rules::bearer_token(Some(h)).ok())
            .is_some_and(|token| same_secret(token.as_bytes(), secret.as_bytes())),
        ProviderKind::Inbox => false,
    }
}

/// The provider a request to a provider route (`.../{provider}`) comes
/// from, checked by its credential, and the actor it acts as; a failure is
/// audited as `authenticate`/`denied` and answered 401.
pub fn authenticated_provider(
    req: &Request,
    provider_name: &str,
    request_id: &str,
) -> Result<(ProviderKind, Actor), Problem> {
    let actor = Actor {
        request_id: request_id.to_string(),
        id: format!("provider:{provider_name}"),
        role: "provider".into(),
        purpose: None,
    };
    let provider = provider(provider_name).filter(|p| authentic(req, *p));
    let Some(provider) = provider else {
        let mut anonymous = actor;
        anonymous.id = "anonymous".into();
        anonymous.role = "none".into();
        anonymous.record(
            "authenticate",
            req.path(),
            None,
            Outcome::Denied,
            Some("bad receipt credential"),
        )?;
        return Err(Problem::unauthorized(
            "the receipt's signature or token is missing or wrong",
        ));
    };
    Ok((provider, actor))
}

pub fn receive(req: &Request, provider_name: &str, request_id: &str) -> Result<Response, Problem> {
    let (provider, actor) = authenticated_provider(req, provider_name, request_id)?;
    let body: Json = json_body(req)?;
    let field = |name: &str| body.get(name).and_then(Json::as_str).map(str::to_string);
    let mut errors = Vec::new();
    let status = match field("status").as_deref().map(NotificationStatus::parse) {
        Some(Some(status)) => Some(status),
        _ => {
            errors.push(FieldError::new(
                "status",
                "must be a Notify status such as delivered",
            ));
            None
        }
    };
    // Our id travels as the webhook's `id` and as Notify's `reference`.
    let ours = match provider {
        ProviderKind::NotifyRelay => field("reference"),
        _ => field("id"),
    };
    let theirs = field("id");
    if ours.is_none() && theirs.is_none() {
        errors.push(FieldError::new("id", "is required"));
    }
    let (Some(status), true) = (status, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let db = Db::default();
    let db = db.get()?;
    let now = now_ms();
    let (message, applied) = in_transaction(db, || {
        let found = match &ours {
            Some(id) => messages::load(db, id).map_err(store_problem)?,
            None => None,
        };
        let found = match (found, &theirs) {
            (Some(m), _) => Some(m),
            (None, Some(reference)) => {
                messages::by_provider_reference(db, provider.as_str(), reference)
                    .map_err(store_problem)?
            }
            (None, None) => None,
        };
        let mut message: Message =
            found.ok_or_else(|| Problem::not_found("no such notification"))?;
        if message.provider.as_deref() != Some(provider.as_str()) {
            return Err(Problem::not_found("no such notification for this provider"));
        }
        let applied = message
            .move_to(db, status, now, Some(provider.as_str()))
            .map_err(store_problem)?;
        if applied {
            message.save_progress(db).map_err(store_problem)?;
            if message.status.is_final() {
                callbacks::enqueue(db, &message, now)?;
            }
        }
        Ok::<_, Problem>((message, applied))
    })?;
    actor.record(
        "notification.receipt",
        &format!("notification/{}", message.id),
        message.contact_id.as_deref(),
        Outcome::Allowed,
        Some(status.as_str()),
    )?;
    if applied && message.status.is_final() {
        records::finalise(db, &actor, std::slice::from_ref(&message));
        callbacks::deliver_for(db, std::slice::from_ref(&message))?;
    }
    Ok(json(
        200,
        &json!({ "id": message.id, "status": message.status.as_str(), "applied": applied }),
    ))
}
