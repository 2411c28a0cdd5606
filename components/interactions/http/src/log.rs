//! Appending, reading, amending, disposing of and verifying interactions.

use crm_component_support::{
    Action, Ctx, FieldError, Outcome, RecordKind, Target, idempotency_key, json, json_body, now_ms,
};
use crm_http::{IDEMPOTENT_REPLAYED_HEADER, Problem};
use interactions_rules::values::{ContactId, EntryId};
use interactions_rules::{
    AppendRefused, DisposalRefused, DisposalRequest, NewAmendment, NewInteraction, RawAmendment,
    RawDisposal, RawInteraction, RawTimelineQuery, TimelineQuery,
};
use interactions_store::cursor::{self, CursorKeyError};
use interactions_store::{AmendError, AppendError, DisposeError};
use serde::Serialize;
use spin_sdk::http::{Request, Response};

use crate::crm;
use crate::view::Interaction;
use crate::{actor, new_entry_id, query, require_on_entry, store_problem, variable};

/// The secret that signs timeline cursors (empty: a key per database).
const CURSOR_KEY: &str = "interaction_cursor_key";

/// `body` (interactions of `contact`) as a JSON response, with what the
/// caller may not see removed. Most callers may see everything, and a page
/// then goes out without a detour through `serde_json::Value`.
fn shown<T: Serialize>(ctx: &Ctx, contact: &str, status: u16, body: &T) -> Response {
    let target = Target::Contact(contact);
    if ctx
        .hidden_fields(RecordKind::Interaction, target)
        .is_empty()
    {
        return json(status, body);
    }
    let mut value = serde_json::to_value(body).expect("interactions serialise");
    ctx.redact(&mut value, RecordKind::Interaction, target);
    json(status, &value)
}

/// As [`shown`], created at `location`.
fn shown_created(ctx: &Ctx, contact: &str, location: &str, body: &Interaction) -> Response {
    let mut response = shown(ctx, contact, 201, body);
    response.set_header("location", location);
    response
}

/// `POST /api/interactions`: the officer defaults to the caller. With an
/// `Idempotency-Key`, a retry answers with the entry the key's first request
/// appended (marked `idempotent-replayed: true`) instead of appending again,
/// and the key reused for a different request is a 422.
pub fn append(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let mut raw: RawInteraction = json_body(req)?;
    let target = raw
        .contact_id
        .as_deref()
        .map_or(Target::General, Target::Contact);
    let resource = match &raw.contact_id {
        Some(contact) => format!("contact/{contact}/interactions"),
        None => "interactions".to_string(),
    };
    ctx.require(Action::InteractionAppend, target, &resource)?;
    if let Some(contact) = &raw.contact_id {
        raw.contact_id = Some(existing_contact(ctx, contact)?);
    }
    let recorded_by = actor(ctx)?;
    raw.officer_id
        .get_or_insert_with(|| recorded_by.to_string());
    let key = idempotency_key(ctx, req, "appendInteraction")?;
    let new = NewInteraction::parse(&raw, now_ms()).map_err(Problem::validation)?;
    // The key is looked up and kept in the append's transaction, so a retry
    // (even one racing the first request) appends nothing. A retry is
    // authorised and audited as the first request was (above).
    let appended = interactions_store::append_interaction_once(
        ctx.db()?,
        new_entry_id()?,
        recorded_by,
        new,
        key.as_ref(),
    )
    .map_err(|e| match e {
        AppendError::KeyReused => Problem::idempotency_key_reused(),
        AppendError::Store(e) => store_problem(e),
    })?;
    let record = appended.record;
    let contact = record.entry.contact_id.to_string();
    let location = format!("/api/interactions/{}", record.entry.id);
    let mut response = shown_created(ctx, &contact, &location, &Interaction::detail(&record));
    if appended.replayed {
        response.set_header(IDEMPOTENT_REPLAYED_HEADER, "true");
    }
    Ok(response)
}

/// The contact an interaction with `contact` is recorded against: itself,
/// or for a merged contact its survivor. A contact the directory does not
/// know is a 400 naming `contact_id`: a touchpoint belongs to a record.
fn existing_contact(ctx: &Ctx, contact: &str) -> Result<String, Problem> {
    let context = crm_component_support::wit::request_context(ctx);
    match crm::contacts::directory::lookup(&context, contact) {
        Ok(Some(reach)) => Ok(reach.contact_id),
        Ok(None) => Err(Problem::validation(vec![FieldError::new(
            "contact_id",
            "no such contact",
        )])),
        Err(e) => Err(directory_unavailable(e)),
    }
}

fn directory_unavailable(error: String) -> Problem {
    Problem::unavailable(format!("the contact directory cannot be read: {error}"))
}

/// The contacts whose interactions `contact`'s timeline shows besides its
/// own, as the directory has them: its survivor if it was merged, and every
/// contact merged into that survivor.
fn merged_family(ctx: &Ctx, contact: &ContactId) -> Result<Vec<ContactId>, Problem> {
    let context = crm_component_support::wit::request_context(ctx);
    let family = crm::contacts::directory::merge_family(&context, contact.as_str())
        .map_err(directory_unavailable)?;
    Ok(family
        .into_iter()
        .filter(|id| id != contact.as_str())
        // An id the log's type refuses can hold no interactions.
        .filter_map(|id| ContactId::parse(&id).ok())
        .collect())
}

/// `GET /api/interactions/{id}`: an interaction with its amendments (an
/// amendment's or a disposal's id answers with its interaction).
pub fn read(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let record = match EntryId::parse(id) {
        Ok(entry) => interactions_store::record(ctx.db()?, &entry).map_err(store_problem)?,
        Err(_) => None,
    };
    let contact = record.as_ref().map(|r| r.entry.contact_id.to_string());
    let target = contact.as_deref().map_or(Target::General, Target::Contact);
    let resource = format!("interaction/{id}");
    ctx.require(Action::InteractionRead, target, &resource)?;
    match (record, contact) {
        (Some(record), Some(contact)) => {
            Ok(shown(ctx, &contact, 200, &Interaction::detail(&record)))
        }
        _ => Err(Problem::not_found(format!("no {resource}"))),
    }
}

#[derive(Serialize)]
struct TimelinePage {
    interactions: Vec<Interaction>,
    /// Pass as `cursor` (with the same filters) for the next page.
    next_cursor: Option<String>,
}

/// `GET /api/interactions?contact_id=…`: newest first, filtered, by cursor.
/// A citizen may leave out `contact_id` to mean their own.
pub fn timeline(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let mut raw: RawTimelineQuery = query(req)?;
    if raw.contact_id.is_none() {
        raw.contact_id = ctx.own_contact().map(str::to_string);
    }
    let Some(contact) = raw.contact_id.clone() else {
        ctx.require(Action::InteractionRead, Target::General, "interactions")?;
        return Err(Problem::validation(vec![FieldError::new(
            "contact_id",
            "is required",
        )]));
    };
    ctx.require(
        Action::InteractionRead,
        Target::Contact(&contact),
        &format!("contact/{contact}/interactions"),
    )?;
    let db = ctx.db()?;
    let codec = cursor::codec(db, &variable(CURSOR_KEY)?, || {
        // Two UUIDs: 244 random bits, ample for an HMAC key.
        format!(
            "{}{}",
            crm_component_support::new_id("key"),
            crm_component_support::new_id("key")
        )
    })
    .map_err(|e| match e {
        CursorKeyError::Invalid => Problem::internal(e.to_string()),
        CursorKeyError::Store(e) => store_problem(e),
    })?;
    let query = TimelineQuery::parse(&raw, &codec).map_err(Problem::validation)?;
    let merged = merged_family(ctx, &query.filter.contact_id)?;
    let page = interactions_store::timeline(db, &query, &merged).map_err(store_problem)?;
    let body = TimelinePage {
        interactions: page.items.iter().map(Interaction::summary).collect(),
        next_cursor: page.next_after.map(|p| codec.encode(p, &query.filter)),
    };
    Ok(shown(ctx, &contact, 200, &body))
}

/// `POST /api/interactions/{id}/amendments`: corrects an interaction, or an
/// earlier amendment (restating its patch). Answers with the interaction as
/// now corrected; `Location` names the amendment.
pub fn amend(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let raw: RawAmendment = json_body(req)?;
    let (target, contact) = require_on_entry(ctx, Action::InteractionAmend, id)?;
    let new = NewAmendment::parse(&raw, now_ms()).map_err(Problem::validation)?;
    let (amendment, record) =
        interactions_store::amend(ctx.db()?, &target, new_entry_id()?, actor(ctx)?, new).map_err(
            |e| match e {
                AmendError::NotFound(id) => Problem::not_found(format!("no interaction/{id}")),
                AmendError::Refused(refused @ AppendRefused::Disposed { .. }) => {
                    Problem::conflict("disposed", refused.to_string())
                }
                AmendError::Refused(refused) => {
                    Problem::conflict("not-amendable", refused.to_string())
                }
                AmendError::Store(e) => store_problem(e),
            },
        )?;
    Ok(shown_created(
        ctx,
        &contact,
        &format!("/api/interactions/{}", amendment.id),
        &Interaction::detail(&record),
    ))
}

/// `POST /api/interactions/{id}/dispose`: an administrator disposes of an
/// interaction under a records authority, unless a legal hold is in force.
/// Its content (and its amendments') becomes a tombstone; the disposal is
/// an entry of the chain and is audited.
pub fn dispose(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let raw: RawDisposal = json_body(req)?;
    let (target, contact) = require_on_entry(ctx, Action::InteractionDispose, id)?;
    let request =
        DisposalRequest::parse(&raw, actor(ctx)?, ctx.role()).map_err(Problem::validation)?;
    let class = request.authority_class.clone();
    // The time is read under the write lock, so a hold committed before the
    // disposal is never dated after it.
    let (disposal, record) =
        interactions_store::dispose(ctx.db()?, &target, new_entry_id()?, request, now_ms).map_err(
            |e| match e {
                DisposeError::NotFound(id) => Problem::not_found(format!("no interaction/{id}")),
                DisposeError::Refused(refused) => refusal(refused),
                DisposeError::Store(e) => store_problem(e),
            },
        )?;
    ctx.record(
        Action::InteractionDispose,
        &format!("interaction/{}", record.entry.id),
        Some(&contact),
        Outcome::Allowed,
        Some(&format!(
            "disposed of under {}; content replaced by tombstone {}",
            class.as_str(),
            disposal.id
        )),
    )?;
    Ok(shown_created(
        ctx,
        &contact,
        &format!("/api/interactions/{}", disposal.id),
        &Interaction::detail(&record),
    ))
}

fn refusal(refused: DisposalRefused) -> Problem {
    let detail = refused.to_string();
    match refused {
        DisposalRefused::UnderLegalHold { .. } => Problem::conflict("legal-hold", detail),
        DisposalRefused::AlreadyDisposed { .. } => Problem::conflict("already-disposed", detail),
        DisposalRefused::NotAnInteraction(_) => Problem::conflict("not-an-interaction", detail),
        DisposalRefused::NotAdministrator => Problem::forbidden(detail),
        DisposalRefused::UnrelatedAmendment(_) => Problem::internal(detail),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyQuery {
    contact_id: Option<String>,
}

#[derive(Serialize)]
struct Verification {
    contact_id: String,
    /// The chain holds and ends where its stored tip says.
    valid: bool,
    /// Entries that held before the first problem.
    entries: u64,
    head_hash: Option<String>,
    tip_matches: bool,
    first_broken_sequence: Option<i64>,
    first_broken_id: Option<String>,
    reason: Option<String>,
}

/// `GET /api/interactions/verify?contact_id=…`: walks the contact's chain.
pub fn verify(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let raw: VerifyQuery = query(req)?;
    let contact = raw
        .contact_id
        .ok_or_else(|| Problem::validation(vec![FieldError::new("contact_id", "is required")]))?;
    ctx.require(
        Action::AuditVerify,
        Target::Contact(&contact),
        &format!("contact/{contact}/interactions/verify"),
    )?;
    let contact_id = ContactId::parse(&contact)
        .map_err(|e| Problem::validation(vec![FieldError::new("contact_id", e.0)]))?;
    let verdict = interactions_store::verify(ctx.db()?, &contact_id).map_err(store_problem)?;
    let body = match verdict {
        None => Verification {
            contact_id: contact,
            valid: true,
            entries: 0,
            head_hash: None,
            tip_matches: true,
            first_broken_sequence: None,
            first_broken_id: None,
            reason: None,
        },
        Some(verdict) => Verification {
            contact_id: contact,
            valid: verdict.is_valid(),
            entries: verdict.entries,
            head_hash: verdict.head.map(|h| h.hash.to_string()),
            tip_matches: verdict.tip_matches,
            first_broken_sequence: verdict.broken.as_ref().map(|b| b.sequence),
            first_broken_id: verdict.broken.as_ref().and_then(|b| b.id.clone()),
            reason: verdict.broken.map(|b| b.reason).or_else(|| {
                (!verdict.tip_matches).then(|| {
                    "the chain ends before its stored tip: entries were removed from its end"
                        .to_string()
                })
            }),
        },
    };
    Ok(json(200, &body))
}
