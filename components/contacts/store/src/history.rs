//! A contact's versions: every change, with who, when and why.

use contacts_rules::collection::{ProvenanceMap, from_stored};
use crm_sql::{Sql, Value};

use crate::{StoreError, integer, run, text};

/// One row of `contact_versions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub version: i64,
    /// `created`, `corrected`, `merged`, `merged-into` or `migrated`.
    pub change: String,
    pub recorded_at: String,
    pub actor_id: String,
    pub actor_role: String,
    pub request_id: Option<String>,
    pub reason: Option<String>,
    /// The record as of this version (JSON, as `ContactFields` writes it).
    pub record: serde_json::Value,
    pub provenance: ProvenanceMap,
    /// The duplicate folded in, or the survivor folded into.
    pub related_contact: Option<String>,
}

/// Every version of contact `id`, oldest first (none for an unknown id).
pub fn versions(db: &impl Sql, id: &str) -> Result<Vec<Version>, StoreError> {
    run(
        db,
        "SELECT version, change, recorded_at, actor_id, actor_role, request_id, reason, record, provenance, related_contact FROM contact_versions WHERE contact_id = ? ORDER BY version",
        &[id.into()],
    )?
    .iter()
    .map(|row| decode(id, row))
    .collect()
}

fn decode(id: &str, row: &[Value]) -> Result<Version, StoreError> {
    let column = |i: usize| row.get(i).unwrap_or(&Value::Null);
    let version = integer(column(0));
    let unreadable = |what: &str, why: String| StoreError::Unreadable {
        contact: id.to_string(),
        what: format!("version {}: {what}", version.unwrap_or_default()),
        why,
    };
    let required =
        |i: usize, what: &str| text(column(i)).ok_or_else(|| unreadable(what, "is missing".into()));
    Ok(Version {
        version: version.ok_or_else(|| unreadable("number", "is missing".into()))?,
        change: required(1, "change")?,
        recorded_at: required(2, "recorded_at")?,
        actor_id: required(3, "actor_id")?,
        actor_role: required(4, "actor_role")?,
        request_id: text(column(5)),
        reason: text(column(6)),
        record: serde_json::from_str(&required(7, "record")?)
            .map_err(|e| unreadable("record", e.to_string()))?,
        provenance: from_stored(&required(8, "provenance")?)
            .map_err(|e| unreadable("provenance", e))?,
        related_contact: text(column(9)),
    })
}
