//! Runs a [`SearchPlan`]: current contacts with every filter, in a stable
//! order, a page at a time.
//!
//! Each query is driven by its most selective filter (an exact key, then
//! the name, then a label, then the contacts table's own indexes), so no
//! query scans the table to find a few rows.

use contacts_rules::search::{Cursor, SearchPlan};
use crm_sql::{Sql, Value};

use crate::StoreError;
use crate::contact::{CONTACT_COLUMNS, Stored, select};

/// The page `plan` asks for: at most `plan.limit + 1` contacts, the one
/// beyond the limit saying that another page follows.
pub fn search(db: &impl Sql, plan: &SearchPlan) -> Result<Vec<Stored>, StoreError> {
    let (sql, params) = statement(plan);
    select(db, &sql, &params)
}

/// The query of `plan` and its parameters.
pub(crate) fn statement(plan: &SearchPlan) -> (String, Vec<Value>) {
    let mut from = "contacts c";
    // The driver's own copy of the row id: ordering by it lets the driver
    // (FTS5, a label's index) produce rows in order and stop at the limit,
    // where ordering by the contact's column sorts every match first.
    let mut row_column = "c.search_rowid";
    let mut wheres: Vec<String> = vec!["c.merged_into IS NULL".into()];
    let mut params: Vec<Value> = Vec::new();
    // The driver: the first exact key, else the name, else the first label.
    let mut keys = plan.keys.iter();
    let mut labels = plan.labels.iter();
    let mut name = plan.name.as_ref();
    if let Some(key) = keys.next() {
        from = "contact_match_keys k JOIN contacts c ON c.id = k.contact_id";
        wheres.push("k.key = ?".into());
        params.push(key.as_str().into());
    } else if let Some(query) = name.take() {
        from = "contact_search s JOIN contacts c ON c.search_rowid = s.rowid";
        row_column = "s.rowid";
        wheres.push("contact_search MATCH ?".into());
        params.push(query.as_str().into());
    } else if let Some(label) = labels.next() {
        from = "contact_labels l JOIN contacts c ON c.search_rowid = l.search_rowid";
        row_column = "l.search_rowid";
        wheres.push("l.label = ?".into());
        params.push(label.as_str().into());
    }
    for key in keys {
        wheres.push(
            "EXISTS (SELECT 1 FROM contact_match_keys k2 WHERE k2.key = ? AND k2.contact_id = c.id)".into(),
        );
        params.push(key.as_str().into());
    }
    if let Some(query) = name {
        wheres.push(
            "c.search_rowid IN (SELECT rowid FROM contact_search WHERE contact_search MATCH ?)"
                .into(),
        );
        params.push(query.as_str().into());
    }
    for label in labels {
        wheres.push(
            "EXISTS (SELECT 1 FROM contact_labels l2 WHERE l2.label = ? AND l2.search_rowid = c.search_rowid)".into(),
        );
        params.push(label.as_str().into());
    }
    if let Some(archetype) = plan.archetype {
        wheres.push("c.archetype = ?".into());
        params.push(archetype.as_str().into());
    }
    let order = match &plan.updated_since {
        Some(since) => {
            wheres.push("c.updated_at >= ?".into());
            params.push(since.as_str().into());
            if let Some(Cursor::Change(at, row)) = &plan.after {
                wheres.push("(c.updated_at, c.search_rowid) > (?, ?)".into());
                params.push(at.as_str().into());
                params.push((*row).into());
            }
            "c.updated_at, c.search_rowid".to_string()
        }
        None => {
            if let Some(Cursor::Row(row)) = &plan.after {
                wheres.push(format!("{row_column} < ?"));
                params.push((*row).into());
            }
            format!("{row_column} DESC")
        }
    };
    params.push((plan.limit as i64 + 1).into());
    let sql = format!(
        "SELECT {CONTACT_COLUMNS} FROM {from} WHERE {} ORDER BY {order} LIMIT ?",
        wheres.join(" AND ")
    );
    (sql, params)
}
