//! Per-channel do-not-contact entries. Which checks they block is decided in
//! [`crate::decide`]: every purpose that contacts the person.

use crm_domain::Invalid;
use serde::Serialize;

use crate::consent::Channel;
use crm_domain::ContactId;

crm_domain::vocabulary!(
    /// Why a channel is not to be used for a contact.
    SuppressionReason {
        /// The person asked not to be contacted this way.
        RequestedByPerson => "requested-by-person",
        /// Messages do not arrive (hard bounce, returned mail, dead number).
        Undeliverable => "undeliverable",
        /// The person complained about a message (for example, marked it spam).
        Complaint => "complaint",
        Deceased => "deceased",
        /// Contact this way could put the person at risk (for example, a
        /// shared address or phone in a family violence situation).
        SafetyRisk => "safety-risk",
    }
);

/// Do not contact `contact_id` over `channel` from `since_ms` until, not
/// including, `until_ms` (or indefinitely).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    contact_id: ContactId,
    channel: Channel,
    reason: SuppressionReason,
    since_ms: i64,
    until_ms: Option<i64>,
}

impl Suppression {
    pub fn new(
        contact_id: ContactId,
        channel: Channel,
        reason: SuppressionReason,
        since_ms: i64,
        until_ms: Option<i64>,
    ) -> Result<Self, Invalid> {
        if until_ms.is_some_and(|until| until <= since_ms) {
            return Err(Invalid("until must be after since".into()));
        }
        Ok(Self {
            contact_id,
            channel,
            reason,
            since_ms,
            until_ms,
        })
    }

    pub fn contact_id(&self) -> &ContactId {
        &self.contact_id
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    pub fn reason(&self) -> SuppressionReason {
        self.reason
    }

    pub fn since_ms(&self) -> i64 {
        self.since_ms
    }

    pub fn until_ms(&self) -> Option<i64> {
        self.until_ms
    }

    /// Whether it applies at `at_ms`: within [since, until).
    pub fn is_active_at(&self, at_ms: i64) -> bool {
        self.since_ms <= at_ms && self.until_ms.is_none_or(|until| at_ms < until)
    }
}

/// The first entry that suppresses `channel` for `contact` at `at_ms`.
pub fn active_suppression<'a>(
    suppressions: &'a [Suppression],
    contact: &ContactId,
    channel: Channel,
    at_ms: i64,
) -> Option<&'a Suppression> {
    suppressions
        .iter()
        .find(|s| s.contact_id == *contact && s.channel == channel && s.is_active_at(at_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str) -> ContactId {
        ContactId::parse(id).unwrap()
    }

    #[test]
    fn active_within_since_until_half_open() {
        let s = Suppression::new(
            contact("c1"),
            Channel::Sms,
            SuppressionReason::Undeliverable,
            100,
            Some(200),
        )
        .unwrap();
        assert!(!s.is_active_at(99));
        assert!(s.is_active_at(100));
        assert!(s.is_active_at(199));
        assert!(!s.is_active_at(200));
        let open = Suppression::new(
            contact("c1"),
            Channel::Sms,
            SuppressionReason::RequestedByPerson,
            100,
            None,
        )
        .unwrap();
        assert!(open.is_active_at(i64::MAX));
    }

    #[test]
    fn until_must_follow_since() {
        for until in [100, 50] {
            assert!(
                Suppression::new(
                    contact("c1"),
                    Channel::Email,
                    SuppressionReason::Complaint,
                    100,
                    Some(until)
                )
                .is_err()
            );
        }
    }

    #[test]
    fn matches_contact_and_channel() {
        let list = [
            Suppression::new(
                contact("c1"),
                Channel::Email,
                SuppressionReason::Deceased,
                0,
                None,
            )
            .unwrap(),
            Suppression::new(
                contact("c2"),
                Channel::Sms,
                SuppressionReason::SafetyRisk,
                0,
                None,
            )
            .unwrap(),
        ];
        assert!(active_suppression(&list, &contact("c1"), Channel::Email, 5).is_some());
        assert!(active_suppression(&list, &contact("c1"), Channel::Sms, 5).is_none());
        assert!(active_suppression(&list, &contact("c2"), Channel::Email, 5).is_none());
        assert_eq!(
            active_suppression(&list, &contact("c2"), Channel::Sms, 5).map(Suppression::reason),
            Some(SuppressionReason::SafetyRisk)
        );
    }
}
