//! Disposal under a records authority (Archives Act 1983): never a hard
//! delete. An administrator records a disposal entry citing the authority
//! class and a reason; the interaction's content and that of its amendments
//! is then replaced by a tombstone naming that entry. Its facts and every
//! hash stay, so the chain still verifies. A legal hold (disposal freeze) on
//! the contact, or on any case the interaction was ever linked to, refuses it.

use crm_domain::Invalid;
use crm_http::FieldError;
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
    pub authority: AuthorityClass,
    pub reason: Reason,
}

/// A disposal request as a caller sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisposal {
    pub authority_class: Option<String>,
    pub reason: Option<String>,
}

/// A validated request to dispose of an interaction, and who asks when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisposalRequest {
    pub authority: AuthorityClass,
    pub reason: Reason,
    pub requested_by: OfficerId,
    /// The requester's role (the authenticated caller's).
    pub role: String,
    pub requested_at_ms: i64,
}

impl DisposalRequest {
    pub fn parse(
        raw: &RawDisposal,
        requested_by: OfficerId,
        role: &str,
        requested_at_ms: i64,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let authority = errors
            .required("authority_class", &raw.authority_class)
            .and_then(|r| errors.check("authority_class", AuthorityClass::parse(r)));
        let reason = errors
            .required("reason", &raw.reason)
            .and_then(|r| errors.check("reason", Reason::parse(r)));
        errors.finish(|| {
            Some(Self {
                authority: authority?,
                reason: reason?,
                requested_by,
                role: role.to_string(),
                requested_at_ms,
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

/// A disposal freeze, in force from `placed_at_ms` until `lifted_at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    pub id: HoldId,
    pub scope: HoldScope,
    pub placed_at_ms: i64,
    pub lifted_at_ms: Option<i64>,
}

impl LegalHold {
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.placed_at_ms <= now_ms && self.lifted_at_ms.is_none_or(|lifted| now_ms < lifted)
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
/// them, in recorded order) given the `holds` on its contact and cases.
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
        hold.is_active(request.requested_at_ms)
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

/// Checks [`may_dispose`] and seals the disposal entry onto the chain. The
/// caller then applies [`tombstone`] to the interaction and its amendments.
pub fn append_disposal(
    tip: &ChainTip,
    id: EntryId,
    target: &Entry,
    amendments: &[Entry],
    holds: &[LegalHold],
    request: DisposalRequest,
) -> Result<Entry, DisposalRefused> {
    may_dispose(target, amendments, holds, &request)?;
    let body = EntryBody::Disposal(Disposal {
        disposes: target.id.clone(),
        authority: request.authority,
        reason: request.reason,
    });
    Ok(seal(
        tip,
        id,
        request.requested_at_ms,
        request.requested_by,
        body,
    ))
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
    pub authority: AuthorityClass,
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
            authority: d.authority.clone(),
            reason: d.reason.clone(),
        })
    }
}
