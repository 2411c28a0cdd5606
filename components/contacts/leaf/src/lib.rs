//! Leaf component: how to reach a contact, exported as
//! `crm:contacts/directory@0.1.0` and read from the records `contact-intake`
//! keeps. A merged contact answers as its survivor, and a survivor names
//! the contacts merged into it. It imports only Spin's SQLite (a leaf cannot
//! call another `crm:*` interface), so it records no audit entry:
//! authorising and auditing a lookup is the caller's.

use std::cell::RefCell;

use contacts_rules::ContactFields;
use crm_component_support::{migrating_on_failure, query, text};
use crm_http::Problem;
use spin_sdk::sqlite::{Connection, QueryResult, Value};

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/contacts-leaf",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

use crm_component_support::wit::{RequestContext, parse_channel};
use exports::crm::contacts::directory::{Guest, Reach};

/// Merges chain (a survivor merged again); a longer chain is a fault.
const MAX_MERGE_HOPS: usize = 16;

thread_local! {
    /// The instance's connection, kept across calls of one request.
    static DB: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// Runs `op` on the instance's connection. The calling component has
/// almost always brought the schema up to date, so it is only checked
/// when `op` fails (reads only: running one again is harmless).
fn with_db<T>(op: impl Fn(&Connection) -> Result<T, Problem>) -> Result<T, String> {
    DB.with(|slot| {
        let mut slot = slot.borrow_mut();
        let db = match slot.take() {
            Some(db) => db,
            None => Connection::open_default().map_err(|e| format!("opening the database: {e}"))?,
        };
        let (db, answer) = migrating_on_failure(db, |_| true, op).map_err(|p| p.detail)?;
        *slot = Some(db);
        answer.map_err(|p| p.detail)
    })
}

/// `contact_id`'s survivor (itself if it was never merged) with `columns`
/// of its row, or none for an unknown id.
fn survivor(
    db: &Connection,
    contact_id: &str,
    columns: &str,
) -> Result<Option<(String, QueryResult)>, Problem> {
    let mut id = contact_id.to_string();
    for _ in 0..MAX_MERGE_HOPS {
        let found = query(
            db,
            &format!("SELECT merged_into{columns} FROM contacts WHERE id = ?"),
            &[Value::Text(id.clone())],
        )?;
        let Some(row) = found.rows.first() else {
            return Ok(None);
        };
        match text(&row.values[0]) {
            Some(next) => id = next,
            None => return Ok(Some((id, found))),
        }
    }
    Err(Problem::internal(format!(
        "contact {contact_id}: more than {MAX_MERGE_HOPS} merges chained"
    )))
}

struct ContactsCore;

impl Guest for ContactsCore {
    fn lookup(_context: RequestContext, contact_id: String) -> Result<Option<Reach>, String> {
        with_db(|db| {
            let Some((id, found)) = survivor(db, &contact_id, ", record")? else {
                return Ok(None);
            };
            let record = text(&found.rows[0].values[1]).unwrap_or_default();
            let fields: ContactFields = serde_json::from_str(&record).map_err(|e| {
                Problem::internal(format!("contact {id} has an unreadable record: {e}"))
            })?;
            let reach = contacts_rules::reach::reach(&fields);
            Ok(Some(Reach {
                contact_id: id,
                display_name: reach.display_name,
                emails: reach.emails,
                phones: reach.phones,
                postal_address: reach.postal_address,
                preferred_channel: reach.preferred_channel.as_deref().and_then(parse_channel),
                language: reach.language,
                accessibility: reach.accessibility,
            }))
        })
    }

    fn merge_family(_context: RequestContext, contact_id: String) -> Result<Vec<String>, String> {
        with_db(|db| {
            let Some((survivor, _)) = survivor(db, &contact_id, "")? else {
                return Ok(Vec::new());
            };
            let merged = query(
                db,
                "WITH RECURSIVE merged (id, hops) AS ( \
                     SELECT id, 1 FROM contacts WHERE merged_into = ? \
                     UNION SELECT c.id, m.hops + 1 FROM contacts c JOIN merged m ON c.merged_into = m.id \
                     WHERE m.hops < ? \
                 ) SELECT id FROM merged ORDER BY id",
                &[
                    Value::Text(survivor.clone()),
                    Value::Integer(MAX_MERGE_HOPS as i64),
                ],
            )?;
            Ok(std::iter::once(survivor)
                .chain(merged.rows.iter().filter_map(|row| text(&row.values[0])))
                .collect())
        })
    }
}

export!(ContactsCore);
