//! `POST /api/contacts/{id}/merge`: folds a duplicate into the survivor
//! `{id}` field by field. Both keep their histories; the duplicate gets a
//! last version pointing to the survivor and leaves every index, and its id
//! answers `308` to the survivor from then on.

use std::collections::BTreeMap;

use contacts_rules::change::{Prefer, apply_changes, changed_fields, fold};
use contacts_rules::collection::ProvenanceMap;
use contacts_rules::index::index_entries;
use contacts_store::{Answer, Change, Stored, VersionMeta, Written};
use crm_component_support::{Action, Ctx, FieldError, Target};
use crm_http::Problem;
use serde::Deserialize;
use spin_sdk::http::{Request, Response};

use crate::idempotency::{Idempotency, Outcome, once};
use crate::input::{check_fields, check_relationships, object_body, reason, typed};
use crate::records::{as_contact, check_if_match, etag, load_current, now_text, today, view};
use crm_component_support::transaction;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    duplicate_id: String,
    reason: Option<String>,
    /// Field → `survivor`, `duplicate` or (lists) `both`.
    #[serde(default)]
    prefer: BTreeMap<String, Prefer>,
}

pub fn merge(ctx: &mut Ctx, req: &Request, survivor_id: &str) -> Result<Response, Problem> {
    ctx.require(
        Action::ContactMerge,
        Target::Contact(survivor_id),
        &format!("contact/{survivor_id}"),
    )?;
    let body: MergeBody = typed("", object_body(req)?.into())?;
    let duplicate_id = body.duplicate_id.trim().to_string();
    ctx.require(
        Action::ContactMerge,
        Target::Contact(&duplicate_id),
        &format!("contact/{duplicate_id}"),
    )?;
    let reason = reason(
        "reason",
        body.reason.as_deref(),
        "say why these are the same contact",
    )
    .map_err(|e| Problem::validation(vec![e]))?;
    if duplicate_id == survivor_id {
        return Err(Problem::validation(vec![FieldError::new(
            "duplicate_id",
            "must be another contact than the survivor",
        )]));
    }
    once(ctx, req, "mergeContact", |ctx, key| {
        merge_now(
            ctx,
            req,
            key,
            survivor_id,
            &duplicate_id,
            &body.prefer,
            &reason,
        )
    })
}

fn merge_now(
    ctx: &mut Ctx,
    req: &Request,
    key: Option<&Idempotency>,
    survivor_id: &str,
    duplicate_id: &str,
    prefer: &BTreeMap<String, Prefer>,
    reason: &str,
) -> Result<Outcome, Problem> {
    let db = ctx.db()?;
    let survivor = load_current(db, survivor_id)?;
    let duplicate = load_current(db, duplicate_id)?;
    check_if_match(req, &survivor, false)?;
    let folded = fold(
        &survivor.fields,
        &duplicate.fields,
        duplicate_id,
        survivor_id,
        prefer,
    )
    .map_err(|e| {
        let (field, reason) = e
            .to_string()
            .split_once(": ")
            .map_or(("prefer".to_string(), e.to_string()), |(f, r)| {
                (f.to_string(), r.to_string())
            });
        Problem::validation(vec![FieldError::new(&field, reason)])
    })?;
    let today = today();
    let (old_survivor, old_duplicate) = (
        as_contact(&survivor, today)?,
        as_contact(&duplicate, today)?,
    );
    let merged = apply_changes(&old_survivor, &folded.changes)
        .map_err(|e| Problem::validation(vec![FieldError::new("prefer", e.to_string())]))?;
    let mut contact = check_fields(&merged, Vec::new())?;
    check_relationships(db, survivor_id, &mut contact)?;
    let fields = contact.to_fields();
    let changed = changed_fields(&survivor.fields, &fields);

    // Fields taken from the duplicate keep the duplicate's provenance.
    let mut provenance: ProvenanceMap = survivor.provenance.clone();
    for field in &folded.from_duplicate {
        if let Some(stamp) = duplicate.provenance.get(*field) {
            provenance.insert((*field).to_string(), stamp.clone());
        }
    }
    let present = fields.present();
    provenance.retain(|field, _| present.contains(&field.as_str()));

    let now = now_text();
    let (actor_id, actor_role, request_id) = (
        ctx.actor_id(),
        ctx.role().to_string(),
        ctx.request_id.clone(),
    );
    let meta = |change, related| VersionMeta {
        change,
        recorded_at: &now,
        actor_id: &actor_id,
        actor_role: &actor_role,
        request_id: &request_id,
        reason: Some(reason),
        related_contact: Some(related),
    };
    let occurred_at = crm_component_support::now_ms();
    let survivor_written = Written {
        id: survivor_id,
        fields: &fields,
        provenance: &provenance,
        version: survivor.version + 1,
    };
    let duplicate_written = Written {
        id: duplicate_id,
        fields: &duplicate.fields,
        provenance: &duplicate.provenance,
        version: duplicate.version + 1,
    };
    let updated = Stored {
        fields: fields.clone(),
        provenance: provenance.clone(),
        version: survivor.version + 1,
        updated_at: now.clone(),
        ..survivor.clone()
    };
    let reply = Answer::json(200, view(ctx, &updated)).with_etag(etag(&updated));
    let (old_index, new_index) = (index_entries(&old_survivor), index_entries(&contact));
    transaction(db, |db| {
        if let Some(key) = key
            && let Some(stored) = key.stored(db)?
        {
            return Ok(Outcome::Replayed(stored));
        }
        let current = contacts_store::update(
            db,
            &survivor_written,
            &old_index,
            &new_index,
            &changed,
            &meta(Change::Merged, duplicate_id),
            occurred_at,
        )? && contacts_store::retire(
            db,
            &duplicate_written,
            &index_entries(&old_duplicate),
            survivor_id,
            &meta(Change::MergedInto, survivor_id),
            occurred_at,
        )?;
        if !current {
            return Err(Problem::precondition_failed(format!(
                "contact/{survivor_id} or contact/{duplicate_id} changed while merging; read them again"
            )));
        }
        if let Some(key) = key {
            key.keep(db, &reply)?;
        }
        Ok(Outcome::Written(reply.clone()))
    })
}
