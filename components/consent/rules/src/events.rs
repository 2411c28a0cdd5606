//! The append-only events of a consent record: what happened, when, who did
//! it and through which channel.

use crm_domain::Invalid;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::link::Nonce;
use crate::text::RecordId;
use crm_domain::{ContactId, OfficerId};

crm_domain::vocabulary!(
    /// Through what an event arrived.
    Via {
        Portal => "portal",
        Paper => "paper",
        Phone => "phone",
        Counter => "counter",
        Email => "email",
        /// A signed one-click unsubscribe link, with no login.
        OneClickLink => "one-click-link",
        /// The system itself (expiry noted, scheduled work).
        System => "system",
    }
);

crm_domain::vocabulary!(
    /// What happened to a record.
    EventKind {
        /// Consent given, with nothing given in force before it.
        Given => "given",
        /// Consent given again while an earlier given record was in force
        /// (new notice version, new validity, new evidence).
        Renewed => "renewed",
        Refused => "refused",
        Withdrawn => "withdrawn",
        /// A newer record for the same subject, purpose and channel replaced it.
        Superseded => "superseded",
        /// The validity period had ended when the system looked.
        ExpiredNoted => "expired-noted",
        /// A receipt of the record was issued.
        ReceiptIssued => "receipt-issued",
    }
);

impl EventKind {
    /// The ISO/IEC TS 27560 state the event leaves the record in (`event_state`),
    /// or `None` when the event does not change it.
    pub fn state(self) -> Option<&'static str> {
        match self {
            Self::Given => Some("Given"),
            Self::Renewed => Some("RenewedGiven"),
            Self::Refused => Some("Refused"),
            Self::Withdrawn => Some("Withdrawn"),
            Self::Superseded => Some("Terminated"),
            Self::ExpiredNoted => Some("Expired"),
            Self::ReceiptIssued => None,
        }
    }
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The subject, or a grantor acting for them, signed in to the portal.
    Citizen(ContactId),
    /// A staff member, for the person or in the course of their work.
    Officer(OfficerId),
    /// Whoever held a valid one-click unsubscribe link; the link's nonce
    /// identifies the link.
    UnsubscribeLink(Nonce),
    System,
}

impl Actor {
    /// The kind, as stored in its own column.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Citizen(_) => "citizen",
            Self::Officer(_) => "officer",
            Self::UnsubscribeLink(_) => "unsubscribe-link",
            Self::System => "system",
        }
    }

    /// The id, as stored beside the kind; the system has none.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Citizen(id) => Some(id.as_str()),
            Self::Officer(id) => Some(id.as_str()),
            Self::UnsubscribeLink(nonce) => Some(nonce.as_str()),
            Self::System => None,
        }
    }

    /// Rebuilds an actor from its stored kind and id.
    pub fn parse(kind: &str, id: Option<&str>) -> Result<Self, Invalid> {
        match (kind, id) {
            ("citizen", Some(id)) => ContactId::parse(id).map(Self::Citizen),
            ("officer", Some(id)) => OfficerId::parse(id).map(Self::Officer),
            ("unsubscribe-link", Some(id)) => Nonce::parse(id).map(Self::UnsubscribeLink),
            ("system", None) => Ok(Self::System),
            ("citizen" | "officer" | "unsubscribe-link", None) => {
                Err(Invalid(format!("a {kind} actor needs an id")))
            }
            ("system", Some(_)) => Err(Invalid("the system actor has no id".into())),
            _ => Err(Invalid(
                "must be one of citizen, officer, unsubscribe-link, system".into(),
            )),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("kind", self.kind())?;
        if let Some(id) = self.id() {
            map.serialize_entry("id", id)?;
        }
        map.end()
    }
}

/// One entry of a record's event list. Events are only ever appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEvent {
    pub at_ms: i64,
    pub kind: EventKind,
    pub actor: Actor,
    pub via: Via,
    /// The record that replaced this one; set on `superseded` events only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<RecordId>,
}

impl ConsentEvent {
    pub(crate) fn new(at_ms: i64, kind: EventKind, actor: Actor, via: Via) -> Self {
        Self {
            at_ms,
            kind,
            actor,
            via,
            superseded_by: None,
        }
    }

    /// The event to append when a receipt of the record is issued.
    pub fn receipt_issued(actor: Actor, via: Via, at_ms: i64) -> Self {
        Self::new(at_ms, EventKind::ReceiptIssued, actor, via)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_their_columns() {
        let actors = [
            Actor::Citizen(ContactId::parse("c-1").unwrap()),
            Actor::Officer(OfficerId::parse("staff-7").unwrap()),
            Actor::UnsubscribeLink(Nonce::parse("n0nce-0123456789ab").unwrap()),
            Actor::System,
        ];
        for actor in actors {
            assert_eq!(Actor::parse(actor.kind(), actor.id()), Ok(actor.clone()));
        }
        assert!(Actor::parse("officer", None).is_err());
        assert!(Actor::parse("system", Some("x")).is_err());
        assert!(Actor::parse("robot", Some("x")).is_err());
        assert!(Actor::parse("unsubscribe-link", Some("short")).is_err());
    }

    #[test]
    fn actors_serialise_kind_and_id() {
        assert_eq!(
            serde_json::to_value(Actor::Officer(OfficerId::parse("s-1").unwrap())).unwrap(),
            serde_json::json!({"kind": "officer", "id": "s-1"})
        );
        assert_eq!(
            serde_json::to_value(Actor::System).unwrap(),
            serde_json::json!({"kind": "system"})
        );
    }

    #[test]
    fn every_event_but_a_receipt_sets_a_27560_state() {
        for kind in EventKind::ALL {
            assert_eq!(
                kind.state().is_none(),
                *kind == EventKind::ReceiptIssued,
                "{kind}"
            );
        }
    }
}
