//! Leaf component: how to reach a contact, exported as
//! `crm:contacts/directory@0.1.0` and read from the records `contact-intake`
//! keeps. A merged contact answers as its survivor, and a survivor names
//! the contacts merged into it. It imports only Spin's
//! SQLite (a leaf cannot call another `crm:*` interface), so it records no
//! audit entry: authorising and auditing a lookup is the caller's.

use crm_component_support::{open_db, query, text};
use crm_contacts::ContactFields;
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/contacts-core",
    generate_all,
});

use crm::types::types::{Channel, RequestContext};
use exports::crm::contacts::directory::{Guest, Reach};

crm_component_support::channel_names!(Channel);

/// Merges chain (a survivor merged again); a longer chain is a fault.
const MAX_MERGE_HOPS: usize = 16;

struct ContactsCore;

impl Guest for ContactsCore {
    fn lookup(_context: RequestContext, contact_id: String) -> Result<Option<Reach>, String> {
        let db = open_db().map_err(|p| p.detail)?;
        let mut id = contact_id;
        for _ in 0..MAX_MERGE_HOPS {
            let found = query(
                &db,
                "SELECT record, merged_into FROM contacts WHERE id = ?",
                &[Value::Text(id.clone())],
            )
            .map_err(|p| p.detail)?;
            let Some(row) = found.rows.first() else {
                return Ok(None);
            };
            if let Some(survivor) = text(&row.values[1]) {
                id = survivor;
                continue;
            }
            let record = text(&row.values[0]).unwrap_or_default();
            let fields: ContactFields = serde_json::from_str(&record)
                .map_err(|e| format!("contact {id} has an unreadable record: {e}"))?;
            let reach = crm_contacts::reach::reach(&fields);
            return Ok(Some(Reach {
                contact_id: id,
                display_name: reach.display_name,
                emails: reach.emails,
                phones: reach.phones,
                postal_address: reach.postal_address,
                preferred_channel: reach.preferred_channel.as_deref().and_then(parse_channel),
                language: reach.language,
                accessibility: reach.accessibility,
            }));
        }
        Err(format!(
            "contact {id}: more than {MAX_MERGE_HOPS} merges chained"
        ))
    }

    fn merged_into(_context: RequestContext, contact_id: String) -> Result<Vec<String>, String> {
        let db = open_db().map_err(|p| p.detail)?;
        let merged = query(
            &db,
            "WITH RECURSIVE merged (id, hops) AS ( \
                 SELECT id, 1 FROM contacts WHERE merged_into = ? \
                 UNION SELECT c.id, m.hops + 1 FROM contacts c JOIN merged m ON c.merged_into = m.id \
                 WHERE m.hops < ? \
             ) SELECT id FROM merged ORDER BY id",
            &[
                Value::Text(contact_id),
                Value::Integer(MAX_MERGE_HOPS as i64),
            ],
        )
        .map_err(|p| p.detail)?;
        Ok(merged
            .rows
            .iter()
            .filter_map(|row| text(&row.values[0]))
            .collect())
    }
}

export!(ContactsCore);
