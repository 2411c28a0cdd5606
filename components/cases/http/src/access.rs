//! Who may see and change which case: the matrix (through `Ctx::require`),
//! then the rule the matrix cannot say: a restricted case is seen only by
//! its assignee, its queue's members and administrators (and, being about
//! them, its citizen).

use cases_rules::Confidentiality;
use cases_store::CaseRecord;
use crm_auth::policy::{Principal, Role};
use crm_component_support::{Action, Ctx, Outcome, Target};
use crm_domain::{ContactId, OfficerId};
use crm_http::Problem;
use crm_sql::Sql;

/// The roles the caller acts in, for the transition table.
pub fn roles(ctx: &Ctx) -> Vec<Role> {
    match &ctx.caller {
        Principal::Staff { roles, .. } => roles.clone(),
        Principal::Citizen { .. } => vec![Role::Citizen],
        Principal::Service { .. } => vec![Role::Service],
    }
}

/// The caller as the officer cases are assigned to (`staff:…`, `key:…`).
pub fn officer(ctx: &Ctx) -> Result<OfficerId, Problem> {
    OfficerId::parse(&ctx.actor_id())
        .map_err(|e| Problem::internal(format!("the caller's id: {}", e.0)))
}

pub fn is_citizen(ctx: &Ctx) -> bool {
    matches!(ctx.caller, Principal::Citizen { .. })
}

fn is_administrator(ctx: &Ctx) -> bool {
    matches!(&ctx.caller, Principal::Staff { roles, .. } if roles.contains(&Role::Administrator))
}

/// What the audit trail names a case by.
pub fn resource(id: &str) -> String {
    format!("case/{id}")
}

/// Whether the caller may see `case` at all, whatever the matrix says.
pub fn may_see(ctx: &Ctx, db: &impl Sql, case: &CaseRecord) -> Result<bool, Problem> {
    if case.confidentiality == Confidentiality::Standard || is_citizen(ctx) || is_administrator(ctx)
    {
        return Ok(true);
    }
    let me = officer(ctx)?;
    if case.assignee.as_ref() == Some(&me) {
        return Ok(true);
    }
    Ok(match &case.queue {
        Some(queue) => cases_store::is_member(db, queue, &me)?,
        None => false,
    })
}

/// The contact whose record the matrix sees a case as part of: its own;
/// for a citizen, theirs when the case is filed under a contact merged
/// into theirs, and no one's (`""`, never theirs) when it is about no one;
/// `None` (no one person's) for staff when it is about no one.
fn target_contact(ctx: &Ctx, case: &CaseRecord) -> Result<Option<String>, Problem> {
    let Some(contact) = &case.contact else {
        return Ok(is_citizen(ctx).then(String::new));
    };
    if let Some(own) = ctx.own_contact()
        && own != contact.as_str()
        && merge_family(ctx, own)?.contains(contact)
    {
        return Ok(Some(own.to_string()));
    }
    Ok(Some(contact.as_str().to_string()))
}

/// Every id a contact's cases may be filed under: its survivor and the
/// contacts merged into it.
pub fn merge_family(ctx: &Ctx, contact: &str) -> Result<Vec<ContactId>, Problem> {
    let context = crm_component_support::wit::request_context(ctx);
    let family = crate::crm::contacts::directory::merge_family(&context, contact)
        .map_err(|e| Problem::unavailable(format!("the contact directory: {e}")))?;
    family
        .iter()
        .map(|id| ContactId::parse(id).map_err(|e| Problem::internal(e.0)))
        .collect()
}

/// Case `id`, once the caller may do `action` on it: a case the caller may
/// not see is answered as one that does not exist (and the refusal is
/// recorded), so a restricted case's existence does not leak.
pub fn case(ctx: &mut Ctx, db: &impl Sql, action: Action, id: &str) -> Result<CaseRecord, Problem> {
    let resource = resource(id);
    let Some(case) = cases_store::case_by_id(db, id)? else {
        ctx.require(action, Target::General, &resource)?;
        return Err(Problem::not_found(format!("no {resource}")));
    };
    let subject = case.contact.as_ref().map(|c| c.as_str());
    if !may_see(ctx, db, &case)? {
        ctx.record(
            action,
            &resource,
            subject,
            Outcome::Denied,
            Some("restricted"),
        )?;
        ctx.outcome_recorded();
        return Err(Problem::not_found(format!("no {resource}")));
    }
    match target_contact(ctx, &case)? {
        Some(contact) => ctx.require(action, Target::Contact(&contact), &resource)?,
        None => ctx.require(action, Target::General, &resource)?,
    }
    Ok(case)
}
