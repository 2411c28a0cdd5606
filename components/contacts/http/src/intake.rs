//! `POST /api/contacts` (intake with matching) and `POST /api/contacts/match`
//! (matching without writing).

use contacts_rules::collection::{ProvenanceMap, restamp};
use contacts_rules::index::index_entries;
use contacts_rules::{Contact, ContactFields};
use contacts_store::{Answer, Change, Stored, VersionMeta, Written};
use crm_component_support::{Action, Ctx, Outcome as AuditOutcome, Target, new_id};
use crm_http::Problem;
use serde_json::json;
use spin_sdk::http::{Request, Response};

use crate::idempotency::{Idempotency, Outcome, settle};
use crate::input::{
    check_consent, check_fields, check_relationships, collection, object_body, reason, take, typed,
};
use crate::matching::{Candidate, candidates, disclose, visible_reasons};
use crate::records::{etag, now_text, view};
use crate::search::require_readable;
use crm_component_support::transaction;

/// What intake does when matching finds candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum OnDuplicate {
    /// Answer with the best candidate instead of creating.
    Link,
    /// Create anyway, recording why.
    Create,
}

/// How the write ended, decided inside the transaction.
enum Decided {
    Created(Answer),
    Replayed(Answer),
    Duplicates(Vec<Candidate>),
    Link(Box<Candidate>),
}

pub fn create(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    // The attempt is recorded before anything is written, against the
    // collection: which contact it ends with (a new one, or an existing one
    // it links to) is decided by matching inside the write, and recorded
    // once known, so that no entry names a contact that never existed.
    ctx.require(Action::ContactCreate, Target::General, "contacts")?;
    // A retry is answered with the first answer before anything is checked
    // again: consent withdrawn, or a related contact merged, since then does
    // not turn an accepted request into a refusal.
    let outcome = settle(ctx, req, "createContact", |ctx, key| write(ctx, req, key))?;
    let (reply, how) = match &outcome {
        Outcome::Written(reply) => (reply, "created"),
        Outcome::Replayed(reply) => (reply, "replayed"),
        Outcome::NotWritten(reply) => (reply, "linked"),
    };
    record_contact(ctx, reply, how)?;
    Ok(outcome.into_response())
}

/// Records the contact a create ended with (`created`, `replayed` or
/// `linked`), after the write (the trail writes on its own connection) and
/// before the answer discloses it.
fn record_contact(ctx: &Ctx, reply: &Answer, how: &str) -> Result<(), Problem> {
    let Some(id) = reply.body["id"].as_str() else {
        return Err(Problem::internal(
            "the answer to an intake names no contact",
        ));
    };
    ctx.record(
        Action::ContactCreate,
        &format!("contact/{id}"),
        Some(id),
        AuditOutcome::Allowed,
        Some(how),
    )
}

fn write(ctx: &mut Ctx, req: &Request, key: Option<&Idempotency>) -> Result<Outcome, Problem> {
    let id = new_id("con");
    let mut body = object_body(req)?;
    let mut errors = Vec::new();
    let collection = collection(ctx, take(&mut body, "collection"), &mut errors)?;
    let on_duplicate: Option<OnDuplicate> = take(&mut body, "on_duplicate")
        .map(|v| typed("on_duplicate", v))
        .transpose()?;
    let given = take(&mut body, "duplicate_reason")
        .map(|v| typed::<String>("duplicate_reason", v))
        .transpose()?;
    // Needed only to create despite candidates.
    let reason = match (on_duplicate, given.as_deref()) {
        (Some(OnDuplicate::Create), _) | (_, Some(_)) => reason(
            "duplicate_reason",
            given.as_deref(),
            "with on_duplicate = create, say why this is not the same contact",
        )
        .map_err(|e| errors.push(e))
        .ok(),
        _ => None,
    };
    let fields: ContactFields = typed("", body.into())?;
    let mut contact = check_fields(&fields, errors)?;
    let collection = collection.expect("checked with the fields");
    let db = ctx.db()?;
    check_relationships(db, &id, &mut contact)?;
    let fields = contact.to_fields();
    let present = fields.present();
    check_consent(&id, &collection, &present)?;

    let now = now_text();
    let mut provenance = ProvenanceMap::new();
    restamp(
        &mut provenance,
        &present,
        &present,
        &collection.stamp(&now, &ctx.request_id),
    );
    let index = index_entries(&contact);
    let (actor_id, actor_role, request_id) = (
        ctx.actor_id(),
        ctx.role().to_string(),
        ctx.request_id.clone(),
    );
    let decided = transaction(db, |db| {
        if let Some(key) = key
            && let Some(reply) = key.stored(db)?
        {
            return Ok(Decided::Replayed(reply));
        }
        let mut found = candidates(db, &contact, &index, &[])?;
        match (found.is_empty(), on_duplicate) {
            (false, None) => return Ok(Decided::Duplicates(found)),
            (false, Some(OnDuplicate::Link)) => {
                return Ok(Decided::Link(Box::new(found.remove(0))));
            }
            _ => {}
        }
        let duplicate_note = (!found.is_empty()).then(|| {
            let ids: Vec<&str> = found.iter().map(|c| c.stored.id.as_str()).collect();
            format!(
                "{} (possible duplicate of {})",
                reason.as_deref().unwrap_or_default(),
                ids.join(", ")
            )
        });
        let meta = VersionMeta {
            change: Change::Created,
            recorded_at: &now,
            actor_id: &actor_id,
            actor_role: &actor_role,
            request_id: &request_id,
            reason: duplicate_note.as_deref(),
            related_contact: None,
        };
        let written = Written {
            id: &id,
            fields: &fields,
            provenance: &provenance,
            version: 1,
        };
        contacts_store::create(db, &written, &index, &meta, crm_component_support::now_ms())?;
        let stored = Stored {
            id: id.clone(),
            fields: fields.clone(),
            provenance: provenance.clone(),
            version: 1,
            created_at: now.clone(),
            updated_at: now.clone(),
            merged_into: None,
            search_rowid: 0,
        };
        let reply = Answer::json(201, view(ctx, &stored))
            .with_location(format!("/api/contacts/{id}"))
            .with_etag(etag(&stored));
        if let Some(key) = key {
            key.keep(db, &reply)?;
        }
        Ok(Decided::Created(reply))
    })?;
    match decided {
        Decided::Created(reply) => Ok(Outcome::Written(reply)),
        Decided::Replayed(reply) => Ok(Outcome::Replayed(reply)),
        Decided::Duplicates(found) => Err(Problem::conflict(
            "possible-duplicate",
            format!(
                "{} existing contact(s) may be this contact; send on_duplicate = link to use the best, or create with a duplicate_reason",
                found.len()
            ),
        )
        .with_extension("candidates", disclose(ctx, &found)?)),
        Decided::Link(best) => {
            // Linking answers with an existing record: the caller must
            // be allowed to read it.
            let existing = &best.stored.id;
            ctx.require(Action::ContactRead, Target::Contact(existing), &format!("contact/{existing}"))?;
            let mut body = view(ctx, &best.stored);
            body["match"] = json!({"score": best.found.score, "reasons": visible_reasons(ctx, &best)});
            Ok(Outcome::NotWritten(
                Answer::json(200, body)
                    .with_location(format!("/api/contacts/{existing}"))
                    .with_etag(etag(&best.stored)),
            ))
        }
    }
}

/// `POST /api/contacts/match`: the candidates for a contact, without
/// writing anything.
pub fn match_only(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(Action::ContactSearch, Target::General, "contacts/match")?;
    let body = object_body(req)?;
    let fields: ContactFields = typed("", body.into())?;
    require_readable(ctx, &fields.present(), "contacts/match")?;
    let contact: Contact = check_fields(&fields, Vec::new())?;
    let index = index_entries(&contact);
    let found = candidates(ctx.db()?, &contact, &index, &[])?;
    Ok(crm_component_support::json(
        200,
        &json!({"candidates": disclose(ctx, &found)?}),
    ))
}
