//! The SQL that keeps a contact (`migrations/0004_contacts.sql`): each write
//! is a list of [`Statement`]s run in one transaction, covering the current
//! row, the new version, the match keys, the search row, the labels and the
//! outbox event. The component runs them through Spin's SQLite; the
//! benchmark's generator runs the same statements through rusqlite.

use serde_json::json;

use crate::collection::ProvenanceMap;
use crate::fields::ContactFields;
use crate::index::IndexEntries;

/// A statement parameter, independent of the SQLite binding.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Null,
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Self::Text(s.to_string())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<Option<&str>> for Param {
    fn from(s: Option<&str>) -> Self {
        s.map_or(Self::Null, Self::from)
    }
}

impl From<i64> for Param {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Statement {
    fn new(sql: impl Into<String>, params: Vec<Param>) -> Self {
        Self {
            sql: sql.into(),
            params,
        }
    }
}

/// The columns a stored contact is read with, in this order.
pub const CONTACT_COLUMNS: &str = "c.id, c.record, c.provenance, c.version, c.created_at, c.updated_at, c.merged_into, c.search_rowid";

/// Reads one contact (any state) by id.
pub const SELECT_CONTACT: &str = "SELECT c.id, c.record, c.provenance, c.version, c.created_at, c.updated_at, c.merged_into, c.search_rowid FROM contacts c WHERE c.id = ?";

/// Reads a contact's versions, oldest first.
pub const SELECT_VERSIONS: &str = "SELECT version, change, recorded_at, actor_id, actor_role, request_id, reason, record, provenance, related_contact FROM contact_versions WHERE contact_id = ? ORDER BY version";

/// Candidates read per blocking key: a common name in a populous postcode
/// makes a large block, and each candidate is parsed and scored.
pub const CANDIDATES_PER_KEY: usize = 20;

/// Reads the current contacts filed under any of `keys`, at most
/// [`CANDIDATES_PER_KEY`] per key (deterministic keys first, so a shared
/// identifier is never crowded out).
pub fn select_candidates(keys: &[String]) -> Statement {
    let mut ordered: Vec<&String> = keys.iter().filter(|k| !is_blocking(k)).collect();
    ordered.extend(keys.iter().filter(|k| is_blocking(k)));
    let blocks: Vec<String> = ordered
        .iter()
        .map(|_| {
            format!(
                "SELECT * FROM (SELECT contact_id FROM contact_match_keys WHERE key = ? LIMIT {CANDIDATES_PER_KEY})"
            )
        })
        .collect();
    Statement::new(
        format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.merged_into IS NULL AND c.id IN ({})",
            blocks.join(" UNION ")
        ),
        ordered
            .into_iter()
            .map(|k| Param::Text(k.clone()))
            .collect(),
    )
}

fn is_blocking(key: &str) -> bool {
    ["nd:", "np:", "on:"].iter().any(|p| key.starts_with(p))
}

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

fn version_row(written: &Written<'_>, meta: &VersionMeta<'_>) -> Statement {
    Statement::new(
        "INSERT INTO contact_versions (contact_id, version, change, recorded_at, actor_id, actor_role, request_id, reason, record, provenance, related_contact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            written.id.into(),
            written.version.into(),
            meta.change.as_str().into(),
            meta.recorded_at.into(),
            meta.actor_id.into(),
            meta.actor_role.into(),
            meta.request_id.into(),
            meta.reason.into(),
            record_json(written.fields).into(),
            crate::collection::to_stored(written.provenance).into(),
            meta.related_contact.into(),
        ],
    )
}

/// The outbox event of a write: ids, version and the names of the changed
/// fields, never their values (a consumer reads the record with its own
/// authority).
fn outbox_event(
    id: &str,
    version: i64,
    changed: &[&str],
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Statement {
    let mut payload = json!({
        "contact_id": id,
        "version": version,
        "change": meta.change.as_str(),
        "fields": changed,
    });
    match meta.change {
        Change::Merged => payload["merged_from"] = json!(meta.related_contact),
        Change::MergedInto => payload["merged_into"] = json!(meta.related_contact),
        _ => {}
    }
    Statement::new(
        "INSERT INTO outbox_events (topic, aggregate_id, payload, occurred_at, request_id) VALUES (?, ?, ?, ?, ?)",
        vec![
            meta.change.topic().into(),
            id.into(),
            payload.to_string().into(),
            occurred_at_ms.into(),
            meta.request_id.into(),
        ],
    )
}

fn search_rowid_of(id: &str) -> (String, Param) {
    (
        "(SELECT search_rowid FROM contacts WHERE id = ?)".into(),
        Param::Text(id.to_string()),
    )
}

fn insert_keys(id: &str, keys: &[&String]) -> Option<Statement> {
    if keys.is_empty() {
        return None;
    }
    let values = vec!["(?, ?)"; keys.len()].join(", ");
    let params = keys
        .iter()
        .flat_map(|k| [Param::Text((*k).clone()), Param::Text(id.to_string())])
        .collect();
    Some(Statement::new(
        format!("INSERT OR IGNORE INTO contact_match_keys (key, contact_id) VALUES {values}"),
        params,
    ))
}

fn delete_keys(id: &str, keys: &[&String]) -> Option<Statement> {
    if keys.is_empty() {
        return None;
    }
    let values = vec!["?"; keys.len()].join(", ");
    let mut params: Vec<Param> = vec![Param::Text(id.to_string())];
    params.extend(keys.iter().map(|k| Param::Text((*k).clone())));
    Some(Statement::new(
        format!("DELETE FROM contact_match_keys WHERE contact_id = ? AND key IN ({values})"),
        params,
    ))
}

fn insert_labels(id: &str, labels: &[&String]) -> Option<Statement> {
    if labels.is_empty() {
        return None;
    }
    let (rowid, rowid_param) = search_rowid_of(id);
    let values = vec![format!("(?, {rowid})"); labels.len()].join(", ");
    let params = labels
        .iter()
        .flat_map(|l| [Param::Text((*l).clone()), rowid_param.clone()])
        .collect();
    Some(Statement::new(
        format!("INSERT OR IGNORE INTO contact_labels (label, search_rowid) VALUES {values}"),
        params,
    ))
}

fn delete_labels(id: &str, labels: &[&String]) -> Option<Statement> {
    if labels.is_empty() {
        return None;
    }
    let (rowid, rowid_param) = search_rowid_of(id);
    let values = vec!["?"; labels.len()].join(", ");
    let mut params = vec![rowid_param];
    params.extend(labels.iter().map(|l| Param::Text((*l).clone())));
    Some(Statement::new(
        format!("DELETE FROM contact_labels WHERE search_rowid = {rowid} AND label IN ({values})"),
        params,
    ))
}

/// Items of `old` not in `new`.
fn gone<'a>(old: &'a [String], new: &[String]) -> Vec<&'a String> {
    old.iter().filter(|k| !new.contains(k)).collect()
}

/// Statements that create a contact (version 1).
pub fn create(
    written: &Written<'_>,
    index: &IndexEntries,
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Vec<Statement> {
    let fields = written.fields;
    let mut statements = vec![Statement::new(
        "INSERT INTO contacts (id, archetype, display_name, email, created_at, record, provenance, version, updated_at, search_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT IFNULL(MAX(search_rowid), 0) + 1 FROM contacts))",
        vec![
            written.id.into(),
            fields.archetype.as_deref().into(),
            fields.display_name.as_deref().into(),
            fields.emails.first().map(String::as_str).into(),
            meta.recorded_at.into(),
            record_json(fields).into(),
            crate::collection::to_stored(written.provenance).into(),
            written.version.into(),
            meta.recorded_at.into(),
        ],
    )];
    statements.push(version_row(written, meta));
    let (rowid, rowid_param) = search_rowid_of(written.id);
    statements.push(Statement::new(
        format!("INSERT INTO contact_search (rowid, names, sounds) VALUES ({rowid}, ?, ?)"),
        vec![
            rowid_param,
            index.names.as_str().into(),
            index.sounds.as_str().into(),
        ],
    ));
    let keys: Vec<&String> = index.keys.iter().collect();
    statements.extend(insert_keys(written.id, &keys));
    let labels: Vec<&String> = index.labels.iter().collect();
    statements.extend(insert_labels(written.id, &labels));
    let present = fields.present();
    statements.push(outbox_event(
        written.id,
        written.version,
        &present,
        meta,
        occurred_at_ms,
    ));
    statements
}

/// Statements that write a new version of a current contact whose stored
/// version is `written.version - 1`. The first statement returns a row only
/// when that version is still current (optimistic concurrency).
pub fn update(
    written: &Written<'_>,
    old_index: &IndexEntries,
    new_index: &IndexEntries,
    changed: &[&str],
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Vec<Statement> {
    let fields = written.fields;
    let mut statements = vec![Statement::new(
        "UPDATE contacts SET archetype = ?, display_name = ?, email = ?, record = ?, provenance = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? AND merged_into IS NULL RETURNING version",
        vec![
            fields.archetype.as_deref().into(),
            fields.display_name.as_deref().into(),
            fields.emails.first().map(String::as_str).into(),
            record_json(fields).into(),
            crate::collection::to_stored(written.provenance).into(),
            written.version.into(),
            meta.recorded_at.into(),
            written.id.into(),
            (written.version - 1).into(),
        ],
    )];
    statements.push(version_row(written, meta));
    statements.extend(delete_keys(
        written.id,
        &gone(&old_index.keys, &new_index.keys),
    ));
    statements.extend(insert_keys(
        written.id,
        &gone(&new_index.keys, &old_index.keys),
    ));
    statements.extend(delete_labels(
        written.id,
        &gone(&old_index.labels, &new_index.labels),
    ));
    statements.extend(insert_labels(
        written.id,
        &gone(&new_index.labels, &old_index.labels),
    ));
    if (&old_index.names, &old_index.sounds) != (&new_index.names, &new_index.sounds) {
        let (rowid, rowid_param) = search_rowid_of(written.id);
        statements.push(Statement::new(
            format!("UPDATE contact_search SET names = ?, sounds = ? WHERE rowid = {rowid}"),
            vec![
                new_index.names.as_str().into(),
                new_index.sounds.as_str().into(),
                rowid_param,
            ],
        ));
    }
    statements.push(outbox_event(
        written.id,
        written.version,
        changed,
        meta,
        occurred_at_ms,
    ));
    statements
}

/// Statements that close a duplicate after a merge: it points to the
/// survivor, gets a last version saying so, and leaves every index. The
/// first statement returns a row only when `version - 1` is still current.
pub fn retire(
    written: &Written<'_>,
    old_index: &IndexEntries,
    survivor_id: &str,
    meta: &VersionMeta<'_>,
    occurred_at_ms: i64,
) -> Vec<Statement> {
    let mut statements = vec![Statement::new(
        "UPDATE contacts SET merged_into = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? AND merged_into IS NULL RETURNING version",
        vec![
            survivor_id.into(),
            written.version.into(),
            meta.recorded_at.into(),
            written.id.into(),
            (written.version - 1).into(),
        ],
    )];
    statements.push(version_row(written, meta));
    let keys: Vec<&String> = old_index.keys.iter().collect();
    statements.extend(delete_keys(written.id, &keys));
    let labels: Vec<&String> = old_index.labels.iter().collect();
    statements.extend(delete_labels(written.id, &labels));
    let (rowid, rowid_param) = search_rowid_of(written.id);
    statements.push(Statement::new(
        format!("DELETE FROM contact_search WHERE rowid = {rowid}"),
        vec![rowid_param],
    ));
    statements.push(outbox_event(
        written.id,
        written.version,
        &[],
        meta,
        occurred_at_ms,
    ));
    statements
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::collection::FieldProvenance;
    use crate::contact::{Contact, validate};
    use crate::index::index_entries;
    use crm_domain::CalendarDate;

    /// A migrated in-memory database.
    pub fn database() -> rusqlite::Connection {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        crm_migrations::migrate(&db).unwrap();
        db
    }

    pub fn run(
        db: &rusqlite::Connection,
        statements: &[Statement],
    ) -> Vec<Vec<rusqlite::types::Value>> {
        let mut returned = Vec::new();
        for s in statements {
            let params: Vec<rusqlite::types::Value> = s
                .params
                .iter()
                .map(|p| match p {
                    Param::Text(t) => rusqlite::types::Value::Text(t.clone()),
                    Param::Int(i) => rusqlite::types::Value::Integer(*i),
                    Param::Null => rusqlite::types::Value::Null,
                })
                .collect();
            let mut stmt = db
                .prepare(&s.sql)
                .unwrap_or_else(|e| panic!("{e}: {}", s.sql));
            let columns = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(params)).unwrap();
            while let Some(row) = rows.next().unwrap() {
                returned.push((0..columns).map(|i| row.get(i).unwrap()).collect());
            }
        }
        returned
    }

    pub fn contact(value: serde_json::Value) -> Contact {
        validate(
            &serde_json::from_value(value).unwrap(),
            CalendarDate::parse("2026-11-24").unwrap(),
        )
        .unwrap()
    }

    pub fn meta(change: Change) -> VersionMeta<'static> {
        VersionMeta {
            change,
            recorded_at: "2026-11-24T00:00:00.000Z",
            actor_id: "staff-1",
            actor_role: "intake-officer",
            request_id: "req_1",
            reason: None,
            related_contact: None,
        }
    }

    pub fn stamp() -> ProvenanceMap {
        let p = FieldProvenance {
            source: "staff-entry".into(),
            purpose: "service-delivery".into(),
            notice_id: "general".into(),
            notice_version: 1,
            channel: "counter".into(),
            collected_at: "2026-11-24T00:00:00.000Z".into(),
            request_id: "req_1".into(),
        };
        ProvenanceMap::from([("family_name".to_string(), p)])
    }

    pub fn insert(db: &rusqlite::Connection, id: &str, c: &Contact) {
        let fields = c.to_fields();
        let provenance = stamp();
        let written = Written {
            id,
            fields: &fields,
            provenance: &provenance,
            version: 1,
        };
        run(
            db,
            &create(&written, &index_entries(c), &meta(Change::Created), 0),
        );
    }

    fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
        db.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_created_contact_is_filed_everywhere_in_one_go() {
        let db = database();
        let c = contact(
            serde_json::json!({"archetype": "individual", "given_name": "John", "family_name": "Smith",
            "date_of_birth": "1980-05-17", "emails": ["john@x.au"], "tags": ["vip"]}),
        );
        insert(&db, "con_1", &c);
        let keys = index_entries(&c).keys;
        let found = run(&db, &[select_candidates(&keys)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0][0], rusqlite::types::Value::Text("con_1".into()));
        assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_versions"), 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM contact_labels WHERE label = 't:vip'"
            ),
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM contact_search WHERE contact_search MATCH 'names:\"smi\"*'"
            ),
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM outbox_events WHERE topic = 'contact.created'"
            ),
            1
        );
        assert_eq!(
            count(&db, "SELECT search_rowid FROM contacts WHERE id = 'con_1'"),
            1
        );
        // Versions cannot be changed.
        assert!(db.execute("DELETE FROM contact_versions", []).is_err());
    }

    #[test]
    fn an_update_moves_the_index_and_checks_the_version() {
        let db = database();
        let old = contact(
            serde_json::json!({"archetype": "individual", "family_name": "Smith", "emails": ["a@x.au"], "tags": ["vip"]}),
        );
        insert(&db, "con_1", &old);
        let new = contact(
            serde_json::json!({"archetype": "individual", "family_name": "Jones", "emails": ["b@x.au"]}),
        );
        let fields = new.to_fields();
        let provenance = stamp();
        let written = Written {
            id: "con_1",
            fields: &fields,
            provenance: &provenance,
            version: 2,
        };
        let statements = update(
            &written,
            &index_entries(&old),
            &index_entries(&new),
            &["family_name"],
            &meta(Change::Corrected),
            0,
        );
        assert_eq!(run(&db, &statements[..1]).len(), 1, "version 1 was current");
        run(&db, &statements[1..]);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM contact_match_keys WHERE key = 'em:a@x.au'"
            ),
            0
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM contact_match_keys WHERE key = 'em:b@x.au'"
            ),
            1
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_labels"), 0);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM contact_search WHERE contact_search MATCH 'jones'"
            ),
            1
        );
        // The same update again is stale.
        assert_eq!(run(&db, &statements[..1]).len(), 0);
    }

    #[test]
    fn a_retired_duplicate_leaves_the_indexes() {
        let db = database();
        let dup = contact(
            serde_json::json!({"archetype": "individual", "family_name": "Smith", "emails": ["a@x.au"], "tags": ["vip"]}),
        );
        insert(&db, "con_dup", &dup);
        let fields = dup.to_fields();
        let provenance = stamp();
        let written = Written {
            id: "con_dup",
            fields: &fields,
            provenance: &provenance,
            version: 2,
        };
        let statements = retire(
            &written,
            &index_entries(&dup),
            "con_surv",
            &meta(Change::MergedInto),
            0,
        );
        assert_eq!(run(&db, &statements[..1]).len(), 1);
        run(&db, &statements[1..]);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_match_keys"), 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_labels"), 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_search"), 0);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM contacts WHERE merged_into = 'con_surv'"
            ),
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM contact_versions WHERE change = 'merged-into'"
            ),
            1
        );
    }
}
