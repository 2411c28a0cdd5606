//! Consent records: recording a decision (a new record that supersedes the
//! ruling one), a contact's current consents and history, one record, its
//! receipt, and withdrawal by the person or an officer for them.

use consent_rules::{
    Appended, Channel, CollectionMethod, ConsentEvent, ConsentRecord, ConsentRequest, ContactId,
    PurposeId, RecordId, Via, build_receipt, current_records, note_expiry, plan_record,
    plan_withdrawal,
};
use consent_store::{self as store, Records};
use crm_auth::policy::Principal;
use crm_component_support::{
    Action, Ctx, Target, created, json, json_body, new_id, now_ms, query_param, transaction,
};
use crm_http::Problem;
use serde::Deserialize;
use spin_sdk::http::{Request, Response};

use crate::{
    Fields, actor, config, field_errors, plan_problem, subject, view, withdrawal_time, written,
};

/// `POST /api/consents`: a decision, given or refused.
pub fn record(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: ConsentRequest = json_body(req)?;
    ctx.require(
        Action::ConsentRecord,
        Target::Contact(&body.contact_id),
        &format!("contact/{}/consents", body.contact_id),
    )?;
    let now = now_ms();
    let db = ctx.db()?;
    let purposes: Vec<_> = store::purposes(db)?
        .into_iter()
        .map(|entry| entry.purpose)
        .collect();
    let mut fields = Fields::default();
    let consent = body
        .parse(&purposes, now)
        .map_err(|invalid| fields.0.extend(field_errors(invalid.errors)))
        .ok();
    check_collector(ctx, &body, &mut fields);
    match store::notice(db, &body.notice_id, body.notice_version)? {
        None if !fields.0.iter().any(|e| e.field.starts_with("notice")) => {
            fields.fail("notice_id", "no privacy notice with this id and version")
        }
        // APP 5: the person must have been able to read it when deciding.
        Some(notice)
            if consent
                .as_ref()
                .is_some_and(|c| notice.published_at_ms > c.validity.given_at_ms()) =>
        {
            fields.fail(
                "notice_version",
                "was published after given_at, so the person cannot have been shown it",
            )
        }
        _ => {}
    }
    let consent = fields.finish(consent)?;
    let actor = actor(ctx)?;
    let by = ctx.actor_id();
    let id = RecordId::parse(&new_id("cns")).map_err(|e| Problem::internal(e.0))?;
    // Re-read under the write lock: a decision recorded a moment ago by
    // someone else is superseded, not lost. The time is taken under the lock
    // too, so records are stored in the order they supersede each other.
    let (record, now) = transaction(db, |db| {
        let current = store::records(
            db,
            Records::Current {
                contact: consent.subject.as_str(),
                purpose: consent.purpose.as_str(),
                channel: consent.channel,
            },
        )?;
        let now = current
            .iter()
            .map(|r| r.recorded_at_ms)
            .fold(now_ms(), i64::max);
        let written = written(&by, ctx, now);
        let plan = plan_record(&current, consent, id, actor, now).map_err(plan_problem)?;
        let via = plan.record.consent.collection.method().via();
        store::write_record_plan(db, &plan, &current, via, written)?;
        Ok((plan.record, now))
    })?;
    Ok(created(
        &format!("/api/consents/{}", record.id),
        &view::record(&record, &[], now),
    ))
}

/// Who may vouch for which collection method: a citizen decides in the
/// portal and acts only for themself; a staff member records the other
/// methods, as the officer named in the evidence.
fn check_collector(ctx: &Ctx, body: &ConsentRequest, fields: &mut Fields) {
    let method = CollectionMethod::parse(&body.collection.method).ok();
    match &ctx.caller {
        Principal::Citizen { .. } => {
            if method.is_some_and(|m| m != CollectionMethod::PortalForm) {
                fields.fail(
                    "collection.method",
                    "a citizen records decisions through the portal-form",
                );
            }
            if body.grantor.is_some() {
                fields.fail(
                    "grantor",
                    "a representative's decision is recorded by an officer",
                );
            }
        }
        Principal::Staff { subject, .. } => {
            if method == Some(CollectionMethod::PortalForm) {
                fields.fail(
                    "collection.method",
                    "portal-form decisions are made by the person signed in to the portal",
                );
            }
            if body
                .collection
                .officer_id
                .as_ref()
                .is_some_and(|officer| officer != subject)
            {
                fields.fail("collection.officer_id", "must be your own staff id");
            }
        }
        // A service client (the portal, a call centre system) vouches for
        // its own evidence.
        Principal::Service { .. } => {}
    }
}

/// A contact's records, with an `expired-noted` event appended to each
/// that has run out since anyone last looked.
fn records_noted(ctx: &Ctx, contact: &str, now: i64) -> Result<Vec<ConsentRecord>, Problem> {
    let db = ctx.db()?;
    let which = Records::OfContact(contact);
    let records = store::records(db, which)?;
    if !records
        .iter()
        .any(|r| note_expiry(r, &records, now).is_some())
    {
        return Ok(records);
    }
    let written = written("system", ctx, now);
    transaction(db, |db| {
        let mut records = store::records(db, which)?;
        let before = records.clone();
        for record in &mut records {
            if let Some(event) = note_expiry(record, &before, now) {
                let appended = Appended {
                    record_id: record.id.clone(),
                    event,
                };
                store::append_event(db, &appended, written)?;
                record.events.push(appended.event);
            }
        }
        Ok(records)
    })
}

/// `GET /api/consents?contact_id=`: current consents and full history.
pub fn list(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let contact = subject(ctx, query_param(req, "contact_id"))?;
    ctx.require(
        Action::ConsentRead,
        Target::Contact(&contact),
        &format!("contact/{contact}/consents"),
    )?;
    let now = now_ms();
    let records = records_noted(ctx, &contact, now)?;
    let current: Vec<_> = current_records(&records)
        .into_iter()
        .map(|r| view::record(r, &records, now))
        .collect();
    let history: Vec<_> = records
        .iter()
        .rev()
        .map(|r| view::record(r, &records, now))
        .collect();
    Ok(json(
        200,
        &serde_json::json!({"contact_id": contact, "current": current, "history": history}),
    ))
}

/// `GET /api/consents/decision?contact_id=&purpose=&channel=`: whether the
/// contact may be reached for `purpose` by `channel` now, decided as a send
/// is (`crm:consent/decisions` runs the same check), so a sender sees the
/// answer before sending.
pub fn decision(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let contact = subject(ctx, query_param(req, "contact_id"))?;
    ctx.require(
        Action::ConsentRead,
        Target::Contact(&contact),
        &format!("contact/{contact}/consents"),
    )?;
    let mut fields = Fields::default();
    let contact_id = fields.check("contact_id", ContactId::parse(&contact));
    let purpose = fields.check(
        "purpose",
        PurposeId::parse(&query_param(req, "purpose").unwrap_or_default()),
    );
    let channel = fields.check(
        "channel",
        Channel::parse(&query_param(req, "channel").unwrap_or_default()),
    );
    let (contact_id, (purpose, channel)) = fields.finish(contact_id.zip(purpose.zip(channel)))?;
    let decided = store::check(
        ctx.db()?,
        contact_id.as_str(),
        purpose.as_str(),
        Some(channel),
        now_ms(),
    )
    .map_err(|e| Problem::internal(e.detail()))?;
    Ok(json(
        200,
        &serde_json::json!({
            "contact_id": contact_id.as_str(),
            "purpose": purpose.as_str(),
            "channel": channel.as_str(),
            "permitted": decided.permitted,
            "reason": decided.reason.code(),
            "consent_id": decided.consent_id.map(|id| id.to_string()),
        }),
    ))
}

/// Authorises reading record `id`; its contact decides who may. A missing
/// record is answered after the same check, so the answer reveals nothing
/// more. Returns the contact.
fn authorise_read(ctx: &mut Ctx, id: &str) -> Result<String, Problem> {
    let contact = store::record_contact(ctx.db()?, id)?;
    let target = contact.as_deref().map_or(Target::General, Target::Contact);
    let resource = format!("consent/{id}");
    ctx.require(Action::ConsentRead, target, &resource)?;
    contact.ok_or_else(|| Problem::not_found(format!("no {resource}")))
}

/// `GET /api/consents/{id}`.
pub fn get(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let contact = authorise_read(ctx, id)?;
    let now = now_ms();
    let records = records_noted(ctx, &contact, now)?;
    let record = records
        .iter()
        .find(|r| r.id.as_str() == id)
        .ok_or_else(|| Problem::not_found(format!("no consent/{id}")))?;
    Ok(json(200, &view::record(record, &records, now)))
}

/// `GET /api/consents/{id}/receipt`: the ISO/IEC TS 27560 receipt, sealed
/// with a digest; issuing it is itself an event on the record.
pub fn receipt(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let contact = authorise_read(ctx, id)?;
    let now = now_ms();
    let controller = config::controller()?;
    records_noted(ctx, &contact, now)?;
    let via = if ctx.own_contact().is_some() {
        Via::Portal
    } else {
        Via::System
    };
    let appended = Appended {
        record_id: RecordId::parse(id).map_err(|e| Problem::internal(e.0))?,
        event: ConsentEvent::receipt_issued(actor(ctx)?, via, now),
    };
    let db = ctx.db()?;
    let by = ctx.actor_id();
    let written = written(&by, ctx, now);
    let record = transaction(db, |db| {
        store::append_event(db, &appended, written)?;
        store::records(db, Records::Id(id))?
            .pop()
            .ok_or_else(|| Problem::internal("the record is missing"))
    })?;
    let consent = &record.consent;
    let purpose = store::purpose_at(db, consent.purpose.as_str(), record.recorded_at_ms)?
        .ok_or_else(|| Problem::internal(format!("purpose {} is missing", consent.purpose)))?
        .purpose;
    let version = i64::from(consent.notice.version.get());
    let notice = store::notice(db, consent.notice.id.as_str(), version)?
        .ok_or_else(|| Problem::internal("the record's privacy notice is missing"))?;
    let receipt = build_receipt(&record, &purpose, &notice, &controller)
        .map_err(|e| Problem::internal(e.to_string()))?;
    Ok(json(200, &receipt))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawalRequest {
    contact_id: Option<String>,
    purpose: String,
    channel: String,
    /// How the person asked (staff and services): portal, paper, phone,
    /// counter or email. A citizen withdraws through the portal.
    via: Option<String>,
}

/// `POST /api/consents/withdrawals`: withdraws the consent that rules for a
/// contact, purpose and channel.
pub fn withdraw(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: WithdrawalRequest = json_body(req)?;
    let contact = subject(ctx, body.contact_id.clone())?;
    ctx.require(
        Action::ConsentWithdraw,
        Target::Contact(&contact),
        &format!("contact/{contact}/consents"),
    )?;
    let mut fields = Fields::default();
    let contact_id = fields.check("contact_id", ContactId::parse(&contact));
    let purpose = fields.check("purpose", PurposeId::parse(&body.purpose));
    let channel = fields.check("channel", Channel::parse(&body.channel));
    let via = match (ctx.own_contact(), body.via.as_deref()) {
        (Some(_), None | Some("portal")) => Some(Via::Portal),
        (Some(_), Some(_)) => {
            fields.fail("via", "a citizen withdraws through the portal");
            None
        }
        (None, None) => {
            fields.fail("via", "is required: how the person asked");
            None
        }
        (None, Some(raw)) => match Via::parse(raw) {
            Ok(via) if !matches!(via, Via::OneClickLink | Via::System) => Some(via),
            _ => {
                fields.fail("via", "must be one of portal, paper, phone, counter, email");
                None
            }
        },
    };
    let (contact_id, purpose, channel, via) = fields.finish(
        contact_id
            .zip(purpose)
            .zip(channel)
            .zip(via)
            .map(|(((a, b), c), d)| (a, b, c, d)),
    )?;
    let actor = actor(ctx)?;
    let by = ctx.actor_id();
    // The time is taken under the write lock, as when recording.
    let (record, now) = transaction(ctx.db()?, |db| {
        let records = store::records(
            db,
            Records::Current {
                contact: contact_id.as_str(),
                purpose: purpose.as_str(),
                channel,
            },
        )?;
        let now = withdrawal_time(&records);
        let appended = plan_withdrawal(&records, &contact_id, &purpose, channel, actor, via, now)
            .map_err(plan_problem)?;
        let record = store::write_withdrawal(db, records, appended, written(&by, ctx, now))?;
        Ok((record, now))
    })?;
    Ok(json(200, &view::record(&record, &[], now)))
}
