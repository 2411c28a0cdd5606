//! Per-channel do-not-contact entries: added, listed and lifted (a lift is
//! its own row: the entry itself never changes). The consent check honours
//! them for every purpose that contacts the person.

use consent_rules::{Channel, ContactId, Suppression, SuppressionReason};
use consent_store::{self as store, Lift, NewSuppression, Suppressions};
use crm_component_support::{
    Action, Ctx, Outcome, Target, created, json, json_body, new_id, now_ms, query_param,
    transaction,
};
use crm_domain::ShortText;
use crm_http::Problem;
use serde::Deserialize;
use spin_sdk::http::{Request, Response};

use crate::{Fields, subject, view};

/// Longest note or lift reason (characters).
const MAX_NOTE_CHARS: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionBody {
    contact_id: Option<String>,
    channel: String,
    reason: String,
    note: Option<String>,
    /// Defaults to now.
    since: Option<i64>,
    until: Option<i64>,
}

/// `POST /api/consents/suppressions`.
pub fn add(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: SuppressionBody = json_body(req)?;
    let contact = subject(ctx, body.contact_id.clone())?;
    ctx.require(
        Action::SuppressionManage,
        Target::Contact(&contact),
        &format!("contact/{contact}/suppressions"),
    )?;
    let now = now_ms();
    let mut fields = Fields::default();
    let contact_id = fields.check("contact_id", ContactId::parse(&contact));
    let channel = fields.check("channel", Channel::parse(&body.channel));
    let reason = fields.check("reason", SuppressionReason::parse(&body.reason));
    // The other reasons are the agency's findings, not the person's wish.
    if ctx.own_contact().is_some()
        && reason.is_some_and(|r| r != SuppressionReason::RequestedByPerson)
    {
        fields.fail("reason", "a citizen may add only requested-by-person");
    }
    let note = body
        .note
        .as_deref()
        .and_then(|note| fields.check("note", ShortText::parse(note, MAX_NOTE_CHARS)));
    let since = body.since.unwrap_or(now);
    if since < 0 {
        fields.fail("since", "must not be before the Unix epoch");
    }
    let suppression = match (contact_id, channel, reason) {
        (Some(contact_id), Some(channel), Some(reason)) => {
            let made = Suppression::new(contact_id, channel, reason, since, body.until);
            fields.check("until", made)
        }
        _ => None,
    };
    let suppression = fields.finish(suppression)?;
    let id = new_id("dnc");
    store::insert_suppression(
        ctx.db()?,
        NewSuppression {
            id: &id,
            suppression: &suppression,
            note: note.as_ref().map(|n| n.as_str()),
            created_at_ms: now,
            created_by: &ctx.actor_id(),
        },
    )?;
    let entry = one(ctx, &id)?;
    Ok(created(
        &format!("/api/consents/suppressions?contact_id={contact}"),
        &view::suppression(&entry, suppression.is_active_at(now)),
    ))
}

fn one(ctx: &Ctx, id: &str) -> Result<store::SuppressionEntry, Problem> {
    store::suppressions(ctx.db()?, Suppressions::Id(id))?
        .pop()
        .ok_or_else(|| Problem::not_found(format!("no suppression/{id}")))
}

fn active(entry: &store::SuppressionEntry, now: i64) -> Result<bool, Problem> {
    Ok(entry.suppression()?.is_some_and(|s| s.is_active_at(now)))
}

/// `GET /api/consents/suppressions?contact_id=`: every entry, lifted or not.
pub fn list(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let contact = subject(ctx, query_param(req, "contact_id"))?;
    ctx.require(
        Action::SuppressionRead,
        Target::Contact(&contact),
        &format!("contact/{contact}/suppressions"),
    )?;
    let now = now_ms();
    let entries = store::suppressions(ctx.db()?, Suppressions::OfContact(&contact))?
        .iter()
        .map(|entry| Ok(view::suppression(entry, active(entry, now)?)))
        .collect::<Result<Vec<_>, Problem>>()?;
    Ok(json(
        200,
        &serde_json::json!({"contact_id": contact, "suppressions": entries}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LiftBody {
    reason: String,
}

/// `POST /api/consents/suppressions/{id}/lift`: ends an entry now, once.
pub fn lift(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: LiftBody = json_body(req)?;
    let entry = store::suppressions(ctx.db()?, Suppressions::Id(id))?.pop();
    let resource = format!("suppression/{id}");
    // A citizen may lift only the entries they asked for on their own
    // record: another of their entries is a denial, recorded as such (an
    // entry of someone else's stays a 404 through `require`).
    if let Some(entry) = &entry
        && ctx.own_contact() == Some(entry.contact_id.as_str())
        && entry.reason != SuppressionReason::RequestedByPerson.as_str()
    {
        ctx.record(
            Action::SuppressionManage,
            &resource,
            Some(&entry.contact_id),
            Outcome::Denied,
            Some("forbidden"),
        )?;
        return Err(Problem::forbidden(
            "a citizen may lift only the entries they asked for",
        ));
    }
    let target = entry
        .as_ref()
        .map_or(Target::General, |e| Target::Contact(&e.contact_id));
    ctx.require(Action::SuppressionManage, target, &resource)?;
    if entry.is_none() {
        return Err(Problem::not_found(format!("no {resource}")));
    }
    let mut fields = Fields::default();
    let reason = fields.check("reason", ShortText::parse(&body.reason, MAX_NOTE_CHARS));
    let reason = fields.finish(reason)?;
    let now = now_ms();
    let by = ctx.actor_id();
    let lift = Lift {
        at_ms: now,
        by,
        reason: reason.into_string(),
    };
    transaction(ctx.db()?, |db| {
        if store::is_lifted(db, id)? {
            return Err(Problem::conflict(
                "suppression-already-lifted",
                format!("suppression/{id} was already lifted"),
            ));
        }
        Ok(store::insert_lift(db, id, &lift)?)
    })?;
    let entry = one(ctx, id)?;
    Ok(json(200, &view::suppression(&entry, active(&entry, now)?)))
}
