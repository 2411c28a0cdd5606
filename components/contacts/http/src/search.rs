//! `GET /api/contacts` (search and list), paged by cursor in a stable
//! order. Every record returned is recorded in the audit trail. The export
//! (`export.rs`) takes the same filters.

use contacts_rules::search::{Limits, SEARCH_LIMITS, SearchParams, SearchPlan, plan};
use contacts_store::Stored;
use crm_auth::fields::needed_to_read;
use crm_component_support::{Action, Ctx, Outcome, RecordKind, Target, query_param};
use crm_http::Problem;
use serde_json::json;
use spin_sdk::http::{Request, Response};

use crate::input::{field_errors, unknown_params};
use crate::records::view;

/// The search parameters in the query string; any other name but `extra`
/// is refused.
pub fn read_params(req: &Request, extra: &[&str]) -> Result<SearchParams, Problem> {
    let known: Vec<&str> = SearchParams::NAMES.iter().chain(extra).copied().collect();
    let unknown = unknown_params(req, &known, "a search parameter");
    if !unknown.is_empty() {
        return Err(Problem::validation(unknown));
    }
    let mut params = SearchParams::default();
    for name in SearchParams::NAMES {
        if let Some(value) = query_param(req, name) {
            params.set(name, value);
        }
    }
    Ok(params)
}

/// Refuses (403, audited) finding contacts by any of `fields` that the
/// caller may not read: the contacts found would disclose who holds what
/// was sought.
pub fn require_readable(ctx: &mut Ctx, fields: &[&str], resource: &str) -> Result<(), Problem> {
    for field in fields {
        if let Some(needed) = needed_to_read(RecordKind::Contact, field) {
            ctx.require(needed, Target::General, resource)?;
        }
    }
    Ok(())
}

/// The page's contacts and the cursor of the next page, if there is one.
fn run(
    ctx: &mut Ctx,
    params: &SearchParams,
    limits: Limits,
) -> Result<(Vec<Stored>, Option<String>), Problem> {
    let plan: SearchPlan =
        plan(params, limits).map_err(|e| Problem::validation(field_errors(e)))?;
    if plan.uses_identifier {
        require_readable(ctx, &["identifiers"], "contacts?identifier")?;
    }
    let mut found = contacts_store::search(ctx.db()?, &plan)?;
    let next = (found.len() > plan.limit).then(|| {
        found.truncate(plan.limit);
        let last = found.last().expect("a full page");
        plan.cursor_after(last.search_rowid, &last.updated_at)
    });
    Ok((found, next))
}

/// The same query with `cursor` set to the next page's.
fn next_link(req: &Request, base: &str, cursor: &str) -> String {
    let mut pairs: Vec<&str> = req
        .query()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
        .collect();
    let cursor_pair = format!("cursor={cursor}");
    pairs.push(&cursor_pair);
    format!("{base}?{}", pairs.join("&"))
}

/// One audit entry per disclosed contact, written together.
pub fn record_each(ctx: &Ctx, action: Action, found: &[Stored]) -> Result<(), Problem> {
    let records: Vec<_> = found
        .iter()
        .map(|stored| (format!("contact/{}", stored.id), Some(stored.id.clone())))
        .collect();
    ctx.record_many(action, &records, Outcome::Allowed, None)
}

pub fn search(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(Action::ContactSearch, Target::General, "contacts")?;
    let params = read_params(req, &[])?;
    let (found, next) = run(ctx, &params, SEARCH_LIMITS)?;
    record_each(ctx, Action::ContactSearch, &found)?;
    let items: Vec<_> = found.iter().map(|stored| view(ctx, stored)).collect();
    Ok(crm_component_support::json(
        200,
        &json!({
            "items": items,
            "next_cursor": next,
            "next": next.as_deref().map(|c| next_link(req, "/api/contacts", c)),
        }),
    ))
}
