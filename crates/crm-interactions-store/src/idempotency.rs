//! `Idempotency-Key` on appends: the first answer to a key is kept in
//! `interaction_idempotency` (`migrations/0010_interaction_idempotency.sql`)
//! in the append's own transaction, so a retry answers with the entry it
//! first recorded and racing retries serialise on the write lock. Keys are
//! scoped to the caller and the operation; a key reused for a different
//! request is refused.

use crm_interactions::values::{EntryId, Sha256Hash};
use thiserror::Error;

use crate::StoreError;
use crate::sql::{Sql, Value};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A request's `Idempotency-Key`, scoped and fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    key_hash: String,
    fingerprint: String,
}

/// The key is not 1 to [`MAX_KEY_LEN`] printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("must be 1 to {MAX_KEY_LEN} printable ASCII characters, e.g. a UUID")]
pub struct InvalidKey;

/// SHA-256 over length-prefixed parts, so no two lists of parts collide.
fn hash_parts(parts: &[&[u8]]) -> String {
    let mut bytes = Vec::new();
    for part in parts {
        bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
        bytes.extend_from_slice(part);
    }
    Sha256Hash::of(&bytes).to_hex()
}

impl IdempotencyKey {
    /// `key` as sent, scoped by `scope` (the caller, the operation) and
    /// fingerprinting `request` (the method, path, query and body).
    pub fn new(key: &str, scope: &[&[u8]], request: &[&[u8]]) -> Result<Self, InvalidKey> {
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidKey);
        }
        let mut scoped = scope.to_vec();
        scoped.push(key.as_bytes());
        Ok(Self {
            key_hash: hash_parts(&scoped),
            fingerprint: hash_parts(request),
        })
    }

    /// The entry first recorded under this key, if any (call inside the
    /// append's transaction).
    pub(crate) fn stored(&self, db: &impl Sql) -> Result<Option<Kept>, StoreError> {
        let rows = db.run(
            "SELECT fingerprint, entry_id FROM interaction_idempotency WHERE key_hash = ?",
            &[self.key_hash.as_str().into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let (Value::Text(fingerprint), Value::Text(entry)) = (&row[0], &row[1]) else {
            return Err(StoreError::Inconsistent(
                "an idempotency key's row is malformed".into(),
            ));
        };
        if *fingerprint != self.fingerprint {
            return Ok(Some(Kept::Reused));
        }
        let entry = EntryId::parse(entry).map_err(|e| {
            StoreError::Inconsistent(format!("an idempotency key names entry {entry}: {}", e.0))
        })?;
        Ok(Some(Kept::Entry(entry)))
    }

    /// Keeps `entry` as the answer to this key (inside the append's
    /// transaction).
    pub(crate) fn keep(
        &self,
        db: &impl Sql,
        entry: &EntryId,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        db.run(
            "INSERT INTO interaction_idempotency (key_hash, fingerprint, entry_id, created_at) VALUES (?, ?, ?, ?)",
            &[
                self.key_hash.as_str().into(),
                self.fingerprint.as_str().into(),
                entry.as_str().into(),
                now_ms.into(),
            ],
        )?;
        Ok(())
    }
}

/// What a key already answers.
pub(crate) enum Kept {
    /// The entry recorded for the same request.
    Entry(EntryId),
    /// The key was used for a different request.
    Reused,
}
