//! Legal holds (disposal freezes) on a contact or a case: placed, listed and
//! lifted by administrators (`legal-hold.manage`), each audited.

use crm_component_support::{Action, Ctx, Outcome, Target, created, json, json_body, now_ms};
use crm_http::Problem;
use interactions_rules::values::{CaseRef, ContactId, HoldId};
use interactions_rules::{HoldScope, NewLegalHold, RawHoldLift, RawLegalHold};
use interactions_store::StoredHold;
use interactions_store::holds::{self, HoldError};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};

use crate::view::Hold;
use crate::{actor, query, store_problem};

/// What a hold on `scope` is authorised against: the contact, or (a case
/// spans contacts) the log as a whole.
fn target(scope: &HoldScope) -> Target<'_> {
    match scope {
        HoldScope::Contact(contact) => Target::Contact(contact.as_str()),
        HoldScope::Case(_) => Target::General,
    }
}

fn subject(scope: &HoldScope) -> Option<&str> {
    match scope {
        HoldScope::Contact(contact) => Some(contact.as_str()),
        HoldScope::Case(_) => None,
    }
}

fn describe(scope: &HoldScope) -> String {
    match scope {
        HoldScope::Contact(contact) => format!("contact {contact}"),
        HoldScope::Case(case) => format!("case {case}"),
    }
}

/// `POST /api/interactions/legal-holds`.
pub fn place(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let raw: RawLegalHold = json_body(req)?;
    let new = NewLegalHold::parse(&raw).map_err(Problem::validation)?;
    ctx.require(Action::LegalHoldManage, target(&new.scope), "legal-holds")?;
    let id = HoldId::parse(&crm_component_support::new_id("hold"))
        .map_err(|e| Problem::internal(e.0))?;
    let scope = new.scope.clone();
    let hold = holds::place(ctx.db()?, id, new, &actor(ctx)?, now_ms()).map_err(store_problem)?;
    let resource = format!("legal-hold/{}", hold.hold.id);
    ctx.record(
        Action::LegalHoldManage,
        &resource,
        subject(&scope),
        Outcome::Allowed,
        Some(&format!("placed on {}", describe(&scope))),
    )?;
    Ok(created(
        &format!("/api/interactions/legal-holds/{}", hold.hold.id),
        &Hold::from(&hold),
    ))
}

/// The hold `id` and its scope, authorised for `action`; 404 after a
/// general check when there is none.
fn require_hold(ctx: &mut Ctx, action: Action, id: &str) -> Result<StoredHold, Problem> {
    let resource = format!("legal-hold/{id}");
    let found = match HoldId::parse(id) {
        Ok(hold) => holds::get(ctx.db()?, &hold).map_err(store_problem)?,
        Err(_) => None,
    };
    let Some(found) = found else {
        ctx.require(action, Target::General, &resource)?;
        return Err(Problem::not_found(format!("no {resource}")));
    };
    ctx.require(action, target(&found.hold.scope), &resource)?;
    Ok(found)
}

/// `GET /api/interactions/legal-holds/{id}`.
pub fn get(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let hold = require_hold(ctx, Action::LegalHoldRead, id)?;
    Ok(json(200, &Hold::from(&hold)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    contact_id: Option<String>,
    case_reference: Option<String>,
}

#[derive(Serialize)]
struct Holds {
    legal_holds: Vec<Hold>,
}

/// `GET /api/interactions/legal-holds[?contact_id=|case_reference=]`.
pub fn list(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let raw: ListQuery = query(req)?;
    let invalid = |field: &str, e: crm_domain::Invalid| {
        Problem::validation(vec![crm_component_support::FieldError::new(field, e.0)])
    };
    let scope = match (raw.contact_id, raw.case_reference) {
        (None, None) => None,
        (Some(contact), None) => Some(HoldScope::Contact(
            ContactId::parse(&contact).map_err(|e| invalid("contact_id", e))?,
        )),
        (None, Some(case)) => Some(HoldScope::Case(
            CaseRef::parse(&case).map_err(|e| invalid("case_reference", e))?,
        )),
        (Some(_), Some(_)) => {
            return Err(Problem::validation(vec![
                crm_component_support::FieldError::new(
                    "scope",
                    "name at most one of contact_id and case_reference",
                ),
            ]));
        }
    };
    let resource = scope.as_ref().map_or("legal-holds".to_string(), |s| {
        format!("legal-holds?{}", describe(s))
    });
    ctx.require(
        Action::LegalHoldRead,
        scope.as_ref().map_or(Target::General, target),
        &resource,
    )?;
    let found = holds::list(ctx.db()?, scope.as_ref()).map_err(store_problem)?;
    Ok(json(
        200,
        &Holds {
            legal_holds: found.iter().map(Hold::from).collect(),
        },
    ))
}

/// `POST /api/interactions/legal-holds/{id}/lift`.
pub fn lift(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let raw: RawHoldLift = json_body(req)?;
    let found = require_hold(ctx, Action::LegalHoldManage, id)?;
    let scope = found.hold.scope.clone();
    let reason = raw.parse().map_err(Problem::validation)?;
    let hold = holds::lift(ctx.db()?, &found.hold.id, &reason, &actor(ctx)?, now_ms()).map_err(
        |e| match e {
            HoldError::NotFound(id) => Problem::not_found(format!("no legal-hold/{id}")),
            HoldError::AlreadyLifted(_) => Problem::conflict("already-lifted", e.to_string()),
            HoldError::Store(e) => store_problem(e),
        },
    )?;
    ctx.record(
        Action::LegalHoldManage,
        &format!("legal-hold/{id}"),
        subject(&scope),
        Outcome::Allowed,
        Some(&format!("lifted from {}", describe(&scope))),
    )?;
    Ok(json(200, &Hold::from(&hold)))
}
