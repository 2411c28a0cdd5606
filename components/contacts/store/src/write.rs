//! Each write of a contact: the current row, the new version, the match
//! keys, the search row, the labels and the outbox event, as one series of
//! statements for the caller's transaction.

use contacts_rules::ContactFields;
use contacts_rules::collection::{ProvenanceMap, to_stored};
use contacts_rules::index::IndexEntries;
use crm_sql::{Sql, Value, placeholders};
use serde_json::json;

use crate::{StoreError, run};

/// What a version row records besides the record itself.
#[derive(Debug, Clone)]
pub struct VersionMeta<'a> {
    pub change: Change,
    pub recorded_at: &'a str,
    pub actor_id: &'a str,
    pub actor_role: &'a str,
    pub request_id: &'a str,
    pub reason: Option<&'a str>,
    /// The duplicate folded in (`Merged`) or the survivor (`MergedInto`).
    pub related_contact: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Corrected,
    Merged,
    MergedInto,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Corrected => "corrected",
            Self::Merged => "merged",
            Self::MergedInto => "merged-into",
        }
    }

    /// The outbox topic of a change.
    fn topic(self) -> &'static str {
        match self {
            Self::Created => "contact.created",
            Self::Corrected => "contact.corrected",
            Self::Merged | Self::MergedInto => "contact.merged",
        }
    }
}

/// A contact as written: id, fields (normalised), provenance and version.
#[derive(Debug, Clone)]
pub struct Written<'a> {
    pub id: &'a str,
    pub fields: &'a ContactFields,
    pub provenance: &'a ProvenanceMap,
    pub version: i64,
}

fn record_json(fields: &ContactFields) -> String {
    serde_json::Value::Object(fields.to_json()).to_string()
}

fn insert_version(
    db: &impl Sql,
    written: &Written<'_>,
    meta: &VersionMeta<'_>,
) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO contact_versions (contact_id, version, change, recorded_at, actor_id, actor_role, request_id, reason, record, provenance, related_contact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            written.id.into(),
            written.version.into(),
            meta.change.as_str().into(),
            meta.recorded_at.into(),
            meta.actor_id.into(),
            meta.actor_role.into(),
            meta.request_id.into(),
            meta.reason.into(),
            record_json(written.fields).into(),
            to_stored(written.provenance).into(),
            meta.related_contact.into(),
        ],
    )?;
    Ok(())
}

/// The outbox event of a write: ids, version and the names of the changed
/// fields, never their values (a consumer reads the record with its own
/// authority).
fn insert_event(
    db: &impl Sql,
    written: &Written<'_>,
    changed: &[&str],
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Result<(), StoreError> {
    let mut payload = json!({
        "contact_id": written.id,
        "version": written.version,
        "change": meta.change.as_str(),
        "fields": changed,
    });
    match meta.change {
        Change::Merged => payload["merged_from"] = json!(meta.related_contact),
        Change::MergedInto => payload["merged_into"] = json!(meta.related_contact),
        _ => {}
    }
    run(
        db,
        "INSERT INTO outbox_events (topic, aggregate_id, payload, occurred_at, request_id) VALUES (?, ?, ?, ?, ?)",
        &[
            meta.change.topic().into(),
            written.id.into(),
            payload.to_string().into(),
            occurred_at_ms.into(),
            meta.request_id.into(),
        ],
    )?;
    Ok(())
}

/// The contact's row id in the search tables, as a subquery on its id.
const SEARCH_ROWID: &str = "(SELECT search_rowid FROM contacts WHERE id = ?)";

/// One of a contact's index sets: rows of (`value`, owner) in `table`, the
/// owner written as `owner` (an SQL expression of the contact's id).
struct IndexSet {
    table: &'static str,
    value: &'static str,
    owner_column: &'static str,
    owner: &'static str,
}

/// Match keys: the duplicate check's lookup.
const MATCH_KEYS: IndexSet = IndexSet {
    table: "contact_match_keys",
    value: "key",
    owner_column: "contact_id",
    owner: "?",
};

/// Labels: filed under the contact's row in the search tables.
const LABELS: IndexSet = IndexSet {
    table: "contact_labels",
    value: "label",
    owner_column: "search_rowid",
    owner: SEARCH_ROWID,
};

impl IndexSet {
    fn insert(&self, db: &impl Sql, id: &str, values: &[&String]) -> Result<(), StoreError> {
        if values.is_empty() {
            return Ok(());
        }
        let rows = vec![format!("(?, {})", self.owner); values.len()].join(", ");
        let params: Vec<Value> = values
            .iter()
            .flat_map(|v| [v.as_str().into(), id.into()])
            .collect();
        let IndexSet {
            table,
            value,
            owner_column,
            ..
        } = self;
        run(
            db,
            &format!("INSERT OR IGNORE INTO {table} ({value}, {owner_column}) VALUES {rows}"),
            &params,
        )?;
        Ok(())
    }

    fn delete(&self, db: &impl Sql, id: &str, values: &[&String]) -> Result<(), StoreError> {
        if values.is_empty() {
            return Ok(());
        }
        let mut params: Vec<Value> = vec![id.into()];
        params.extend(values.iter().map(|v| v.as_str().into()));
        let IndexSet {
            table,
            value,
            owner_column,
            owner,
        } = self;
        run(
            db,
            &format!(
                "DELETE FROM {table} WHERE {owner_column} = {owner} AND {value} IN ({})",
                placeholders(values.len())
            ),
            &params,
        )?;
        Ok(())
    }
}

/// Items of `old` not in `new`.
fn gone<'a>(old: &'a [String], new: &[String]) -> Vec<&'a String> {
    old.iter().filter(|k| !new.contains(k)).collect()
}

/// Creates a contact (version 1) filed under `index`.
pub fn create(
    db: &impl Sql,
    written: &Written<'_>,
    index: &IndexEntries,
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Result<(), StoreError> {
    let fields = written.fields;
    run(
        db,
        "INSERT INTO contacts (id, archetype, display_name, email, created_at, record, provenance, version, updated_at, search_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT IFNULL(MAX(search_rowid), 0) + 1 FROM contacts))",
        &[
            written.id.into(),
            fields.archetype.as_deref().into(),
            fields.display_name.as_deref().into(),
            fields.emails.first().map(String::as_str).into(),
            meta.recorded_at.into(),
            record_json(fields).into(),
            to_stored(written.provenance).into(),
            written.version.into(),
            meta.recorded_at.into(),
        ],
    )?;
    insert_version(db, written, meta)?;
    run(
        db,
        &format!("INSERT INTO contact_search (rowid, names, sounds) VALUES ({SEARCH_ROWID}, ?, ?)"),
        &[
            written.id.into(),
            index.names.as_str().into(),
            index.sounds.as_str().into(),
        ],
    )?;
    MATCH_KEYS.insert(db, written.id, &index.keys.iter().collect::<Vec<_>>())?;
    LABELS.insert(db, written.id, &index.labels.iter().collect::<Vec<_>>())?;
    insert_event(db, written, &fields.present(), meta, occurred_at_ms)
}

/// Writes version `written.version` of a current contact, moving it from
/// `old_index` to `new_index`; `changed` names the changed fields. Returns
/// `false`, having written nothing, when version `written.version - 1` is
/// no longer current (optimistic concurrency).
pub fn update(
    db: &impl Sql,
    written: &Written<'_>,
    old_index: &IndexEntries,
    new_index: &IndexEntries,
    changed: &[&str],
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Result<bool, StoreError> {
    let fields = written.fields;
    let current = run(
        db,
        "UPDATE contacts SET archetype = ?, display_name = ?, email = ?, record = ?, provenance = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? AND merged_into IS NULL RETURNING version",
        &[
            fields.archetype.as_deref().into(),
            fields.display_name.as_deref().into(),
            fields.emails.first().map(String::as_str).into(),
            record_json(fields).into(),
            to_stored(written.provenance).into(),
            written.version.into(),
            meta.recorded_at.into(),
            written.id.into(),
            (written.version - 1).into(),
        ],
    )?;
    if current.is_empty() {
        return Ok(false);
    }
    insert_version(db, written, meta)?;
    let id = written.id;
    MATCH_KEYS.delete(db, id, &gone(&old_index.keys, &new_index.keys))?;
    MATCH_KEYS.insert(db, id, &gone(&new_index.keys, &old_index.keys))?;
    LABELS.delete(db, id, &gone(&old_index.labels, &new_index.labels))?;
    LABELS.insert(db, id, &gone(&new_index.labels, &old_index.labels))?;
    if (&old_index.names, &old_index.sounds) != (&new_index.names, &new_index.sounds) {
        run(
            db,
            &format!(
                "UPDATE contact_search SET names = ?, sounds = ? WHERE rowid = {SEARCH_ROWID}"
            ),
            &[
                new_index.names.as_str().into(),
                new_index.sounds.as_str().into(),
                id.into(),
            ],
        )?;
    }
    insert_event(db, written, changed, meta, occurred_at_ms)?;
    Ok(true)
}

/// Closes a duplicate after a merge: it points to `survivor_id`, gets a
/// last version (`written.version`) saying so, and leaves every index it
/// was filed in (`old_index`). Returns `false`, having written nothing,
/// when version `written.version - 1` is no longer current.
pub fn retire(
    db: &impl Sql,
    written: &Written<'_>,
    old_index: &IndexEntries,
    survivor_id: &str,
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Result<bool, StoreError> {
    let current = run(
        db,
        "UPDATE contacts SET merged_into = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? AND merged_into IS NULL RETURNING version",
        &[
            survivor_id.into(),
            written.version.into(),
            meta.recorded_at.into(),
            written.id.into(),
            (written.version - 1).into(),
        ],
    )?;
    if current.is_empty() {
        return Ok(false);
    }
    insert_version(db, written, meta)?;
    let id = written.id;
    MATCH_KEYS.delete(db, id, &old_index.keys.iter().collect::<Vec<_>>())?;
    LABELS.delete(db, id, &old_index.labels.iter().collect::<Vec<_>>())?;
    run(
        db,
        &format!("DELETE FROM contact_search WHERE rowid = {SEARCH_ROWID}"),
        &[id.into()],
    )?;
    insert_event(db, written, &[], meta, occurred_at_ms)?;
    Ok(true)
}
