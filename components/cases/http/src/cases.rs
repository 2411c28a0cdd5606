//! Opening, reading, listing, changing and moving cases.

use cases_rules::{
    CaseFacts, CaseTypeKey, Confidentiality, Effect, OpeningRequest, Priority, StatusCategory,
    StatusKey, TransitionError, Workflow, citizen_opening_refusals,
};
use cases_sla::ClockState;
use cases_store::{CaseCursor, CaseRecord, Participant, PartyKind, QueueOrder, QueuePage};
use crm_component_support::{
    Action, Ctx, Outcome, Target, created, json, json_body, now_ms, query_param, transaction,
};
use crm_domain::{CalendarDate, Channel, ContactId, FieldErrors, Invalid, OfficerId};
use crm_http::{FieldError, Problem};
use crm_sql::Sql;
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};

use crate::access::{self, officer, resource};
use crate::clocks::Sla;
use crate::input::{self, BODY_MAX, SUBJECT_MAX, SUMMARY_MAX};
use crate::{activities, crm, view};

/// The workflow a case of `case_type` moves by.
pub fn workflow(
    db: &impl Sql,
    case_type: &CaseTypeKey,
) -> Result<(Workflow, cases_store::CaseType), Problem> {
    let kind = cases_store::case_type(db, case_type)?
        .ok_or_else(|| Problem::internal(format!("case type {} is missing", case_type.as_str())))?;
    Ok((cases_store::workflow(db, kind.reopen_within_days)?, kind))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantBody {
    kind: PartyKind,
    party_id: String,
    role: String,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    case_type: CaseTypeKey,
    subject: String,
    #[serde(default)]
    details: String,
    priority: Option<Priority>,
    channel: Option<Channel>,
    contact_id: Option<String>,
    queue_id: Option<String>,
    /// An officer, or `auto` for the queue's round robin.
    assignee: Option<String>,
    parent_id: Option<String>,
    confidentiality: Option<Confidentiality>,
    #[serde(default)]
    participants: Vec<ParticipantBody>,
}

/// At most this many participants in one request.
const PARTICIPANTS_MAX: usize = 50;

fn participant(
    errors: &mut FieldErrors,
    at: &str,
    body: ParticipantBody,
    roles: &[String],
) -> Option<Participant> {
    let field = |name: &str| {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    };
    let party_id = match body.kind {
        PartyKind::Contact => errors.check(
            &field("party_id"),
            ContactId::parse(&body.party_id).map(|c| c.as_str().to_string()),
        ),
        PartyKind::Staff => errors.check(
            &field("party_id"),
            OfficerId::parse(&body.party_id).map(|o| o.as_str().to_string()),
        ),
    };
    if !roles.contains(&body.role) {
        errors.0.push(FieldError::new(
            &field("role"),
            format!("must be one of the case type's roles: {}", roles.join(", ")),
        ));
    }
    let date = |errors: &mut FieldErrors, field: &str, raw: Option<String>| {
        errors.check_optional(field, raw.as_deref(), CalendarDate::parse)
    };
    let from = date(errors, &field("from"), body.from);
    let to = date(errors, &field("to"), body.to);
    Some(Participant {
        kind: body.kind,
        party_id: party_id?,
        role: body.role,
        from: from?,
        to: to?,
    })
}

/// `POST /api/cases`: opens a case in status `new`, numbered
/// `CAS-<year>-<n>` without gaps, with its clocks started and its type's
/// timeline scheduled; `assignee: "auto"` assigns it by the queue's round
/// robin. A citizen opens a case about themselves only.
pub fn open(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: OpenBody = json_body(req)?;
    let citizen = access::is_citizen(ctx);
    let mut errors = FieldErrors::default();
    let subject = input::one_line(&mut errors, "subject", &body.subject, SUBJECT_MAX);
    let details = input::many_lines(&mut errors, "details", &body.details, BODY_MAX);
    let db = ctx.db()?;
    let kind = cases_store::case_type(db, &body.case_type)?;
    let Some(kind) = kind else {
        errors.0.push(FieldError::new(
            "case_type",
            "is not a configured case type",
        ));
        return Err(Problem::validation(errors.0));
    };
    let contact = if citizen {
        let request = OpeningRequest {
            priority: body.priority.is_some(),
            contact_id: body.contact_id.is_some(),
            queue_id: body.queue_id.is_some(),
            assignee: body.assignee.is_some(),
            parent_id: body.parent_id.is_some(),
            confidentiality: body.confidentiality.is_some(),
            participants: !body.participants.is_empty(),
        };
        for (field, reason) in citizen_opening_refusals(&request, kind.citizen_openable) {
            errors.0.push(FieldError::new(field, reason));
        }
        ctx.own_contact().map(str::to_string)
    } else {
        errors
            .check_optional("contact_id", body.contact_id.as_deref(), ContactId::parse)
            .flatten()
            .map(|c| c.as_str().to_string())
    };
    // A citizen names no queue: theirs joins the one their kind of case goes to.
    let queue_id = if citizen {
        kind.citizen_queue_id.clone()
    } else {
        body.queue_id.clone()
    };
    input::at_most(
        &mut errors,
        "participants",
        body.participants.len(),
        PARTICIPANTS_MAX,
    );
    let participants: Vec<_> = body
        .participants
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| {
            participant(
                &mut errors,
                &format!("participants[{i}]"),
                p,
                &kind.participant_roles,
            )
        })
        .collect();
    if let Some(queue) = &body.queue_id
        && cases_store::queue(db, queue)?.is_none()
    {
        errors
            .0
            .push(FieldError::new("queue_id", "is not a configured queue"));
    }
    let assignee = match body.assignee.as_deref() {
        None => None,
        Some("auto") if body.queue_id.is_none() => {
            errors
                .0
                .push(FieldError::new("assignee", "auto needs a queue_id"));
            None
        }
        Some("auto") => Some(Assignee::RoundRobin),
        Some(raw) => errors
            .check("assignee", OfficerId::parse(raw))
            .map(Assignee::Officer),
    };
    if let Some(parent) = &body.parent_id
        && cases_store::case_by_id(db, parent)?.is_none()
    {
        errors.0.push(FieldError::new("parent_id", "is not a case"));
    }
    input::finish(errors)?;
    let (Some(subject), Some(details)) = (subject, details) else {
        return Err(Problem::internal("checked fields went missing"));
    };
    let id = crm_component_support::new_id("cas");
    match &contact {
        Some(contact) => ctx.require_new_contact(Action::CaseOpen, contact, &resource(&id))?,
        None => ctx.require(Action::CaseOpen, Target::General, &resource(&id))?,
    }
    let contact = match contact {
        Some(contact) => Some(survivor(ctx, &contact)?),
        None => None,
    };
    let workflow = cases_store::workflow(db, kind.reopen_within_days)?;
    let new = StatusKey::parse("new").map_err(|e| Problem::internal(e.0))?;
    let status = workflow
        .status(&new)
        .ok_or_else(|| Problem::internal("the workflow has no `new` status"))?
        .clone();
    let priority = body.priority.unwrap_or(Priority::Normal);
    let me = officer(ctx)?;
    let request_id = ctx.request_id.clone();
    let case = transaction(db, |db| {
        let now = now_ms();
        let year = CalendarDate::from_unix_ms(now).year();
        let reference = cases_store::next_reference(db, year)?;
        let mut case = CaseRecord {
            id: id.clone(),
            reference,
            case_type: body.case_type.clone(),
            subject: subject.clone(),
            details: details.clone(),
            priority,
            channel: body.channel.or(citizen.then_some(Channel::Portal)),
            contact: contact.clone(),
            queue: queue_id.clone(),
            assignee: None,
            parent: body.parent_id.clone(),
            confidentiality: body.confidentiality.unwrap_or(Confidentiality::Standard),
            status: status.key.clone(),
            status_category: status.category,
            version: 1,
            opened_at: now,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            resolution_code: None,
            resolution_summary: None,
            due_at: None,
            created_by: me.as_str().to_string(),
            updated_at: now,
        };
        case.assignee = match (&assignee, &case.queue) {
            (Some(Assignee::Officer(officer)), _) => Some(officer.clone()),
            (Some(Assignee::RoundRobin), Some(queue)) => {
                let next = cases_store::next_assignee(db, queue)?;
                if let Some(officer) = &next {
                    cases_store::record_assignment(db, queue, officer, now)?;
                }
                next
            }
            _ => None,
        };
        cases_store::insert_case(db, &case)?;
        for p in &participants {
            cases_store::add_participant(db, &case.id, p)?;
        }
        activities::schedule_timeline(db, &case, &kind.timeline, &me, now)?;
        Sla::of(db, &kind, priority)?.start(db, &case.id, now)?;
        cases_store::insert_outbox_event(
            db,
            "case.opened",
            &case.id,
            &json!({
                "case_id": case.id,
                "reference": case.reference.to_string(),
                "case_type": case.case_type.as_str(),
                "contact_id": case.contact.as_ref().map(|c| c.as_str()),
                "queue_id": case.queue,
            }),
            now,
            Some(&request_id),
        )?;
        Ok(cases_store::case_by_id(db, &case.id)?.unwrap_or(case))
    })?;
    if let Some(officer) = &case.assignee {
        ctx.record(
            Action::CaseAssign,
            &resource(&case.id),
            case.contact.as_ref().map(|c| c.as_str()),
            Outcome::Allowed,
            Some(&format!("assigned to {officer}")),
        )?;
    }
    let body = if citizen {
        view::citizen_case(&case, status.label.as_str())
    } else {
        view::case(&case)
    };
    let mut response = created(&format!("/api/cases/{}", case.id), &body);
    response.set_header("etag", view::etag(&case));
    Ok(response)
}

enum Assignee {
    Officer(OfficerId),
    RoundRobin,
}

/// The contact a case about `contact` is filed under: its survivor if it
/// was merged; a 400 when there is no such contact.
fn survivor(ctx: &Ctx, contact: &str) -> Result<ContactId, Problem> {
    let context = crm_component_support::wit::request_context(ctx);
    let reach = crm::contacts::directory::lookup(&context, contact)
        .map_err(|e| Problem::unavailable(format!("the contact directory: {e}")))?
        .ok_or_else(|| {
            Problem::validation(vec![FieldError::new("contact_id", "is not a contact")])
        })?;
    ContactId::parse(&reach.contact_id).map_err(|e| Problem::internal(e.0))
}

/// `GET /api/cases/{id}`: the case with its participants, clocks (as they
/// stand now) and last 50 activities; a citizen sees their case's public
/// face and its citizen-visible activities.
pub fn get(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let db = ctx.db()?;
    let case = access::case(ctx, db, Action::CaseRead, id)?;
    let body = if access::is_citizen(ctx) {
        citizen_view(db, &cases_store::workflow(db, 0)?, &case)?
    } else {
        let mut body = view::case(&case);
        let clocks = crate::clocks::current(db, &case)?;
        body["clocks"] = clocks.iter().map(view::clock).collect();
        body["participants"] = cases_store::participants(db, &case.id)?
            .iter()
            .map(view::participant)
            .collect();
        body["activities"] = cases_store::activities(db, &case.id, None, 50, false)?
            .iter()
            .map(view::activity)
            .collect();
        let (flow, kind) = workflow(db, &case.case_type)?;
        body["allowed_transitions"] = allowed_targets(&flow, &kind, &access::roles(ctx), &case)
            .into_iter()
            .map(|key| {
                let label = flow.status(key).map_or(key.as_str(), |s| s.label.as_str());
                json!({"to": key.as_str(), "label": label})
            })
            .collect();
        body
    };
    let mut response = json(200, &body);
    response.set_header("etag", view::etag(&case));
    Ok(response)
}

/// A case as its citizen sees it; `workflow` names its status (labels are
/// the same for every case type, so a list reads them once).
fn citizen_view(db: &impl Sql, workflow: &Workflow, case: &CaseRecord) -> Result<Value, Problem> {
    let label = workflow
        .status(&case.status)
        .map_or(case.status.as_str(), |s| s.label.as_str());
    let mut body = view::citizen_case(case, label);
    body["activities"] = cases_store::activities(db, &case.id, None, 50, true)?
        .iter()
        .map(view::citizen_activity)
        .collect();
    Ok(body)
}

const PAGE_MAX: u32 = 200;

/// `GET /api/cases`: a queue page (`queue_id`, `status`, `category`,
/// `assignee` = an officer or `me`, `order` = due, priority or fifo),
/// or a contact's cases (`contact_id`, with those of contacts merged into
/// it), keyset-paginated by `cursor`. Restricted cases the caller may not
/// see are left out; each case listed is recorded as read. A citizen's
/// list is their own cases, as `/api/cases/mine`.
pub fn list(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    if access::is_citizen(ctx) {
        return mine(ctx);
    }
    let limit = input::limit(req, 50, PAGE_MAX)?;
    let contact = query_param(req, "contact_id");
    let page = page_query(req)?;
    // A contact's cases are listed first opened first.
    let order = if contact.is_some() {
        QueueOrder::Fifo
    } else {
        page.order
    };
    let cursor = match query_param(req, "cursor") {
        None => None,
        Some(raw) => Some(
            CaseCursor::decode(&raw, order)
                .map_err(|e| Problem::validation(vec![FieldError::new("cursor", e.to_string())]))?,
        ),
    };
    let db = ctx.db()?;
    let cases = if let Some(contact) = contact {
        let contact = ContactId::parse(&contact)
            .map_err(|e| Problem::validation(vec![FieldError::new("contact_id", e.0)]))?;
        ctx.require(Action::CaseRead, Target::Contact(contact.as_str()), "cases")?;
        let family = access::merge_family(ctx, contact.as_str())?;
        cases_store::cases_of_contacts(db, &family, cursor.as_ref(), limit + 1)?
    } else {
        ctx.require(Action::CaseRead, Target::General, "cases")?;
        let me = officer(ctx)?;
        let assignee = match page.assignee.as_deref() {
            Some("me") => Some(me),
            Some(raw) => Some(
                OfficerId::parse(raw)
                    .map_err(|e| Problem::validation(vec![FieldError::new("assignee", e.0)]))?,
            ),
            None => None,
        };
        cases_store::queue_page(
            db,
            &QueuePage {
                queue: page.queue.as_deref(),
                assignee: assignee.as_ref(),
                statuses: &page.statuses,
                category: page.category,
                priorities: &page.priorities,
                sla_states: &page.sla_states,
                order: page.order,
                after: cursor,
                limit: limit + 1,
            },
        )?
    };
    let more = cases.len() > limit as usize;
    let mut shown = Vec::new();
    let mut next = None;
    for case in cases.into_iter().take(limit as usize) {
        next = Some(CaseCursor::after(order, &case).encode());
        if access::may_see(ctx, db, &case)? {
            shown.push(case);
        }
    }
    let disclosed: Vec<(String, Option<String>)> = shown
        .iter()
        .map(|c| {
            (
                resource(&c.id),
                c.contact.as_ref().map(|c| c.as_str().to_string()),
            )
        })
        .collect();
    ctx.record_many(
        Action::CaseRead,
        &disclosed,
        Outcome::Allowed,
        Some("listed"),
    )?;
    let ids: Vec<&str> = shown.iter().map(|c| c.id.as_str()).collect();
    let sla_states = cases_store::sla_states(db, &ids)?;
    let lines: Vec<Value> = shown
        .iter()
        .map(|c| {
            let mut line = view::case(c);
            line["sla_state"] = json!(sla_states.get(&c.id).map(|s| s.as_str()));
            line
        })
        .collect();
    Ok(json(
        200,
        &json!({
            "cases": lines,
            "next_cursor": if more { next } else { None },
        }),
    ))
}

struct PageQuery {
    queue: Option<String>,
    assignee: Option<String>,
    statuses: Vec<StatusKey>,
    category: Option<StatusCategory>,
    priorities: Vec<Priority>,
    sla_states: Vec<ClockState>,
    order: QueueOrder,
}

/// The states a case's SLA may be found by: those of a clock that runs or
/// waits (a met or cancelled one no longer counts).
const SLA_FILTER_STATES: [ClockState; 4] = [
    ClockState::InProgress,
    ClockState::Warning,
    ClockState::Breached,
    ClockState::Paused,
];

fn sla_filter_state(raw: &str) -> Result<ClockState, Invalid> {
    SLA_FILTER_STATES
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| {
            let names: Vec<&str> = SLA_FILTER_STATES.iter().map(|s| s.as_str()).collect();
            Invalid(format!("must be one of {}", names.join(", ")))
        })
}

/// A comma-separated query parameter, each item through `parse`.
fn list_param<T>(
    req: &Request,
    errors: &mut FieldErrors,
    name: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Vec<T> {
    query_param(req, name)
        .map(|raw| {
            raw.split(',')
                .filter(|s| !s.is_empty())
                .filter_map(|s| errors.check(name, parse(s)))
                .collect()
        })
        .unwrap_or_default()
}

fn page_query(req: &Request) -> Result<PageQuery, Problem> {
    let mut errors = FieldErrors::default();
    let statuses = list_param(req, &mut errors, "status", StatusKey::parse);
    let priorities = list_param(req, &mut errors, "priority", Priority::parse);
    let sla_states = list_param(req, &mut errors, "sla_state", sla_filter_state);
    let category = errors
        .check_optional(
            "category",
            query_param(req, "category").as_deref(),
            StatusCategory::parse,
        )
        .flatten();
    let order = errors
        .check_optional(
            "order",
            query_param(req, "order").as_deref(),
            QueueOrder::parse,
        )
        .flatten()
        .unwrap_or(QueueOrder::Due);
    input::finish(errors)?;
    Ok(PageQuery {
        queue: query_param(req, "queue_id"),
        assignee: query_param(req, "assignee"),
        statuses,
        category,
        priorities,
        sla_states,
        order,
    })
}

/// `GET /api/cases/mine`: a citizen's cases (with those filed under
/// contacts merged into theirs), each with its status and its
/// citizen-visible activities.
pub fn mine(ctx: &mut Ctx) -> Result<Response, Problem> {
    let Some(contact) = ctx.own_contact().map(str::to_string) else {
        ctx.require(Action::CaseRead, Target::General, "cases/mine")?;
        return Err(Problem::forbidden(
            "only a citizen linked to a contact has cases of their own",
        ));
    };
    ctx.require(Action::CaseRead, Target::Contact(&contact), "cases/mine")?;
    let family = access::merge_family(ctx, &contact)?;
    let db = ctx.db()?;
    let cases = cases_store::cases_of_contacts(db, &family, None, PAGE_MAX)?;
    let workflow = cases_store::workflow(db, 0)?;
    let mut shown = Vec::with_capacity(cases.len());
    for case in &cases {
        shown.push(citizen_view(db, &workflow, case)?);
    }
    Ok(json(200, &json!({"cases": shown})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    subject: Option<String>,
    details: Option<String>,
    priority: Option<Priority>,
    confidentiality: Option<Confidentiality>,
    parent_id: Option<String>,
}

/// `PATCH /api/cases/{id}` (with `If-Match`): subject, details, priority
/// (the clocks take the new priority's targets, keeping their pauses),
/// confidentiality and parent.
pub fn update(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: UpdateBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let subject = body
        .subject
        .as_deref()
        .map(|s| input::one_line(&mut errors, "subject", s, SUBJECT_MAX));
    let details = body
        .details
        .as_deref()
        .map(|s| input::many_lines(&mut errors, "details", s, BODY_MAX));
    input::finish(errors)?;
    let db = ctx.db()?;
    let current = access::case(ctx, db, Action::CaseWork, id)?;
    if access::is_citizen(ctx) {
        return Err(Problem::forbidden(
            "a citizen adds a message to their case; staff change it",
        ));
    }
    input::if_match(req, &current, true)?;
    let case = transaction(db, |db| {
        let now = now_ms();
        let mut case = input::reread(db, &current)?;
        if let Some(Some(subject)) = &subject {
            case.subject = subject.clone();
        }
        if let Some(Some(details)) = &details {
            case.details = details.clone();
        }
        if let Some(confidentiality) = body.confidentiality {
            case.confidentiality = confidentiality;
        }
        if let Some(parent) = &body.parent_id {
            check_parent(db, &case.id, parent)?;
            case.parent = Some(parent.clone());
        }
        let reprioritised = body.priority.is_some_and(|p| p != case.priority);
        if let Some(priority) = body.priority {
            case.priority = priority;
        }
        case.updated_at = now;
        if !cases_store::update_case(db, &case, current.version)? {
            return Err(input::changed_meanwhile(&current));
        }
        if reprioritised {
            Sla::of_case(db, &case)?.retarget(db, &case.id, now)?;
        }
        cases_store::case_by_id(db, id)?.ok_or_else(|| Problem::internal("the case went missing"))
    })?;
    Ok(view::answer(200, &case))
}

/// Cases nest at most this deep.
const NESTING_MAX: usize = 100;

/// `parent` may become `case`'s parent: another case, and not one of its
/// own descendants (a cycle no closure policy could ever close).
fn check_parent(db: &impl Sql, case: &str, parent: &str) -> Result<(), Problem> {
    let refused = |why: &str| Problem::validation(vec![FieldError::new("parent_id", why)]);
    let mut ancestor =
        cases_store::case_by_id(db, parent)?.ok_or_else(|| refused("is not a case"))?;
    for _ in 0..NESTING_MAX {
        if ancestor.id == case {
            return Err(refused(
                "is this case or one of its children: cases cannot nest in a circle",
            ));
        }
        let Some(next) = &ancestor.parent else {
            return Ok(());
        };
        ancestor = cases_store::case_by_id(db, next)?
            .ok_or_else(|| Problem::internal(format!("case/{next} is missing")))?;
    }
    Err(refused(&format!(
        "would nest cases more than {NESTING_MAX} deep"
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionBody {
    to: StatusKey,
    resolution_code: Option<String>,
    resolution_summary: Option<String>,
}

/// `POST /api/cases/{id}/transitions`: moves the case to `to` if the
/// transition table lets the caller's role (409 naming the allowed targets
/// otherwise), with the clocks paused, resumed, met or cancelled as the
/// new status says, and open children closed with their parent when the
/// type's closure policy says so. `If-Match` is honoured when sent.
pub fn transition(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: TransitionBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let code = body
        .resolution_code
        .as_deref()
        .and_then(|c| errors.check("resolution_code", crm_domain::Slug::parse(c)))
        .map(|s| s.as_str().to_string());
    let summary = body
        .resolution_summary
        .as_deref()
        .and_then(|s| input::many_lines(&mut errors, "resolution_summary", s, SUMMARY_MAX));
    input::finish(errors)?;
    let db = ctx.db()?;
    let current = access::case(ctx, db, Action::CaseWork, id)?;
    input::if_match(req, &current, false)?;
    let roles = access::roles(ctx);
    let request_id = ctx.request_id.clone();
    let (case, closed_children) = transaction(db, |db| {
        let now = now_ms();
        let case = input::reread(db, &current)?;
        move_by_rule(
            db,
            case,
            &body.to,
            &roles,
            now,
            &request_id,
            code.clone(),
            summary.clone(),
        )
    })?;
    for child in &closed_children {
        ctx.record(
            Action::CaseWork,
            &resource(&child.id),
            child.contact.as_ref().map(|c| c.as_str()),
            Outcome::Allowed,
            Some(&format!("closed with its parent case/{}", case.id)),
        )?;
    }
    Ok(view::answer(200, &case))
}

/// Moves `case` to `to` if the transition table lets `roles` (and the
/// case type allows the status), closing its open children with it when
/// the type's closure policy says so; answers the case and the children
/// it closed.
#[allow(clippy::too_many_arguments)]
pub fn move_by_rule(
    db: &impl Sql,
    case: CaseRecord,
    to: &StatusKey,
    roles: &[crm_auth::policy::Role],
    now: i64,
    request_id: &str,
    code: Option<String>,
    summary: Option<String>,
) -> Result<(CaseRecord, Vec<CaseRecord>), Problem> {
    let (flow, kind) = workflow(db, &case.case_type)?;
    let facts = CaseFacts {
        resolved_days_ago: case.resolved_at.map(|at| whole_days(now - at)),
        open_children: cases_store::open_children(db, &case.id)?.len(),
        closure_policy: kind.closure_policy,
    };
    if !kind.statuses.contains(to) {
        return Err(transition_problem(TransitionError::NotAllowed {
            from: case.status.as_str().to_string(),
            to: to.as_str().to_string(),
            allowed: allowed_targets(&flow, &kind, roles, &case)
                .into_iter()
                .map(|k| k.as_str().to_string())
                .collect(),
        }));
    }
    let effect = flow
        .check(roles, &case.case_type, &case.status, to, facts)
        .map_err(transition_problem)?;
    let moved = move_case(db, (&flow, &kind), case, to, now, request_id, code, summary)?;
    let mut closed_children = Vec::new();
    if effect == Effect::CloseChildren {
        for child in cases_store::open_children(db, &moved.id)? {
            let (child_flow, child_kind) = workflow(db, &child.case_type)?;
            let child = move_case(
                db,
                (&child_flow, &child_kind),
                child,
                to,
                now,
                request_id,
                None,
                None,
            )?;
            closed_children.push(child);
        }
    }
    Ok((moved, closed_children))
}

/// The statuses the transition table lets `roles` move `case` to, among
/// those its type allows.
fn allowed_targets<'f>(
    flow: &'f Workflow,
    kind: &cases_store::CaseType,
    roles: &[crm_auth::policy::Role],
    case: &CaseRecord,
) -> Vec<&'f StatusKey> {
    flow.allowed_targets(roles, &case.case_type, &case.status)
        .into_iter()
        .filter(|k| kind.statuses.contains(k))
        .collect()
}

fn whole_days(ms: i64) -> u32 {
    u32::try_from(ms.max(0) / 86_400_000).unwrap_or(u32::MAX)
}

fn transition_problem(error: TransitionError) -> Problem {
    match &error {
        TransitionError::NotAllowed { allowed, .. } => {
            Problem::conflict("transition-not-allowed", error.to_string())
                .with_extension("allowed", json!(allowed))
        }
        TransitionError::ReopenWindowPassed { .. } => {
            Problem::conflict("reopen-window-passed", error.to_string())
        }
        TransitionError::ChildrenOpen(_) => Problem::conflict("children-open", error.to_string()),
        TransitionError::UnknownStatus(_) => {
            Problem::validation(vec![FieldError::new("to", error.to_string())])
        }
    }
}

/// Writes the move of `case` (of the type and workflow given) to `to` with
/// its clocks and outbox event.
#[allow(clippy::too_many_arguments)]
fn move_case(
    db: &impl Sql,
    (workflow, kind): (&Workflow, &cases_store::CaseType),
    mut case: CaseRecord,
    to: &StatusKey,
    now: i64,
    request_id: &str,
    resolution_code: Option<String>,
    resolution_summary: Option<String>,
) -> Result<CaseRecord, Problem> {
    let unknown =
        |key: &StatusKey| Problem::internal(format!("status {} is missing", key.as_str()));
    let from = workflow
        .status(&case.status)
        .ok_or_else(|| unknown(&case.status))?
        .clone();
    let to = workflow.status(to).ok_or_else(|| unknown(to))?.clone();
    let version = case.version;
    case.status = to.key.clone();
    case.status_category = to.category;
    match (from.category, to.category) {
        (StatusCategory::Open, StatusCategory::Closed) => {
            if to.key.as_str() == "resolved" {
                case.resolved_at = Some(now);
            } else {
                case.closed_at = Some(now);
            }
        }
        (StatusCategory::Closed, StatusCategory::Closed) => case.closed_at = Some(now),
        (StatusCategory::Closed, StatusCategory::Open) => {
            case.resolved_at = None;
            case.closed_at = None;
        }
        (StatusCategory::Open, StatusCategory::Open) => {}
    }
    if resolution_code.is_some() {
        case.resolution_code = resolution_code;
    }
    if resolution_summary.is_some() {
        case.resolution_summary = resolution_summary;
    }
    case.updated_at = now;
    if !cases_store::update_case(db, &case, version)? {
        return Err(input::changed_meanwhile(&case));
    }
    Sla::of(db, kind, case.priority)?.status_changed(db, &case.id, &from, &to, now)?;
    // What the citizen is told of: an ending, a reopening, or a wait on them.
    let citizen_visible = from.category != to.category || to.key.as_str() == "awaiting-citizen";
    cases_store::insert_outbox_event(
        db,
        "case.status-changed",
        &case.id,
        &json!({
            "case_id": case.id,
            "reference": case.reference.to_string(),
            "contact_id": case.contact.as_ref().map(|c| c.as_str()),
            "from": from.key.as_str(),
            "to": to.key.as_str(),
            "status_label": to.label,
            "citizen_visible": citizen_visible,
        }),
        now,
        Some(request_id),
    )?;
    cases_store::case_by_id(db, &case.id)?.ok_or_else(|| Problem::internal("the case went missing"))
}

/// `POST /api/cases/{id}/participants`: a contact or staff member on the
/// case in one of its type's roles.
pub fn add_participant(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: ParticipantBody = json_body(req)?;
    let db = ctx.db()?;
    let case = access::case(ctx, db, Action::CaseWork, id)?;
    if access::is_citizen(ctx) {
        return Err(Problem::forbidden("staff add the participants of a case"));
    }
    let (_, kind) = workflow(db, &case.case_type)?;
    let mut errors = FieldErrors::default();
    let participant = participant(&mut errors, "", body, &kind.participant_roles);
    input::finish(errors)?;
    let participant =
        participant.ok_or_else(|| Problem::internal("a checked participant went missing"))?;
    transaction(db, |db| {
        Ok(cases_store::add_participant(db, &case.id, &participant)?)
    })?;
    Ok(json(201, &view::participant(&participant)))
}
