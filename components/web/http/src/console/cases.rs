//! Cases: the queue (`/staff/queue`: filters, SLA tags, pages, take-next)
//! and a case (`/staff/cases/{id}`: its clocks, the statuses the officer
//! may move it to, activities and participants).

use crm_auth::policy::Action;
use serde_json::{Value, json};
use web_pages::posted;
use web_pages::staff::cases::{
    CaseAccess, CaseAction, CaseForms, CasePage, PRIORITIES, QueueFilters, QueuePage, SLA_STATES,
    queue_lines, queue_options, refusal, statuses,
};
use web_pages::{Checkboxes, Errors, Field, Select, render};

use super::{add_refusals, here, permissions, with_purpose};
use crate::api::{ApiError, encode};
use crate::session::Audience;
use crate::visit::{Handled, Visit, html, redirect};

/// `GET /staff/queue?queue_id=&status=&priority=&sla_state=&assignee=`:
/// the cases the filters match, soonest due first, a page at a time
/// (`cursor`).
pub fn queue(visit: &mut Visit) -> Handled {
    with_purpose(visit, &here(visit))?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(visit.req.query().as_bytes())
        .into_owned()
        .collect();
    let filters = QueueFilters::from_query(&pairs);
    let cursor = visit.query("cursor");
    let may_take = permissions(visit)?.may(Action::CaseAssign);
    let (page, workflow, queues) = {
        let api = visit.api(Audience::Staff)?;
        let mut query: Vec<(&str, String)> = filters.api_query();
        query.push(("limit", "25".to_string()));
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.clone()));
        }
        let listed = api.get(&format!("/api/cases?{}", query_string(&query)));
        (
            listed,
            api.get("/api/cases/workflow")?,
            api.get("/api/queues")?,
        )
    };
    let mut errors = Errors::default();
    let page = match page {
        Ok(page) => page,
        Err(ApiError::Problem {
            status: 400,
            errors: refused,
            detail,
            ..
        }) => {
            add_refusals(
                &mut errors,
                refused,
                &detail,
                "assignee",
                |field, reason| {
                    let (id, label) = match field {
                        "queue_id" => ("queue_id", "Queue"),
                        "status" => ("status", "Status"),
                        "priority" => ("priority", "Priority"),
                        "sla_state" => ("sla_state", "SLA"),
                        _ => ("assignee", "Assigned to"),
                    };
                    (id.to_string(), format!("{label} {reason}"))
                },
            );
            Value::Null
        }
        Err(e) => return Err(e.into()),
    };
    let labels = statuses(&workflow);
    let status_options: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, l)| (k.as_str(), l.as_str()))
        .collect();
    let queue_choices = queue_options(&queues);
    let queue_options: Vec<(&str, &str)> = queue_choices
        .iter()
        .map(|(k, l)| (k.as_str(), l.as_str()))
        .collect();
    let page_query = query_string(&filters.page_query());
    let with_query = |extra: &str| {
        let joined: Vec<&str> = [page_query.as_str(), extra]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        match joined.as_slice() {
            [] => "/staff/queue".to_string(),
            parts => format!("/staff/queue?{}", parts.join("&")),
        }
    };
    let queue_page = QueuePage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/queue"),
        queue: Select::new(
            "queue_id",
            "Queue",
            &queue_options,
            &filters.queue_id,
            &errors,
        ),
        statuses: Checkboxes::new("status", "Status", &status_options, &filters.statuses),
        priorities: Checkboxes::new("priority", "Priority", PRIORITIES, &filters.priorities),
        sla_states: Checkboxes::new("sla_state", "SLA", SLA_STATES, &filters.sla_states),
        assignee: Field::text("assignee", "Assigned to")
            .hint("A staff id such as staff:alice, or me")
            .filled(&filters.assignee, &errors),
        filtered: filters.any(),
        cases: queue_lines(&page, &labels),
        take_next: (may_take && !filters.queue_id.is_empty()).then(|| filters.queue_id.clone()),
        first_href: cursor.as_ref().map(|_| with_query("")),
        next_href: page["next_cursor"]
            .as_str()
            .map(|c| with_query(&format!("cursor={}", encode(c)))),
        errors: errors.clone(),
    };
    Ok(html(
        if errors.is_empty() { 200 } else { 400 },
        &render(&queue_page),
    ))
}

fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `POST /staff/queue/take-next`: assigns the queue's next case to the
/// staff member and opens it.
pub fn take_next(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    visit.user(Audience::Staff)?;
    let queue = posted(&form, "queue_id").trim().to_string();
    let back = format!("/staff/queue?queue_id={}", encode(&queue));
    let taken = visit.api(Audience::Staff)?.post(
        &format!("/api/queues/{}/take-next", encode(&queue)),
        &json!({}),
    );
    match taken {
        Ok(case) if case.is_object() => {
            let reference = case["reference"].as_str().unwrap_or("a case").to_string();
            visit.flash(format!("You took {reference}"));
            let id = case["id"].as_str().unwrap_or_default();
            Ok(redirect(&format!("/staff/cases/{}", encode(id))))
        }
        // 204: nothing is waiting.
        Ok(_) => {
            visit.flash("No case is waiting in this queue");
            Ok(redirect(&back))
        }
        Err(ApiError::Problem {
            status: 404 | 409,
            detail,
            ..
        }) => {
            visit.flash(format!("No case was taken: {detail}"));
            Ok(redirect(&back))
        }
        Err(e) => Err(e.into()),
    }
}

/// Draws a case, its forms as sent (`forms`) with `errors`.
fn case_page(
    visit: &mut Visit,
    status: u16,
    id: &str,
    forms: &CaseForms,
    errors: Errors,
) -> Handled {
    with_purpose(visit, &format!("/staff/cases/{}", encode(id)))?;
    let access = CaseAccess {
        work: permissions(visit)?.may(Action::CaseWork),
    };
    let (case, case_type, workflow) = {
        let api = visit.api(Audience::Staff)?;
        let case = api.get_versioned(&format!("/api/cases/{}", encode(id)))?;
        let kind = case.json["case_type"].as_str().unwrap_or_default();
        let case_type = api.get(&format!("/api/cases/types/{}", encode(kind)))?;
        (case, case_type, api.get("/api/cases/workflow")?)
    };
    let page = CasePage::new(
        visit.chrome("/staff/queue"),
        visit.csrf(),
        &case.json,
        case.etag.unwrap_or_default(),
        &case_type,
        &statuses(&workflow),
        access,
        forms,
        errors,
    );
    Ok(html(status, &render(&page)))
}

/// `GET /staff/cases/{id}`.
pub fn case(visit: &mut Visit, id: &str) -> Handled {
    case_page(visit, 200, id, &CaseForms::default(), Errors::default())
}

/// Sends one of a case page's forms, then shows the case again: with a
/// banner when done, with the form's errors (and what was typed) when the
/// API refused it.
fn act(
    visit: &mut Visit,
    id: &str,
    action: CaseAction,
    call: impl FnOnce(&crate::api::Api<'_>, &CaseForms, &str) -> Result<Value, ApiError>,
    done: &str,
) -> Handled {
    let form = visit.form()?;
    with_purpose(visit, &format!("/staff/cases/{}", encode(id)))?;
    let forms = CaseForms::from_form(&form);
    let etag = posted(&form, "etag");
    let answered = call(&visit.api(Audience::Staff)?, &forms, etag);
    let mut errors = Errors::default();
    match answered {
        Ok(_) => {
            visit.flash(done);
            return Ok(redirect(&format!("/staff/cases/{}", encode(id))));
        }
        Err(ApiError::Problem {
            status: 400 | 409 | 412,
            errors: refused,
            detail,
            ..
        }) => {
            let first = refusal(action, "", "").0;
            add_refusals(&mut errors, refused, &detail, &first, |field, reason| {
                refusal(action, field, reason)
            });
        }
        Err(e) => return Err(e.into()),
    }
    case_page(visit, 400, id, &forms, errors)
}

/// `POST /staff/cases/{id}/transition`: to one of the allowed statuses,
/// at the version the page showed.
pub fn transition(visit: &mut Visit, id: &str) -> Handled {
    let path = format!("/api/cases/{}/transitions", encode(id));
    act(
        visit,
        id,
        CaseAction::Transition,
        |api, forms, etag| {
            let mut body = json!({"to": forms.to});
            if !forms.resolution_summary.trim().is_empty() {
                body["resolution_summary"] = json!(forms.resolution_summary);
            }
            api.post_if_match(&path, &body, etag)
        },
        "The case's status was changed",
    )
}

/// `POST /staff/cases/{id}/activities`.
pub fn add_activity(visit: &mut Visit, id: &str) -> Handled {
    let path = format!("/api/cases/{}/activities", encode(id));
    act(
        visit,
        id,
        CaseAction::Activity,
        |api, forms, _| {
            let mut body = json!({
                "kind": forms.kind,
                "subject": forms.subject,
                "direction": if forms.direction.is_empty() { "internal" } else { forms.direction.as_str() },
                "citizen_visible": forms.citizen_visible,
            });
            if !forms.body.trim().is_empty() {
                body["body"] = json!(forms.body);
            }
            api.post(&path, &body)
        },
        "The activity was added",
    )
}

/// `POST /staff/cases/{id}/participants`.
pub fn add_participant(visit: &mut Visit, id: &str) -> Handled {
    let path = format!("/api/cases/{}/participants", encode(id));
    act(
        visit,
        id,
        CaseAction::Participant,
        |api, forms, _| {
            api.post(
                &path,
                &json!({"kind": forms.party_kind, "party_id": forms.party_id.trim(), "role": forms.role}),
            )
        },
        "The participant was added",
    )
}
