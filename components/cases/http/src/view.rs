//! Cases, activities and clocks as the API answers with them. Staff see
//! the whole record; a citizen sees their case's public face: its status,
//! what they asked and what they were told, never its queue, assignee or
//! internal notes.

use cases_store::{ActivityRecord, CaseRecord, ClockRecord, Participant};
use crm_domain::rfc3339_utc;
use serde_json::{Value, json};

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| json!(rfc3339_utc(ms)))
}

/// The case's ETag: its version.
pub fn etag(case: &CaseRecord) -> String {
    crm_component_support::version_etag(case.version)
}

/// The whole case, for staff, as an answer with its ETag.
pub fn answer(status: u16, case: &CaseRecord) -> spin_sdk::http::Response {
    let mut response = crm_component_support::json(status, &self::case(case));
    response.set_header("etag", etag(case));
    response
}

/// The whole case, for staff.
pub fn case(case: &CaseRecord) -> Value {
    json!({
        "id": case.id,
        "reference": case.reference.to_string(),
        "case_type": case.case_type.as_str(),
        "subject": case.subject,
        "details": case.details,
        "priority": case.priority,
        "channel": case.channel.map(|c| c.as_str()),
        "contact_id": case.contact.as_ref().map(|c| c.as_str()),
        "queue_id": case.queue,
        "assignee": case.assignee.as_ref().map(|a| a.as_str()),
        "parent_id": case.parent,
        "confidentiality": case.confidentiality,
        "status": case.status.as_str(),
        "status_category": case.status_category,
        "version": case.version,
        "opened_at": time(Some(case.opened_at)),
        "first_response_at": time(case.first_response_at),
        "resolved_at": time(case.resolved_at),
        "closed_at": time(case.closed_at),
        "resolution_code": case.resolution_code,
        "resolution_summary": case.resolution_summary,
        "due_at": time(case.due_at),
        "created_by": case.created_by.as_str(),
        "updated_at": time(Some(case.updated_at)),
    })
}

/// What a citizen sees of their own case.
pub fn citizen_case(case: &CaseRecord, status_label: &str) -> Value {
    json!({
        "id": case.id,
        "reference": case.reference.to_string(),
        "case_type": case.case_type.as_str(),
        "subject": case.subject,
        "details": case.details,
        "status": case.status.as_str(),
        "status_label": status_label,
        "status_category": case.status_category,
        "opened_at": time(Some(case.opened_at)),
        "resolved_at": time(case.resolved_at),
        "closed_at": time(case.closed_at),
        "resolution_summary": case.resolution_summary,
        "updated_at": time(Some(case.updated_at)),
    })
}

pub fn activity(activity: &ActivityRecord) -> Value {
    json!({
        "id": activity.id,
        "seq": activity.seq,
        "kind": activity.kind,
        "status": activity.status,
        "subject": activity.subject,
        "body": activity.body,
        "direction": activity.direction,
        "citizen_visible": activity.citizen_visible,
        "actor": activity.actor,
        "actor_kind": activity.actor_kind,
        "due_at": time(activity.due_at),
        "completed_at": time(activity.completed_at),
        "created_at": time(Some(activity.created_at)),
        "interaction_id": activity.interaction_id,
    })
}

/// A citizen-visible activity as the citizen sees it: who wrote it is
/// "you" or "the agency", never an officer's id.
pub fn citizen_activity(activity: &ActivityRecord) -> Value {
    json!({
        "id": activity.id,
        "kind": activity.kind,
        "subject": activity.subject,
        "body": activity.body,
        "from": if activity.actor_kind.as_str() == "citizen" { "you" } else { "agency" },
        "created_at": time(Some(activity.created_at)),
        "completed_at": time(activity.completed_at),
    })
}

pub fn clock(clock: &ClockRecord) -> Value {
    json!({
        "target": clock.target,
        "state": clock.state.as_str(),
        "started_at": time(Some(clock.clock.started_at().as_millisecond())),
        "target_minutes": clock.clock.target().minutes,
        "paused_minutes": clock.clock.paused_minutes(),
        "due_at": time(Some(clock.due_at)),
        "warn_at": time(Some(clock.warn_at)),
    })
}

pub fn participant(participant: &Participant) -> Value {
    json!({
        "kind": participant.kind,
        "party_id": participant.party_id,
        "role": participant.role,
        "from": participant.from.map(|d| d.to_string()),
        "to": participant.to.map(|d| d.to_string()),
    })
}
