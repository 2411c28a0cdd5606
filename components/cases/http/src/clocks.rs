//! A case's service-level clocks, kept as `cases-sla` counts them: started
//! when the case opens, paused while it waits on someone else, met by the
//! first response and the resolution, cancelled when the case ends another
//! way, and moved on by the sweep as time passes.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use cases_rules::{Priority, Status, StatusCategory};
use cases_sla::{Calendar, Clock, ClockError, ClockState, Target as ClockGoal, Timestamp};
use cases_store::{
    CaseRecord, CaseType, ClockRecord, ClockTarget, OutboxEvent, SlaPolicy, SweptClock,
};
use crm_component_support::{Action, Ctx, Target, json, now_ms, transaction};
use crm_domain::rfc3339_utc;
use crm_http::Problem;
use crm_sql::Sql;
use serde_json::json;
use spin_sdk::http::{Request, Response};

pub fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn clock_problem(e: ClockError) -> Problem {
    Problem::internal(format!("an SLA clock: {e}"))
}

/// The business calendar and service levels of a case, as configured now.
pub struct Sla {
    pub calendar: Calendar,
    pub policy: Option<SlaPolicy>,
}

impl Sla {
    /// The service levels of a case of `kind` at `priority`, on its
    /// calendar (for a caller that has read the case type already).
    pub fn of(db: &impl Sql, kind: &CaseType, priority: Priority) -> Result<Self, Problem> {
        Ok(Self {
            calendar: calendar(db, &kind.calendar_id)?,
            policy: cases_store::sla_policy(db, &kind.key, priority)?,
        })
    }

    pub fn of_case(db: &impl Sql, case: &CaseRecord) -> Result<Self, Problem> {
        let kind = cases_store::case_type(db, &case.case_type)?.ok_or_else(|| {
            Problem::internal(format!("case type {} is missing", case.case_type.as_str()))
        })?;
        Self::of(db, &kind, case.priority)
    }

    /// Saves `clock` as it stands at `now`.
    fn save(
        &self,
        db: &impl Sql,
        case_id: &str,
        target: ClockTarget,
        clock: Clock,
        now: i64,
    ) -> Result<(), Problem> {
        let due_at = clock.due(&self.calendar).map_err(clock_problem)?;
        let warn_at = clock.warn_at(&self.calendar).map_err(clock_problem)?;
        let state = clock
            .state_at(timestamp(now), &self.calendar)
            .map_err(clock_problem)?;
        cases_store::save_clock(
            db,
            &ClockRecord {
                case_id: case_id.to_string(),
                target,
                clock,
                due_at: due_at.as_millisecond(),
                warn_at: warn_at.as_millisecond(),
                state,
            },
        )?;
        Ok(())
    }

    /// Starts a new case's first-response and resolution clocks.
    pub fn start(&self, db: &impl Sql, case_id: &str, at: i64) -> Result<(), Problem> {
        if let Some(policy) = &self.policy {
            let start = |target| Clock::start(timestamp(at), target);
            self.save(
                db,
                case_id,
                ClockTarget::FirstResponse,
                start(target(policy, ClockTarget::FirstResponse)?),
                at,
            )?;
            self.save(
                db,
                case_id,
                ClockTarget::Resolution,
                start(target(policy, ClockTarget::Resolution)?),
                at,
            )?;
        }
        cases_store::set_case_due(db, case_id)?;
        Ok(())
    }

    /// Applies `change` to each of the case's clocks still running, saving
    /// those it changed.
    fn each_running(
        &self,
        db: &impl Sql,
        case_id: &str,
        now: i64,
        mut change: impl FnMut(ClockTarget, &mut Clock) -> Result<bool, ClockError>,
    ) -> Result<(), Problem> {
        for record in cases_store::clocks(db, case_id)? {
            if record.clock.parts().stopped.is_some() {
                continue;
            }
            let mut clock = record.clock;
            if change(record.target, &mut clock).map_err(clock_problem)? {
                self.save(db, case_id, record.target, clock, now)?;
            }
        }
        cases_store::set_case_due(db, case_id)?;
        Ok(())
    }

    /// After the case moved from `from` to `to` at `now`: waiting on
    /// someone else pauses every running clock and the end of the wait
    /// resumes them; a resolution meets the resolution clock, any other
    /// ending cancels it, and an ending stops the rest; a reopening starts
    /// a new resolution clock.
    pub fn status_changed(
        &self,
        db: &impl Sql,
        case_id: &str,
        from: &Status,
        to: &Status,
        now: i64,
    ) -> Result<(), Problem> {
        let at = timestamp(now);
        let calendar = &self.calendar;
        let reopened =
            from.category == StatusCategory::Closed && to.category == StatusCategory::Open;
        if reopened && let Some(policy) = &self.policy {
            let clock = Clock::start(at, target(policy, ClockTarget::Resolution)?);
            self.save(db, case_id, ClockTarget::Resolution, clock, now)?;
        }
        let closing =
            from.category == StatusCategory::Open && to.category == StatusCategory::Closed;
        let resolves = matches!(to.key.as_str(), "resolved" | "closed");
        self.each_running(db, case_id, now, |target, clock| {
            let paused = clock.parts().paused_since.is_some();
            if closing {
                if target == ClockTarget::Resolution && resolves {
                    clock.complete(at, calendar)?;
                } else {
                    clock.cancel(at, calendar)?;
                }
                Ok(true)
            } else if to.pauses_sla && !paused {
                clock.pause(at)?;
                Ok(true)
            } else if !to.pauses_sla && paused {
                clock.resume(at, calendar)?;
                Ok(true)
            } else {
                Ok(false)
            }
        })
    }

    /// The case's priority (or its type's policy) changed: every running
    /// clock takes its new target, keeping the time it was paused.
    pub fn retarget(&self, db: &impl Sql, case_id: &str, now: i64) -> Result<(), Problem> {
        let Some(policy) = &self.policy else {
            return Ok(());
        };
        let at = timestamp(now);
        self.each_running(db, case_id, now, |target, clock| {
            match policy.target(target) {
                Some(new) => clock.retarget(at, new)?,
                None => return Ok(false),
            }
            Ok(true)
        })
    }

    /// The case reached its citizen at `now`: that meets the first-response
    /// clock if it is still running, and (re)starts the next-update clock
    /// when the policy has one and the case is being worked (`working`: open
    /// and not waiting on anyone).
    pub fn responded(
        &self,
        db: &impl Sql,
        case_id: &str,
        now: i64,
        working: bool,
    ) -> Result<(), Problem> {
        let at = timestamp(now);
        let calendar = &self.calendar;
        self.each_running(db, case_id, now, |target, clock| match target {
            ClockTarget::FirstResponse | ClockTarget::NextUpdate => {
                clock.complete(at, calendar)?;
                Ok(true)
            }
            ClockTarget::Resolution => Ok(false),
        })?;
        if let Some(next) = self
            .policy
            .as_ref()
            .and_then(|p| p.target(ClockTarget::NextUpdate))
            .filter(|_| working)
        {
            self.save(
                db,
                case_id,
                ClockTarget::NextUpdate,
                Clock::start(at, next),
                now,
            )?;
            cases_store::set_case_due(db, case_id)?;
        }
        Ok(())
    }
}

/// What `policy` sets `clock` to count to (first response and resolution
/// always have a target).
fn target(policy: &SlaPolicy, clock: ClockTarget) -> Result<ClockGoal, Problem> {
    policy
        .target(clock)
        .ok_or_else(|| Problem::internal(format!("the policy sets no {} target", clock.as_str())))
}

/// A calendar as configured.
pub fn calendar(db: &impl Sql, id: &str) -> Result<Calendar, Problem> {
    let stored = cases_store::calendar(db, id)?
        .ok_or_else(|| Problem::internal(format!("calendar {id} is missing")))?;
    stored
        .calendar()
        .map_err(|e| Problem::internal(format!("calendar {id}: {e}")))
}

/// The clocks of a case as they stand now (a stored state may be behind
/// until the next sweep; the answer never is).
pub fn current(db: &impl Sql, case: &CaseRecord) -> Result<Vec<ClockRecord>, Problem> {
    let records = cases_store::clocks(db, &case.id)?;
    if records.is_empty() {
        return Ok(records);
    }
    let sla = Sla::of_case(db, case)?;
    let now = timestamp(now_ms());
    records
        .into_iter()
        .map(|mut record| {
            record.state = record
                .clock
                .state_at(now, &sla.calendar)
                .map_err(clock_problem)?;
            Ok(record)
        })
        .collect()
}

const SWEEP_LIMIT: u32 = 50_000;

/// Touchpoints a sweep tries to log again.
const UNLOGGED_BATCH: u32 = 200;

/// `POST /api/cases/sla/sweep`: moves every running clock whose warning
/// time or due time has passed to `warning` or `breached`, each with an
/// outbox event (`case.sla-warning`, `case.sla-breached`), in one
/// transaction, then logs the touchpoints the interaction log could not
/// take when they were done. Scheduled like the notification dispatch;
/// running it twice changes nothing more.
pub fn sweep(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(Action::CaseSlaSweep, Target::General, "cases/sla")?;
    let limit = crate::input::limit(req, SWEEP_LIMIT, SWEEP_LIMIT)?;
    let db = ctx.db()?;
    let request_id = ctx.request_id.clone();
    let (warned, breached, more) = transaction(db, |db| {
        let now = now_ms();
        let due = cases_store::clocks_to_sweep(db, now, limit + 1)?;
        let more = due.len() > limit as usize;
        let due = &due[..due.len().min(limit as usize)];
        // Each calendar read once per sweep.
        let mut calendars: HashMap<&str, Calendar> = HashMap::new();
        let mut moves = Vec::new();
        let mut events = Vec::new();
        for candidate in due {
            let record = &candidate.record;
            let calendar = match calendars.entry(&candidate.calendar_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => new.insert(calendar(db, &candidate.calendar_id)?),
            };
            let state = record
                .clock
                .state_at(timestamp(now), calendar)
                .map_err(clock_problem)?;
            if state == record.state {
                continue;
            }
            let topic = match state {
                ClockState::Warning => "case.sla-warning",
                ClockState::Breached => "case.sla-breached",
                _ => continue,
            };
            moves.push(SweptClock {
                case_id: &record.case_id,
                target: record.target,
                state,
            });
            events.push(OutboxEvent {
                topic: topic.to_string(),
                aggregate_id: &record.case_id,
                payload: json!({
                    "case_id": record.case_id,
                    "reference": candidate.reference.to_string(),
                    "target": record.target,
                    "state": state.as_str(),
                    "due_at": rfc3339_utc(record.due_at),
                    "queue_id": candidate.queue,
                }),
                occurred_at: now,
                request_id: Some(&request_id),
            });
        }
        cases_store::set_clock_states(db, &moves)?;
        cases_store::insert_outbox_events(db, &events)?;
        let count = |wanted| moves.iter().filter(|m| m.state == wanted).count();
        Ok((
            count(ClockState::Warning),
            count(ClockState::Breached),
            more,
        ))
    })?;
    // Touchpoints the interaction log could not take when they were done.
    let mut unlogged = cases_store::unlogged_touchpoints(db, UNLOGGED_BATCH)?;
    for activity in &mut unlogged {
        crate::activities::log_touchpoint(ctx, db, activity)?;
    }
    Ok(json(
        200,
        &json!({"warned": warned, "breached": breached, "more": more,
                "touchpoints_retried": unlogged.len()}),
    ))
}

/// `GET /api/cases/sla/summary`: running and finished clocks counted by
/// queue and state, as the sweep last left them.
pub fn summary(ctx: &mut Ctx) -> Result<Response, Problem> {
    ctx.require(Action::CaseSlaRead, Target::General, "cases/sla")?;
    let rows = cases_store::sla_summary(ctx.db()?)?;
    let counts: Vec<_> = rows
        .iter()
        .map(|(queue, state, count)| {
            json!({"queue_id": queue, "state": state.as_str(), "count": count})
        })
        .collect();
    Ok(json(200, &json!({"counts": counts})))
}
