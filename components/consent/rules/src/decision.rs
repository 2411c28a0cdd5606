//! The consent check: may this contact be processed or contacted for this
//! purpose over this channel at this time?
//!
//! The rule, in order:
//! 1. Suppression: if the purpose contacts the person (category `service` or
//!    `direct-communication`) and an active do-not-contact entry covers the
//!    contact and channel, deny with `suppressed`, whatever the lawful basis
//!    or consent. A do-not-contact entry is about the channel (the person
//!    asked, the address bounces, contact is unsafe), so no basis overrides
//!    it; a message the law requires goes by another channel. `research`
//!    purposes contact nobody, so suppression does not bear on them.
//! 2. A purpose whose lawful basis is not consent is permitted without a
//!    consent record: `lawful-basis:<basis>`. Records for it (from a time its
//!    basis was consent) do not bear on it.
//! 3. Otherwise the ruling record (the newest non-superseded one for the
//!    subject, purpose and channel) decides: none is `no-consent`; a refusal
//!    is `refused`; a withdrawal at or before `at` is `withdrawn`; validity is
//!    half-open, so `at` before `given_at` is `not-yet-valid`, `at` at or after
//!    `valid_until` is `expired`, and anything in between is `consent-given`.

use std::fmt;

use crate::catalogue::{LawfulBasis, Purpose};
use crate::consent::{Channel, Window};
use crate::record::{ConsentRecord, Standing, ruling_record};
use crate::suppression::{Suppression, active_suppression};
use crate::text::RecordId;
use crm_domain::ContactId;

/// Why a check was answered the way it was; see [`Reason::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    ConsentGiven,
    NoConsent,
    Refused,
    Withdrawn,
    Expired,
    NotYetValid,
    Suppressed,
    LawfulBasis(LawfulBasis),
    /// The purpose is not in the catalogue.
    UnknownPurpose,
    /// The channel is not one consent is given for (a counter visit, a
    /// video call, social media, a field visit).
    UnsupportedChannel,
}

impl Reason {
    /// The stable code callers see: `consent-given`, `no-consent`, `refused`,
    /// `withdrawn`, `expired`, `not-yet-valid`, `suppressed`,
    /// `lawful-basis:<basis>`, `unknown-purpose` or `unsupported-channel`.
    pub fn code(self) -> String {
        let code = match self {
            Self::ConsentGiven => "consent-given",
            Self::NoConsent => "no-consent",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::Suppressed => "suppressed",
            Self::UnknownPurpose => "unknown-purpose",
            Self::UnsupportedChannel => "unsupported-channel",
            Self::LawfulBasis(basis) => return format!("lawful-basis:{basis}"),
        };
        code.to_owned()
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// The answer to a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub permitted: bool,
    /// The consent record the answer rests on, if any.
    pub consent_id: Option<RecordId>,
    pub reason: Reason,
}

impl Decision {
    /// The answer to a check that names a purpose outside the catalogue or a
    /// channel consent is not given for: [`decide`] cannot be asked.
    pub fn unanswerable(reason: Reason) -> Self {
        Self::deny(reason, None)
    }

    fn deny(reason: Reason, record: Option<&ConsentRecord>) -> Self {
        Self {
            permitted: false,
            consent_id: record.map(|r| r.id.clone()),
            reason,
        }
    }
}

/// Answers a check by the rule in this module's documentation. `records` and
/// `suppressions` may hold other contacts' and channels' entries; only those
/// for `contact` (and `purpose`, `channel`) count.
pub fn decide(
    contact: &ContactId,
    purpose: &Purpose,
    channel: Channel,
    records: &[ConsentRecord],
    suppressions: &[Suppression],
    at_ms: i64,
) -> Decision {
    if purpose.category().contacts_person()
        && active_suppression(suppressions, contact, channel, at_ms).is_some()
    {
        return Decision::deny(Reason::Suppressed, None);
    }
    if purpose.lawful_basis() != LawfulBasis::Consent {
        return Decision {
            permitted: true,
            consent_id: None,
            reason: Reason::LawfulBasis(purpose.lawful_basis()),
        };
    }
    let Some(record) = ruling_record(records, contact, purpose.id(), channel) else {
        return Decision::deny(Reason::NoConsent, None);
    };
    let reason = match record.standing_at(at_ms) {
        Standing::Given if record.consent.validity.window(at_ms) == Window::Before => {
            Reason::NotYetValid
        }
        Standing::Given => {
            return Decision {
                permitted: true,
                consent_id: Some(record.id.clone()),
                reason: Reason::ConsentGiven,
            };
        }
        Standing::Refused => Reason::Refused,
        Standing::Withdrawn => Reason::Withdrawn,
        Standing::Expired => Reason::Expired,
    };
    Decision::deny(reason, Some(record))
}
