//! The answer to each POST made with an `Idempotency-Key`, kept in
//! `contact_idempotency` in the same transaction as the write it answers,
//! so that a retry gets it back instead of writing again. Keys are scoped
//! to the caller and the operation (`crm_http::IdempotencyKey`); a key
//! reused for a different request is told apart by its fingerprint.

use crm_http::IdempotencyKey;
use crm_sql::{Sql, Value};
use serde::{Deserialize, Serialize};

use crate::{StoreError, integer, run, text};

/// A successful answer as data, so that it can be kept and given again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: serde_json::Value,
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            location: None,
            etag: None,
            body,
        }
    }

    pub fn with_location(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }

    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }
}

/// What a key already answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Kept {
    /// The answer to the same request.
    Answer(Answer),
    /// The key was used for a different request.
    Reused,
}

/// What `key` already answers, if anything (call inside the write's
/// transaction, which serialises racing retries).
pub fn kept(db: &impl Sql, key: &IdempotencyKey) -> Result<Option<Kept>, StoreError> {
    let rows = run(
        db,
        "SELECT fingerprint, status, location, etag, body FROM contact_idempotency WHERE key_hash = ?",
        &[key.key_hash().into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let column = |i: usize| row.get(i).unwrap_or(&Value::Null);
    if text(column(0)).as_deref() != Some(key.fingerprint()) {
        return Ok(Some(Kept::Reused));
    }
    let status = integer(column(1))
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| StoreError::UnreadableAnswer("status".into()))?;
    let body = serde_json::from_str(&text(column(4)).unwrap_or_default())
        .map_err(|e| StoreError::UnreadableAnswer(format!("body: {e}")))?;
    Ok(Some(Kept::Answer(Answer {
        status,
        location: text(column(2)),
        etag: text(column(3)),
        body,
    })))
}

/// Keeps `answer` as the answer to `key` (inside the write's transaction).
pub fn keep(
    db: &impl Sql,
    key: &IdempotencyKey,
    answer: &Answer,
    now_ms: i64,
) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO contact_idempotency (key_hash, fingerprint, status, location, etag, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            key.key_hash().into(),
            key.fingerprint().into(),
            i64::from(answer.status).into(),
            answer.location.as_deref().into(),
            answer.etag.as_deref().into(),
            answer.body.to_string().into(),
            now_ms.into(),
        ],
    )?;
    Ok(())
}
