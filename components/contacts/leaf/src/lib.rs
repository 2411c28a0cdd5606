//! Leaf component: how to reach a contact, exported as
//! `crm:contacts/directory@0.1.0` and read (through `contacts-store`) from
//! the records `contact-intake` keeps. A merged contact answers as its
//! survivor, and a survivor names the contacts merged into it. It imports
//! only Spin's SQLite (a leaf cannot call another `crm:*` interface), so it
//! records no audit entry: authorising and auditing a lookup is the
//! caller's.

use std::cell::RefCell;

use crm_component_support::migrating_on_failure;
use crm_http::Problem;
use spin_sdk::sqlite::Connection;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/contacts-leaf",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

use crm_component_support::wit::{RequestContext, parse_channel};
use exports::crm::contacts::directory::{Guest, Reach};

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

struct ContactsCore;

impl Guest for ContactsCore {
    fn lookup(_context: RequestContext, contact_id: String) -> Result<Option<Reach>, String> {
        with_db(|db| {
            let Some(survivor) = contacts_store::resolve(db, &contact_id)? else {
                return Ok(None);
            };
            let reach = contacts_rules::reach::reach(&survivor.fields);
            Ok(Some(Reach {
                contact_id: survivor.id,
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
        with_db(|db| Ok(contacts_store::merge_family(db, &contact_id)?))
    }
}

export!(ContactsCore);
