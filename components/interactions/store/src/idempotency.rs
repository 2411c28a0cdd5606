//! `Idempotency-Key` on appends: the first answer to a key is kept in
//! `interaction_idempotency` (`migrations/0010_interaction_idempotency.sql`)
//! in the append's own transaction, so a retry answers with the entry it
//! first recorded and racing retries serialise on the write lock. Keys are
//! scoped to the caller and the operation; a key reused for a different
//! request is refused.

use crm_http::IdempotencyKey;
use interactions_rules::values::EntryId;

use crate::StoreError;
use crm_sql::{Sql, Value};

/// The entry first recorded under `key`, if any (call inside the append's
/// transaction).
pub(crate) fn stored(db: &impl Sql, key: &IdempotencyKey) -> Result<Option<Kept>, StoreError> {
    let rows = db.run(
        "SELECT fingerprint, entry_id FROM interaction_idempotency WHERE key_hash = ?",
        &[key.key_hash().into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let (Value::Text(fingerprint), Value::Text(entry)) = (&row[0], &row[1]) else {
        return Err(StoreError::Inconsistent(
            "an idempotency key's row is malformed".into(),
        ));
    };
    if fingerprint != key.fingerprint() {
        return Ok(Some(Kept::Reused));
    }
    let entry = EntryId::parse(entry).map_err(|e| {
        StoreError::Inconsistent(format!("an idempotency key names entry {entry}: {}", e.0))
    })?;
    Ok(Some(Kept::Entry(entry)))
}

/// Keeps `entry` as the answer to `key` (inside the append's transaction).
pub(crate) fn keep(
    db: &impl Sql,
    key: &IdempotencyKey,
    entry: &EntryId,
    now_ms: i64,
) -> Result<(), StoreError> {
    db.run(
            "INSERT INTO interaction_idempotency (key_hash, fingerprint, entry_id, created_at) VALUES (?, ?, ?, ?)",
            &[
                key.key_hash().into(),
                key.fingerprint().into(),
                entry.as_str().into(),
                now_ms.into(),
            ],
        )?;
    Ok(())
}

/// What a key already answers.
pub(crate) enum Kept {
    /// The entry recorded for the same request.
    Entry(EntryId),
    /// The key was used for a different request.
    Reused,
}
