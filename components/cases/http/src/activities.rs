//! A case's activities: scheduled from its type's timeline, added by staff
//! and by the citizen, completed or cancelled. A done touchpoint (a call,
//! a letter, a message) goes into the contact's interaction log once; the
//! first staff-authored, citizen-visible outbound one is the case's first
//! response; a citizen's message takes a case off `awaiting-citizen`.

use cases_rules::{Activity, ActivityKind, Direction, StatusKey, counts_as_first_response};
use cases_store::{
    ActivityRecord, ActivityStatus, ActorKind, CaseRecord, NewActivity, TimelineAnchor,
    TimelineStep,
};
use crm_component_support::{Action, Ctx, json, json_body, now_ms, query_param, transaction};
use crm_domain::{Channel, FieldErrors, OfficerId};
use crm_http::{FieldError, Problem};
use crm_sql::Sql;
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, Response};

use crate::access::{self, officer};
use crate::clocks::Sla;
use crate::crm::interactions::log::{self, NewInteraction};
use crate::input::{self, BODY_MAX, SUBJECT_MAX};
use crate::{cases, view};

const DAY_MS: i64 = 86_400_000;

/// Schedules a new case's timeline: each step `offset_days` after the
/// case opened, or after the first activity of the kind it counts from
/// (steps counting from an activity not yet scheduled wait for it).
pub fn schedule_timeline(
    db: &impl Sql,
    case: &CaseRecord,
    timeline: &[TimelineStep],
    actor: &OfficerId,
    now: i64,
) -> Result<(), Problem> {
    let mut scheduled: Vec<(ActivityKind, i64)> = Vec::new();
    for step in timeline {
        let reference = match step.from {
            TimelineAnchor::Opened => Some(case.opened_at),
            TimelineAnchor::Activity(kind) => scheduled
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, due)| *due),
        };
        let Some(reference) = reference else {
            continue;
        };
        let due = reference + i64::from(step.offset_days) * DAY_MS;
        cases_store::insert_activity(
            db,
            &NewActivity {
                id: crm_component_support::new_id("act"),
                case_id: case.id.clone(),
                kind: step.kind,
                status: ActivityStatus::Scheduled,
                subject: step.subject.clone(),
                body: None,
                direction: Direction::Internal,
                citizen_visible: false,
                actor: actor.as_str().to_string(),
                actor_kind: ActorKind::System,
                due_at: Some(due),
                completed_at: None,
                created_at: now,
            },
        )?;
        scheduled.push((step.kind, due));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    kind: ActivityKind,
    subject: String,
    body: Option<String>,
    direction: Option<Direction>,
    #[serde(default)]
    citizen_visible: bool,
    status: Option<ActivityStatus>,
    due_at: Option<String>,
    completed_at: Option<String>,
}

/// `POST /api/cases/{id}/activities`: staff record any of the case type's
/// activity kinds; a citizen adds a message (inbound, visible to them).
pub fn add(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: AddBody = json_body(req)?;
    let citizen = access::is_citizen(ctx);
    let mut errors = FieldErrors::default();
    let subject = input::one_line(&mut errors, "subject", &body.subject, SUBJECT_MAX);
    let text = body
        .body
        .as_deref()
        .map(|b| input::many_lines(&mut errors, "body", b, BODY_MAX));
    let due_at = input::time(&mut errors, "due_at", body.due_at.as_deref());
    let completed_at = input::time(&mut errors, "completed_at", body.completed_at.as_deref());
    let status = body.status.unwrap_or(ActivityStatus::Done);
    if citizen && (body.kind != ActivityKind::CitizenMessage || status != ActivityStatus::Done) {
        errors
            .0
            .push(FieldError::new("kind", "a citizen adds a citizen-message"));
    }
    if !citizen
        && matches!(
            body.kind,
            ActivityKind::Assignment | ActivityKind::Notification
        )
    {
        errors.0.push(FieldError::new(
            "kind",
            "assignments and notifications are recorded by the system",
        ));
    }
    if status == ActivityStatus::Scheduled && matches!(due_at, Some(None)) {
        errors.0.push(FieldError::new(
            "due_at",
            "is required for a scheduled activity",
        ));
    }
    input::finish(errors)?;
    let db = ctx.db()?;
    let current = access::case(ctx, db, Action::CaseWork, id)?;
    let (_, kind) = cases::workflow(db, &current.case_type)?;
    if !kind.activity_kinds.contains(&body.kind) {
        return Err(Problem::validation(vec![FieldError::new(
            "kind",
            format!("is not an activity of a {} case", kind.key.as_str()),
        )]));
    }
    let (Some(subject), Some(due_at), Some(completed_at)) = (subject, due_at, completed_at) else {
        return Err(Problem::internal("checked fields went missing"));
    };
    let direction = if citizen {
        Direction::Inbound
    } else {
        body.direction.unwrap_or(Direction::Internal)
    };
    let me = officer(ctx)?;
    let roles = access::roles(ctx);
    let request_id = ctx.request_id.clone();
    let mut activity = transaction(db, |db| {
        let now = now_ms();
        let case =
            cases_store::case_by_id(db, id)?.ok_or_else(|| input::changed_meanwhile(&current))?;
        let activity = cases_store::insert_activity(
            db,
            &NewActivity {
                id: crm_component_support::new_id("act"),
                case_id: case.id.clone(),
                kind: body.kind,
                status,
                subject: subject.clone(),
                body: text.clone().flatten(),
                direction,
                citizen_visible: citizen || body.citizen_visible,
                actor: me.as_str().to_string(),
                actor_kind: if citizen {
                    ActorKind::Citizen
                } else {
                    ActorKind::Staff
                },
                due_at,
                completed_at: match status {
                    ActivityStatus::Done => Some(completed_at.unwrap_or(now)),
                    _ => None,
                },
                created_at: now,
            },
        )?;
        if status == ActivityStatus::Done {
            done(db, case, &activity, &roles, now, &request_id)?;
        }
        Ok(activity)
    })?;
    log_touchpoint(ctx, db, &mut activity)?;
    let body = if citizen {
        view::citizen_activity(&activity)
    } else {
        view::activity(&activity)
    };
    Ok(json(201, &body))
}

/// What a done activity does to its case: the first response, a new
/// next-update clock, or (a citizen's message) the end of a wait on them.
fn done(
    db: &impl Sql,
    mut case: CaseRecord,
    activity: &ActivityRecord,
    roles: &[crm_auth::policy::Role],
    now: i64,
    request_id: &str,
) -> Result<(), Problem> {
    let facts = Activity {
        kind: activity.kind,
        direction: activity.direction,
        by_staff: activity.actor_kind == ActorKind::Staff,
        citizen_visible: activity.citizen_visible,
    };
    if counts_as_first_response(&facts) {
        let (workflow, kind) = cases::workflow(db, &case.case_type)?;
        let working = workflow
            .status(&case.status)
            .is_some_and(|s| s.category == cases_rules::StatusCategory::Open && !s.pauses_sla);
        Sla::of(db, &kind, case.priority)?.responded(db, &case.id, now, working)?;
        if case.first_response_at.is_none() {
            let version = case.version;
            case.first_response_at = Some(activity.completed_at.unwrap_or(now));
            case.updated_at = now;
            if !cases_store::update_case(db, &case, version)? {
                return Err(input::changed_meanwhile(&case));
            }
        }
    }
    let in_progress = StatusKey::parse("in-progress").map_err(|e| Problem::internal(e.0))?;
    if activity.kind == ActivityKind::CitizenMessage
        && activity.actor_kind == ActorKind::Citizen
        && case.status.as_str() == "awaiting-citizen"
    {
        cases::move_by_rule(db, case, &in_progress, roles, now, request_id, None, None)?;
    }
    Ok(())
}

/// Puts a done touchpoint of a case about a contact into the contact's
/// interaction log, once: the activity is the entry's source, so a retry
/// after a failure between the two writes appends nothing more.
pub fn log_touchpoint(
    ctx: &Ctx,
    db: &impl Sql,
    activity: &mut ActivityRecord,
) -> Result<(), Problem> {
    let Some(channel) = touchpoint_channel(activity) else {
        return Ok(());
    };
    if activity.interaction_id.is_some() {
        return Ok(());
    }
    let Some(case) = cases_store::case_by_id(db, &activity.case_id)? else {
        return Ok(());
    };
    let Some(contact) = &case.contact else {
        return Ok(());
    };
    let interaction = NewInteraction {
        context: crm_component_support::wit::request_context(ctx),
        contact_id: contact.as_str().to_string(),
        channel: channel.into(),
        direction: match activity.direction {
            Direction::Inbound => log::Direction::Inbound,
            _ => log::Direction::Outbound,
        },
        occurred_at: activity.completed_at.unwrap_or(activity.created_at),
        subject: activity.subject.clone(),
        notes: activity.body.clone(),
        notification_id: None,
        source_id: Some(format!("case-activity:{}", activity.id)),
        case_reference: Some(case.reference.to_string()),
        category: Some("case".to_string()),
        tags: vec![activity.kind.as_str().to_string()],
        outcome: None,
    };
    // A failure leaves the activity unlogged, for the next try; the case
    // itself is already safe.
    match log::append(&interaction) {
        Ok(entry) => {
            cases_store::mark_logged(db, &activity.id, &entry)?;
            activity.interaction_id = Some(entry);
        }
        Err(e) => eprintln!(
            "case activity {} not yet in the interaction log: {e}",
            activity.id
        ),
    }
    Ok(())
}

/// The channel a done activity reached its citizen by, if it was a
/// touchpoint at all (notes, tasks and assignments are not).
fn touchpoint_channel(activity: &ActivityRecord) -> Option<Channel> {
    if activity.status != ActivityStatus::Done || activity.direction == Direction::Internal {
        return None;
    }
    Some(match activity.kind {
        ActivityKind::Call => Channel::Phone,
        ActivityKind::Email => Channel::Email,
        ActivityKind::Letter => Channel::Letter,
        ActivityKind::Meeting => Channel::Counter,
        ActivityKind::CitizenMessage => Channel::Portal,
        ActivityKind::Note
        | ActivityKind::Task
        | ActivityKind::Assignment
        | ActivityKind::Notification => return None,
    })
}

/// `GET /api/cases/{id}/activities`: newest first, paged by `before`
/// (a sequence number); a citizen sees only what is visible to them.
pub fn list(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let limit = input::limit(req, 50, 200)?;
    let before = match query_param(req, "before") {
        None => None,
        Some(raw) => Some(raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "before",
                "must be a positive whole number",
            )])
        })?),
    };
    let db = ctx.db()?;
    let case = access::case(ctx, db, Action::CaseRead, id)?;
    let citizen = access::is_citizen(ctx);
    let activities = cases_store::activities(db, &case.id, before, limit + 1, citizen)?;
    let more = activities.len() > limit as usize;
    let shown: Vec<_> = activities.iter().take(limit as usize).collect();
    let next = if more {
        shown.last().map(|a| a.seq)
    } else {
        None
    };
    let rendered: Vec<_> = shown
        .iter()
        .map(|a| {
            if citizen {
                view::citizen_activity(a)
            } else {
                view::activity(a)
            }
        })
        .collect();
    Ok(json(
        200,
        &json!({"activities": rendered, "next_before": next}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    status: ActivityStatus,
    completed_at: Option<String>,
}

/// `PATCH /api/cases/{id}/activities/{activity_id}`: a scheduled activity
/// is done or cancelled (an activity that is no longer scheduled stays as
/// it is: a 409).
pub fn update(
    ctx: &mut Ctx,
    req: &Request,
    id: &str,
    activity_id: &str,
) -> Result<Response, Problem> {
    let body: UpdateBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let completed_at = input::time(&mut errors, "completed_at", body.completed_at.as_deref());
    if body.status == ActivityStatus::Scheduled {
        errors
            .0
            .push(FieldError::new("status", "must be done or cancelled"));
    }
    input::finish(errors)?;
    let completed_at = completed_at.flatten();
    let db = ctx.db()?;
    let current = access::case(ctx, db, Action::CaseWork, id)?;
    if access::is_citizen(ctx) {
        return Err(Problem::forbidden("staff complete a case's activities"));
    }
    let roles = access::roles(ctx);
    let request_id = ctx.request_id.clone();
    let mut activity = transaction(db, |db| {
        let now = now_ms();
        let mut activity = cases_store::activity(db, &current.id, activity_id)?
            .ok_or_else(|| Problem::not_found(format!("no case/{id}/activities/{activity_id}")))?;
        if activity.status != ActivityStatus::Scheduled {
            return Err(Problem::conflict(
                "activity-not-scheduled",
                format!("the activity is already {}", activity.status.as_str()),
            ));
        }
        activity.status = body.status;
        activity.completed_at =
            (body.status == ActivityStatus::Done).then(|| completed_at.unwrap_or(now));
        cases_store::update_activity(db, &activity)?;
        if activity.status == ActivityStatus::Done {
            let case = cases_store::case_by_id(db, id)?
                .ok_or_else(|| input::changed_meanwhile(&current))?;
            done(db, case, &activity, &roles, now, &request_id)?;
        }
        Ok(activity)
    })?;
    log_touchpoint(ctx, db, &mut activity)?;
    Ok(json(200, &view::activity(&activity)))
}
