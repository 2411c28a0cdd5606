//! What to write when something happens to a consent: the new record and the
//! events to append to existing ones. The component only writes the rows.

use thiserror::Error;

use crate::catalogue::PurposeId;
use crate::consent::{Channel, ConsentDecision, NewConsent};
use crate::events::{Actor, ConsentEvent, EventKind, Via};
use crate::link::UnsubscribeClaims;
use crate::record::{ConsentRecord, Standing, Status, ruling_record, status_at};
use crate::text::RecordId;
use crm_domain::ContactId;

/// An event to append to an existing record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub record_id: RecordId,
    pub event: ConsentEvent,
}

/// The rows a new decision writes: the record, and the `superseded` event for
/// the record it replaces, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPlan {
    pub record: ConsentRecord,
    pub superseded: Option<Appended>,
    /// The record whose consent, in force until now, this decision ends: a
    /// refusal that supersedes given consent ends it as a withdrawal would,
    /// so whatever was waiting on that consent must stop too.
    pub revokes: Option<RecordId>,
}

/// Why nothing can be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error("record id {0} is already taken")]
    IdTaken(RecordId),
    /// The person decided later than this decision (for example, a paper
    /// form signed before an online withdrawal arrived after it); the later
    /// decision stands.
    #[error(
        "this decision (at {given_at_ms}) predates record {current}'s latest decision (at {current_decided_at_ms})"
    )]
    Stale {
        current: RecordId,
        current_decided_at_ms: i64,
        given_at_ms: i64,
    },
    #[error("nothing to withdraw: {}", match current {
        None => "no consent was ever recorded".to_owned(),
        Some((id, status)) => format!("record {id} is {status}"),
    })]
    NothingToWithdraw {
        /// The ruling record and its status, if there is one.
        current: Option<(RecordId, Status)>,
    },
}

/// Plans recording `consent` as a new record `id`, stored at `now_ms` by
/// `actor`. `records` are the subject's records; the ruling one for the same
/// purpose and channel is superseded. Its first event is `given`, `renewed`
/// (when consent was already given and in force) or `refused`, dated when the
/// person decided.
pub fn plan_record(
    records: &[ConsentRecord],
    consent: NewConsent,
    id: RecordId,
    actor: Actor,
    now_ms: i64,
) -> Result<RecordPlan, PlanError> {
    if records.iter().any(|r| r.id == id) {
        return Err(PlanError::IdTaken(id));
    }
    let current = ruling_record(records, &consent.subject, &consent.purpose, consent.channel);
    let given_at_ms = consent.validity.given_at_ms();
    if let Some(current) = current {
        let current_decided_at_ms = current.last_decided_at_ms();
        if given_at_ms < current_decided_at_ms {
            return Err(PlanError::Stale {
                current: current.id.clone(),
                current_decided_at_ms,
                given_at_ms,
            });
        }
    }
    let kind = match consent.decision {
        ConsentDecision::Refused => EventKind::Refused,
        ConsentDecision::Given
            if current.is_some_and(|c| c.standing_at(now_ms) == Standing::Given) =>
        {
            EventKind::Renewed
        }
        ConsentDecision::Given => EventKind::Given,
    };
    let revokes = current
        .filter(|c| {
            consent.decision == ConsentDecision::Refused && c.standing_at(now_ms) == Standing::Given
        })
        .map(|c| c.id.clone());
    let via = consent.collection.method().via();
    let superseded = current.map(|current| Appended {
        record_id: current.id.clone(),
        event: ConsentEvent {
            superseded_by: Some(id.clone()),
            ..ConsentEvent::new(now_ms, EventKind::Superseded, actor.clone(), via)
        },
    });
    let record = ConsentRecord {
        id,
        recorded_at_ms: now_ms,
        supersedes: current.map(|c| c.id.clone()),
        events: vec![ConsentEvent::new(given_at_ms, kind, actor, via)],
        consent,
    };
    Ok(RecordPlan {
        record,
        superseded,
        revokes,
    })
}

/// Plans withdrawing the consent that rules for a subject, purpose and
/// channel, effective at `now_ms`: a `withdrawn` event on that record. Only
/// consent that is given and not expired can be withdrawn.
pub fn plan_withdrawal(
    records: &[ConsentRecord],
    contact: &ContactId,
    purpose: &PurposeId,
    channel: Channel,
    actor: Actor,
    via: Via,
    now_ms: i64,
) -> Result<Appended, PlanError> {
    let Some(current) = ruling_record(records, contact, purpose, channel) else {
        return Err(PlanError::NothingToWithdraw { current: None });
    };
    // A withdrawal already recorded is final even if its time is later than
    // `now_ms`: two withdrawals racing with clocks read before either took
    // the write lock must not both be recorded.
    let standing_at = current.withdrawn_at_ms().map_or(now_ms, |w| w.max(now_ms));
    match current.standing_at(standing_at) {
        Standing::Given => Ok(Appended {
            record_id: current.id.clone(),
            event: ConsentEvent::new(now_ms, EventKind::Withdrawn, actor, via),
        }),
        standing => Err(PlanError::NothingToWithdraw {
            current: Some((current.id.clone(), standing.into())),
        }),
    }
}

/// [`plan_withdrawal`] for a verified one-click unsubscribe link: the link
/// (by its nonce) is the actor.
pub fn plan_unsubscribe(
    records: &[ConsentRecord],
    claims: &UnsubscribeClaims,
    now_ms: i64,
) -> Result<Appended, PlanError> {
    plan_withdrawal(
        records,
        &claims.contact_id,
        &claims.purpose,
        claims.channel,
        Actor::UnsubscribeLink(claims.nonce.clone()),
        Via::OneClickLink,
        now_ms,
    )
}

/// The `expired-noted` event to append to `record` if, at `at_ms`, it has
/// expired (and is not superseded) and no such event was appended yet.
pub fn note_expiry(
    record: &ConsentRecord,
    later_records: &[ConsentRecord],
    at_ms: i64,
) -> Option<ConsentEvent> {
    let noted = record
        .events
        .iter()
        .any(|e| e.kind == EventKind::ExpiredNoted);
    (!noted && status_at(record, later_records, at_ms) == Status::Expired)
        .then(|| ConsentEvent::new(at_ms, EventKind::ExpiredNoted, Actor::System, Via::System))
}
