//! Leaf component: consent decisions, exported as
//! `crm:consent/decisions@0.1.0`. Every check reads the purpose catalogue,
//! the do-not-contact entries and the consent records afresh, so a
//! withdrawal is effective for the very next check; only the database
//! connection is kept, for the rest of the caller's request.

use std::cell::OnceCell;

use crm_component_support::open_db;
use spin_sdk::sqlite::Connection;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/consent-core",
    generate_all,
});

use crm::types::types::Channel;
use exports::crm::consent::decisions::{Decision, Guest};

crm_component_support::channel_names!(Channel);

thread_local! {
    /// This instance's connection: an instance lives for one request of the
    /// component that imports this leaf.
    static DB: OnceCell<Connection> = const { OnceCell::new() };
}

struct ConsentCore;

impl Guest for ConsentCore {
    fn check(
        contact: String,
        purpose: String,
        channel: Channel,
        at: i64,
    ) -> Result<Decision, String> {
        // Counter, video, social and field visits carry no consent.
        let channel = crm_consent::Channel::parse(channel_name(channel)).ok();
        DB.with(|cell| {
            let db = match cell.get() {
                Some(db) => db,
                None => {
                    let db = open_db().map_err(|p| p.detail)?;
                    cell.get_or_init(|| db)
                }
            };
            let decision = crm_consent_store::check(db, &contact, &purpose, channel, at)
                .map_err(|e| e.to_string())?;
            Ok(Decision {
                permitted: decision.permitted,
                consent_id: decision.consent_id.map(|id| id.to_string()),
                reason: decision.reason.code(),
            })
        })
    }
}

export!(ConsentCore);
