//! `consent`: consent records that are never overwritten, their receipts,
//! withdrawal (by the person, by an officer for them, or by a signed
//! one-click link), do-not-contact entries and the purpose and privacy
//! notice catalogues (`/api/consents/...`, `/api/privacy-notices/...`).
//! The rules are `consent-rules`'s; the tables are `consent-store`'s.

mod catalogue;
mod config;
mod links;
mod records;
mod suppressions;
mod view;

use consent_rules::{Actor, ConsentRecord, ContactId, OfficerId, PlanError};
use consent_store::Written;
use crm_component_support::{Ctx, FieldError, now_ms, serve_with_public};
use crm_http::Problem;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/audited",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

crm_component_support::audit_sink!();

#[http_component]
fn handle(req: Request) -> Response {
    serve_with_public(
        crm_http::routes::CONSENT,
        &req,
        &AuditTrail,
        |operation, _, request_id| match operation {
            "confirmUnsubscribe" => links::confirm(&req),
            "unsubscribe" => links::redeem(&req, request_id, &AuditTrail),
            _ => Err(Problem::not_found(operation)),
        },
        |ctx, operation, params| {
            let param = |name: &str| {
                params
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, v)| v.as_str())
            };
            match operation {
                "recordConsent" => records::record(ctx, &req),
                "listConsents" => records::list(ctx, &req),
                "checkConsent" => records::decision(ctx, &req),
                "getConsent" => records::get(ctx, param("id")),
                "getConsentReceipt" => records::receipt(ctx, param("id")),
                "withdrawConsent" => records::withdraw(ctx, &req),
                "listPurposes" => catalogue::list_purposes(ctx),
                "createPurpose" => catalogue::create_purpose(ctx, &req),
                "revisePurpose" => catalogue::revise_purpose(ctx, &req, param("id")),
                "listPrivacyNotices" => catalogue::list_notices(ctx),
                "getPrivacyNotice" => catalogue::get_notice(ctx, param("id"), param("version")),
                "publishPrivacyNotice" => catalogue::publish_notice(ctx, &req),
                "listSuppressions" => suppressions::list(ctx, &req),
                "addSuppression" => suppressions::add(ctx, &req),
                "liftSuppression" => suppressions::lift(ctx, &req, param("id")),
                "createUnsubscribeLink" => links::mint(ctx, &req),
                _ => Err(Problem::not_found(operation)),
            }
        },
    )
}

/// Who the event log names for the caller: a citizen by their contact, a
/// staff member or service by their audit actor id.
fn actor(ctx: &Ctx) -> Result<Actor, Problem> {
    let actor = match ctx.own_contact() {
        Some(contact) => ContactId::parse(contact).map(Actor::Citizen),
        None => OfficerId::parse(&ctx.actor_id()).map(Actor::Officer),
    };
    actor.map_err(|e| Problem::internal(format!("the caller's id: {}", e.0)))
}

/// The contact a request is about: the one named, or a citizen's own.
fn subject(ctx: &Ctx, named: Option<String>) -> Result<String, Problem> {
    named
        .filter(|c| !c.is_empty())
        .or_else(|| ctx.own_contact().map(str::to_string))
        .ok_or_else(|| Problem::validation(vec![FieldError::new("contact_id", "is required")]))
}

/// A plan the rules refused, as the caller's problem.
fn plan_problem(error: PlanError) -> Problem {
    match error {
        PlanError::Stale { .. } => Problem::conflict("stale-decision", error.to_string()),
        PlanError::NothingToWithdraw { .. } => {
            Problem::conflict("nothing-to-withdraw", error.to_string())
        }
        PlanError::IdTaken(_) => Problem::internal(error.to_string()),
    }
}

/// The crate's per-field errors as the problem's.
fn field_errors(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| FieldError::new(&e.field, e.reason))
        .collect()
}

/// Collects per-field errors while checking a body.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    fn check<T>(&mut self, field: &str, result: Result<T, crm_domain::Invalid>) -> Option<T> {
        result.map_err(|e| self.fail(field, e.0)).ok()
    }

    fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }

    /// The checked value, or the problem listing every failed field.
    fn finish<T>(self, value: Option<T>) -> Result<T, Problem> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(Problem::validation(self.0)),
        }
    }
}

/// The time of a withdrawal of one of `records`, read under the write lock:
/// now, but never before anything already stored on them, so events are
/// stored in the order they happened.
fn withdrawal_time(records: &[ConsentRecord]) -> i64 {
    records
        .iter()
        .flat_map(|r| [Some(r.recorded_at_ms), r.withdrawn_at_ms()])
        .flatten()
        .fold(now_ms(), i64::max)
}

/// Who writes, in which request, when.
fn written<'a>(by: &'a str, ctx: &'a Ctx, at_ms: i64) -> Written<'a> {
    Written {
        by,
        request_id: &ctx.request_id,
        at_ms,
    }
}
