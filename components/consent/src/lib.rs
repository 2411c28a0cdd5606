//! `consent`: records consent decisions and lists them
//! (`/api/consents/...`, `/api/privacy-notices/...`). A decision is never
//! overwritten: a new decision is a new record, and the newest one rules.

use crm_component_support::{
    FieldError, created, integer, json, json_body, new_id, now_ms, open_db, query, query_param,
    serve, text,
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

use crm::audit::trail::Outcome;

crm_component_support::audit_helper!();

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
        |operation, _, request_id| match operation {
            "recordConsent" => record(&req, request_id),
            "listConsents" => list(&req, request_id),
            "listPrivacyNotices" => notices(),
            _ => Err(Problem::not_found(operation)),
        },
    )
}

fn record(req: &Request, request_id: &str) -> Result<Response, Problem> {
    let body: NewConsent = json_body(req)?;
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
    let db = open_db()?;
    let notice = query(
        &db,
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
        id: new_id("cns"),
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
        &db,
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
    audit(
        request_id,
        &format!("consent.{}", consent.decision),
        &format!("contact/{}/consent/{}", consent.contact_id, consent.id),
        Outcome::Allowed,
    );
    Ok(created(
        &format!("/api/consents?contact_id={}", consent.contact_id),
        &consent,
    ))
}

fn list(req: &Request, request_id: &str) -> Result<Response, Problem> {
    let Some(contact_id) = query_param(req, "contact_id").filter(|c| !c.is_empty()) else {
        return Err(Problem::validation(vec![FieldError::new(
            "contact_id",
            "query parameter is required",
        )]));
    };
    let db = open_db()?;
    let rows = query(
        &db,
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
    audit(
        request_id,
        "consent.list",
        &format!("contact/{contact_id}/consents"),
        Outcome::Allowed,
    );
    Ok(json(200, &serde_json::json!({ "consents": consents })))
}

fn notices() -> Result<Response, Problem> {
    let db = open_db()?;
    let rows = query(
        &db,
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
