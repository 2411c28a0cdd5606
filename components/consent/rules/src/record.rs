//! Stored consent records and their status over time. A record is never
//! changed: it gains events (withdrawn, superseded, ...) and a change of mind
//! is a new record that supersedes it.

use serde::Serialize;

use crate::catalogue::PurposeId;
use crate::consent::{Channel, ConsentDecision, NewConsent, Window};
use crate::events::{ConsentEvent, EventKind};
use crate::text::RecordId;
use crm_domain::ContactId;

/// One stored decision with its event list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentRecord {
    pub id: RecordId,
    /// When the system stored it (not when the person decided).
    pub recorded_at_ms: i64,
    /// The record this one replaced.
    pub supersedes: Option<RecordId>,
    pub consent: NewConsent,
    /// In the order appended.
    pub events: Vec<ConsentEvent>,
}

crm_domain::vocabulary!(
    /// A record's status at some moment.
    Status {
        Given => "given",
        Refused => "refused",
        Withdrawn => "withdrawn",
        Expired => "expired",
        Superseded => "superseded",
    }
);

/// A record's status from its own decision and events, leaving aside whether
/// a newer record superseded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    Given,
    Refused,
    Withdrawn,
    Expired,
}

impl From<Standing> for Status {
    fn from(standing: Standing) -> Self {
        match standing {
            Standing::Given => Self::Given,
            Standing::Refused => Self::Refused,
            Standing::Withdrawn => Self::Withdrawn,
            Standing::Expired => Self::Expired,
        }
    }
}

impl ConsentRecord {
    /// Whether the record is about this subject, purpose and channel.
    pub fn is_for(&self, contact: &ContactId, purpose: &PurposeId, channel: Channel) -> bool {
        self.consent.subject == *contact
            && self.consent.purpose == *purpose
            && self.consent.channel == channel
    }

    /// When it was withdrawn (the first withdrawal; later ones change nothing).
    pub fn withdrawn_at_ms(&self) -> Option<i64> {
        self.events
            .iter()
            .filter(|e| e.kind == EventKind::Withdrawn)
            .map(|e| e.at_ms)
            .min()
    }

    /// The person's latest decision on this record: when they gave or refused
    /// it, or withdrew it.
    pub(crate) fn last_decided_at_ms(&self) -> i64 {
        let given_at = self.consent.validity.given_at_ms();
        self.withdrawn_at_ms().map_or(given_at, |w| w.max(given_at))
    }

    pub(crate) fn standing_at(&self, at_ms: i64) -> Standing {
        if self.consent.decision == ConsentDecision::Refused {
            return Standing::Refused;
        }
        let validity = &self.consent.validity;
        match self.withdrawn_at_ms().filter(|w| *w <= at_ms) {
            // It ran out before (or as) it was withdrawn: expiry came first.
            Some(w) if validity.valid_until_ms().is_some_and(|until| until <= w) => {
                Standing::Expired
            }
            Some(_) => Standing::Withdrawn,
            None if validity.window(at_ms) == Window::After => Standing::Expired,
            None => Standing::Given,
        }
    }
}

/// The status of `record` at `at_ms`. `later_records` are the subject's other
/// records; only one that names `record` in `supersedes` and was stored by
/// `at_ms` matters. A given record stays `given` before its validity starts
/// ([`crate::decide`] reports that as `not-yet-valid`).
pub fn status_at(record: &ConsentRecord, later_records: &[ConsentRecord], at_ms: i64) -> Status {
    let superseded = later_records
        .iter()
        .any(|r| r.supersedes.as_ref() == Some(&record.id) && r.recorded_at_ms <= at_ms);
    if superseded {
        Status::Superseded
    } else {
        record.standing_at(at_ms).into()
    }
}

/// The records no other record supersedes, in the order given: a contact's
/// current consents when `records` are all of theirs.
pub fn current_records(records: &[ConsentRecord]) -> Vec<&ConsentRecord> {
    records
        .iter()
        .filter(|r| !records.iter().any(|o| o.supersedes.as_ref() == Some(&r.id)))
        .collect()
}

/// The record that rules for a subject, purpose and channel: the newest (by
/// `recorded_at_ms`; on a tie, the later in `records`) that no record
/// supersedes.
pub fn ruling_record<'a>(
    records: &'a [ConsentRecord],
    contact: &ContactId,
    purpose: &PurposeId,
    channel: Channel,
) -> Option<&'a ConsentRecord> {
    current_records(records)
        .into_iter()
        .filter(|r| r.is_for(contact, purpose, channel))
        .max_by_key(|r| r.recorded_at_ms)
}
