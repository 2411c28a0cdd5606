//! `case.status-changed` events from case management's outbox, read past
//! this capability's cursor (consumer `notification-case-updates`): the
//! changes a citizen is to be told of.

use crm_sql::Sql;

use crate::StoreError;
use crate::outbox::{self, Feed};

pub const FEED: Feed = Feed {
    consumer: "notification-case-updates",
    topic: "case.status-changed",
};

/// A change of a case's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseUpdate {
    pub event_id: i64,
    pub case_id: Option<String>,
    pub reference: Option<String>,
    pub contact_id: Option<String>,
    /// The new status's label, as the citizen reads it.
    pub status_label: Option<String>,
    /// Whether case management says the citizen is to be told.
    pub citizen_visible: bool,
}

pub fn cursor(db: &impl Sql) -> Result<i64, StoreError> {
    outbox::cursor(db, &FEED)
}

/// Up to `limit` changes after event `after`, in order.
pub fn after(db: &impl Sql, after: i64, limit: usize) -> Result<Vec<CaseUpdate>, StoreError> {
    Ok(outbox::after(db, &FEED, after, limit)?
        .into_iter()
        .map(|event| CaseUpdate {
            event_id: event.id,
            case_id: event
                .field("case_id")
                .or_else(|| event.aggregate_id.clone()),
            reference: event.field("reference"),
            contact_id: event.field("contact_id"),
            status_label: event.field("status_label"),
            citizen_visible: event.payload["citizen_visible"].as_bool().unwrap_or(false),
        })
        .collect())
}

pub fn set_cursor(db: &impl Sql, last_id: i64) -> Result<(), StoreError> {
    outbox::set_cursor(db, &FEED, last_id)
}
