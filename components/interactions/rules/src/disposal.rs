//! Disposal under a records authority (Archives Act 1983): never a hard
//! delete. An administrator records a disposal entry citing the authority
//! class and a reason; the interaction's content and that of its amendments
//! is then replaced by a tombstone naming that entry. Its facts and every
//! hash stay, so the chain still verifies. A legal hold (disposal freeze) on
//! the contact, or on any case the interaction was ever linked to, refuses it.

use crm_domain::FieldError;
use crm_domain::Invalid;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::chain::{ChainTip, Entry, EntryBody, Retained, seal};
use crate::field_errors::FieldErrors;
use crate::interaction::InteractionFacts;
use crate::values::{CaseRef, ContactId, EntryId, HoldId, OfficerId, Reason};

/// The only role that may dispose of records.
pub const ADMINISTRATOR_ROLE: &str = "administrator";

/// A records authority and the class within it that permits destruction:
///
/// - `RDA 2018/00123456 class 1234`: an agency-specific records authority,
///   named by its job number (year, slash, 1 to 8 digits);
/// - `GRA 31 class 21284`: a general records authority, by number;
/// - `GDA 12 class 3`: a general disposal authority, by number.
///
/// Classes are 1 to 6 digits. Kind and the word `class` are case-insensitive
/// and spacing is free; the canonical form is as above.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AuthorityClass(String);

impl AuthorityClass {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits = |s: &str, max: usize| {
            (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        let tokens: Vec<&str> = raw.split_whitespace().collect();
        let [kind, number, word, class] = tokens.as_slice() else {
            return Err(authority_hint());
        };
        let kind = kind.to_ascii_uppercase();
        let number_ok = match kind.as_str() {
            "RDA" => number
                .split_once('/')
                .is_some_and(|(year, job)| year.len() == 4 && digits(year, 4) && digits(job, 8)),
            "GRA" | "GDA" => digits(number, 3),
            _ => false,
        };
        if !number_ok || !word.eq_ignore_ascii_case("class") || !digits(class, 6) {
            return Err(authority_hint());
        }
        Ok(Self(format!("{kind} {number} class {class}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn authority_hint() -> Invalid {
    Invalid(
        "must cite a records authority class, such as RDA 2018/00123456 class 1234, \
         GRA 31 class 21284 or GDA 12 class 3"
            .into(),
    )
}

/// What a disposal entry records; all of it is metadata, kept for good, so
/// the reason must not itself repeat the disposed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disposal {
    pub disposes: EntryId,
    pub authority_class: AuthorityClass,
    pub reason: Reason,
}

/// A disposal request as a caller sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisposal {
    pub authority_class: Option<String>,
    pub reason: Option<String>,
}

/// A validated request to dispose of an interaction, and who asks. Its time
/// is given to [`append_disposal`] by the store, read under its write lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisposalRequest {
    pub authority_class: AuthorityClass,
    pub reason: Reason,
    pub requested_by: OfficerId,
    /// The requester's role (the authenticated caller's).
    pub role: String,
}

impl DisposalRequest {
    pub fn parse(
        raw: &RawDisposal,
        requested_by: OfficerId,
        role: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let authority_class = errors
            .required("authority_class", &raw.authority_class)
            .and_then(|r| errors.check("authority_class", AuthorityClass::parse(r)));
        let reason = errors
            .required("reason", &raw.reason)
            .and_then(|r| errors.check("reason", Reason::parse(r)));
        errors.finish(|| {
            Some(Self {
                authority_class: authority_class?,
                reason: reason?,
                requested_by,
                role: role.to_string(),
            })
        })
    }
}

/// What a legal hold freezes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldScope {
    Contact(ContactId),
    Case(CaseRef),
}

/// A disposal freeze, placed at `placed_at_ms` and in force until lifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    pub id: HoldId,
    pub scope: HoldScope,
    pub placed_at_ms: i64,
    pub lifted_at_ms: Option<i64>,
}

impl LegalHold {
    /// Whether the hold freezes disposal. Its times do not decide it: the
    /// holds given are those recorded when the disposal holds the write
    /// lock, and a hold (or a lift) committed before then came first even if
    /// its request read a later clock than the disposal's.
    pub fn in_force(&self) -> bool {
        self.lifted_at_ms.is_none()
    }
}

/// Why a disposal is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DisposalRefused {
    #[error("only an administrator may dispose of records")]
    NotAdministrator,
    #[error("{0} is not an interaction; amendments are disposed of with their interaction")]
    NotAnInteraction(EntryId),
    #[error("{id} was already disposed of by {by}")]
    AlreadyDisposed { id: EntryId, by: EntryId },
    #[error("legal hold {hold} is in force")]
    UnderLegalHold { hold: HoldId },
    #[error("{0} is not an amendment of the interaction being disposed of")]
    UnrelatedAmendment(EntryId),
}

/// Whether `request` may dispose of `target` and its `amendments` (all of
/// them, in recorded order) given the `holds` on its contact and cases, as
/// recorded now.
/// The case references checked are the original's and every amended one, so
/// moving an interaction off a held case does not free it.
pub fn may_dispose(
    target: &Entry,
    amendments: &[Entry],
    holds: &[LegalHold],
    request: &DisposalRequest,
) -> Result<(), DisposalRefused> {
    if request.role != ADMINISTRATOR_ROLE {
        return Err(DisposalRefused::NotAdministrator);
    }
    let EntryBody::Interaction { facts, content } = &target.body else {
        return Err(DisposalRefused::NotAnInteraction(target.id.clone()));
    };
    if let Retained::Disposed { by } = content {
        return Err(DisposalRefused::AlreadyDisposed {
            id: target.id.clone(),
            by: by.clone(),
        });
    }
    let mut family = vec![&target.id];
    let mut cases: Vec<&CaseRef> = facts.case_ref.iter().collect();
    for amendment in amendments {
        match &amendment.body {
            EntryBody::Amendment { amends, patch } if family.contains(&amends) => {
                family.push(&amendment.id);
                if let Some(Some(case)) = patch.present().and_then(|p| p.case_ref.as_ref()) {
                    cases.push(case);
                }
            }
            _ => return Err(DisposalRefused::UnrelatedAmendment(amendment.id.clone())),
        }
    }
    let held = holds.iter().find(|hold| {
        hold.in_force()
            && match &hold.scope {
                HoldScope::Contact(contact) => *contact == target.contact_id,
                HoldScope::Case(case) => cases.contains(&case),
            }
    });
    match held {
        Some(hold) => Err(DisposalRefused::UnderLegalHold {
            hold: hold.id.clone(),
        }),
        None => Ok(()),
    }
}

/// Checks [`may_dispose`] and seals the disposal entry onto the chain,
/// recorded at `at_ms`. The caller then applies [`tombstone`] to the
/// interaction and its amendments.
pub fn append_disposal(
    tip: &ChainTip,
    id: EntryId,
    target: &Entry,
    amendments: &[Entry],
    holds: &[LegalHold],
    request: DisposalRequest,
    at_ms: i64,
) -> Result<Entry, DisposalRefused> {
    may_dispose(target, amendments, holds, &request)?;
    let body = EntryBody::Disposal(Disposal {
        disposes: target.id.clone(),
        authority_class: request.authority_class,
        reason: request.reason,
    });
    Ok(seal(tip, id, at_ms, request.requested_by, body))
}

/// Why content cannot be replaced by a tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TombstoneRefused {
    #[error("{0} is not a disposal entry")]
    NotADisposal(EntryId),
    #[error("{0} is neither the disposed interaction nor an amendment of it")]
    NotCovered(EntryId),
}

/// Replaces the content of the disposed interaction and of each of its
/// amendments in `family` with a tombstone naming `disposal`. In the store
/// this is the one update ever made: the content columns become NULL and
/// `disposed_by` is set; ids, facts and hashes are untouched.
pub fn tombstone(disposal: &Entry, family: &mut [Entry]) -> Result<(), TombstoneRefused> {
    let EntryBody::Disposal(Disposal { disposes, .. }) = &disposal.body else {
        return Err(TombstoneRefused::NotADisposal(disposal.id.clone()));
    };
    let mut covered = vec![disposes.clone()];
    for entry in family.iter() {
        let belongs = entry.contact_id == disposal.contact_id
            && match &entry.body {
                EntryBody::Interaction { .. } => entry.id == *disposes,
                EntryBody::Amendment { amends, .. } => covered.contains(amends),
                EntryBody::Disposal(_) => false,
            };
        if !belongs {
            return Err(TombstoneRefused::NotCovered(entry.id.clone()));
        }
        covered.push(entry.id.clone());
    }
    let by = disposal.id.clone();
    for entry in family.iter_mut() {
        match &mut entry.body {
            EntryBody::Interaction { content, .. } => {
                *content = Retained::Disposed { by: by.clone() };
            }
            EntryBody::Amendment { patch, .. } => *patch = Retained::Disposed { by: by.clone() },
            EntryBody::Disposal(_) => {}
        }
    }
    Ok(())
}

/// What the timeline shows in place of a disposed interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tombstone {
    pub id: EntryId,
    pub facts: InteractionFacts,
    pub disposed_by: EntryId,
    pub disposed_at_ms: i64,
    pub authority_class: AuthorityClass,
    pub reason: Reason,
}

impl Tombstone {
    /// `None` unless `entry` is an interaction disposed of by `disposal`.
    pub fn of(entry: &Entry, disposal: &Entry) -> Option<Self> {
        let (
            EntryBody::Interaction {
                facts,
                content: Retained::Disposed { by },
            },
            EntryBody::Disposal(d),
        ) = (&entry.body, &disposal.body)
        else {
            return None;
        };
        (*by == disposal.id && d.disposes == entry.id).then(|| Self {
            id: entry.id.clone(),
            facts: facts.clone(),
            disposed_by: disposal.id.clone(),
            disposed_at_ms: disposal.recorded_at_ms,
            authority_class: d.authority_class.clone(),
            reason: d.reason.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amendment::RawAmendment;
    use crate::chain::verify_chain;
    use crate::fixtures::{Log, T0, id, officer};

    fn hold(id: &str, scope: HoldScope, placed_at_ms: i64, lifted_at_ms: Option<i64>) -> LegalHold {
        LegalHold {
            id: HoldId::parse(id).unwrap(),
            scope,
            placed_at_ms,
            lifted_at_ms,
        }
    }

    fn case(text: &str) -> HoldScope {
        HoldScope::Case(CaseRef::parse(text).unwrap())
    }

    fn contact(text: &str) -> HoldScope {
        HoldScope::Contact(ContactId::parse(text).unwrap())
    }

    /// i1 is on CASE-2026-000123 (the fixture's) until a1 moves it to CASE-2026-9.
    fn log() -> Log {
        let mut log = Log::new("contact-1");
        log.record("i1", "2026-11-20T09:00:00+10:00", "Rent arrears call");
        log.record("i2", "2026-11-21T09:00:00+10:00", "Counter visit");
        log.amend(
            "a1",
            "i1",
            RawAmendment {
                reason: Some("Wrong case".into()),
                case_reference: Some(Some("CASE-2026-9".into())),
                ..RawAmendment::default()
            },
        );
        log
    }

    fn refusal(log: &mut Log, target: &str, holds: &[LegalHold], role: &str) -> DisposalRefused {
        log.dispose("d1", target, holds, role)
            .map(|_| ())
            .unwrap_err()
    }

    #[test]
    fn authority_classes_follow_the_documented_pattern() {
        for (raw, canonical) in [
            (
                "RDA 2018/00123456 class 1234",
                "RDA 2018/00123456 class 1234",
            ),
            ("  rda   2018/00123  CLASS 7 ", "RDA 2018/00123 class 7"),
            ("GRA 31 class 21284", "GRA 31 class 21284"),
            ("gda 12 Class 3", "GDA 12 class 3"),
        ] {
            assert_eq!(AuthorityClass::parse(raw).unwrap().as_str(), canonical);
        }
        for bad in [
            "",
            "RDA 2018/00123456",
            "RDA 18/00123 class 1",
            "RDA 2018/001234567 class 1",
            "RDA 2018/ class 1",
            "GRA 1234 class 1",
            "GRA 31 section 1",
            "GRA 31 class 1234567",
            "XYZ 31 class 1",
            "GRA 31 class 1 extra",
        ] {
            assert!(AuthorityClass::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_disposal_request_reports_both_fields() {
        let errors =
            DisposalRequest::parse(&RawDisposal::default(), officer("admin-1"), "administrator")
                .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["authority_class", "reason"]);
    }

    #[test]
    fn only_an_administrator_may_dispose() {
        let mut log = log();
        assert_eq!(
            refusal(&mut log, "i1", &[], "case-worker"),
            DisposalRefused::NotAdministrator
        );
        assert!(log.dispose("d1", "i1", &[], ADMINISTRATOR_ROLE).is_ok());
    }

    #[test]
    fn a_legal_hold_on_the_contact_refuses_disposal() {
        let mut log = log();
        let held = [hold("h1", contact("contact-1"), T0 - 1, None)];
        assert_eq!(
            refusal(&mut log, "i2", &held, ADMINISTRATOR_ROLE),
            DisposalRefused::UnderLegalHold {
                hold: HoldId::parse("h1").unwrap()
            }
        );
        // Nothing was written: the chain is as it was, content intact.
        assert_eq!(log.entries.len(), 3);
        assert_eq!(log.get("i2").disposed_by(), None);
        assert_eq!(verify_chain(&log.entries), Ok(3));
    }

    #[test]
    fn a_hold_on_any_case_the_interaction_was_ever_on_refuses_disposal() {
        let mut log = log();
        for case_ref in ["CASE-2026-000123", "CASE-2026-9"] {
            let held = [hold("h1", case(case_ref), T0, None)];
            assert!(
                matches!(
                    refusal(&mut log, "i1", &held, ADMINISTRATOR_ROLE),
                    DisposalRefused::UnderLegalHold { .. }
                ),
                "{case_ref}"
            );
        }
        let elsewhere = [
            hold("h1", case("CASE-2025-1"), T0, None),
            hold("h2", contact("contact-2"), T0, None),
        ];
        assert!(
            log.dispose("d1", "i1", &elsewhere, ADMINISTRATOR_ROLE)
                .is_ok()
        );
    }

    #[test]
    fn only_a_hold_in_force_refuses_disposal() {
        let mut log = log();
        let now = log.now();
        let lifted = [hold("lifted", contact("contact-1"), T0 - 10, Some(now))];
        assert!(log.dispose("d1", "i1", &lifted, ADMINISTRATOR_ROLE).is_ok());
    }

    #[test]
    fn a_hold_placed_with_a_later_clock_still_refuses_disposal() {
        // The hold's request read the clock after the disposal's but
        // committed first: it is recorded, so it freezes.
        let mut log = log();
        let later = [hold("later", contact("contact-1"), log.now() + 1, None)];
        assert_eq!(
            refusal(&mut log, "i1", &later, ADMINISTRATOR_ROLE),
            DisposalRefused::UnderLegalHold {
                hold: HoldId::parse("later").unwrap()
            }
        );
    }

    #[test]
    fn a_lift_recorded_with_a_later_clock_frees_disposal() {
        // The lift committed before the disposal took the lock.
        let mut log = log();
        let lifted_later = [hold("h", contact("contact-1"), T0, Some(log.now() + 1))];
        assert!(
            log.dispose("d1", "i1", &lifted_later, ADMINISTRATOR_ROLE)
                .is_ok()
        );
    }

    #[test]
    fn only_a_live_interaction_can_be_disposed_of() {
        let mut log = log();
        assert_eq!(
            refusal(&mut log, "a1", &[], ADMINISTRATOR_ROLE),
            DisposalRefused::NotAnInteraction(id("a1"))
        );
        log.dispose("d1", "i1", &[], ADMINISTRATOR_ROLE).unwrap();
        let again = log.dispose("d2", "i1", &[], ADMINISTRATOR_ROLE).map(|_| ());
        assert_eq!(
            again,
            Err(DisposalRefused::AlreadyDisposed {
                id: id("i1"),
                by: id("d1")
            })
        );
        assert_eq!(
            log.dispose("d2", "d1", &[], ADMINISTRATOR_ROLE).map(|_| ()),
            Err(DisposalRefused::NotAnInteraction(id("d1")))
        );
    }

    #[test]
    fn amendments_of_another_interaction_are_refused() {
        let log = log();
        let request = DisposalRequest::parse(
            &RawDisposal {
                authority_class: Some("GRA 31 class 21284".into()),
                reason: Some("Superseded".into()),
            },
            officer("admin-1"),
            ADMINISTRATOR_ROLE,
        )
        .unwrap();
        assert_eq!(
            may_dispose(log.get("i2"), &log.family("i1"), &[], &request),
            Err(DisposalRefused::UnrelatedAmendment(id("a1")))
        );
    }

    #[test]
    fn the_tombstone_keeps_the_facts_and_cites_the_authority() {
        let mut log = log();
        let disposal = log
            .dispose("d1", "i1", &[], ADMINISTRATOR_ROLE)
            .unwrap()
            .clone();
        let tombstone = Tombstone::of(log.get("i1"), &disposal).unwrap();
        assert_eq!(tombstone.disposed_by, id("d1"));
        assert_eq!(
            tombstone.authority_class.as_str(),
            "RDA 2018/00123456 class 1234"
        );
        assert_eq!(tombstone.disposed_at_ms, disposal.recorded_at_ms);
        assert_eq!(tombstone.facts.category.as_str(), "hardship");
        assert_eq!(Tombstone::of(log.get("i2"), &disposal), None);
        let json = serde_json::to_value(log.get("i1")).unwrap();
        assert_eq!(json["kind"], "interaction");
        assert_eq!(
            json["content"],
            serde_json::json!({"disposed": {"by": "d1"}})
        );
    }

    #[test]
    fn a_tombstone_covers_only_the_disposed_family() {
        let mut log = log();
        let disposal = log
            .dispose("d1", "i1", &[], ADMINISTRATOR_ROLE)
            .unwrap()
            .clone();
        let mut unrelated = vec![log.get("i2").clone()];
        assert_eq!(
            tombstone(&disposal, &mut unrelated),
            Err(TombstoneRefused::NotCovered(id("i2")))
        );
        assert_eq!(unrelated[0].disposed_by(), None);
        let mut not_a_disposal = vec![log.get("i2").clone()];
        assert_eq!(
            tombstone(log.get("i2"), &mut not_a_disposal),
            Err(TombstoneRefused::NotADisposal(id("i2")))
        );
    }
}
