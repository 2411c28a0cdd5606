//! `cases`: case management (`/api/cases/...`, `/api/queues/...`): cases
//! and their activities, SLA clocks on business calendars, queues and
//! assignment, and the configuration administrators keep. The rules are
//! `cases-rules`'s and `cases-sla`'s; the tables are `cases-store`'s.

mod access;
mod activities;
mod cases;
mod clocks;
mod config;
mod input;
mod queues;
mod view;

use crm_component_support::serve;
use crm_http::Problem;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/cases",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

crm_component_support::audit_sink!();

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::CASES,
        &req,
        &AuditTrail,
        |ctx, operation, params| {
            let param = |name: &str| {
                params
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, v)| v.as_str())
            };
            match operation {
                "listCases" => cases::list(ctx, &req),
                "openCase" => cases::open(ctx, &req),
                "listMyCases" => cases::mine(ctx),
                "assignCases" => queues::assign_many(ctx, &req),
                "sweepSlaClocks" => clocks::sweep(ctx, &req),
                "summariseSlaClocks" => clocks::summary(ctx),
                "listCaseTypes" => config::list_types(ctx),
                "getCaseType" => config::get_type(ctx, param("key")),
                "putCaseType" => config::put_type(ctx, &req, param("key")),
                "getCaseWorkflow" => config::workflow(ctx),
                "putCaseStatus" => config::put_status(ctx, &req, param("key")),
                "addCaseTransition" => config::add_transition(ctx, &req),
                "removeCaseTransition" => config::remove_transition(ctx, &req),
                "listSlaPolicies" => config::list_policies(ctx),
                "putSlaPolicy" => {
                    config::put_policy(ctx, &req, param("case_type"), param("priority"))
                }
                "listCalendars" => config::list_calendars(ctx),
                "getCalendar" => config::get_calendar(ctx, param("id")),
                "putCalendar" => config::put_calendar(ctx, &req, param("id")),
                "getCase" => cases::get(ctx, param("id")),
                "updateCase" => cases::update(ctx, &req, param("id")),
                "transitionCase" => cases::transition(ctx, &req, param("id")),
                "listCaseActivities" => activities::list(ctx, &req, param("id")),
                "addCaseActivity" => activities::add(ctx, &req, param("id")),
                "updateCaseActivity" => {
                    activities::update(ctx, &req, param("id"), param("activity_id"))
                }
                "addCaseParticipant" => cases::add_participant(ctx, &req, param("id")),
                "assignCase" => queues::assign(ctx, &req, param("id")),
                "listQueues" => queues::list(ctx),
                "getQueue" => queues::get(ctx, param("id")),
                "putQueue" => queues::put(ctx, &req, param("id")),
                "takeNextCase" => queues::take_next(ctx, param("id")),
                _ => Err(Problem::not_found(operation)),
            }
        },
    )
}
