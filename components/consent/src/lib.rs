//! `consent`: records consent decisions and lists them
//! (`/api/consents/...`, `/api/privacy-notices/...`). A decision is never
//! overwritten: a new decision is a new record, and the newest one rules.

use crm_component_support::{
    Action, Ctx, FieldError, Target, created, integer, json, json_body, new_id, now_ms, query,
    query_param, serve, text,
};
use crm_http::Problem;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/audited",
    generate_all,
});

crm_component_support::audit_sink!();

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConsent {
    contact_id: String,
    purpose: String,
    channel: String,
    decision: String,
    notice_id: String,
    notice_version: i64,
    expires_at: Option<i64>,
}

#[derive(Serialize)]
struct Consent {
    id: String,
    contact_id: String,
    purpose: String,
    channel: String,
    decision: String,
    notice_id: String,
    notice_version: i64,
    recorded_at: i64,
    expires_at: Option<i64>,
}

#[derive(Serialize)]
struct Notice {
    id: String,
    version: i64,
    language: String,
    title: String,
    url: String,
    published_at: String,
}

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::CONSENT,
        &req,
        &AuditTrail,
        |ctx, operation, _| match operation {
            "recordConsent" => record(ctx, &req),
            "listConsents" => list(ctx, &req),
            "listPrivacyNotices" => notices(ctx),
            _ => Err(Problem::not_found(operation)),
        },
    )
}

fn record(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: NewConsent = json_body(req)?;
    let id = new_id("cns");
    ctx.require(
        Action::ConsentRecord,
        Target::Contact(&body.contact_id),
        &format!("contact/{}/consent/{id}", body.contact_id),
    )?;
    let mut errors = Vec::new();
    if body.contact_id.trim().is_empty() {
        errors.push(FieldError::new("contact_id", "must not be empty"));
    }
    if body.purpose.trim().is_empty() {
        errors.push(FieldError::new("purpose", "must not be empty"));
    }
    if !crm_component_support::CHANNEL_NAMES.contains(&body.channel.as_str()) {
        errors.push(FieldError::new(
            "channel",
            format!(
                "must be one of {}",
                crm_component_support::CHANNEL_NAMES.join(", ")
            ),
        ));
    }
    if !["given", "refused", "withdrawn"].contains(&body.decision.as_str()) {
        errors.push(FieldError::new(
            "decision",
            "must be one of given, refused, withdrawn",
        ));
    }
    let recorded_at = now_ms();
    if body.expires_at.is_some_and(|e| e <= recorded_at) {
        errors.push(FieldError::new("expires_at", "must be in the future"));
    }
    let db = ctx.db()?;
    let notice = query(
        db,
        "SELECT 1 FROM privacy_notices WHERE id = ? AND version = ?",
        &[
            Value::Text(body.notice_id.clone()),
            Value::Integer(body.notice_version),
        ],
    )?;
    if notice.rows.is_empty() {
        errors.push(FieldError::new(
            "notice_id",
            "no privacy notice with this id and version",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let consent = Consent {
        id,
        contact_id: body.contact_id,
        purpose: body.purpose,
        channel: body.channel,
        decision: body.decision,
        notice_id: body.notice_id,
        notice_version: body.notice_version,
        recorded_at,
        expires_at: body.expires_at,
    };
    query(
        db,
        "INSERT INTO consents (id, contact_id, purpose, channel, decision, notice_id, notice_version, recorded_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(consent.id.clone()),
            Value::Text(consent.contact_id.clone()),
            Value::Text(consent.purpose.clone()),
            Value::Text(consent.channel.clone()),
            Value::Text(consent.decision.clone()),
            Value::Text(consent.notice_id.clone()),
            Value::Integer(consent.notice_version),
            Value::Integer(consent.recorded_at),
            consent.expires_at.map_or(Value::Null, Value::Integer),
        ],
    )?;
    Ok(created(
        &format!("/api/consents?contact_id={}", consent.contact_id),
        &consent,
    ))
}

fn list(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    // A citizen lists their own consents without naming themself.
    let contact_id = query_param(req, "contact_id")
        .filter(|c| !c.is_empty())
        .or_else(|| ctx.own_contact().map(str::to_string));
    let Some(contact_id) = contact_id else {
        return Err(Problem::validation(vec![FieldError::new(
            "contact_id",
            "query parameter is required",
        )]));
    };
    ctx.require(
        Action::ConsentRead,
        Target::Contact(&contact_id),
        &format!("contact/{contact_id}/consents"),
    )?;
    let rows = query(
        ctx.db()?,
        "SELECT id, contact_id, purpose, channel, decision, notice_id, notice_version, recorded_at, expires_at
         FROM consents WHERE contact_id = ? ORDER BY recorded_at DESC, rowid DESC",
        &[Value::Text(contact_id.clone())],
    )?;
    let consents: Vec<Consent> = rows
        .rows
        .iter()
        .map(|row| {
            let v = &row.values;
            Consent {
                id: text(&v[0]).unwrap_or_default(),
                contact_id: text(&v[1]).unwrap_or_default(),
                purpose: text(&v[2]).unwrap_or_default(),
                channel: text(&v[3]).unwrap_or_default(),
                decision: text(&v[4]).unwrap_or_default(),
                notice_id: text(&v[5]).unwrap_or_default(),
                notice_version: integer(&v[6]).unwrap_or_default(),
                recorded_at: integer(&v[7]).unwrap_or_default(),
                expires_at: integer(&v[8]),
            }
        })
        .collect();
    Ok(json(200, &serde_json::json!({ "consents": consents })))
}

/// Privacy notices are public statements: any authenticated caller may
/// read them, and reading them touches no personal information.
fn notices(ctx: &Ctx) -> Result<Response, Problem> {
    let rows = query(
        ctx.db()?,
        "SELECT id, version, language, title, url, published_at FROM privacy_notices ORDER BY id, version",
        &[],
    )?;
    let notices: Vec<Notice> = rows
        .rows
        .iter()
        .map(|row| {
            let v = &row.values;
            Notice {
                id: text(&v[0]).unwrap_or_default(),
                version: integer(&v[1]).unwrap_or_default(),
                language: text(&v[2]).unwrap_or_default(),
                title: text(&v[3]).unwrap_or_default(),
                url: text(&v[4]).unwrap_or_default(),
                published_at: text(&v[5]).unwrap_or_default(),
            }
        })
        .collect();
    Ok(json(
        200,
        &serde_json::json!({ "privacy_notices": notices }),
    ))
}
