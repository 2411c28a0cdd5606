//! Signed one-click unsubscribe links (RFC 8058): minted for a message, then
//! used by whoever holds them, without signing in. `GET` shows a
//! confirmation and changes nothing (mail scanners fetch links); `POST`
//! with `List-Unsubscribe=One-Click` withdraws the consent, once: the link's
//! nonce is recorded with the withdrawal, in one transaction.

use consent_rules::{
    Channel, ContactId, LawfulBasis, LinkError, Nonce, PlanError, UNSUBSCRIBE_PATH,
    UnsubscribeClaims, plan_unsubscribe, unsubscribe_url, verify_unsubscribe,
};
use consent_store::{self as store, Records, Redemption, Written, nonce_used};
use crm_component_support::audit::{AuditRecord, AuditSink, Outcome};
use crm_component_support::{
    Action, Ctx, Target, json, json_body, new_id, now_ms, open_db, query_param, transaction,
};
use crm_http::{FieldError, Problem};
use serde::Deserialize;
use spin_sdk::http::{Request, Response};

use crate::{Fields, config, withdrawal_time};

const DAY_MS: i64 = 86_400_000;
/// The Spam Act 2003 wants an unsubscribe facility to work for at least 30
/// days after the message is sent.
const MIN_VALID_DAYS: i64 = 30;
const MAX_VALID_DAYS: i64 = 365;
const DEFAULT_VALID_DAYS: i64 = 60;
/// The role the audit trail names for whoever held a link.
const LINK_ROLE: &str = "unsubscribe-link";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    contact_id: String,
    purpose: String,
    channel: String,
    valid_for_days: Option<i64>,
}

/// `POST /api/consents/unsubscribe-links`: a link to put in a message (for
/// those who may send one). Nothing is stored until it is used.
pub fn mint(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: LinkBody = json_body(req)?;
    ctx.require(
        Action::NotificationSend,
        Target::Contact(&body.contact_id),
        &format!("contact/{}/unsubscribe-links", body.contact_id),
    )?;
    let keys = config::link_keys()?;
    let base_url = config::link_base_url()?;
    let now = now_ms();
    let mut fields = Fields::default();
    let contact_id = fields.check("contact_id", ContactId::parse(&body.contact_id));
    let channel = fields.check("channel", Channel::parse(&body.channel));
    let purpose = match store::current_purpose(ctx.db()?, &body.purpose)? {
        Some(entry) if entry.purpose.lawful_basis() == LawfulBasis::Consent => {
            Some(entry.purpose.id().clone())
        }
        Some(_) => {
            fields.fail(
                "purpose",
                "does not rest on consent, so there is nothing to withdraw",
            );
            None
        }
        None => {
            fields.fail("purpose", "is not in the purpose catalogue");
            None
        }
    };
    let days = body.valid_for_days.unwrap_or(DEFAULT_VALID_DAYS);
    if !(MIN_VALID_DAYS..=MAX_VALID_DAYS).contains(&days) {
        fields.fail(
            "valid_for_days",
            format!("must be {MIN_VALID_DAYS} to {MAX_VALID_DAYS}"),
        );
    }
    let nonce = Nonce::parse(&new_id("n")).map_err(|e| Problem::internal(e.0))?;
    let claims = fields.finish(contact_id.zip(purpose).zip(channel).map(
        |((contact_id, purpose), channel)| UnsubscribeClaims {
            contact_id,
            purpose,
            channel,
            nonce,
            expires_at_ms: now + days * DAY_MS,
        },
    ))?;
    let token = keys.sign(&claims);
    let url = unsubscribe_url(&base_url, &token);
    Ok(json(
        200,
        &serde_json::json!({
            "token": token,
            "url": url,
            "expires_at": claims.expires_at_ms,
            // RFC 8058: what a message carrying the link sends.
            "headers": {
                "List-Unsubscribe": format!("<{url}>"),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        }),
    ))
}

/// Why a link was refused, as the person sees it; the audit trail keeps
/// the exact cause.
fn link_problem(error: &LinkError) -> Problem {
    match error {
        LinkError::Expired { .. } => Problem {
            status: 410,
            ..Problem::not_found(
                "this unsubscribe link has expired; use the link in a newer message",
            )
            .with_kind("unsubscribe-link-expired", "Link expired")
        },
        LinkError::Replayed(_) => Problem::conflict(
            "unsubscribe-link-used",
            "this unsubscribe link was already used",
        ),
        LinkError::Malformed(_) | LinkError::UnknownKey(_) | LinkError::Tampered => {
            Problem::refused(
                "unsubscribe-link-invalid",
                "this is not a valid unsubscribe link",
            )
        }
    }
}

/// The link's verified claims (not yet checked against used nonces).
fn verified(req: &Request, now: i64) -> Result<Result<UnsubscribeClaims, LinkError>, Problem> {
    let token = query_param(req, "token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Problem::validation(vec![FieldError::new("token", "is required")]))?;
    let keys = config::link_keys()?;
    Ok(verify_unsubscribe(&token, keys.keys(), now))
}

/// `GET /api/consents/unsubscribe?token=`: the confirmation page.
pub fn confirm(req: &Request) -> Result<Response, Problem> {
    let claims = verified(req, now_ms())?.map_err(|e| link_problem(&e))?;
    let db = open_db()?;
    if nonce_used(&db, &claims.nonce)? {
        return Err(link_problem(&LinkError::Replayed(claims.nonce)));
    }
    let description = store::current_purpose(&db, claims.purpose.as_str())?.map_or_else(
        || claims.purpose.to_string(),
        |e| e.purpose.description().to_string(),
    );
    let token = query_param(req, "token").unwrap_or_default();
    Ok(page(
        "Unsubscribe",
        &format!(
            "<h1>Stop these messages?</h1>\
             <p>You will no longer get <strong>{}</strong> by {}.</p>\
             <form method=\"post\" action=\"{UNSUBSCRIBE_PATH}?token={}\">\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\">Unsubscribe</button></form>",
            escape(&description),
            claims.channel,
            escape(&token),
        ),
    ))
}

/// What the withdrawal left.
enum Redeemed {
    Withdrawn {
        consent_id: String,
    },
    /// No consent was in force (already withdrawn, refused or expired): the
    /// link is used up all the same.
    NothingToWithdraw,
}

/// `POST /api/consents/unsubscribe?token=` with `List-Unsubscribe=One-Click`.
pub fn redeem(req: &Request, request_id: &str, sink: &dyn AuditSink) -> Result<Response, Problem> {
    let audit = |claims: Option<&UnsubscribeClaims>, outcome, detail: Option<&str>| {
        let actor = claims.map_or("anonymous".into(), |c| format!("{LINK_ROLE}:{}", c.nonce));
        let resource = claims.map_or(UNSUBSCRIBE_PATH.into(), |c| {
            format!("contact/{}/consents", c.contact_id)
        });
        let contact = claims.map(|c| c.contact_id.to_string());
        sink.append(&AuditRecord {
            request_id,
            actor_id: &actor,
            role: LINK_ROLE,
            purpose: None,
            action: Action::ConsentWithdraw.as_str(),
            resource: &resource,
            subject_contact: contact.as_deref(),
            outcome,
            detail,
        })
        .map_err(|e| Problem::unavailable(format!("the audit trail cannot be written: {e}")))
    };
    let claims = match verified(req, now_ms())? {
        Ok(claims) => claims,
        Err(error) => {
            audit(None, Outcome::Denied, Some(&error.to_string()))?;
            return Err(link_problem(&error));
        }
    };
    if !is_one_click(req) {
        audit(Some(&claims), Outcome::Denied, Some("not-one-click"))?;
        return Err(Problem::validation(vec![FieldError::new(
            "List-Unsubscribe",
            "the body must be List-Unsubscribe=One-Click (RFC 8058)",
        )]));
    }
    let db = open_db()?;
    if nonce_used(&db, &claims.nonce)? {
        let error = LinkError::Replayed(claims.nonce.clone());
        audit(Some(&claims), Outcome::Denied, Some(&error.to_string()))?;
        return Err(link_problem(&error));
    }
    audit(Some(&claims), Outcome::Allowed, None)?;
    let by = format!("{LINK_ROLE}:{}", claims.nonce);
    let redeemed = transaction(&db, |db| {
        // Two clicks at once: the second finds the first's nonce here.
        if nonce_used(db, &claims.nonce)? {
            return Err(link_problem(&LinkError::Replayed(claims.nonce.clone())));
        }
        let records = store::records(
            db,
            Records::Current {
                contact: claims.contact_id.as_str(),
                purpose: claims.purpose.as_str(),
                channel: claims.channel,
            },
        )?;
        // The time is taken under the write lock, as `records::withdraw`
        // takes it.
        let now = withdrawal_time(&records);
        let written = Written {
            by: &by,
            request_id,
            at_ms: now,
        };
        let redeemed = match plan_unsubscribe(&records, &claims, now) {
            Ok(appended) => Redeemed::Withdrawn {
                consent_id: store::write_withdrawal(db, records, appended, written)?
                    .id
                    .to_string(),
            },
            Err(PlanError::NothingToWithdraw { .. }) => Redeemed::NothingToWithdraw,
            Err(other) => return Err(Problem::internal(other.to_string())),
        };
        let record_id = match &redeemed {
            Redeemed::Withdrawn { consent_id } => Some(consent_id.as_str()),
            Redeemed::NothingToWithdraw => None,
        };
        store::insert_redemption(
            db,
            Redemption {
                nonce: &claims.nonce,
                at_ms: now,
                contact_id: &claims.contact_id,
                purpose: &claims.purpose,
                channel: claims.channel,
                record_id,
                request_id,
            },
        )?;
        Ok(redeemed)
    })
    .inspect_err(|problem| {
        let kind = problem.kind.trim_start_matches(crm_http::PROBLEM_BASE);
        // The request fails with `problem` whether or not this is recorded.
        let _ = audit(Some(&claims), Outcome::Failed, Some(kind));
    })?;
    Ok(answer(req, &claims, &redeemed))
}

/// RFC 8058: the POST body carries `List-Unsubscribe=One-Click`, form- or
/// multipart-encoded.
fn is_one_click(req: &Request) -> bool {
    let body = String::from_utf8_lossy(req.body());
    let multipart = req
        .header("content-type")
        .and_then(|v| v.as_str())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
    if multipart {
        return body.contains("name=\"List-Unsubscribe\"") && body.contains("One-Click");
    }
    body.split('&')
        .any(|pair| pair.trim() == "List-Unsubscribe=One-Click")
}

/// A person who clicked gets a page; a mail provider or script, JSON.
fn answer(req: &Request, claims: &UnsubscribeClaims, redeemed: &Redeemed) -> Response {
    let wants_html = req
        .header("accept")
        .and_then(|v| v.as_str())
        .is_some_and(|a| a.contains("text/html"));
    let (outcome, consent_id) = match redeemed {
        Redeemed::Withdrawn { consent_id } => ("withdrawn", Some(consent_id.as_str())),
        Redeemed::NothingToWithdraw => ("nothing-to-withdraw", None),
    };
    if wants_html {
        return page(
            "Unsubscribed",
            &format!(
                "<h1>You are unsubscribed</h1><p>We will not send you these messages by {} again.</p>",
                claims.channel
            ),
        );
    }
    json(
        200,
        &serde_json::json!({
            "outcome": outcome,
            "purpose": claims.purpose,
            "channel": claims.channel,
            "consent_id": consent_id,
        }),
    )
}

/// A small self-contained page: no scripts, no outside resources, not
/// framed, and the token in its address never sent on as a referrer.
fn page(title: &str, body: &str) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
        .header(
            "content-security-policy",
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title></head><body><main>{body}</main></body></html>"
        ))
        .build()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
