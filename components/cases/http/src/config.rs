//! What administrators configure: case types, statuses and the transition
//! table, service levels, business calendars. Reading it needs no purpose
//! (it holds no personal information); changing it is audited like any
//! write.

use cases_rules::{
    ActivityKind, CaseTypeKey, ClosurePolicy, Priority, Status, StatusCategory, StatusKey,
    Transition,
};
use cases_sla::{Calendar, CalendarError, Date, Time, WorkingHours};
use cases_store::{CaseType, SlaPolicy, StoredCalendar, TimelineAnchor, TimelineStep};
use crm_auth::policy::Role;
use crm_component_support::{
    Action, Ctx, Target, json, json_body, now_ms, query_param, transaction,
};
use crm_domain::{FieldErrors, Slug};
use crm_http::{FieldError, Problem};
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};

use crate::input::{self, SUBJECT_MAX};

fn read(ctx: &mut Ctx, resource: &str) -> Result<(), Problem> {
    ctx.require(Action::CaseConfigRead, Target::General, resource)
}

fn configure(ctx: &mut Ctx, resource: &str) -> Result<(), Problem> {
    ctx.require(Action::CaseConfigure, Target::General, resource)
}

fn type_view(kind: &CaseType) -> Value {
    json!({
        "key": kind.key.as_str(),
        "title": kind.title,
        "activity_kinds": kind.activity_kinds,
        "timeline": kind.timeline.iter().map(|s| json!({
            "kind": s.kind,
            "subject": s.subject,
            "offset_days": s.offset_days,
            "from": s.from.as_str(),
        })).collect::<Vec<_>>(),
        "participant_roles": kind.participant_roles,
        "statuses": kind.statuses,
        "closure_policy": kind.closure_policy,
        "calendar_id": kind.calendar_id,
        "reopen_within_days": kind.reopen_within_days,
        "citizen_openable": kind.citizen_openable,
        "citizen_queue_id": kind.citizen_queue_id,
    })
}

/// `GET /api/cases/types`.
pub fn list_types(ctx: &mut Ctx) -> Result<Response, Problem> {
    read(ctx, "cases/types")?;
    let types = cases_store::case_types(ctx.db()?)?;
    Ok(json(
        200,
        &json!({"case_types": types.iter().map(type_view).collect::<Vec<_>>()}),
    ))
}

/// `GET /api/cases/types/{key}`.
pub fn get_type(ctx: &mut Ctx, key: &str) -> Result<Response, Problem> {
    let resource = format!("cases/types/{key}");
    read(ctx, &resource)?;
    let db = ctx.db()?;
    let kind = match CaseTypeKey::parse(key) {
        Ok(key) => cases_store::case_type(db, &key)?,
        Err(_) => None,
    }
    .ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    Ok(json(200, &type_view(&kind)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    kind: ActivityKind,
    subject: String,
    offset_days: u32,
    #[serde(default = "opened")]
    from: String,
}

fn opened() -> String {
    "opened".to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeBody {
    title: String,
    activity_kinds: Vec<ActivityKind>,
    #[serde(default)]
    timeline: Vec<StepBody>,
    #[serde(default)]
    participant_roles: Vec<Slug>,
    statuses: Vec<StatusKey>,
    closure_policy: ClosurePolicy,
    calendar_id: String,
    reopen_within_days: u32,
    #[serde(default)]
    citizen_openable: bool,
    citizen_queue_id: Option<String>,
}

/// Bounds on a case type's lists.
const LIST_MAX: usize = 50;

/// `PUT /api/cases/types/{key}`: creates or replaces a case type.
pub fn put_type(ctx: &mut Ctx, req: &Request, key: &str) -> Result<Response, Problem> {
    let body: TypeBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let key = errors.check("key", CaseTypeKey::parse(key));
    let title = input::one_line(&mut errors, "title", &body.title, SUBJECT_MAX);
    for (field, len) in [
        ("activity_kinds", body.activity_kinds.len()),
        ("timeline", body.timeline.len()),
        ("participant_roles", body.participant_roles.len()),
        ("statuses", body.statuses.len()),
    ] {
        input::at_most(&mut errors, field, len, LIST_MAX);
    }
    if body.reopen_within_days > 3_660 {
        errors.0.push(FieldError::new(
            "reopen_within_days",
            "must be at most 3660",
        ));
    }
    let timeline: Vec<TimelineStep> = body
        .timeline
        .iter()
        .enumerate()
        .filter_map(|(i, step)| {
            let subject = input::one_line(
                &mut errors,
                &format!("timeline[{i}].subject"),
                &step.subject,
                SUBJECT_MAX,
            );
            let from = errors.check(
                &format!("timeline[{i}].from"),
                TimelineAnchor::parse(&step.from),
            );
            if step.offset_days > 3_660 {
                errors.0.push(FieldError::new(
                    &format!("timeline[{i}].offset_days"),
                    "must be at most 3660",
                ));
            }
            Some(TimelineStep {
                kind: step.kind,
                subject: subject?,
                offset_days: step.offset_days,
                from: from?,
            })
        })
        .collect();
    let db = ctx.db()?;
    match (cases_store::calendar(db, &body.calendar_id)?, &key) {
        (None, _) => errors.0.push(FieldError::new(
            "calendar_id",
            "is not a configured calendar",
        )),
        // The type's service levels must stay reachable on its calendar.
        (Some(stored), Some(key)) => {
            let calendar = stored
                .calendar()
                .map_err(|e| Problem::internal(format!("calendar {}: {e}", stored.id)))?;
            if let Some(why) = policies_out_of_reach(db, &calendar, std::slice::from_ref(key))? {
                errors.0.push(FieldError::new("calendar_id", why));
            }
        }
        (Some(_), None) => {}
    }
    if let Some(queue) = &body.citizen_queue_id
        && cases_store::queue(db, queue)?.is_none()
    {
        errors.0.push(FieldError::new(
            "citizen_queue_id",
            "is not a configured queue",
        ));
    }
    let workflow = cases_store::workflow(db, body.reopen_within_days)?;
    for (i, status) in body.statuses.iter().enumerate() {
        if workflow.status(status).is_none() {
            errors.0.push(FieldError::new(
                &format!("statuses[{i}]"),
                "is not a configured status",
            ));
        }
    }
    if !body.statuses.iter().any(|s| s.as_str() == "new") {
        errors.0.push(FieldError::new(
            "statuses",
            "must include `new`, where every case starts",
        ));
    }
    input::finish(errors)?;
    let (Some(key), Some(title)) = (key, title) else {
        return Err(Problem::internal("checked fields went missing"));
    };
    configure(ctx, &format!("cases/types/{}", key.as_str()))?;
    let kind = CaseType {
        key,
        title,
        activity_kinds: body.activity_kinds,
        timeline,
        participant_roles: body
            .participant_roles
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        statuses: body.statuses,
        closure_policy: body.closure_policy,
        calendar_id: body.calendar_id,
        reopen_within_days: body.reopen_within_days,
        citizen_openable: body.citizen_openable,
        citizen_queue_id: body.citizen_queue_id,
    };
    transaction(db, |db| {
        Ok(cases_store::put_case_type(db, &kind, now_ms())?)
    })?;
    Ok(json(200, &type_view(&kind)))
}

fn status_view(status: &Status) -> Value {
    json!({
        "key": status.key.as_str(),
        "label": status.label,
        "category": status.category,
        "pauses_sla": status.pauses_sla,
    })
}

fn transition_view(t: &Transition) -> Value {
    json!({
        "role": t.role.as_str(),
        "case_type": t.case_type.as_ref().map(CaseTypeKey::as_str),
        "from": t.from.as_str(),
        "to": t.to.as_str(),
    })
}

/// `GET /api/cases/workflow`: the statuses and the transition table.
pub fn workflow(ctx: &mut Ctx) -> Result<Response, Problem> {
    read(ctx, "cases/workflow")?;
    let workflow = cases_store::workflow(ctx.db()?, 0)?;
    Ok(json(
        200,
        &json!({
            "statuses": workflow.statuses().iter().map(status_view).collect::<Vec<_>>(),
            "transitions": workflow.transitions().iter().map(transition_view).collect::<Vec<_>>(),
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    label: String,
    category: StatusCategory,
    #[serde(default)]
    pauses_sla: bool,
}

/// `PUT /api/cases/statuses/{key}`: creates or relabels a status.
pub fn put_status(ctx: &mut Ctx, req: &Request, key: &str) -> Result<Response, Problem> {
    let body: StatusBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let key = errors.check("key", StatusKey::parse(key));
    let label = input::one_line(&mut errors, "label", &body.label, SUBJECT_MAX);
    input::finish(errors)?;
    let (Some(key), Some(label)) = (key, label) else {
        return Err(Problem::internal("checked fields went missing"));
    };
    configure(ctx, &format!("cases/statuses/{}", key.as_str()))?;
    let status = Status {
        key,
        label,
        category: body.category,
        pauses_sla: body.pauses_sla,
    };
    let db = ctx.db()?;
    transaction(db, |db| Ok(cases_store::put_status(db, &status)?))?;
    Ok(json(200, &status_view(&status)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionBody {
    role: String,
    case_type: Option<CaseTypeKey>,
    from: StatusKey,
    to: StatusKey,
}

fn transition(
    role: &str,
    case_type: Option<CaseTypeKey>,
    from: StatusKey,
    to: StatusKey,
) -> Result<Transition, Problem> {
    let role = Role::parse(role).filter(|r| *r != Role::Service).ok_or_else(|| {
        Problem::validation(vec![FieldError::new(
            "role",
            "must be one of intake-officer, case-worker, communications-officer, auditor, administrator, citizen",
        )])
    })?;
    Ok(Transition {
        role,
        case_type,
        from,
        to,
    })
}

/// Both statuses of a transition must be configured.
fn check_statuses(db: &impl crm_sql::Sql, t: &Transition) -> Result<(), Problem> {
    let workflow = cases_store::workflow(db, 0)?;
    let mut errors = FieldErrors::default();
    for (field, key) in [("from", &t.from), ("to", &t.to)] {
        if workflow.status(key).is_none() {
            errors
                .0
                .push(FieldError::new(field, "is not a configured status"));
        }
    }
    input::finish(errors)
}

/// `POST /api/cases/transitions`: lets a role move cases (of a type, or
/// of every type) from one status to another.
pub fn add_transition(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: TransitionBody = json_body(req)?;
    let t = transition(&body.role, body.case_type, body.from, body.to)?;
    let db = ctx.db()?;
    check_statuses(db, &t)?;
    configure(ctx, "cases/transitions")?;
    let added = transaction(db, |db| Ok(cases_store::add_transition(db, &t)?))?;
    Ok(json(if added { 201 } else { 200 }, &transition_view(&t)))
}

/// `DELETE /api/cases/transitions?role=&from=&to=[&case_type=]`.
pub fn remove_transition(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let mut errors = FieldErrors::default();
    let mut param = |name: &str| {
        query_param(req, name).or_else(|| {
            errors.0.push(FieldError::new(name, "is required"));
            None
        })
    };
    let role = param("role");
    let from = param("from");
    let to = param("to");
    let from = from.and_then(|f| errors.check("from", StatusKey::parse(&f)));
    let to = to.and_then(|t| errors.check("to", StatusKey::parse(&t)));
    let case_type = errors
        .check_optional(
            "case_type",
            query_param(req, "case_type").as_deref(),
            CaseTypeKey::parse,
        )
        .flatten();
    input::finish(errors)?;
    let (Some(role), Some(from), Some(to)) = (role, from, to) else {
        return Err(Problem::internal("checked fields went missing"));
    };
    let t = transition(&role, case_type, from, to)?;
    configure(ctx, "cases/transitions")?;
    let db = ctx.db()?;
    if !transaction(db, |db| Ok(cases_store::remove_transition(db, &t)?))? {
        return Err(Problem::not_found("no such transition"));
    }
    Ok(Response::builder().status(204).body(Vec::new()).build())
}

fn policy_view(p: &SlaPolicy) -> Value {
    json!({
        "case_type": p.case_type.as_str(),
        "priority": p.priority,
        "first_response_minutes": p.first_response_minutes,
        "resolution_minutes": p.resolution_minutes,
        "next_update_minutes": p.next_update_minutes,
        "warn_before_minutes": p.warn_before_minutes,
    })
}

/// `GET /api/cases/sla-policies`: every case type's service levels.
pub fn list_policies(ctx: &mut Ctx) -> Result<Response, Problem> {
    read(ctx, "cases/sla-policies")?;
    let db = ctx.db()?;
    let mut policies = Vec::new();
    for kind in cases_store::case_types(db)? {
        for priority in Priority::ALL {
            if let Some(p) = cases_store::sla_policy(db, &kind.key, *priority)? {
                policies.push(policy_view(&p));
            }
        }
    }
    Ok(json(200, &json!({"policies": policies})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    first_response_minutes: u32,
    resolution_minutes: u32,
    next_update_minutes: Option<u32>,
    warn_before_minutes: u32,
}

/// `PUT /api/cases/sla-policies/{case_type}/{priority}`. Open cases keep
/// their clocks' targets until their priority changes.
pub fn put_policy(
    ctx: &mut Ctx,
    req: &Request,
    case_type: &str,
    priority: &str,
) -> Result<Response, Problem> {
    let body: PolicyBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let case_type = errors.check("case_type", CaseTypeKey::parse(case_type));
    let priority = errors.check("priority", Priority::parse(priority));
    input::finish(errors)?;
    let (Some(case_type), Some(priority)) = (case_type, priority) else {
        return Err(Problem::internal("checked fields went missing"));
    };
    let db = ctx.db()?;
    let resource = format!(
        "cases/sla-policies/{}/{}",
        case_type.as_str(),
        priority.as_str()
    );
    let Some(kind) = cases_store::case_type(db, &case_type)? else {
        return Err(Problem::not_found(format!(
            "no case type {}",
            case_type.as_str()
        )));
    };
    // A target the type's calendar cannot reach would fail every case
    // later opened at this priority; it is refused now, by name.
    let calendar = crate::clocks::calendar(db, &kind.calendar_id)?;
    let mut errors = FieldErrors::default();
    let targets = [
        (
            "first_response_minutes",
            Some(body.first_response_minutes.into()),
        ),
        ("resolution_minutes", Some(body.resolution_minutes.into())),
        (
            "next_update_minutes",
            body.next_update_minutes.map(u64::from),
        ),
    ];
    for (field, why) in out_of_reach(&calendar, &targets) {
        errors.0.push(FieldError::new(
            field,
            format!("is out of reach on calendar {}: {why}", kind.calendar_id),
        ));
    }
    input::finish(errors)?;
    configure(ctx, &resource)?;
    let policy = SlaPolicy {
        case_type,
        priority,
        first_response_minutes: body.first_response_minutes.into(),
        resolution_minutes: body.resolution_minutes.into(),
        next_update_minutes: body.next_update_minutes.map(u64::from),
        warn_before_minutes: body.warn_before_minutes.into(),
    };
    transaction(db, |db| Ok(cases_store::put_sla_policy(db, &policy)?))?;
    Ok(json(200, &policy_view(&policy)))
}

/// The targets (field, business minutes) `calendar` cannot reach from now,
/// with why.
fn out_of_reach<'f>(
    calendar: &Calendar,
    targets: &[(&'f str, Option<u64>)],
) -> Vec<(&'f str, CalendarError)> {
    let now = crate::clocks::timestamp(now_ms());
    targets
        .iter()
        .filter_map(|(field, minutes)| {
            let minutes = (*minutes)?;
            calendar
                .add_business_minutes(now, minutes)
                .err()
                .map(|e| (*field, e))
        })
        .collect()
}

/// Why `calendar` cannot serve the case types `types`: the first service
/// level of theirs it cannot reach, as "<type> <priority> <target>: why".
fn policies_out_of_reach(
    db: &impl crm_sql::Sql,
    calendar: &Calendar,
    types: &[CaseTypeKey],
) -> Result<Option<String>, Problem> {
    for kind in types {
        for priority in Priority::ALL {
            let Some(policy) = cases_store::sla_policy(db, kind, *priority)? else {
                continue;
            };
            let targets = [
                ("first response", Some(policy.first_response_minutes)),
                ("resolution", Some(policy.resolution_minutes)),
                ("next update", policy.next_update_minutes),
            ];
            if let Some((target, why)) = out_of_reach(calendar, &targets).into_iter().next() {
                return Ok(Some(format!(
                    "cannot reach the {} {} policy's {target} target: {why}",
                    kind.as_str(),
                    priority.as_str()
                )));
            }
        }
    }
    Ok(None)
}

fn calendar_view(c: &StoredCalendar) -> Value {
    json!({
        "id": c.id,
        "zone": c.zone,
        "week": c.week.iter().map(|day| day.iter().map(|h| json!({
            "start": hours_and_minutes(h.start),
            "end": hours_and_minutes(h.end),
        })).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "holidays": c.extra_holidays.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "includes_national": c.includes_national,
    })
}

/// `GET /api/cases/calendars`.
pub fn list_calendars(ctx: &mut Ctx) -> Result<Response, Problem> {
    read(ctx, "cases/calendars")?;
    let calendars = cases_store::calendars(ctx.db()?)?;
    Ok(json(
        200,
        &json!({"calendars": calendars.iter().map(calendar_view).collect::<Vec<_>>()}),
    ))
}

/// `GET /api/cases/calendars/{id}`.
pub fn get_calendar(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let resource = format!("cases/calendars/{id}");
    read(ctx, &resource)?;
    let calendar = cases_store::calendar(ctx.db()?, id)?
        .ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    Ok(json(200, &calendar_view(&calendar)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursBody {
    start: String,
    end: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarBody {
    zone: String,
    /// Seven days, Monday first.
    week: Vec<Vec<HoursBody>>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default = "yes")]
    includes_national: bool,
}

fn yes() -> bool {
    true
}

const HOLIDAYS_MAX: usize = 1_000;

/// `PUT /api/cases/calendars/{id}`: an IANA zone, working intervals per
/// weekday (Monday first; several for split shifts) and the state and
/// agency holidays added to the national ones.
pub fn put_calendar(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: CalendarBody = json_body(req)?;
    let mut errors = FieldErrors::default();
    let key = errors.check("id", Slug::parse(id));
    if body.week.len() != 7 {
        errors
            .0
            .push(FieldError::new("week", "must list 7 days, Monday first"));
    }
    input::at_most(&mut errors, "holidays", body.holidays.len(), HOLIDAYS_MAX);
    let mut week: [Vec<WorkingHours>; 7] = Default::default();
    for (d, day) in body.week.iter().enumerate().take(7) {
        for (i, hours) in day.iter().enumerate().take(LIST_MAX) {
            let at = |f: &str| format!("week[{d}][{i}].{f}");
            let start = errors.check(&at("start"), parse_time(&hours.start));
            let end = errors.check(&at("end"), parse_time(&hours.end));
            if let (Some(start), Some(end)) = (start, end) {
                week[d].push(WorkingHours { start, end });
            }
        }
    }
    let holidays: Vec<Date> = body
        .holidays
        .iter()
        .enumerate()
        .filter_map(|(i, raw)| {
            errors.check(
                &format!("holidays[{i}]"),
                raw.parse::<Date>()
                    .map_err(|_| crm_domain::Invalid("must be a date such as 2026-06-08".into())),
            )
        })
        .collect();
    input::finish(errors)?;
    let Some(key) = key else {
        return Err(Problem::internal("checked fields went missing"));
    };
    let stored = StoredCalendar {
        id: key.as_str().to_string(),
        zone: body.zone,
        week,
        extra_holidays: holidays,
        includes_national: body.includes_national,
    };
    let calendar = stored
        .calendar()
        .and_then(|c| c.works_every_year().map(|()| c))
        .map_err(|e| {
            let field = match e {
                CalendarError::UnknownZone(_) => "zone",
                CalendarError::YearWithoutWork(_) => "holidays",
                _ => "week",
            };
            Problem::validation(vec![FieldError::new(field, e.to_string())])
        })?;
    let db = ctx.db()?;
    let users: Vec<CaseTypeKey> = cases_store::case_types(db)?
        .into_iter()
        .filter(|t| t.calendar_id == stored.id)
        .map(|t| t.key)
        .collect();
    if let Some(why) = policies_out_of_reach(db, &calendar, &users)? {
        return Err(Problem::validation(vec![FieldError::new("week", why)]));
    }
    configure(ctx, &format!("cases/calendars/{}", stored.id))?;
    transaction(db, |db| Ok(cases_store::put_calendar(db, &stored)?))?;
    Ok(json(200, &calendar_view(&stored)))
}

/// `08:30`: what a calendar's intervals are written in.
fn hours_and_minutes(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

fn parse_time(raw: &str) -> Result<Time, crm_domain::Invalid> {
    raw.parse::<Time>()
        .map_err(|_| crm_domain::Invalid("must be a local time such as 08:30".into()))
}
