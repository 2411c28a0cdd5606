//! TEMPORARY stand-in leaf, written on the notification branch so that its
//! tests have a `crm:contacts/directory` to call: it reads the 0001
//! placeholder `contacts` table (id, display_name, email) and knows nothing
//! else. The contacts branch's `contacts-core` replaces this crate whole.

use crm_component_support::{open_db, query, text};
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/contacts-core",
    generate_all,
});

use crm::types::types::{Channel, RequestContext};
use exports::crm::contacts::directory::{Guest, Reach};

struct ContactsCore;

impl Guest for ContactsCore {
    fn lookup(_context: RequestContext, contact_id: String) -> Result<Option<Reach>, String> {
        let db = open_db().map_err(|p| p.detail)?;
        let found = query(
            &db,
            "SELECT id, display_name, email FROM contacts WHERE id = ?",
            &[Value::Text(contact_id)],
        )
        .map_err(|p| p.detail)?;
        Ok(found.rows.first().map(|row| {
            let email = text(&row.values[2]);
            Reach {
                contact_id: text(&row.values[0]).unwrap_or_default(),
                display_name: text(&row.values[1]).unwrap_or_default(),
                preferred_channel: email.as_ref().map(|_| Channel::Email),
                emails: email.into_iter().collect(),
                phones: Vec::new(),
                postal_address: Vec::new(),
                language: None,
                accessibility: Vec::new(),
            }
        }))
    }
}

export!(ContactsCore);
