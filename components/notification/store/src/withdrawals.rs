//! `consent.withdrawn` events from the outbox (`outbox_events`), read past
//! this capability's cursor (`outbox_cursors`, consumer `notification`).

use crm_sql::Sql;

use crate::StoreError;
use crm_sql::{integer, text};

const CONSUMER: &str = "notification";
pub const TOPIC: &str = "consent.withdrawn";

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
    Ok(db
        .run(
            "SELECT last_id FROM outbox_cursors WHERE consumer = ?",
            &[CONSUMER.into()],
        )?
        .first()
        .and_then(|r| integer(&r[0]))
        .unwrap_or(0))
}

/// Up to `limit` withdrawals after event `after`, in order.
pub fn after(db: &impl Sql, after: i64, limit: usize) -> Result<Vec<Withdrawal>, StoreError> {
    Ok(db
        .run(
            "SELECT id, aggregate_id, payload FROM outbox_events WHERE topic = ? AND id > ? ORDER BY id LIMIT ?",
            &[TOPIC.into(), after.into(), (limit as i64).into()],
        )?
        .iter()
        .map(|v| {
            let payload: serde_json::Value =
                serde_json::from_str(&text(&v[2]).unwrap_or_default()).unwrap_or_default();
            let field = |name: &str| {
                payload
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            Withdrawal {
                event_id: integer(&v[0]).unwrap_or_default(),
                contact_id: field("contact_id").or_else(|| text(&v[1])),
                purpose: field("purpose"),
                channel: field("channel"),
            }
        })
        .collect())
}

/// Moves the cursor to `last_id`.
pub fn set_cursor(db: &impl Sql, last_id: i64) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO outbox_cursors (consumer, last_id) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id",
        &[CONSUMER.into(), last_id.into()],
    )?;
    Ok(())
}
