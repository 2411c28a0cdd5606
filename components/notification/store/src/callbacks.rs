//! Status callbacks owed to services (`notification_callbacks`): queued
//! when a message of a service with a callback URL becomes final, claimed
//! by whoever tries them, then delivered, retried or failed.

use crm_sql::{Sql, Value, placeholders};

use crate::StoreError;
use crm_sql::{integer, text};

/// Queues a callback (state `pending`, due at once).
pub fn enqueue(
    db: &impl Sql,
    notification_id: &str,
    service_id: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO notification_callbacks (notification_id, service_id, body, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)",
        &[
            notification_id.into(),
            service_id.into(),
            body.into(),
            now.into(),
            now.into(),
            now.into(),
        ],
    )?;
    Ok(())
}

/// Which pending callbacks to claim.
#[derive(Debug, Clone, Copy)]
pub enum Owed<'a> {
    /// Every one that is due.
    All,
    /// Those of these messages that are due.
    For(&'a [String]),
}

/// A claimed callback and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCallback {
    pub id: i64,
    pub attempts: u32,
    pub body: String,
    pub service_id: String,
    /// `None` when the service no longer has a URL.
    pub url: Option<String>,
    pub token_sealed: Option<String>,
}

/// Claims up to 500 pending callbacks due at `now`, until `until`, so an
/// overlapping dispatch leaves them be. Inside the caller's transaction.
pub fn claim(
    db: &impl Sql,
    owed: Owed<'_>,
    now: i64,
    until: i64,
) -> Result<Vec<DueCallback>, StoreError> {
    let mut params: Vec<Value> = vec![now.into()];
    let which = match owed {
        Owed::All => String::new(),
        Owed::For(ids) => {
            params.extend(ids.iter().map(|id| id.as_str().into()));
            format!(" AND c.notification_id IN ({})", placeholders(ids.len()))
        }
    };
    let rows = db.run(
        &format!(
            "SELECT c.id, c.attempts, c.body, s.callback_url, s.callback_token_sealed, s.id
             FROM notification_callbacks c JOIN notify_services s ON s.id = c.service_id
             WHERE c.state = 'pending' AND c.next_attempt_at <= ?{which}
             ORDER BY c.next_attempt_at LIMIT 500"
        ),
        &params,
    )?;
    let mut due = Vec::with_capacity(rows.len());
    for v in &rows {
        let id = integer(&v[0]).unwrap_or_default();
        db.run(
            "UPDATE notification_callbacks SET next_attempt_at = ? WHERE id = ?",
            &[until.into(), id.into()],
        )?;
        due.push(DueCallback {
            id,
            attempts: integer(&v[1]).unwrap_or(0) as u32,
            body: text(&v[2]).unwrap_or_default(),
            url: text(&v[3]),
            token_sealed: text(&v[4]),
            service_id: text(&v[5]).unwrap_or_default(),
        });
    }
    Ok(due)
}

/// Where a callback stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackState {
    /// To be tried again at `next_attempt_at`.
    Pending,
    Delivered,
    Failed,
}

impl CallbackState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// What came of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub state: CallbackState,
    /// The attempts made so far, this one included.
    pub attempts: u32,
    pub next_attempt_at: Option<i64>,
    pub result: String,
}

/// Records an attempt on callback `id`.
pub fn record_attempt(
    db: &impl Sql,
    id: i64,
    attempt: &Attempt,
    now: i64,
) -> Result<(), StoreError> {
    db.run(
        "UPDATE notification_callbacks SET state = ?, attempts = ?, next_attempt_at = ?, last_result = ?, updated_at = ? WHERE id = ?",
        &[
            attempt.state.as_str().into(),
            i64::from(attempt.attempts).into(),
            attempt.next_attempt_at.into(),
            attempt.result.as_str().into(),
            now.into(),
            id.into(),
        ],
    )?;
    Ok(())
}
