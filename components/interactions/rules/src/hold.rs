//! Placing and lifting legal holds (disposal freezes), as callers ask for
//! them. What a hold does is in [`crate::disposal`]: while one is in force
//! on a contact, or on a case an interaction was ever linked to, that
//! interaction cannot be disposed of.

use crm_domain::FieldError;
use serde::Deserialize;

use crate::disposal::HoldScope;
use crate::field_errors::FieldErrors;
use crate::values::{CaseRef, ContactId, Reason};

/// A hold as a caller asks for it: exactly one of `contact_id` and
/// `case_reference`, and why.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLegalHold {
    pub contact_id: Option<String>,
    pub case_reference: Option<String>,
    pub reason: Option<String>,
}

/// A validated hold to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLegalHold {
    pub scope: HoldScope,
    pub reason: Reason,
}

impl NewLegalHold {
    pub fn parse(raw: &RawLegalHold) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let scope = match (&raw.contact_id, &raw.case_reference) {
            (Some(contact), None) => errors
                .check("contact_id", ContactId::parse(contact))
                .map(HoldScope::Contact),
            (None, Some(case)) => errors
                .check("case_reference", CaseRef::parse(case))
                .map(HoldScope::Case),
            _ => {
                errors.push(
                    "scope",
                    "must name exactly one of contact_id and case_reference",
                );
                None
            }
        };
        let reason = errors
            .required("reason", &raw.reason)
            .and_then(|r| errors.check("reason", Reason::parse(r)));
        errors.finish(|| {
            Some(Self {
                scope: scope?,
                reason: reason?,
            })
        })
    }
}

/// Why a hold is lifted, as a caller sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHoldLift {
    pub reason: Option<String>,
}

impl RawHoldLift {
    pub fn parse(&self) -> Result<Reason, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let reason = errors
            .required("reason", &self.reason)
            .and_then(|r| errors.check("reason", Reason::parse(r)));
        errors.finish(|| reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_hold_names_a_contact_or_a_case() {
        let on_contact = NewLegalHold::parse(&RawLegalHold {
            contact_id: Some("con_1".into()),
            reason: Some("Litigation notice".into()),
            ..RawLegalHold::default()
        })
        .unwrap();
        assert_eq!(
            on_contact.scope,
            HoldScope::Contact(ContactId::parse("con_1").unwrap())
        );
        let on_case = NewLegalHold::parse(&RawLegalHold {
            case_reference: Some("case-2026-7".into()),
            reason: Some("FOI request".into()),
            ..RawLegalHold::default()
        })
        .unwrap();
        assert_eq!(
            on_case.scope,
            HoldScope::Case(CaseRef::parse("CASE-2026-7").unwrap())
        );
    }

    #[test]
    fn neither_or_both_scopes_and_a_missing_reason_are_refused() {
        let neither = NewLegalHold::parse(&RawLegalHold::default()).unwrap_err();
        assert_eq!(fields(&neither), ["scope", "reason"]);
        let both = NewLegalHold::parse(&RawLegalHold {
            contact_id: Some("con_1".into()),
            case_reference: Some("CASE-2026-7".into()),
            reason: Some("x".into()),
        })
        .unwrap_err();
        assert_eq!(fields(&both), ["scope"]);
        let bad = NewLegalHold::parse(&RawLegalHold {
            case_reference: Some("7".into()),
            reason: Some(" ".into()),
            ..RawLegalHold::default()
        })
        .unwrap_err();
        assert_eq!(fields(&bad), ["case_reference", "reason"]);
    }

    #[test]
    fn a_lift_says_why() {
        assert_eq!(
            RawHoldLift {
                reason: Some(" Matter settled ".into())
            }
            .parse()
            .unwrap()
            .as_str(),
            "Matter settled"
        );
        assert_eq!(
            fields(&RawHoldLift::default().parse().unwrap_err()),
            ["reason"]
        );
    }
}
