//! Case management (issue 17) against a real host serving the app: opening
//! cases with gapless references, the transition table, SLA clocks that
//! pause, resume, meet and breach (and the sweep that moves them), first
//! responses, touchpoints in the interaction log, restricted cases,
//! citizens' own cases, queues with take-next under contention, round
//! robin and bulk assignment, parent and child closure, configuration,
//! status changes told to citizens under consent, and who may do what.

use std::sync::OnceLock;

use crm_tests::app::App;
use crm_tests::auth::token;
use crm_tests::{Caller, Host};
use serde_json::{Value, json};

mod cases;
mod config;
mod notify;
mod queues;
mod sla;

/// The binary's one shared host: the app's `spin.toml`, its state in a temp dir.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| App::shared(&[]))
}

fn host() -> &'static Host {
    &app().host
}

/// A case worker `id`, working cases for case management.
fn worker(id: &str) -> Caller<'static> {
    host()
        .as_caller(&token(id, &["case-worker"]))
        .purpose("case-management")
}

fn admin() -> Caller<'static> {
    host()
        .as_caller(&token("admin-1", &["administrator"]))
        .purpose("case-management")
}

/// Opens a case as `by` and answers its body.
fn open(by: &Caller<'_>, body: &Value) -> Value {
    let reply = by.post_json("/api/cases", body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()
}

/// A general enquiry about `contact` (if any) in `queue` (if any).
fn enquiry(subject: &str, contact: Option<&str>, queue: Option<&str>) -> Value {
    let mut body =
        json!({"case_type": "general-enquiry", "subject": subject, "priority": "normal"});
    if let Some(contact) = contact {
        body["contact_id"] = json!(contact);
    }
    if let Some(queue) = queue {
        body["queue_id"] = json!(queue);
    }
    body
}

/// Moves case `id` to `to` as `by`.
fn transition(by: &Caller<'_>, id: &str, to: &str) -> crm_tests::Reply {
    by.post_json(&format!("/api/cases/{id}/transitions"), &json!({"to": to}))
}

/// Creates (or replaces) queue `id` with `members` of capacity `capacity`.
fn queue(id: &str, members: &[&str], capacity: u32) {
    let members: Vec<Value> = members
        .iter()
        .map(|m| json!({"officer": format!("staff:{m}"), "capacity": capacity}))
        .collect();
    let reply = admin().request(
        "PUT",
        &format!("/api/queues/{id}"),
        Some(&json!({"name": format!("Queue {id}"), "ordering": ["priority", "fifo"], "members": members})),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}
