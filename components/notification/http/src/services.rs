//! Notify-compatible services and their API keys (administrators only):
//! `POST /api/notifications/services`, `POST .../services/{id}/keys` (the
//! key is shown once), `GET .../services/{id}/keys`, and
//! `POST .../services/{id}/keys/{key_id}/revoke` (effective for the very
//! next request: keys are read on every request), and a service's email
//! reply-to addresses, text message senders and letter contact blocks
//! (`POST`/`GET .../services/{id}/email-reply-to`, `.../sms-senders`,
//! `.../letter-contacts`).
//!
//! Key secrets and callback tokens are sealed with the
//! `notification_sealing_key` secret variable (notification-rules's
//! `SealingKey`), bound to the row they belong to.

use crm_component_support::{Action, Ctx, FieldError, Target, created, json, json_body, now_ms};
use crm_domain::{Email, Invalid, Lines, ShortText, check_text, rfc3339_utc};
use crm_http::Problem;
use notification_rules::{
    KeySecret, KeyType, NotifyPhoneNumber, SEAL_NONCE_LEN, ServiceId, check_sms_sender,
};
use notification_store::senders::{self, Sender, SenderKind};
use notification_store::services::{self, NewService, StoredKey};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::Connection;

use crate::{config, store_problem};

fn nonce() -> Result<[u8; SEAL_NONCE_LEN], Problem> {
    let mut nonce = [0u8; SEAL_NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| Problem::internal(format!("randomness: {e}")))?;
    Ok(nonce)
}

fn key_label(key_id: &str) -> String {
    format!("notify-api-key:{key_id}")
}

fn callback_label(service_id: &str) -> String {
    format!("notify-callback-token:{service_id}")
}

/// A service's callback bearer token, unsealed.
pub fn open_callback_token(service_id: &str, sealed: &str) -> Result<String, Problem> {
    let bytes = config::sealing_key()?
        .open(&callback_label(service_id), sealed)
        .map_err(|e| Problem::internal(format!("callback token of service {service_id}: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Problem::internal("callback token is not UTF-8"))
}

/// One of a service's keys, as `/v2` authentication needs it.
pub struct ServiceKey {
    pub id: String,
    pub name: String,
    pub key_type: KeyType,
    pub secret: Option<KeySecret>,
    pub revoked: bool,
}

/// Whether the service exists, and its keys (secrets unsealed).
pub fn service_keys(
    db: &Connection,
    service: &ServiceId,
) -> Result<Option<Vec<ServiceKey>>, Problem> {
    if !services::exists(db, service.as_str()).map_err(store_problem)? {
        return Ok(None);
    }
    let stored = services::keys(db, service.as_str()).map_err(store_problem)?;
    let sealing = config::sealing_key()?;
    let keys = stored
        .into_iter()
        .map(|key| ServiceKey {
            secret: sealing
                .open(&key_label(&key.id), &key.secret_sealed)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|s| KeySecret::parse(&s)),
            revoked: key.revoked_at.is_some(),
            id: key.id,
            name: key.name,
            key_type: key.key_type,
        })
        .collect();
    Ok(Some(keys))
}

/// The lower-cased team and guest list of a service.
pub fn guest_list(db: &Connection, service: &str) -> Result<Vec<String>, Problem> {
    services::guest_list(db, service).map_err(store_problem)
}

const MAX_CALLBACK_URL_CHARS: usize = 2048;
const MAX_CALLBACK_TOKEN_CHARS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceBody {
    name: String,
    callback_url: Option<String>,
    callback_bearer_token: Option<String>,
    #[serde(default)]
    guest_list: Vec<String>,
}

/// Why status callbacks could never reach `url`: it is not inside the one
/// outbound origin the component is granted for them
/// (`notification_callback_origin`), so every attempt would be refused.
fn outside_callback_origin(url: &str) -> Result<Option<String>, Problem> {
    Ok(match config::callback_origin()? {
        None => Some("cannot be used: `notification_callback_origin` is not set".into()),
        Some((_, pattern)) if pattern.allows_url(url) => None,
        Some((text, _)) => Some(format!(
            "is outside `notification_callback_origin` ({text}): callbacks could never be sent there"
        )),
    })
}

/// `POST /api/notifications/services`.
pub fn create_service(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let id = uuid::Uuid::new_v4().to_string();
    ctx.require(
        Action::NotificationServiceManage,
        Target::General,
        &format!("notify-service/{id}"),
    )?;
    let body: ServiceBody = json_body(req)?;
    let mut errors = Vec::new();
    let name =
        ShortText::parse(&body.name, 200).map_err(|e| errors.push(FieldError::new("name", e.0)));
    // http is allowed: the callback origin variable, which an operator
    // sets, decides what is reachable (the tests' receivers are local).
    if let Some(url) = &body.callback_url {
        if let Err(e) = check_text(url, MAX_CALLBACK_URL_CHARS, Lines::One) {
            errors.push(FieldError::new("callback_url", e.0));
        } else if !(url.starts_with("https://") || url.starts_with("http://")) {
            errors.push(FieldError::new("callback_url", "must be an http(s) URL"));
        } else if let Some(reason) = outside_callback_origin(url)? {
            errors.push(FieldError::new("callback_url", reason));
        }
    }
    // The token goes out in an Authorization header: one line, bounded.
    let token_checked = body.callback_bearer_token.as_deref().map(|token| {
        check_text(token, MAX_CALLBACK_TOKEN_CHARS, Lines::One).and_then(|()| {
            if token.chars().count() < 10 {
                Err(Invalid("must be at least 10 characters".into()))
            } else {
                Ok(())
            }
        })
    });
    match (&body.callback_url, token_checked) {
        (Some(_), None) => errors.push(FieldError::new(
            "callback_bearer_token",
            "is required with a callback_url",
        )),
        (_, Some(Err(e))) => errors.push(FieldError::new("callback_bearer_token", e.0)),
        _ => {}
    }
    let mut guests = Vec::new();
    for (i, raw) in body.guest_list.iter().enumerate() {
        // Numbers as a team key's sends read them, so the two compare.
        let parsed = Email::parse(raw)
            .map(|e| e.as_str().to_lowercase())
            .or_else(|_| NotifyPhoneNumber::parse(raw).map(|p| p.as_str().to_string()));
        match parsed {
            Ok(recipient) => guests.push(recipient),
            Err(_) => errors.push(FieldError::new(
                &format!("guest_list[{i}]"),
                "must be an email address or a phone number (a national number is a UK one, as on Notify)",
            )),
        }
    }
    let (Ok(name), true) = (name, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let sealed_token = body
        .callback_bearer_token
        .as_ref()
        .map(|token| {
            Ok::<_, Problem>(config::sealing_key()?.seal(
                &callback_label(&id),
                token.as_bytes(),
                nonce()?,
            ))
        })
        .transpose()?;
    let now = now_ms();
    let service = NewService {
        id: id.clone(),
        name: name.as_str().to_string(),
        callback_url: body.callback_url.clone(),
        callback_token_sealed: sealed_token,
        created_at: now,
        created_by: ctx.actor_id(),
    };
    services::create(ctx.db()?, &service, &guests).map_err(store_problem)?;
    Ok(created(
        &format!("/api/notifications/services/{id}"),
        &json!({
            "id": id,
            "name": name.as_str(),
            "callback_url": body.callback_url,
            "guest_list": guests,
            "created_at": rfc3339_utc(now),
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    name: String,
    key_type: String,
}

fn require_service(ctx: &mut Ctx, id: &str) -> Result<(), Problem> {
    ctx.require(
        Action::NotificationServiceManage,
        Target::General,
        &format!("notify-service/{id}"),
    )?;
    if !services::exists(ctx.db()?, id).map_err(store_problem)? {
        return Err(Problem::not_found(format!("no notify-service/{id}")));
    }
    Ok(())
}

/// `POST /api/notifications/services/{id}/keys`: the whole key is in this
/// answer and nowhere else.
pub fn create_key(ctx: &mut Ctx, req: &Request, service_id: &str) -> Result<Response, Problem> {
    require_service(ctx, service_id)?;
    let body: KeyBody = json_body(req)?;
    let mut errors = Vec::new();
    let name =
        ShortText::parse(&body.name, 100).map_err(|e| errors.push(FieldError::new("name", e.0)));
    let key_type = KeyType::parse(&body.key_type)
        .filter(|t| t.as_str() == body.key_type)
        .ok_or_else(|| {
            errors.push(FieldError::new(
                "key_type",
                "must be one of live, team, test",
            ))
        });
    let (Ok(name), Ok(key_type), true) = (name, key_type, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let key_id = uuid::Uuid::new_v4().to_string();
    let secret = uuid::Uuid::new_v4().to_string();
    let sealed = config::sealing_key()?.seal(&key_label(&key_id), secret.as_bytes(), nonce()?);
    let now = now_ms();
    let key = StoredKey {
        id: key_id.clone(),
        service_id: service_id.to_string(),
        name: name.as_str().to_string(),
        key_type,
        secret_sealed: sealed,
        created_at: now,
        created_by: ctx.actor_id(),
        revoked_at: None,
    };
    services::insert_key(ctx.db()?, &key).map_err(store_problem)?;
    // Notify's clients split the key from the end, so any name works; a
    // name without spaces is easier to paste.
    let key_name = name.as_str().replace(char::is_whitespace, "_");
    Ok(created(
        &format!("/api/notifications/services/{service_id}/keys/{key_id}"),
        &json!({
            "id": key_id,
            "service_id": service_id,
            "name": name.as_str(),
            "key_type": key_type.as_str(),
            "created_at": rfc3339_utc(now),
            "key": format!("{key_name}-{service_id}-{secret}"),
        }),
    ))
}

/// `GET /api/notifications/services/{id}/keys`: never the secrets.
pub fn list_keys(ctx: &mut Ctx, service_id: &str) -> Result<Response, Problem> {
    require_service(ctx, service_id)?;
    let keys: Vec<_> = services::keys(ctx.db()?, service_id)
        .map_err(store_problem)?
        .iter()
        .map(|key| {
            json!({
                "id": key.id,
                "name": key.name,
                "key_type": key.key_type.as_str(),
                "created_at": rfc3339_utc(key.created_at),
                "created_by": key.created_by,
                "revoked_at": key.revoked_at.map(rfc3339_utc),
            })
        })
        .collect();
    Ok(json(200, &json!({ "keys": keys })))
}

/// `POST /api/notifications/services/{id}/keys/{key_id}/revoke`.
pub fn revoke_key(ctx: &mut Ctx, service_id: &str, key_id: &str) -> Result<Response, Problem> {
    require_service(ctx, service_id)?;
    let actor = ctx.actor_id();
    let revoked_at = services::revoke_key(ctx.db()?, service_id, key_id, now_ms(), &actor)
        .map_err(store_problem)?
        .ok_or_else(|| Problem::not_found(format!("no notify-api-key/{key_id}")))?;
    Ok(json(
        200,
        &json!({ "id": key_id, "revoked_at": rfc3339_utc(revoked_at) }),
    ))
}

/// What a sender's request and answer call its value, and its list.
fn sender_names(kind: SenderKind) -> (&'static str, &'static str) {
    match kind {
        SenderKind::EmailReplyTo => ("email_address", "email_reply_to"),
        SenderKind::SmsSender => ("sms_sender", "sms_senders"),
        SenderKind::LetterContact => ("contact_block", "letter_contacts"),
    }
}

fn sender_view(sender: &Sender) -> serde_json::Value {
    let (field, _) = sender_names(sender.kind);
    json!({
        "id": sender.id,
        field: sender.value,
        "is_default": sender.is_default,
        "created_at": rfc3339_utc(sender.created_at),
    })
}

const MAX_CONTACT_BLOCK_CHARS: usize = 1_000;

/// Why `value` cannot be a sender of `kind`.
fn check_sender(kind: SenderKind, value: &str) -> Result<(), String> {
    match kind {
        SenderKind::EmailReplyTo => Email::parse(value).map(drop).map_err(|e| e.0),
        SenderKind::SmsSender => check_sms_sender(value).map_err(str::to_string),
        SenderKind::LetterContact if value.trim().is_empty() => Err("must not be empty".into()),
        SenderKind::LetterContact => {
            check_text(value, MAX_CONTACT_BLOCK_CHARS, Lines::Many).map_err(|e| e.0)
        }
    }
}

/// `POST /api/notifications/services/{id}/{email-reply-to|sms-senders|letter-contacts}`:
/// `{"<value field>": …, "is_default": bool}`; a kind's first is its
/// default, and a new default replaces the old.
pub fn add_sender(
    ctx: &mut Ctx,
    req: &Request,
    service_id: &str,
    kind: SenderKind,
) -> Result<Response, Problem> {
    require_service(ctx, service_id)?;
    let (field, _) = sender_names(kind);
    let body: serde_json::Map<String, serde_json::Value> = json_body(req)?;
    let mut errors = Vec::new();
    for key in body.keys().filter(|k| *k != field && *k != "is_default") {
        errors.push(FieldError::new(key, "is not a field of this request"));
    }
    let value = match body.get(field) {
        Some(serde_json::Value::String(value)) => Some(value.clone()),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
    };
    if let Some(Err(reason)) = value.as_deref().map(|v| check_sender(kind, v)) {
        errors.push(FieldError::new(field, reason));
    }
    let is_default = match body.get("is_default") {
        None => false,
        Some(flag) => flag.as_bool().unwrap_or_else(|| {
            errors.push(FieldError::new("is_default", "must be true or false"));
            false
        }),
    };
    let (Some(value), true) = (value, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let sender = Sender {
        id: uuid::Uuid::new_v4().to_string(),
        service_id: service_id.to_string(),
        kind,
        value,
        is_default,
        created_at: now_ms(),
        created_by: ctx.actor_id(),
    };
    let stored = senders::add(ctx.db()?, &sender).map_err(store_problem)?;
    let (_, list) = sender_names(kind);
    Ok(created(
        &format!(
            "/api/notifications/services/{service_id}/{}/{}",
            list.replace('_', "-"),
            stored.id
        ),
        &sender_view(&stored),
    ))
}

/// `GET /api/notifications/services/{id}/{email-reply-to|sms-senders|letter-contacts}`.
pub fn list_senders(
    ctx: &mut Ctx,
    service_id: &str,
    kind: SenderKind,
) -> Result<Response, Problem> {
    require_service(ctx, service_id)?;
    let (_, list) = sender_names(kind);
    let found: Vec<_> = senders::list(ctx.db()?, service_id, kind)
        .map_err(store_problem)?
        .iter()
        .map(sender_view)
        .collect();
    Ok(json(200, &json!({ list: found })))
}
