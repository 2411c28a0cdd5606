//! What administrators configure: statuses and the transition table, case
//! types, SLA policies per type and priority, business calendars.

use cases_rules::{
    ActivityKind, CaseTypeKey, ClosurePolicy, Priority, Status, StatusCategory, StatusKey,
    Transition, Workflow,
};
use cases_sla::holidays::australia_national;
use cases_sla::{Calendar, CalendarError, Date, Target, Time, WorkingHours};
use crm_auth::policy::Role;
use crm_sql::{Sql, Value};
use serde_json::json;

use crate::clocks::ClockTarget;
use crate::row::{Fields, flag, json_list, string_list};
use crate::{StoreError, run};

/// The statuses (in their configured order) and the transition table (in
/// the order rules were added), with `reopen_within_days`.
pub fn workflow(db: &impl Sql, reopen_within_days: u32) -> Result<Workflow, StoreError> {
    let statuses = run(
        db,
        "SELECT key, label, category, pauses_sla FROM case_statuses ORDER BY position, key",
        &[],
    )?
    .iter()
    .map(|row| {
        let f = Fields::new("case_statuses", row, 0);
        Ok(Status {
            key: f.parse(0, "key", StatusKey::parse)?,
            label: f.text(1, "label")?,
            category: f.parse(2, "category", StatusCategory::parse)?,
            pauses_sla: f.flag(3, "pauses_sla")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let transitions = run(
        db,
        "SELECT id, role, case_type, from_status, to_status FROM case_transitions ORDER BY id",
        &[],
    )?
    .iter()
    .map(|row| {
        let f = Fields::new("case_transitions", row, 0);
        Ok(Transition {
            role: f.parse(1, "role", |raw| Role::parse(raw).ok_or("unknown role"))?,
            case_type: f.opt_parse(2, "case_type", CaseTypeKey::parse)?,
            from: f.parse(3, "from_status", StatusKey::parse)?,
            to: f.parse(4, "to_status", StatusKey::parse)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Workflow::new(statuses, transitions, reopen_within_days).map_err(|e| StoreError::Corrupt {
        table: "case_transitions",
        key: "*".into(),
        column: "from_status, to_status",
        why: e.to_string(),
    })
}

/// Adds `status` at the end of the list, or changes its label, category and
/// pausing in place. A new category reaches the cases in the status too
/// (their `status_category` is kept on the row for the queue pages).
pub fn put_status(db: &impl Sql, status: &Status) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO case_statuses (key, label, category, pauses_sla, position) \
         VALUES (?, ?, ?, ?, (SELECT IFNULL(MAX(position), 0) + 1 FROM case_statuses)) \
         ON CONFLICT (key) DO UPDATE SET label = excluded.label, category = excluded.category, \
         pauses_sla = excluded.pauses_sla",
        &[
            status.key.as_str().into(),
            status.label.as_str().into(),
            status.category.as_str().into(),
            flag(status.pauses_sla),
        ],
    )?;
    run(
        db,
        "UPDATE cases SET status_category = ? WHERE status = ? AND status_category <> ?",
        &[
            status.category.as_str().into(),
            status.key.as_str().into(),
            status.category.as_str().into(),
        ],
    )?;
    Ok(())
}

/// Adds a rule at the end of the table; false when it is there already.
pub fn add_transition(db: &impl Sql, transition: &Transition) -> Result<bool, StoreError> {
    let added = run(
        db,
        "INSERT INTO case_transitions (role, case_type, from_status, to_status) VALUES (?, ?, ?, ?) \
         ON CONFLICT DO NOTHING RETURNING id",
        &transition_params(transition),
    )?;
    Ok(!added.is_empty())
}

/// Removes a rule; false when there was none.
pub fn remove_transition(db: &impl Sql, transition: &Transition) -> Result<bool, StoreError> {
    let removed = run(
        db,
        "DELETE FROM case_transitions WHERE role = ? AND IFNULL(case_type, '') = IFNULL(?, '') \
         AND from_status = ? AND to_status = ? RETURNING id",
        &transition_params(transition),
    )?;
    Ok(!removed.is_empty())
}

fn transition_params(t: &Transition) -> [Value; 4] {
    [
        t.role.as_str().into(),
        t.case_type.as_ref().map(CaseTypeKey::as_str).into(),
        t.from.as_str().into(),
        t.to.as_str().into(),
    ]
}

/// Where a timeline step's offset counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineAnchor {
    /// The case's opening.
    Opened,
    /// The case's (first) activity of this kind.
    Activity(ActivityKind),
}

impl TimelineAnchor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Activity(kind) => kind.as_str(),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, crm_domain::Invalid> {
        match raw {
            "opened" => Ok(Self::Opened),
            kind => ActivityKind::parse(kind).map(Self::Activity).map_err(|e| {
                crm_domain::Invalid(format!("`opened`, or an activity kind: {}", e.0))
            }),
        }
    }
}

/// One activity a case type schedules (CiviCase's timeline): `kind` about
/// `subject`, `offset_days` days after `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineStep {
    pub kind: ActivityKind,
    pub subject: String,
    pub offset_days: u32,
    pub from: TimelineAnchor,
}

/// A kind of case: what may happen on it, who takes part, its statuses,
/// how closing a parent treats its children, its calendar and how long a
/// resolved case may be reopened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseType {
    pub key: CaseTypeKey,
    pub title: String,
    pub activity_kinds: Vec<ActivityKind>,
    pub timeline: Vec<TimelineStep>,
    pub participant_roles: Vec<String>,
    pub statuses: Vec<StatusKey>,
    pub closure_policy: ClosurePolicy,
    pub calendar_id: String,
    pub reopen_within_days: u32,
    /// Whether citizens may open cases of this type about themselves.
    pub citizen_openable: bool,
    /// The queue a case of this type a citizen opens joins (citizens name
    /// none); `None`: no queue.
    pub citizen_queue_id: Option<String>,
}

const CASE_TYPE_COLUMNS: &str = "key, title, activity_kinds, timeline, participant_roles, \
    statuses, closure_policy, calendar_id, reopen_within_days, citizen_openable, citizen_queue_id";

fn decode_case_type(row: &[Value]) -> Result<CaseType, StoreError> {
    let f = Fields::new("case_types", row, 0);
    let reopen = f.int(8, "reopen_within_days")?;
    Ok(CaseType {
        key: f.parse(0, "key", CaseTypeKey::parse)?,
        title: f.text(1, "title")?,
        activity_kinds: f.json(2, "activity_kinds", |v| string_list(v, ActivityKind::parse))?,
        timeline: f.json(3, "timeline", decode_timeline)?,
        participant_roles: f.json(4, "participant_roles", |v| {
            string_list(v, |s| Ok::<_, String>(s.to_string()))
        })?,
        statuses: f.json(5, "statuses", |v| string_list(v, StatusKey::parse))?,
        closure_policy: f.parse(6, "closure_policy", ClosurePolicy::parse)?,
        calendar_id: f.text(7, "calendar_id")?,
        reopen_within_days: u32::try_from(reopen)
            .map_err(|_| f.corrupt("reopen_within_days", format!("{reopen} is out of range")))?,
        citizen_openable: f.int(9, "citizen_openable")? != 0,
        citizen_queue_id: f.opt_text(10, "citizen_queue_id")?,
    })
}

fn decode_timeline(value: serde_json::Value) -> Result<Vec<TimelineStep>, String> {
    let serde_json::Value::Array(steps) = value else {
        return Err("is not a JSON list".into());
    };
    steps
        .iter()
        .map(|step| {
            let field = |name: &str| {
                step.get(name)
                    .and_then(serde_json::Value::as_str)
                    .ok_or(format!("a step has no `{name}`"))
            };
            let offset = step
                .get("offset_days")
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("a step's `offset_days` is not a day count")?;
            Ok(TimelineStep {
                kind: ActivityKind::parse(field("kind")?).map_err(|e| e.0)?,
                subject: field("subject")?.to_string(),
                offset_days: offset,
                from: TimelineAnchor::parse(field("from")?).map_err(|e| e.0)?,
            })
        })
        .collect()
}

fn timeline_json(steps: &[TimelineStep]) -> String {
    serde_json::Value::from(
        steps
            .iter()
            .map(|s| {
                json!({
                    "kind": s.kind.as_str(),
                    "subject": s.subject,
                    "offset_days": s.offset_days,
                    "from": s.from.as_str(),
                })
            })
            .collect::<Vec<_>>(),
    )
    .to_string()
}

pub fn case_type(db: &impl Sql, key: &CaseTypeKey) -> Result<Option<CaseType>, StoreError> {
    run(
        db,
        &format!("SELECT {CASE_TYPE_COLUMNS} FROM case_types WHERE key = ?"),
        &[key.as_str().into()],
    )?
    .first()
    .map(|row| decode_case_type(row))
    .transpose()
}

/// Every case type, by key.
pub fn case_types(db: &impl Sql) -> Result<Vec<CaseType>, StoreError> {
    run(
        db,
        &format!("SELECT {CASE_TYPE_COLUMNS} FROM case_types ORDER BY key"),
        &[],
    )?
    .iter()
    .map(|row| decode_case_type(row))
    .collect()
}

/// Creates the type at `now`, or replaces what it says (keeping when it
/// was created).
pub fn put_case_type(db: &impl Sql, case_type: &CaseType, now: i64) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO case_types (key, title, activity_kinds, timeline, participant_roles, statuses, \
         closure_policy, calendar_id, reopen_within_days, citizen_openable, citizen_queue_id, \
         created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET title = excluded.title, \
         activity_kinds = excluded.activity_kinds, timeline = excluded.timeline, \
         participant_roles = excluded.participant_roles, statuses = excluded.statuses, \
         closure_policy = excluded.closure_policy, calendar_id = excluded.calendar_id, \
         reopen_within_days = excluded.reopen_within_days, \
         citizen_openable = excluded.citizen_openable, \
         citizen_queue_id = excluded.citizen_queue_id",
        &[
            case_type.key.as_str().into(),
            case_type.title.as_str().into(),
            json_list(case_type.activity_kinds.iter().map(|k| k.as_str())).into(),
            timeline_json(&case_type.timeline).into(),
            json_list(case_type.participant_roles.iter().map(String::as_str)).into(),
            json_list(case_type.statuses.iter().map(StatusKey::as_str)).into(),
            case_type.closure_policy.as_str().into(),
            case_type.calendar_id.as_str().into(),
            i64::from(case_type.reopen_within_days).into(),
            i64::from(case_type.citizen_openable).into(),
            case_type.citizen_queue_id.as_deref().into(),
            now.into(),
        ],
    )?;
    Ok(())
}

/// A case type's service levels at one priority, in business minutes:
/// every clock of the policy warns `warn_before_minutes` before it is due
/// (the one warning threshold per policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub case_type: CaseTypeKey,
    pub priority: Priority,
    pub first_response_minutes: u64,
    pub resolution_minutes: u64,
    pub next_update_minutes: Option<u64>,
    pub warn_before_minutes: u64,
}

impl SlaPolicy {
    /// What a clock on `target` counts to (none: the policy sets no next
    /// update).
    pub fn target(&self, target: ClockTarget) -> Option<Target> {
        let minutes = match target {
            ClockTarget::FirstResponse => Some(self.first_response_minutes),
            ClockTarget::Resolution => Some(self.resolution_minutes),
            ClockTarget::NextUpdate => self.next_update_minutes,
        }?;
        Some(Target {
            minutes,
            warn_before_minutes: self.warn_before_minutes,
        })
    }
}

pub fn sla_policy(
    db: &impl Sql,
    case_type: &CaseTypeKey,
    priority: Priority,
) -> Result<Option<SlaPolicy>, StoreError> {
    run(
        db,
        "SELECT case_type, priority, first_response_minutes, resolution_minutes, \
         next_update_minutes, warn_before_minutes FROM case_sla_policies \
         WHERE case_type = ? AND priority = ?",
        &[case_type.as_str().into(), priority.as_str().into()],
    )?
    .first()
    .map(|row| {
        let f = Fields::new("case_sla_policies", row, 0);
        let next_update = f
            .opt_int(4, "next_update_minutes")?
            .map(|n| u64::try_from(n).map_err(|_| f.corrupt("next_update_minutes", "is negative")))
            .transpose()?;
        Ok(SlaPolicy {
            case_type: f.parse(0, "case_type", CaseTypeKey::parse)?,
            priority: f.parse(1, "priority", Priority::parse)?,
            first_response_minutes: f.count(2, "first_response_minutes")?,
            resolution_minutes: f.count(3, "resolution_minutes")?,
            next_update_minutes: next_update,
            warn_before_minutes: f.count(5, "warn_before_minutes")?,
        })
    })
    .transpose()
}

pub fn put_sla_policy(db: &impl Sql, policy: &SlaPolicy) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO case_sla_policies (case_type, priority, first_response_minutes, \
         resolution_minutes, next_update_minutes, warn_before_minutes) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (case_type, priority) DO UPDATE SET \
         first_response_minutes = excluded.first_response_minutes, \
         resolution_minutes = excluded.resolution_minutes, \
         next_update_minutes = excluded.next_update_minutes, \
         warn_before_minutes = excluded.warn_before_minutes",
        &[
            policy.case_type.as_str().into(),
            policy.priority.as_str().into(),
            policy.first_response_minutes.into(),
            policy.resolution_minutes.into(),
            policy.next_update_minutes.into(),
            policy.warn_before_minutes.into(),
        ],
    )?;
    Ok(())
}

/// A business calendar as stored: the national holidays are cases-sla's
/// data, so only whether they apply is kept, with the state and agency
/// days added to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCalendar {
    pub id: String,
    pub zone: String,
    /// Monday first.
    pub week: [Vec<WorkingHours>; 7],
    pub extra_holidays: Vec<Date>,
    pub includes_national: bool,
}

impl StoredCalendar {
    /// The calendar clocks count on: closed on the national holidays (when
    /// included) and the extra days.
    pub fn calendar(&self) -> Result<Calendar, CalendarError> {
        let national = australia_national().filter(|_| self.includes_national);
        Ok(Calendar::new(&self.zone, self.week.clone(), national)?
            .with_holidays(self.extra_holidays.iter().copied()))
    }
}

fn decode_calendar(row: &[Value]) -> Result<StoredCalendar, StoreError> {
    let f = Fields::new("case_calendars", row, 0);
    Ok(StoredCalendar {
        id: f.text(0, "id")?,
        zone: f.text(1, "zone")?,
        week: f.json(2, "week", decode_week)?,
        extra_holidays: f.json(3, "holidays", |v| {
            string_list(v, |s| {
                s.parse::<Date>()
                    .map_err(|_| "is not a date such as 2026-06-08")
            })
        })?,
        includes_national: f.flag(4, "includes_national")?,
    })
}

fn decode_week(value: serde_json::Value) -> Result<[Vec<WorkingHours>; 7], String> {
    let days: Vec<Vec<serde_json::Value>> =
        serde_json::from_value(value).map_err(|e| e.to_string())?;
    let days = days
        .iter()
        .map(|day| {
            day.iter()
                .map(|interval| {
                    let time = |name: &str| {
                        let text = interval
                            .get(name)
                            .and_then(serde_json::Value::as_str)
                            .ok_or(format!("an interval has no `{name}`"))?;
                        text.parse::<Time>()
                            .map_err(|_| format!("`{text}` is not a time such as 08:30"))
                    };
                    Ok(WorkingHours {
                        start: time("start")?,
                        end: time("end")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .collect::<Result<Vec<_>, String>>()?;
    <[Vec<WorkingHours>; 7]>::try_from(days)
        .map_err(|days| format!("has {} days, not seven", days.len()))
}

fn week_json(week: &[Vec<WorkingHours>; 7]) -> String {
    serde_json::Value::from(
        week.iter()
            .map(|day| {
                day.iter()
                    .map(|h| json!({"start": h.start.to_string(), "end": h.end.to_string()}))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>(),
    )
    .to_string()
}

const CALENDAR_COLUMNS: &str = "id, zone, week, holidays, includes_national";

pub fn calendar(db: &impl Sql, id: &str) -> Result<Option<StoredCalendar>, StoreError> {
    run(
        db,
        &format!("SELECT {CALENDAR_COLUMNS} FROM case_calendars WHERE id = ?"),
        &[id.into()],
    )?
    .first()
    .map(|row| decode_calendar(row))
    .transpose()
}

/// Every calendar, by id.
pub fn calendars(db: &impl Sql) -> Result<Vec<StoredCalendar>, StoreError> {
    run(
        db,
        &format!("SELECT {CALENDAR_COLUMNS} FROM case_calendars ORDER BY id"),
        &[],
    )?
    .iter()
    .map(|row| decode_calendar(row))
    .collect()
}

/// Creates or replaces a calendar.
pub fn put_calendar(db: &impl Sql, calendar: &StoredCalendar) -> Result<(), StoreError> {
    let holidays: Vec<String> = calendar
        .extra_holidays
        .iter()
        .map(Date::to_string)
        .collect();
    run(
        db,
        "INSERT INTO case_calendars (id, zone, week, holidays, includes_national) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET zone = excluded.zone, \
         week = excluded.week, holidays = excluded.holidays, \
         includes_national = excluded.includes_national",
        &[
            calendar.id.as_str().into(),
            calendar.zone.as_str().into(),
            week_json(&calendar.week).into(),
            json_list(holidays.iter().map(String::as_str)).into(),
            flag(calendar.includes_national),
        ],
    )?;
    Ok(())
}
