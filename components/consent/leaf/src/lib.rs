//! Leaf component: consent decisions, exported as
//! `crm:consent/decisions@0.1.0`. Every check reads the purpose catalogue,
//! the do-not-contact entries and the consent records afresh, in one
//! statement (`consent-store`'s), so a withdrawal is effective for the very
//! next check; only the database connection is kept, for the rest of the
//! caller's request.

use std::cell::RefCell;

use consent_store::CheckError;
use crm_component_support::migrating_on_failure;
use spin_sdk::sqlite::Connection;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/consent-leaf",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

use crm_component_support::wit::{Channel, channel_name};
use exports::crm::consent::decisions::{Decision, Guest};

thread_local! {
    /// This instance's connection: an instance lives for one request of the
    /// component that imports this leaf.
    static DB: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// Answers a check on this instance's connection; the schema is brought up
/// to date only if a check fails.
fn check(
    contact: &str,
    purpose: &str,
    channel: Option<consent_rules::Channel>,
    at: i64,
) -> Result<consent_rules::Decision, String> {
    DB.with_borrow_mut(|slot| {
        let db = match slot.take() {
            Some(db) => db,
            None => Connection::open_default().map_err(|e| format!("opening the database: {e}"))?,
        };
        let (db, answer) = migrating_on_failure(
            db,
            |e| matches!(e, CheckError::Store(_)),
            |db| consent_store::check(db, contact, purpose, channel, at),
        )
        .map_err(|p| p.detail)?;
        *slot = Some(db);
        answer.map_err(CheckError::detail)
    })
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
        let channel = consent_rules::Channel::parse(channel_name(channel)).ok();
        let decision = check(&contact, &purpose, channel, at)?;
        Ok(Decision {
            permitted: decision.permitted,
            consent_id: decision.consent_id.map(|id| id.to_string()),
            reason: decision.reason.code(),
        })
    }
}

export!(ConsentCore);
