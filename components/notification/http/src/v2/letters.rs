//! Precompiled letters (`POST /v2/notifications/letter` with `content`, a
//! base64 PDF) and letters' PDFs (`GET /v2/notifications/{id}/pdf`).

use crm_component_support::audit::Outcome;
use crm_component_support::now_ms;
use crm_domain::CalendarDate;
use crm_http::{IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER};
use crm_templates::TemplateType;
use notification_rules::{
    ErrorEntry, LetterContent, NotifyError, PdfUnavailable, Postage, PrecompiledPdf,
    letter_pdf_availability, render_letter,
};
use notification_store::letters;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::Connection;

use super::{Caller, audit, body_object, internal, ok, send_route, service_message, to_notify};
use crate::send::{self, PrecompiledRequest};
use crate::{delivery, store_problem};

/// `POST /v2/notifications/letter`: a precompiled letter when the body has
/// `content`, as on Notify, else a templated one.
pub(super) fn send_letter(
    req: &Request,
    db: &Connection,
    caller: &Caller,
) -> Result<Response, NotifyError> {
    let body = body_object(req)?;
    if !body.contains_key("content") {
        return send_route(req, db, caller, TemplateType::Letter);
    }
    let (pdf, reference, postage) = precompiled_fields(&body)?;
    let id = uuid::Uuid::new_v4().to_string();
    let resource = format!("notification/{id}");
    // As every send: the `allowed` entry before anything is kept.
    audit(caller, "notification.send", &resource, None)?;
    let failed = |detail: &str| {
        let _ = caller.actor.record(
            "notification.send",
            &resource,
            None,
            Outcome::Failed,
            Some(detail),
        );
    };
    let request = PrecompiledRequest {
        id,
        pdf,
        reference,
        postage,
        idempotency_key: req
            .header(IDEMPOTENCY_KEY_HEADER)
            .and_then(|v| v.as_str())
            .map(|key| caller.key.key_type.scoped_idempotency_key(key)),
        request_hash: format!(
            "{:x}",
            Sha256::digest([req.path().as_bytes(), b"\n", req.body()].concat())
        ),
    };
    let sent = super::sender(db, caller)
        .and_then(|sender| send::send_precompiled(db, &sender, request, now_ms()))
        .inspect_err(|e| failed(&e.to_string()))
        .map_err(to_notify)?;
    let mut message = sent.message;
    if sent.replayed {
        caller
            .actor
            .record(
                "notification.send",
                &format!("notification/{}", message.id),
                None,
                Outcome::Allowed,
                Some("idempotent-replay"),
            )
            .map_err(|p| internal(&p))?;
    } else {
        message = delivery::deliver(db, &caller.actor, vec![message.clone()])
            .inspect_err(|p| failed(&p.detail))
            .map_err(|p| internal(&p))?
            .pop()
            .unwrap_or(message);
    }
    let mut response = ok(
        201,
        &json!({"id": message.id, "reference": message.reference, "postage": message.postage}),
    );
    if sent.replayed {
        response.set_header(IDEMPOTENT_REPLAYED_HEADER, "true");
    }
    Ok(response)
}

/// A precompiled letter's fields, checked as Notify's schema checks them.
fn precompiled_fields(
    body: &Map<String, Json>,
) -> Result<(PrecompiledPdf, String, Postage), NotifyError> {
    let mut messages = Vec::new();
    for field in ["reference", "content"] {
        if !body.contains_key(field) {
            messages.push(format!("{field} is a required property"));
        }
    }
    for (field, value) in body {
        if !["reference", "content", "postage"].contains(&field.as_str()) {
            messages.push(format!(
                "Additional properties are not allowed ({field} was unexpected)"
            ));
        } else if !value.is_string() {
            messages.push(format!("{field} is not of type string"));
        }
    }
    let postage = match body.get("postage").and_then(Json::as_str) {
        None => Postage::Second,
        Some(raw) => Postage::parse(raw).unwrap_or_else(|| {
            messages.push("postage invalid. It must be either first, second or economy.".into());
            Postage::Second
        }),
    };
    if !messages.is_empty() {
        return Err(NotifyError::validation(messages));
    }
    let text = |field: &str| body.get(field).and_then(Json::as_str).unwrap_or_default();
    let pdf = PrecompiledPdf::from_base64(text("content"))
        .map_err(|e| NotifyError::bad_request(e.to_string()))?;
    Ok((pdf, text("reference").to_string(), postage))
}

/// `GET /v2/notifications/{id}/pdf`: a precompiled letter's own PDF, or a
/// templated letter rendered from what was sent.
pub(super) fn letter_pdf(
    db: &Connection,
    caller: &Caller,
    id: &str,
) -> Result<Response, NotifyError> {
    let message = service_message(db, caller, id)?;
    if message.channel != TemplateType::Letter {
        return Err(NotifyError::bad_request("Notification is not a letter"));
    }
    letter_pdf_availability(message.status).map_err(|unavailable| {
        let error = match unavailable {
            PdfUnavailable::NotReady => "PDFNotReadyError",
            _ => "BadRequestError",
        };
        NotifyError {
            status_code: 400,
            errors: vec![ErrorEntry {
                error: error.into(),
                message: unavailable.to_string(),
            }],
            retry_after_secs: None,
        }
    })?;
    audit(
        caller,
        "notification.read",
        &format!("notification/{id}/pdf"),
        message.contact_id.as_deref(),
    )?;
    let pdf = match letters::pdf_of(db, id).map_err(|e| internal(&store_problem(e)))? {
        Some(pdf) => pdf,
        None => render_letter(&LetterContent {
            address: &message.address_lines(),
            contact_block: message.reply_to.as_deref(),
            date: &CalendarDate::from_unix_ms(message.created_at).long_form(),
            subject: message.subject.as_deref().unwrap_or_default(),
            body: &message.body,
        }),
    };
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/pdf")
        .body(pdf)
        .build())
}
