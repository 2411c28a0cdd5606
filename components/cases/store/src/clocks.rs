//! Service-level clocks as rows: one per case and target, with the due and
//! warning times and the state as of the clock's last change, so the sweep
//! finds what moved from indexes, without a calendar.

use cases_rules::CaseReference;
use cases_sla::{Calendar, Clock, ClockError, ClockParts, ClockState, StopKind, Target, Timestamp};
use crm_sql::{Sql, Value};

use crate::row::Fields;
use crate::{StoreError, run};

crm_domain::vocabulary! {
    /// What a clock measures.
    ClockTarget {
        FirstResponse => "first-response",
        Resolution => "resolution",
        NextUpdate => "next-update",
    }
}

/// A case's clock on one target, with what it said at its last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockRecord {
    pub case_id: String,
    pub target: ClockTarget,
    pub clock: Clock,
    pub due_at: i64,
    pub warn_at: i64,
    pub state: ClockState,
}

impl ClockRecord {
    /// `clock` with its due and warning times on `calendar`, and its state
    /// at `now`.
    pub fn new(
        case_id: &str,
        target: ClockTarget,
        clock: Clock,
        calendar: &Calendar,
        now: Timestamp,
    ) -> Result<Self, ClockError> {
        Ok(Self {
            case_id: case_id.to_string(),
            target,
            due_at: clock.due(calendar)?.as_millisecond(),
            warn_at: clock.warn_at(calendar)?.as_millisecond(),
            state: clock.state_at(now, calendar)?,
            clock,
        })
    }
}

const CLOCK_COLUMNS: &str = "case_id, target, started_at, target_minutes, warn_before_minutes, \
    paused_minutes, paused_since, stopped, stopped_at, last_change, due_at, warn_at, state";

fn decode_clock(row: &[Value]) -> Result<ClockRecord, StoreError> {
    let f = Fields::new("case_clocks", row, 0);
    let stopped = match (
        f.opt_parse(7, "stopped", |s| {
            StopKind::parse(s).ok_or("not met or cancelled")
        })?,
        f.opt_instant(8, "stopped_at")?,
    ) {
        (Some(kind), Some(at)) => Some((kind, at)),
        (None, None) => None,
        _ => return Err(f.corrupt("stopped_at", "is set without stopped, or missing")),
    };
    let clock = Clock::from_parts(ClockParts {
        started_at: f.instant(2, "started_at")?,
        target: Target {
            minutes: f.count(3, "target_minutes")?,
            warn_before_minutes: f.count(4, "warn_before_minutes")?,
        },
        paused_minutes: f.count(5, "paused_minutes")?,
        paused_since: f.opt_instant(6, "paused_since")?,
        stopped,
        last_change: f.instant(9, "last_change")?,
    })
    .map_err(|e| f.corrupt("started_at", e))?;
    Ok(ClockRecord {
        case_id: f.text(0, "case_id")?,
        target: f.parse(1, "target", ClockTarget::parse)?,
        clock,
        due_at: f.int(10, "due_at")?,
        warn_at: f.int(11, "warn_at")?,
        state: f.parse(12, "state", |s| {
            ClockState::parse(s).ok_or("not a clock state")
        })?,
    })
}

/// A case's clocks, by target.
pub fn clocks(db: &impl Sql, case_id: &str) -> Result<Vec<ClockRecord>, StoreError> {
    run(
        db,
        &format!("SELECT {CLOCK_COLUMNS} FROM case_clocks WHERE case_id = ? ORDER BY target"),
        &[case_id.into()],
    )?
    .iter()
    .map(|row| decode_clock(row))
    .collect()
}

fn ms(at: Timestamp) -> Value {
    at.as_millisecond().into()
}

/// Writes a case's clock on its target, new or changed.
pub fn save_clock(db: &impl Sql, record: &ClockRecord) -> Result<(), StoreError> {
    let parts = record.clock.parts();
    run(
        db,
        &format!(
            "INSERT INTO case_clocks ({CLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (case_id, target) DO UPDATE SET started_at = excluded.started_at, \
             target_minutes = excluded.target_minutes, \
             warn_before_minutes = excluded.warn_before_minutes, \
             paused_minutes = excluded.paused_minutes, paused_since = excluded.paused_since, \
             stopped = excluded.stopped, stopped_at = excluded.stopped_at, \
             last_change = excluded.last_change, due_at = excluded.due_at, \
             warn_at = excluded.warn_at, state = excluded.state"
        ),
        &[
            record.case_id.as_str().into(),
            record.target.as_str().into(),
            ms(parts.started_at),
            parts.target.minutes.into(),
            parts.target.warn_before_minutes.into(),
            parts.paused_minutes.into(),
            parts.paused_since.map(|at| at.as_millisecond()).into(),
            parts.stopped.map(|(kind, _)| kind.as_str()).into(),
            parts.stopped.map(|(_, at)| at.as_millisecond()).into(),
            ms(parts.last_change),
            record.due_at.into(),
            record.warn_at.into(),
            record.state.as_str().into(),
        ],
    )?;
    Ok(())
}

/// Sets the case's `due_at` to the earliest due time of its running clocks
/// (neither stopped nor paused), or NULL when none runs.
pub fn set_case_due(db: &impl Sql, case_id: &str) -> Result<(), StoreError> {
    run(
        db,
        "UPDATE cases SET due_at = (SELECT MIN(due_at) FROM case_clocks WHERE case_id = ?1 \
         AND stopped IS NULL AND paused_since IS NULL) WHERE id = ?1",
        &[case_id.into()],
    )?;
    Ok(())
}

/// A running clock the sweep must look at, with what its event names and
/// the calendar its case type counts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepCandidate {
    pub record: ClockRecord,
    pub reference: CaseReference,
    pub queue: Option<String>,
    pub calendar_id: String,
}

/// The running clocks the sweep must move at `now`, soonest due first,
/// with their cases' references, queues and calendars, in one statement
/// (the sweep may move 50,000 at once; a statement per clock made that
/// seconds): in progress and past their warning time, or warning and past
/// their due time (a clock past its due time is past its warning time, so
/// the halves are disjoint). Each half reads its partial index of the
/// migration (the index's conditions are in it word for word).
pub fn clocks_to_sweep(
    db: &impl Sql,
    now: i64,
    limit: u32,
) -> Result<Vec<SweepCandidate>, StoreError> {
    let running = "stopped IS NULL AND paused_since IS NULL";
    run(
        db,
        &format!(
            "SELECT {columns}, c.reference, c.queue_id, t.calendar_id FROM ( \
             SELECT {CLOCK_COLUMNS} FROM case_clocks \
             WHERE state = 'in-progress' AND {running} AND warn_at <= ?1 \
             UNION ALL \
             SELECT {CLOCK_COLUMNS} FROM case_clocks \
             WHERE state IN ('in-progress', 'warning') AND {running} AND due_at <= ?1 \
             AND state = 'warning' \
             ORDER BY due_at, case_id, target LIMIT ?2) k \
             JOIN cases c ON c.id = k.case_id JOIN case_types t ON t.key = c.case_type \
             ORDER BY k.due_at, k.case_id, k.target",
            columns = CLOCK_COLUMNS
                .split(", ")
                .map(|c| format!("k.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        &[now.into(), i64::from(limit).into()],
    )?
    .iter()
    .map(|row| {
        let f = Fields::new("case_clocks", row, 0);
        Ok(SweepCandidate {
            record: decode_clock(row)?,
            reference: f.parse(13, "reference", str::parse::<CaseReference>)?,
            queue: f.opt_text(14, "queue_id")?,
            calendar_id: f.text(15, "calendar_id")?,
        })
    })
    .collect()
}

/// A clock the sweep moves to `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweptClock<'a> {
    pub case_id: &'a str,
    pub target: ClockTarget,
    pub state: ClockState,
}

/// Rows per batched statement: well under SQLite's 32,766 parameters.
const BATCH: usize = 500;

/// Sets each clock's state (the sweep's moves), a batch per statement, in
/// key order (a sweep's clocks come soonest due first, scattered over the
/// key and summary indexes: in key order a batch touches far fewer pages);
/// answers how many clocks there were.
pub fn set_clock_states(db: &impl Sql, moves: &[SweptClock<'_>]) -> Result<usize, StoreError> {
    let mut in_key_order: Vec<&SweptClock<'_>> = moves.iter().collect();
    in_key_order.sort_by_key(|m| (m.case_id, m.target.as_str()));
    let mut updated = 0;
    for batch in in_key_order.chunks(BATCH) {
        let params: Vec<Value> = batch
            .iter()
            .flat_map(|m| {
                [
                    m.case_id.into(),
                    m.target.as_str().into(),
                    m.state.as_str().into(),
                ]
            })
            .collect();
        updated += run(
            db,
            &format!(
                "UPDATE case_clocks SET state = m.column3 FROM (VALUES {}) AS m \
                 WHERE case_clocks.case_id = m.column1 AND case_clocks.target = m.column2 \
                 RETURNING 1",
                vec!["(?, ?, ?)"; batch.len()].join(", ")
            ),
            &params,
        )?
        .len();
    }
    Ok(updated)
}

/// An event for the outbox, written in the transaction of the change it
/// tells of.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent<'a> {
    pub topic: String,
    pub aggregate_id: &'a str,
    pub payload: serde_json::Value,
    pub occurred_at: i64,
    pub request_id: Option<&'a str>,
}

/// Writes outbox events in the caller's transaction, a batch per statement.
pub fn insert_outbox_events(db: &impl Sql, events: &[OutboxEvent<'_>]) -> Result<(), StoreError> {
    for batch in events.chunks(BATCH) {
        let params: Vec<Value> = batch
            .iter()
            .flat_map(|e| {
                [
                    e.topic.as_str().into(),
                    e.aggregate_id.into(),
                    e.payload.to_string().into(),
                    e.occurred_at.into(),
                    e.request_id.into(),
                ]
            })
            .collect();
        run(
            db,
            &format!(
                "INSERT INTO outbox_events (topic, aggregate_id, payload, occurred_at, request_id) \
                 VALUES {}",
                vec!["(?, ?, ?, ?, ?)"; batch.len()].join(", ")
            ),
            &params,
        )?;
    }
    Ok(())
}

/// Writes one outbox event in the caller's transaction, as every change's
/// event is written.
pub fn insert_outbox_event(
    db: &impl Sql,
    topic: &str,
    aggregate_id: &str,
    payload: &serde_json::Value,
    occurred_at: i64,
    request_id: Option<&str>,
) -> Result<(), StoreError> {
    insert_outbox_events(
        db,
        &[OutboxEvent {
            topic: topic.to_string(),
            aggregate_id,
            payload: payload.clone(),
            occurred_at,
            request_id,
        }],
    )
}

/// How many clocks are in each state, per queue of their case (`None`: not
/// in a queue), by queue then state.
pub fn sla_summary(db: &impl Sql) -> Result<Vec<(Option<String>, ClockState, u64)>, StoreError> {
    run(
        db,
        "SELECT c.queue_id, k.state, COUNT(*) FROM case_clocks k JOIN cases c ON c.id = k.case_id \
         GROUP BY c.queue_id, k.state ORDER BY c.queue_id, k.state",
        &[],
    )?
    .iter()
    .map(|row| {
        let f = Fields::new("case_clocks", row, 0);
        Ok((
            f.opt_text(0, "queue_id")?,
            f.parse(1, "state", |s| {
                ClockState::parse(s).ok_or("not a clock state")
            })?,
            f.count(2, "COUNT(*)")?,
        ))
    })
    .collect()
}
