//! Text messages received at services' numbers (`notify_received_texts`),
//! as Notify's `/v2/received-text-messages` lists them.

use crm_sql::{Row, Sql, Value, integer, text};

use crate::StoreError;

/// One received text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedText {
    pub id: String,
    pub service_id: String,
    /// Who sent it, as the provider wrote the number.
    pub user_number: String,
    /// The service's number it was sent to.
    pub notify_number: String,
    pub content: String,
    /// When the provider received it (ms since the epoch).
    pub created_at: i64,
    pub provider: String,
    /// The provider's id for it.
    pub provider_reference: String,
}

const COLUMNS: &str =
    "id, service_id, user_number, notify_number, content, created_at, provider, provider_reference";

fn from_row(v: &Row) -> ReceivedText {
    ReceivedText {
        id: text(&v[0]).unwrap_or_default(),
        service_id: text(&v[1]).unwrap_or_default(),
        user_number: text(&v[2]).unwrap_or_default(),
        notify_number: text(&v[3]).unwrap_or_default(),
        content: text(&v[4]).unwrap_or_default(),
        created_at: integer(&v[5]).unwrap_or_default(),
        provider: text(&v[6]).unwrap_or_default(),
        provider_reference: text(&v[7]).unwrap_or_default(),
    }
}

/// Keeps a received text unless its provider handed it over before.
/// Returns the one kept (the first, for a repeat) and whether it is new.
pub fn receive(db: &impl Sql, received: &ReceivedText) -> Result<(ReceivedText, bool), StoreError> {
    let inserted = db.run(
        &format!(
            "INSERT INTO notify_received_texts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (provider, provider_reference) DO NOTHING RETURNING id"
        ),
        &[
            received.id.as_str().into(),
            received.service_id.as_str().into(),
            received.user_number.as_str().into(),
            received.notify_number.as_str().into(),
            received.content.as_str().into(),
            received.created_at.into(),
            received.provider.as_str().into(),
            received.provider_reference.as_str().into(),
        ],
    )?;
    if !inserted.is_empty() {
        return Ok((received.clone(), true));
    }
    let kept = db.run(
        &format!(
            "SELECT {COLUMNS} FROM notify_received_texts WHERE provider = ? AND provider_reference = ?"
        ),
        &[
            received.provider.as_str().into(),
            received.provider_reference.as_str().into(),
        ],
    )?;
    let kept = kept.first().map(from_row).ok_or_else(|| {
        StoreError::Corrupt("received text neither inserted nor found".to_string())
    })?;
    Ok((kept, false))
}

/// A service's received texts, newest first, `limit` of them, older than
/// the one with id `older_than` (by receipt, then id) when given.
pub fn list(
    db: &impl Sql,
    service_id: &str,
    older_than: Option<&str>,
    limit: usize,
) -> Result<Vec<ReceivedText>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM notify_received_texts WHERE service_id = ?");
    let mut params: Vec<Value> = vec![service_id.into()];
    if let Some(older_than) = older_than {
        sql.push_str(
            " AND (created_at, id) < (SELECT created_at, id FROM notify_received_texts WHERE id = ?)",
        );
        params.push(older_than.into());
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    params.push((limit as i64).into());
    Ok(db.run(&sql, &params)?.iter().map(from_row).collect())
}
