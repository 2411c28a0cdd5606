//! `PATCH /api/contacts/{id}`: a correction writes a new version with who,
//! when and why; the old version stays in the history. Needs `If-Match`.

use contacts_rules::change::{apply_changes, changed_fields};
use contacts_rules::collection::restamp;
use contacts_rules::index::index_entries;
use contacts_store::{Change, Stored, VersionMeta, Written};
use crm_component_support::{Action, Ctx, FieldError, Target};
use crm_http::Problem;
use serde::Deserialize;
use serde_json::{Map, Value};
use spin_sdk::http::{Request, Response};

use crate::input::{
    check_consent, check_fields, check_relationships, collection, object_body, reason, typed,
};
use crate::records::{as_contact, check_if_match, etag, load_current, now_text, today, view};
use crm_component_support::transaction;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrectionBody {
    /// Field name → new value (`null` clears it).
    changes: Map<String, Value>,
    /// Why (APP 13: what was wrong).
    reason: Option<String>,
    collection: Option<Value>,
}

/// What a citizen may not change in their own record: how the agency
/// classifies them.
const STAFF_ONLY: [&str; 3] = ["archetype", "tags", "categories"];

pub fn correct(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let resource = format!("contact/{id}");
    ctx.require(Action::ContactUpdate, Target::Contact(id), &resource)?;
    let db = ctx.db()?;
    let stored = load_current(db, id)?;
    check_if_match(req, &stored, true)?;
    let body: CorrectionBody = typed("", object_body(req)?.into())?;
    let mut errors = Vec::new();
    let reason = reason("reason", body.reason.as_deref(), "say what was wrong")
        .map_err(|e| errors.push(e))
        .ok();
    if ctx.own_contact().is_some() {
        for field in STAFF_ONLY.iter().filter(|f| body.changes.contains_key(**f)) {
            errors.push(FieldError::new(
                &format!("changes.{field}"),
                "is the agency's to change; ask us to correct it",
            ));
        }
    }
    let collection = collection(ctx, body.collection, &mut errors)?;
    let old = as_contact(&stored, today())?;
    let merged = apply_changes(&old, &body.changes)
        .map_err(|e| Problem::validation(vec![FieldError::new("changes", e.to_string())]))?;
    let mut contact = check_fields(&merged, errors)?;
    let (collection, reason) = (
        collection.expect("checked with the fields"),
        reason.expect("checked with the fields"),
    );
    check_relationships(db, id, &mut contact)?;
    let fields = contact.to_fields();
    let changed = changed_fields(&stored.fields, &fields);
    if changed.is_empty() {
        let mut response = crm_component_support::json(200, &view(ctx, &stored));
        response.set_header("etag", etag(&stored));
        return Ok(response);
    }
    // Only fields that now hold a value are collected by this request.
    let set: Vec<&str> = changed
        .iter()
        .copied()
        .filter(|f| fields.present().contains(f))
        .collect();
    check_consent(id, &collection, &set)?;

    let now = now_text();
    let mut provenance = stored.provenance.clone();
    restamp(
        &mut provenance,
        &set,
        &fields.present(),
        &collection.stamp(&now, &ctx.request_id),
    );
    let version = stored.version + 1;
    let meta = VersionMeta {
        change: Change::Corrected,
        recorded_at: &now,
        actor_id: &ctx.actor_id(),
        actor_role: ctx.role(),
        request_id: &ctx.request_id,
        reason: Some(&reason),
        related_contact: None,
    };
    let written = Written {
        id,
        fields: &fields,
        provenance: &provenance,
        version,
    };
    let current = transaction(db, |db| {
        Ok(contacts_store::update(
            db,
            &written,
            &index_entries(&old),
            &index_entries(&contact),
            &changed,
            &meta,
            crm_component_support::now_ms(),
        )?)
    })?;
    if !current {
        return Err(Problem::precondition_failed(format!(
            "{resource} changed while this correction was made; read it again and reapply the change"
        )));
    }
    let updated = Stored {
        fields,
        provenance,
        version,
        updated_at: now,
        ..stored
    };
    let mut response = crm_component_support::json(200, &view(ctx, &updated));
    response.set_header("etag", etag(&updated));
    Ok(response)
}
