//! Events other capabilities write to the outbox (`outbox_events`), read
//! past this capability's own cursor for each feed (`outbox_cursors`).

use crm_sql::{Sql, integer, text};

use crate::StoreError;

/// One topic, read by one consumer's cursor.
pub struct Feed {
    pub consumer: &'static str,
    pub topic: &'static str,
}

/// An event as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub aggregate_id: Option<String>,
    pub payload: serde_json::Value,
}

impl Event {
    /// A text member of the payload.
    pub fn field(&self, name: &str) -> Option<String> {
        self.payload
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }
}

/// The last event of `feed` read (0 before the first).
pub fn cursor(db: &impl Sql, feed: &Feed) -> Result<i64, StoreError> {
    Ok(db
        .run(
            "SELECT last_id FROM outbox_cursors WHERE consumer = ?",
            &[feed.consumer.into()],
        )?
        .first()
        .and_then(|r| integer(&r[0]))
        .unwrap_or(0))
}

/// Up to `limit` events of `feed` after event `after`, in order (a payload
/// that is not JSON reads as `null`).
pub fn after(
    db: &impl Sql,
    feed: &Feed,
    after: i64,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    Ok(db
        .run(
            "SELECT id, aggregate_id, payload FROM outbox_events WHERE topic = ? AND id > ? ORDER BY id LIMIT ?",
            &[feed.topic.into(), after.into(), (limit as i64).into()],
        )?
        .iter()
        .map(|v| Event {
            id: integer(&v[0]).unwrap_or_default(),
            aggregate_id: text(&v[1]),
            payload: serde_json::from_str(&text(&v[2]).unwrap_or_default()).unwrap_or_default(),
        })
        .collect())
}

/// Moves `feed`'s cursor to `last_id`.
pub fn set_cursor(db: &impl Sql, feed: &Feed, last_id: i64) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO outbox_cursors (consumer, last_id) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id",
        &[feed.consumer.into(), last_id.into()],
    )?;
    Ok(())
}
