//! Case management's tables in SQLite (`migrations/0012_cases.sql`), the
//! one place their rows are read, written and decoded: the `cases-http`
//! component links this crate. What is written is decided by `cases-rules`
//! and `cases-sla`; this crate only moves values between their types and
//! the tables, and reads every stored value back through the same parsers
//! (a value that no longer parses is [`StoreError::Corrupt`], never a
//! panic).
//!
//! The caller holds the transaction (`BEGIN IMMEDIATE`, with
//! [`crm_sql::transaction`]), reads the clock and mints the ids; times are
//! ms since the epoch.
//!
//! - [`config`]: statuses and transitions ([`workflow`]), case types, SLA
//!   policies, calendars.
//! - [`cases`]: gapless references, cases with optimistic versions, keyset
//!   queue pages, children, a merge family's cases, participants.
//! - [`activities`]: a case's numbered timeline, and touchpoints logged once.
//! - [`clocks`]: service-level clocks, the sweep and its outbox events, the
//!   summary.
//! - [`queues`]: queues and their members, take-next, round robin.

pub mod activities;
pub mod cases;
pub mod clocks;
pub mod config;
pub mod queues;
mod row;

#[cfg(test)]
mod tests;

use crm_http::Problem;
use crm_sql::{Row, Sql, SqlError, Value};
use thiserror::Error;

pub use activities::{
    ActivityRecord, ActivityStatus, ActorKind, NewActivity, activities, activity, insert_activity,
    mark_logged, unlogged_touchpoints, update_activity,
};
pub use cases::{
    CaseCursor, CaseRecord, CursorError, Participant, PartyKind, QueuePage, add_participant,
    case_by_id, case_by_reference, cases_of_contacts, children, insert_case, next_reference,
    open_children, participants, queue_page, sla_states, update_case,
};
pub use clocks::{
    ClockRecord, ClockTarget, OutboxEvent, SweepCandidate, SweptClock, clocks, clocks_to_sweep,
    insert_outbox_event, insert_outbox_events, save_clock, set_case_due, set_clock_states,
    sla_summary,
};
pub use config::{
    CaseType, SlaPolicy, StoredCalendar, TimelineAnchor, TimelineStep, add_transition, calendar,
    calendars, case_type, case_types, put_calendar, put_case_type, put_sla_policy, put_status,
    remove_transition, sla_policy, workflow,
};
pub use queues::{
    Queue, QueueMember, QueueOrder, is_member, members, next_assignee, open_assigned_count,
    put_queue, queue, queues, record_assignment, set_members, take_next,
};

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// What the database said is in the log ([`run`]).
    #[error("database: {0}")]
    Sql(#[from] SqlError),
    /// A stored value that its parser refuses.
    #[error("{table} `{key}`: unreadable {column}: {why}")]
    Corrupt {
        table: &'static str,
        key: String,
        column: &'static str,
        why: String,
    },
    /// A value the tables cannot hold (a reference number past the format's
    /// last, a year outside it).
    #[error("{0}")]
    Unrepresentable(String),
}

/// A store failure is always ours: a 500 whose detail never quotes SQLite
/// (its words name tables and columns; they went to the log).
impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sql(_) => {
                Problem::internal("a database statement failed (the details are in the log)")
            }
            other => Problem::internal(other.to_string()),
        }
    }
}

/// Runs one statement, logging a failure with the statement that failed.
fn run(db: &impl Sql, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
    crm_sql::run_logged(db, sql, params).map_err(StoreError::Sql)
}
