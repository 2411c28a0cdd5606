//! Entries as rows of `audit_entries` and back, and keyset-paginated,
//! filtered pages of them.

use audit_chain::{Entry, Stored};
use crm_sql::{Sql, Value};

use crate::{StoreError, integer, run, text};

/// Columns of an entry, in the order [`StoredEntry::decode`] reads them and
/// an append writes them.
pub(crate) const COLUMNS: &str = "sequence, recorded_at, request_id, actor_id, role, purpose, action, resource, outcome, subject_contact_id, detail, prev_hash, hash";

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub sequence: u64,
    pub recorded_at: i64,
    pub request_id: String,
    pub actor_id: String,
    pub role: String,
    pub purpose: Option<String>,
    pub action: String,
    pub resource: String,
    pub outcome: String,
    pub subject_contact_id: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEntry {
    /// Reads one row of [`COLUMNS`].
    fn decode(v: &[Value]) -> Self {
        let required = |i: usize| text(&v[i]).unwrap_or_default();
        Self {
            sequence: integer(&v[0]).unwrap_or(0) as u64,
            recorded_at: integer(&v[1]).unwrap_or(0),
            request_id: required(2),
            actor_id: required(3),
            role: required(4),
            purpose: text(&v[5]),
            action: required(6),
            resource: required(7),
            outcome: required(8),
            subject_contact_id: text(&v[9]),
            detail: text(&v[10]),
            prev_hash: required(11),
            hash: required(12),
        }
    }

    /// The entry as the chain hashes it, with its stored links.
    pub fn chained(&self) -> Stored<'_> {
        Stored {
            entry: Entry {
                sequence: self.sequence,
                recorded_at: self.recorded_at,
                request_id: &self.request_id,
                actor_id: &self.actor_id,
                role: &self.role,
                purpose: self.purpose.as_deref(),
                action: &self.action,
                resource: &self.resource,
                outcome: &self.outcome,
                subject_contact_id: self.subject_contact_id.as_deref(),
                detail: self.detail.as_deref(),
            },
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// Which entries a page holds: those matching every filter given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub resource: Option<String>,
    pub actor_id: Option<String>,
    pub subject_contact_id: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Recorded at or after (ms).
    pub since: Option<i64>,
    /// Recorded before (ms).
    pub until: Option<i64>,
}

impl Filter {
    /// Only the entries about `contact` (a citizen's own access log).
    pub fn about(contact: &str) -> Self {
        Self {
            subject_contact_id: Some(contact.to_string()),
            ..Self::default()
        }
    }

    /// The SQL conditions and their parameters.
    fn conditions(&self) -> impl Iterator<Item = (&'static str, Value)> {
        let texts = [
            ("resource = ?", &self.resource),
            ("actor_id = ?", &self.actor_id),
            ("subject_contact_id = ?", &self.subject_contact_id),
            ("action = ?", &self.action),
            ("outcome = ?", &self.outcome),
        ]
        .map(|(condition, value)| value.clone().map(|v| (condition, Value::Text(v))));
        let times = [
            ("recorded_at >= ?", self.since),
            ("recorded_at < ?", self.until),
        ]
        .map(|(condition, value)| value.map(|v| (condition, Value::Integer(v))));
        texts.into_iter().chain(times).flatten()
    }
}

/// Up to `limit` entries matching `filter` after sequence `after`, in
/// chain order.
pub fn entries(
    db: &impl Sql,
    filter: &Filter,
    after: u64,
    limit: u64,
) -> Result<Vec<StoredEntry>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM audit_entries WHERE sequence > ?");
    let mut params = vec![Value::from(after)];
    for (condition, value) in filter.conditions() {
        sql.push_str(" AND ");
        sql.push_str(condition);
        params.push(value);
    }
    sql.push_str(" ORDER BY sequence LIMIT ?");
    params.push(limit.into());
    Ok(run(db, &sql, &params)?
        .iter()
        .map(|row| StoredEntry::decode(row))
        .collect())
}
