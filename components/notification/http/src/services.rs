//! Notify-compatible services and their API keys (administrators only):
//! `POST /api/notifications/services`, `POST .../services/{id}/keys` (the
//! key is shown once), `GET .../services/{id}/keys`, and
//! `POST .../services/{id}/keys/{key_id}/revoke` (effective for the very
//! next request: keys are read on every request).
//!
//! Key secrets and callback tokens are sealed with the
//! `notification_sealing_key` secret variable (notification-rules's
//! `SealingKey`), bound to the row they belong to.

use crm_component_support::{
    Action, Ctx, FieldError, Target, created, integer, json, json_body, now_ms, query, text,
};
use crm_domain::{Email, PhoneE164, ShortText, rfc3339_utc};
use crm_http::Problem;
use notification_rules::{KeySecret, KeyType, SEAL_NONCE_LEN, ServiceId};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::{Connection, Value};

use crate::config;
use crate::send::in_transaction;

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
pub struct StoredKey {
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
) -> Result<Option<Vec<StoredKey>>, Problem> {
    let exists = query(
        db,
        "SELECT 1 FROM notify_services WHERE id = ?",
        &[Value::Text(service.to_string())],
    )?;
    if exists.rows.is_empty() {
        return Ok(None);
    }
    let rows = query(
        db,
        "SELECT id, name, key_type, secret_sealed, revoked_at FROM notify_api_keys WHERE service_id = ? ORDER BY created_at",
        &[Value::Text(service.to_string())],
    )?;
    let sealing = config::sealing_key()?;
    let keys = rows
        .rows
        .iter()
        .map(|row| {
            let v = &row.values;
            let id = text(&v[0]).unwrap_or_default();
            let secret = text(&v[3])
                .and_then(|sealed| sealing.open(&key_label(&id), &sealed).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|s| KeySecret::parse(&s));
            StoredKey {
                name: text(&v[1]).unwrap_or_default(),
                key_type: text(&v[2])
                    .as_deref()
                    .and_then(KeyType::parse)
                    .unwrap_or(KeyType::Test),
                secret,
                revoked: integer(&v[4]).is_some(),
                id,
            }
        })
        .collect();
    Ok(Some(keys))
}

/// The lower-cased team and guest list of a service.
pub fn guest_list(db: &Connection, service: &str) -> Result<Vec<String>, Problem> {
    let rows = query(
        db,
        "SELECT recipient FROM notify_guest_list WHERE service_id = ?",
        &[Value::Text(service.to_string())],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| text(&r.values[0]))
        .collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewService {
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
    let body: NewService = json_body(req)?;
    let mut errors = Vec::new();
    let name =
        ShortText::parse(&body.name, 200).map_err(|e| errors.push(FieldError::new("name", e.0)));
    if let Some(url) = &body.callback_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            errors.push(FieldError::new("callback_url", "must be an http(s) URL"));
        } else if let Some(reason) = outside_callback_origin(url)? {
            errors.push(FieldError::new("callback_url", reason));
        }
    }
    match (&body.callback_url, &body.callback_bearer_token) {
        (Some(_), None) => errors.push(FieldError::new(
            "callback_bearer_token",
            "is required with a callback_url",
        )),
        (_, Some(token)) if token.len() < 10 => errors.push(FieldError::new(
            "callback_bearer_token",
            "must be at least 10 characters",
        )),
        _ => {}
    }
    let mut guests = Vec::new();
    for (i, raw) in body.guest_list.iter().enumerate() {
        let parsed = Email::parse(raw)
            .map(|e| e.as_str().to_lowercase())
            .or_else(|_| PhoneE164::parse(raw).map(|p| p.as_str().to_string()));
        match parsed {
            Ok(recipient) => guests.push(recipient),
            Err(_) => errors.push(FieldError::new(
                &format!("guest_list[{i}]"),
                "must be an email address or a phone number",
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
    let actor = ctx.actor_id();
    in_transaction(ctx.db()?, |db| {
        query(
            db,
            "INSERT INTO notify_services (id, name, callback_url, callback_token_sealed, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                Value::Text(id.clone()),
                Value::Text(name.as_str().to_string()),
                body.callback_url.clone().map_or(Value::Null, Value::Text),
                sealed_token.map_or(Value::Null, Value::Text),
                Value::Integer(now),
                Value::Text(actor),
            ],
        )?;
        for guest in &guests {
            query(
                db,
                "INSERT OR IGNORE INTO notify_guest_list (service_id, recipient) VALUES (?, ?)",
                &[Value::Text(id.clone()), Value::Text(guest.clone())],
            )?;
        }
        Ok::<_, Problem>(())
    })?;
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
struct NewKey {
    name: String,
    key_type: String,
}

fn require_service(ctx: &mut Ctx, id: &str) -> Result<(), Problem> {
    ctx.require(
        Action::NotificationServiceManage,
        Target::General,
        &format!("notify-service/{id}"),
    )?;
    let found = query(
        ctx.db()?,
        "SELECT 1 FROM notify_services WHERE id = ?",
        &[Value::Text(id.into())],
    )?;
    if found.rows.is_empty() {
        return Err(Problem::not_found(format!("no notify-service/{id}")));
    }
    Ok(())
}

/// `POST /api/notifications/services/{id}/keys`: the whole key is in this
/// answer and nowhere else.
pub fn create_key(ctx: &mut Ctx, req: &Request, service_id: &str) -> Result<Response, Problem> {
    require_service(ctx, service_id)?;
    let body: NewKey = json_body(req)?;
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
    query(
        ctx.db()?,
        "INSERT INTO notify_api_keys (id, service_id, name, key_type, secret_sealed, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(key_id.clone()),
            Value::Text(service_id.to_string()),
            Value::Text(name.as_str().to_string()),
            Value::Text(key_type.as_str().to_string()),
            Value::Text(sealed),
            Value::Integer(now),
            Value::Text(ctx.actor_id()),
        ],
    )?;
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
    let rows = query(
        ctx.db()?,
        "SELECT id, name, key_type, created_at, created_by, revoked_at FROM notify_api_keys WHERE service_id = ? ORDER BY created_at",
        &[Value::Text(service_id.into())],
    )?;
    let keys: Vec<_> = rows
        .rows
        .iter()
        .map(|r| {
            let v = &r.values;
            json!({
                "id": text(&v[0]),
                "name": text(&v[1]),
                "key_type": text(&v[2]),
                "created_at": rfc3339_utc(integer(&v[3]).unwrap_or_default()),
                "created_by": text(&v[4]),
                "revoked_at": integer(&v[5]).map(rfc3339_utc),
            })
        })
        .collect();
    Ok(json(200, &json!({ "keys": keys })))
}

/// `POST /api/notifications/services/{id}/keys/{key_id}/revoke`.
pub fn revoke_key(ctx: &mut Ctx, service_id: &str, key_id: &str) -> Result<Response, Problem> {
    require_service(ctx, service_id)?;
    let actor = ctx.actor_id();
    let db = ctx.db()?;
    let now = now_ms();
    let revoked_at = in_transaction(db, |db| {
        let found = query(
            db,
            "SELECT revoked_at FROM notify_api_keys WHERE id = ? AND service_id = ?",
            &[Value::Text(key_id.into()), Value::Text(service_id.into())],
        )?;
        let row = found
            .rows
            .first()
            .ok_or_else(|| Problem::not_found(format!("no notify-api-key/{key_id}")))?;
        if let Some(at) = integer(&row.values[0]) {
            return Ok::<_, Problem>(at);
        }
        query(
            db,
            "UPDATE notify_api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?",
            &[
                Value::Integer(now),
                Value::Text(actor),
                Value::Text(key_id.into()),
            ],
        )?;
        Ok(now)
    })?;
    Ok(json(
        200,
        &json!({ "id": key_id, "revoked_at": rfc3339_utc(revoked_at) }),
    ))
}
