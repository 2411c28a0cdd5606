//! What the consent component tells other components through the shared
//! outbox (`outbox_events`), written in the same transaction as the change.

use serde::{Deserialize, Serialize};

use crate::events::Via;
use crate::record::ConsentRecord;

/// The topic of [`ConsentWithdrawn`] events.
pub const CONSENT_WITHDRAWN: &str = "consent.withdrawn";

/// Consent that was in force for a contact, purpose and channel no longer
/// is: it was withdrawn (by the person in the portal, by an officer for them,
/// or by a one-click link) or a refusal superseded it. Consumers stop what
/// waited on it, such as queued notifications. The event's `aggregate_id` is
/// `consent_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentWithdrawn {
    pub contact_id: String,
    pub purpose: String,
    pub channel: String,
    /// The record whose consent ended.
    pub consent_id: String,
    /// When it ended, ms since the Unix epoch.
    pub at: i64,
    /// Through what: `portal`, `phone`, `one-click-link`, ...
    pub via: String,
}

impl ConsentWithdrawn {
    pub fn new(record: &ConsentRecord, at_ms: i64, via: Via) -> Self {
        let consent = &record.consent;
        Self {
            contact_id: consent.subject.to_string(),
            purpose: consent.purpose.to_string(),
            channel: consent.channel.to_string(),
            consent_id: record.id.to_string(),
            at: at_ms,
            via: via.to_string(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events serialise")
    }
}
