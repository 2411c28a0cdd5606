//! `consent.withdrawn` events from the outbox, read past this capability's
//! cursor (consumer `notification`).

use crm_sql::Sql;

use crate::StoreError;
use crate::outbox::{self, Feed};

pub const FEED: Feed = Feed {
    consumer: "notification",
    topic: "consent.withdrawn",
};
pub const TOPIC: &str = FEED.topic;

/// A withdrawal: whose consent, for which purpose and (when named) which
/// channel. The contact is the payload's, else the event's aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub event_id: i64,
    pub contact_id: Option<String>,
    pub purpose: Option<String>,
    pub channel: Option<String>,
}

/// The last event this capability has read (0 before the first).
pub fn cursor(db: &impl Sql) -> Result<i64, StoreError> {
    outbox::cursor(db, &FEED)
}

/// Up to `limit` withdrawals after event `after`, in order.
pub fn after(db: &impl Sql, after: i64, limit: usize) -> Result<Vec<Withdrawal>, StoreError> {
    Ok(outbox::after(db, &FEED, after, limit)?
        .into_iter()
        .map(|event| Withdrawal {
            event_id: event.id,
            contact_id: event
                .field("contact_id")
                .or_else(|| event.aggregate_id.clone()),
            purpose: event.field("purpose"),
            channel: event.field("channel"),
        })
        .collect())
}

/// Moves the cursor to `last_id`.
pub fn set_cursor(db: &impl Sql, last_id: i64) -> Result<(), StoreError> {
    outbox::set_cursor(db, &FEED, last_id)
}
