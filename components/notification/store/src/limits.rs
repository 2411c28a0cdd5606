//! The daily counts (`notification_daily_counts`): one row per counter
//! (notification-rules's `daily_limit_key`, or the CRM's own), counted in
//! the transaction that enqueues the message, so concurrent sends
//! serialise on it and a refused send leaves no count behind.

use crm_sql::Sql;

use crate::StoreError;
use crm_sql::integer;

/// How many messages `counter` has counted.
pub fn daily_count(db: &impl Sql, counter: &str) -> Result<u64, StoreError> {
    let found = db.run(
        "SELECT count FROM notification_daily_counts WHERE counter = ?",
        &[counter.into()],
    )?;
    Ok(found
        .first()
        .and_then(|r| integer(&r[0]))
        .unwrap_or(0)
        .max(0) as u64)
}

/// Counts one more message under `counter`.
pub fn count_one(db: &impl Sql, counter: &str) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO notification_daily_counts (counter, count) VALUES (?, 1)
         ON CONFLICT (counter) DO UPDATE SET count = count + 1",
        &[counter.into()],
    )?;
    Ok(())
}
