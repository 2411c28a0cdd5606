//! Leaf component: consent decisions, exported as
//! `crm:consent/decisions@0.1.0`. Every check reads the system of record, so
//! a withdrawal is effective for the very next check.

use crm_component_support::{integer, open_db, query, text};
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/consent-core",
    generate_all,
});

use crm::types::types::Channel;
use exports::crm::consent::decisions::{Decision, Guest};

crm_component_support::channel_names!(Channel);

struct ConsentCore;

impl Guest for ConsentCore {
    fn check(
        contact: String,
        purpose: String,
        channel: Channel,
        at: i64,
    ) -> Result<Decision, String> {
        let db = open_db().map_err(|p| p.detail)?;
        let latest = query(
            &db,
            "SELECT id, decision, expires_at FROM consents
             WHERE contact_id = ? AND purpose = ? AND channel = ? AND recorded_at <= ?
             ORDER BY recorded_at DESC, rowid DESC LIMIT 1",
            &[
                Value::Text(contact),
                Value::Text(purpose),
                Value::Text(channel_name(channel).to_string()),
                Value::Integer(at),
            ],
        )
        .map_err(|p| p.detail)?;
        let Some(row) = latest.rows.first() else {
            return Ok(Decision {
                permitted: false,
                consent_id: None,
                reason: "no-consent".into(),
            });
        };
        let consent_id = text(&row.values[0]);
        let decision = text(&row.values[1]).unwrap_or_default();
        let expired = integer(&row.values[2]).is_some_and(|expires_at| expires_at <= at);
        let (permitted, reason) = match decision.as_str() {
            "given" if expired => (false, "expired"),
            "given" => (true, "consent-given"),
            "withdrawn" => (false, "withdrawn"),
            _ => (false, "refused"),
        };
        Ok(Decision {
            permitted,
            consent_id,
            reason: reason.into(),
        })
    }
}

export!(ConsentCore);
