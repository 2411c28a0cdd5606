//! Queues, their members, and who works which case: take-next, round
//! robin, manual and bulk assignment. Every change is in the audit trail.

use cases_rules::{ActivityKind, Direction, StatusCategory};
use cases_store::{
    ActivityStatus, ActorKind, CaseRecord, NewActivity, Queue, QueueMember, QueueOrder,
};
use crm_component_support::{Action, Ctx, Outcome, Target, json, json_body, now_ms, transaction};
use crm_domain::{FieldErrors, OfficerId, Slug};
use crm_http::{FieldError, Problem};
use crm_sql::Sql;
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};

use crate::access::{self, officer, resource};
use crate::input::{self, SUBJECT_MAX};
use crate::view;

fn queue_view(queue: &Queue, members: &[QueueMember]) -> Value {
    json!({
        "id": queue.id,
        "name": queue.name,
        "ordering": queue.ordering,
        "members": members.iter().map(|m| json!({
            "officer": m.officer.as_str(),
            "capacity": m.capacity,
            "last_assigned_at": m.last_assigned_at.map(crm_domain::rfc3339_utc),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/queues`.
pub fn list(ctx: &mut Ctx) -> Result<Response, Problem> {
    ctx.require(Action::CaseConfigRead, Target::General, "queues")?;
    let db = ctx.db()?;
    let mut queues = Vec::new();
    for queue in cases_store::queues(db)? {
        let members = cases_store::members(db, &queue.id)?;
        queues.push(queue_view(&queue, &members));
    }
    Ok(json(200, &json!({"queues": queues})))
}

/// `GET /api/queues/{id}`.
pub fn get(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    ctx.require(
        Action::CaseConfigRead,
        Target::General,
        &format!("queue/{id}"),
    )?;
    let db = ctx.db()?;
    let queue =
        cases_store::queue(db, id)?.ok_or_else(|| Problem::not_found(format!("no queue/{id}")))?;
    let members = cases_store::members(db, id)?;
    Ok(json(200, &queue_view(&queue, &members)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    officer: String,
    capacity: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueBody {
    name: String,
    ordering: Vec<QueueOrder>,
    #[serde(default)]
    members: Vec<MemberBody>,
}

const MEMBERS_MAX: usize = 1_000;

/// `PUT /api/queues/{id}`: creates or replaces a queue, its ordering rules
/// (first rule first) and its members with their capacities (members who
/// stay keep their place in the round robin).
pub fn put(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: QueueBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let key = errors.check("id", Slug::parse(id));
    let name = input::one_line(&mut errors, "name", &body.name, SUBJECT_MAX);
    if body.ordering.is_empty() || body.ordering.len() > QueueOrder::ALL.len() {
        errors
            .0
            .push(FieldError::new("ordering", "must list 1 to 3 rules"));
    }
    input::at_most(&mut errors, "members", body.members.len(), MEMBERS_MAX);
    let members: Vec<QueueMember> = body
        .members
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            errors
                .check(
                    &format!("members[{i}].officer"),
                    OfficerId::parse(&m.officer),
                )
                .map(|officer| QueueMember {
                    officer,
                    capacity: m.capacity,
                    last_assigned_at: None,
                })
        })
        .collect();
    input::finish(errors)?;
    let (Some(key), Some(name)) = (key, name) else {
        return Err(Problem::internal("checked fields went missing"));
    };
    ctx.require(
        Action::CaseConfigure,
        Target::General,
        &format!("queue/{}", key.as_str()),
    )?;
    let queue = Queue {
        id: key.as_str().to_string(),
        name,
        ordering: body.ordering,
    };
    let db = ctx.db()?;
    transaction(db, |db| {
        cases_store::put_queue(db, &queue, now_ms())?;
        cases_store::set_members(db, &queue.id, &members)?;
        Ok(())
    })?;
    let members = cases_store::members(db, &queue.id)?;
    Ok(json(200, &queue_view(&queue, &members)))
}

/// Notes an assignment on the case's timeline (internal, by the system).
fn note_assignment(
    db: &impl Sql,
    case: &CaseRecord,
    actor: &OfficerId,
    subject: String,
    now: i64,
) -> Result<(), Problem> {
    cases_store::insert_activity(
        db,
        &NewActivity {
            id: crm_component_support::new_id("act"),
            case_id: case.id.clone(),
            kind: ActivityKind::Assignment,
            status: ActivityStatus::Done,
            subject,
            body: None,
            direction: Direction::Internal,
            citizen_visible: false,
            actor: actor.as_str().to_string(),
            actor_kind: ActorKind::Staff,
            due_at: None,
            completed_at: Some(now),
            created_at: now,
        },
    )?;
    Ok(())
}

/// `POST /api/queues/{id}/take-next`: gives a member of the queue the first
/// unassigned open case it may work, by the queue's rules (first rule
/// first; a member may work the queue's restricted cases), atomically (no
/// two officers ever take the same case); 204 when there is none.
pub fn take_next(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let queue_resource = format!("queue/{id}");
    ctx.require(Action::CaseAssign, Target::General, &queue_resource)?;
    let db = ctx.db()?;
    let queue = cases_store::queue(db, id)?
        .ok_or_else(|| Problem::not_found(format!("no {queue_resource}")))?;
    let me = officer(ctx)?;
    if !cases_store::is_member(db, id, &me)? {
        return Err(Problem::forbidden(format!(
            "{me} is not a member of {queue_resource}"
        )));
    }
    let taken = transaction(db, |db| {
        let now = now_ms();
        let Some(case) = cases_store::take_next(db, id, &me, &[], &queue.ordering, now, true)?
        else {
            return Ok(None);
        };
        note_assignment(
            db,
            &case,
            &me,
            format!("Taken from {} by {me}", queue.name),
            now,
        )?;
        Ok(Some(case))
    })?;
    let Some(case) = taken else {
        return Ok(Response::builder().status(204).body(Vec::new()).build());
    };
    ctx.record(
        Action::CaseAssign,
        &resource(&case.id),
        case.contact.as_ref().map(|c| c.as_str()),
        Outcome::Allowed,
        Some("take-next"),
    )?;
    Ok(view::answer(200, &case))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    /// An officer, `auto` (the queue's round robin) or null (unassigned).
    assignee: Option<String>,
    queue_id: Option<String>,
}

enum Assignee {
    Nobody,
    Officer(OfficerId),
    RoundRobin,
}

fn parse_assignment(body: &AssignBody) -> Result<Assignee, Problem> {
    match body.assignee.as_deref() {
        None => Ok(Assignee::Nobody),
        Some("auto") => Ok(Assignee::RoundRobin),
        Some(raw) => OfficerId::parse(raw)
            .map(Assignee::Officer)
            .map_err(|e| Problem::validation(vec![FieldError::new("assignee", e.0)])),
    }
}

/// Assigns one case in the caller's transaction; answers it as written.
fn assign_one(
    db: &impl Sql,
    mut case: CaseRecord,
    assignee: &Assignee,
    queue: Option<&str>,
    actor: &OfficerId,
    now: i64,
) -> Result<CaseRecord, Problem> {
    if case.status_category == StatusCategory::Closed {
        return Err(Problem::conflict(
            "case-closed",
            format!(
                "case/{} is {}; reopen it first",
                case.id,
                case.status.as_str()
            ),
        ));
    }
    if let Some(queue) = queue {
        case.queue = Some(queue.to_string());
    }
    case.assignee = match assignee {
        Assignee::Nobody => None,
        Assignee::Officer(officer) => Some(officer.clone()),
        Assignee::RoundRobin => {
            let queue = case.queue.clone().ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    "assignee",
                    "auto needs the case to be in a queue",
                )])
            })?;
            let next = cases_store::next_assignee(db, &queue)?.ok_or_else(|| {
                Problem::conflict(
                    "no-capacity",
                    format!("no member of queue/{queue} has capacity left"),
                )
            })?;
            cases_store::record_assignment(db, &queue, &next, now)?;
            Some(next)
        }
    };
    let version = case.version;
    case.updated_at = now;
    if !cases_store::update_case(db, &case, version)? {
        return Err(input::changed_meanwhile(&case));
    }
    let subject = match &case.assignee {
        Some(officer) => format!("Assigned to {officer}"),
        None => "Unassigned".to_string(),
    };
    note_assignment(db, &case, actor, subject, now)?;
    cases_store::case_by_id(db, &case.id)?.ok_or_else(|| Problem::internal("the case went missing"))
}

fn check_queue(db: &impl Sql, queue: Option<&str>) -> Result<(), Problem> {
    if let Some(queue) = queue
        && cases_store::queue(db, queue)?.is_none()
    {
        return Err(Problem::validation(vec![FieldError::new(
            "queue_id",
            "is not a configured queue",
        )]));
    }
    Ok(())
}

/// `POST /api/cases/{id}/assignment`: assigns, reassigns or unassigns a
/// case, and moves it to another queue.
pub fn assign(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: AssignBody = json_body(req)?;
    let assignee = parse_assignment(&body)?;
    let db = ctx.db()?;
    check_queue(db, body.queue_id.as_deref())?;
    let current = access::case(ctx, db, Action::CaseAssign, id)?;
    input::if_match(req, &current, false)?;
    let me = officer(ctx)?;
    let case = transaction(db, |db| {
        let case = input::reread(db, &current)?;
        assign_one(db, case, &assignee, body.queue_id.as_deref(), &me, now_ms())
    })?;
    Ok(view::answer(200, &case))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignManyBody {
    case_ids: Vec<String>,
    assignee: Option<String>,
    queue_id: Option<String>,
}

const BULK_MAX: usize = 100;

/// `POST /api/cases/assignments`: assigns up to 100 cases at once, all or
/// none.
pub fn assign_many(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: AssignManyBody = json_body(req)?;
    if body.case_ids.is_empty() || body.case_ids.len() > BULK_MAX {
        return Err(Problem::validation(vec![FieldError::new(
            "case_ids",
            format!("must list 1 to {BULK_MAX} cases"),
        )]));
    }
    let assignee = parse_assignment(&AssignBody {
        assignee: body.assignee.clone(),
        queue_id: body.queue_id.clone(),
    })?;
    let db = ctx.db()?;
    check_queue(db, body.queue_id.as_deref())?;
    let mut cases = Vec::with_capacity(body.case_ids.len());
    for id in &body.case_ids {
        cases.push(access::case(ctx, db, Action::CaseAssign, id)?);
    }
    let me = officer(ctx)?;
    let assigned = transaction(db, |db| {
        let now = now_ms();
        let mut assigned = Vec::with_capacity(cases.len());
        for case in &cases {
            let current = cases_store::case_by_id(db, &case.id)?
                .ok_or_else(|| input::changed_meanwhile(case))?;
            assigned.push(assign_one(
                db,
                current,
                &assignee,
                body.queue_id.as_deref(),
                &me,
                now,
            )?);
        }
        Ok(assigned)
    })?;
    Ok(json(
        200,
        &json!({"cases": assigned.iter().map(view::case).collect::<Vec<_>>()}),
    ))
}
