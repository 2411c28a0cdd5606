//! Downloading a file sent by email: `GET` and `POST
//! /api/notifications/documents/{id}?key=...`, public routes whose
//! credential is the link's key (its SHA-256 is compared with the one
//! kept). A file sent with `confirm_email_before_download` (Notify's
//! default) is given only after the downloader posts the address it was
//! sent to (`email_address`, as an HTML form posts it); the `GET` answers
//! with that form. A wrong key, an unknown file and one whose retention
//! has ended are alike: 404. Every download and refusal is audited.

use crm_component_support::audit::Outcome;
use crm_component_support::{Db, form_param, now_ms, query_param};
use crm_http::Problem;
use notification_rules::same_secret;
use notification_store::documents::{self, StoredDocument};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};

use crate::actor::Actor;
use crate::store_problem;

fn not_found() -> Problem {
    Problem::not_found("no such file, or its retention period has ended")
}

pub fn download(req: &Request, id: &str, request_id: &str) -> Result<Response, Problem> {
    let actor = Actor {
        request_id: request_id.to_string(),
        id: "document-link".into(),
        role: "none".into(),
        purpose: None,
    };
    let resource = format!("notify-document/{id}");
    let refuse = |problem: Problem, why: &str| -> Result<Response, Problem> {
        actor.record(
            "notification.document-download",
            &resource,
            None,
            Outcome::Denied,
            Some(why),
        )?;
        Err(problem)
    };
    let key = query_param(req, "key").unwrap_or_default();
    let db = Db::default();
    let db = db.get()?;
    let found = documents::load(db, id).map_err(store_problem)?.filter(|d| {
        let hash = format!("{:x}", Sha256::digest(key.as_bytes()));
        same_secret(hash.as_bytes(), d.key_sha256.as_bytes())
    });
    let Some(document) = found else {
        return refuse(not_found(), "unknown file or wrong key");
    };
    if now_ms() >= document.expires_at {
        return refuse(not_found(), "retention period ended");
    }
    if let Some(expected) = &document.confirm_email {
        if req.method() != &spin_sdk::http::Method::Post {
            return Ok(confirmation_form());
        }
        let given = form_param(req.body(), "email_address").unwrap_or_default();
        if !same_secret(given.trim().to_lowercase().as_bytes(), expected.as_bytes()) {
            return refuse(
                Problem::forbidden("that is not the email address the file was sent to"),
                "wrong email address",
            );
        }
    }
    actor.record(
        "notification.document-download",
        &resource,
        None,
        Outcome::Allowed,
        Some(&document.notification_id),
    )?;
    Ok(file(document))
}

fn file(document: StoredDocument) -> Response {
    // A name of the file's own, without quotes or line breaks.
    let filename = document
        .filename
        .unwrap_or_else(|| "file".to_string())
        .replace(['"', '\r', '\n'], "");
    Response::builder()
        .status(200)
        .header("content-type", document.media_type)
        .header(
            "content-disposition",
            format!("attachment; filename=\"{filename}\""),
        )
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff")
        .body(document.content)
        .build()
}

/// The page asking for the recipient's address; it posts back to itself
/// (the link, key and all).
fn confirmation_form() -> Response {
    let page = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Confirm your email address</title></head>
<body><main>
<h1>Confirm your email address</h1>
<p>To download this file, enter the email address it was sent to.</p>
<form method="post"><label for="email_address">Email address</label>
<input id="email_address" name="email_address" type="email" autocomplete="email" required>
<button type="submit">Continue</button></form>
</main></body></html>
"#;
    Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .body(page)
        .build()
}
