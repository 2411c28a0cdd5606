//! Consent request bodies for tests of components that need a consent on
//! record (contacts, interactions, notification), in the consent API's shape.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Milliseconds since the Unix epoch, as the consent API counts time.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// A decision (`given` or `refused`) taken now by phone by `officer_id`,
/// who must be the caller recording it.
pub fn decision(
    contact: &str,
    purpose: &str,
    channel: &str,
    decision: &str,
    officer_id: &str,
) -> Value {
    json!({
        "contact_id": contact,
        "purpose": purpose,
        "data_categories": ["contact-details"],
        "channel": channel,
        "decision": decision,
        "notice_id": "general",
        "notice_version": 1,
        "collection": {"method": "phone-call", "call_reference": "CALL-TEST", "officer_id": officer_id},
        "given_at": now_ms(),
    })
}

/// A withdrawal by phone (`POST /api/consents/withdrawals`).
pub fn withdrawal(contact: &str, purpose: &str, channel: &str) -> Value {
    json!({"contact_id": contact, "purpose": purpose, "channel": channel, "via": "phone"})
}

/// A consent-based direct-communication purpose for the catalogue
/// (`POST /api/consents/purposes`, administrators).
pub fn direct_purpose(id: &str) -> Value {
    json!({"id": id, "category": "direct-communication", "lawful_basis": "consent", "description": format!("Test purpose {id}")})
}
