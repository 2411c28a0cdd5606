//! Stored contacts (read through `contacts-store`) as the API answers with
//! them: the record filtered to the fields the caller may see, its ETag,
//! the survivor of a merged id, and the history.

use contacts_rules::Contact;
use contacts_store::{Stored, load, resolve};
use crm_component_support::{Action, Ctx, RecordKind, Target};
use crm_domain::CalendarDate;
use crm_http::Problem;
use crm_sql::Sql;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};

/// The ETag of the contact's version.
pub fn etag(stored: &Stored) -> String {
    crm_component_support::version_etag(stored.version)
}

/// The stored fields as domain values.
pub fn as_contact(stored: &Stored, today: CalendarDate) -> Result<Contact, Problem> {
    contacts_rules::validate(&stored.fields, today).map_err(|e| {
        Problem::internal(format!(
            "contact {} no longer passes validation ({e}); correct it field by field",
            stored.id
        ))
    })
}

pub fn today() -> CalendarDate {
    CalendarDate::from_unix_ms(crm_component_support::now_ms())
}

pub fn now_text() -> String {
    crm_domain::rfc3339_utc(crm_component_support::now_ms())
}

/// The current (not merged) contact `id`, or the problem to answer: 404, or
/// 409 with a pointer to the survivor.
pub fn load_current(db: &impl Sql, id: &str) -> Result<Stored, Problem> {
    let stored = load(db, id)?.ok_or_else(|| Problem::not_found(format!("no contact/{id}")))?;
    if stored.merged_into.is_some() {
        let survivor = resolve(db, id)?.map_or_else(String::new, |s| s.id);
        return Err(Problem::conflict(
            "contact-merged",
            format!("contact/{id} was merged into contact/{survivor}; act on the survivor"),
        )
        .with_extension("merged_into", json!(survivor))
        .with_extension("location", json!(format!("/api/contacts/{survivor}"))));
    }
    Ok(stored)
}

/// The record as returned to `ctx`'s caller.
pub fn view(ctx: &Ctx, stored: &Stored) -> Value {
    let mut body = json!({"id": stored.id});
    body.as_object_mut()
        .expect("an object")
        .extend(stored.fields.to_json());
    body["provenance"] = serde_json::to_value(&stored.provenance).unwrap_or_default();
    body["version"] = json!(stored.version);
    body["created_at"] = json!(stored.created_at);
    body["updated_at"] = json!(stored.updated_at);
    ctx.redact(&mut body, RecordKind::Contact, Target::Contact(&stored.id));
    body
}

/// `If-Match` against the contact's current version: 428 when required and
/// absent, 412 when stale.
pub fn check_if_match(req: &Request, stored: &Stored, required: bool) -> Result<(), Problem> {
    crm_component_support::check_if_match(
        req,
        &format!("contact/{}", stored.id),
        stored.version,
        required,
    )
}

/// `GET /api/contacts/{id}`: the record, or for a merged id a 308 to the
/// survivor.
/// `GET /api/contacts/me`: a citizen's own record, found by their link
/// (the portal knows who signed in, not which contact that is).
pub fn get_own(ctx: &mut Ctx) -> Result<Response, Problem> {
    let Some(own) = ctx.own_contact().map(str::to_string) else {
        ctx.require(Action::ContactRead, Target::General, "contact/me")?;
        return Err(Problem::forbidden(
            "only a citizen linked to a contact has a record of their own",
        ));
    };
    get(ctx, &own)
}

pub fn get(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let resource = format!("contact/{id}");
    ctx.require(Action::ContactRead, Target::Contact(id), &resource)?;
    let db = ctx.db()?;
    let stored = load(db, id)?.ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    if stored.merged_into.is_some() {
        let survivor = resolve(db, id)?
            .ok_or_else(|| Problem::internal(format!("{resource}: its survivor is missing")))?;
        let location = format!("/api/contacts/{}", survivor.id);
        let mut response = crm_component_support::json(
            308,
            &json!({"id": id, "merged_into": survivor.id, "location": location}),
        );
        response.set_header("location", location);
        return Ok(response);
    }
    let mut response = crm_component_support::json(200, &view(ctx, &stored));
    response.set_header("etag", etag(&stored));
    Ok(response)
}

/// `GET /api/contacts/{id}/history`: every version, oldest first (a merged
/// id keeps its own history).
pub fn history(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let resource = format!("contact/{id}/history");
    ctx.require(Action::ContactRead, Target::Contact(id), &resource)?;
    let db = ctx.db()?;
    let stored = load(db, id)?.ok_or_else(|| Problem::not_found(format!("no contact/{id}")))?;
    // Citizens see the role that changed their record, not the person.
    let staff_view = ctx.own_contact().is_none();
    let versions: Vec<Value> = contacts_store::versions(db, id)?
        .into_iter()
        .map(|v| {
            let mut actor = json!({"role": v.actor_role});
            if staff_view {
                actor["id"] = json!(v.actor_id);
            }
            json!({
                "version": v.version,
                "change": v.change,
                "recorded_at": v.recorded_at,
                "actor": actor,
                "request_id": v.request_id,
                "reason": v.reason,
                "record": v.record,
                "provenance": serde_json::to_value(v.provenance).ok(),
                "related_contact": v.related_contact,
            })
        })
        .collect();
    let mut body = json!({
        "contact_id": id,
        "current_version": stored.version,
        "merged_into": stored.merged_into,
        "versions": versions,
    });
    ctx.redact(&mut body, RecordKind::Contact, Target::Contact(id));
    Ok(crm_component_support::json(200, &body))
}
