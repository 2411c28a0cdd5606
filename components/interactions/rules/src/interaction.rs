//! A touchpoint to record, parsed from the caller's fields.
//!
//! An interaction is split in two, because disposal treats the halves
//! differently: its *facts* (channel, direction, when, who, category, case,
//! notification) stay after disposal, so the timeline can show a tombstone
//! and the trends keep counting it; its *content* (subject, notes, outcome,
//! tags, documents) is what a disposal removes.

use crm_domain::FieldError;
use serde::{Deserialize, Serialize};

use crate::field_errors::{FieldErrors, parse_occurred_at};
use crate::values::{
    CaseRef, Channel, ContactId, Direction, DocumentId, DocumentRef, DocumentTarget, DocumentUri,
    Notes, NotificationId, OfficerId, Outcome, Sha256Hash, Slug, Subject, Tags,
};

/// The fields as a caller sends them; every one is optional here so that
/// [`NewInteraction::parse`] can report each missing one by name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInteraction {
    pub contact_id: Option<String>,
    pub channel: Option<String>,
    pub direction: Option<String>,
    /// RFC 3339; when absent, the interaction happened when it was recorded.
    pub occurred_at: Option<String>,
    pub officer_id: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub case_reference: Option<String>,
    pub subject: Option<String>,
    pub notes: Option<String>,
    pub outcome: Option<String>,
    pub notification_id: Option<String>,
    #[serde(default)]
    pub documents: Vec<RawDocumentRef>,
}

/// A cited document: exactly one of `uri` and `id`, and `content_hash` as
/// `sha256:<64 hex>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocumentRef {
    pub uri: Option<String>,
    pub id: Option<String>,
    pub content_hash: Option<String>,
}

/// What stays known about an interaction for as long as the log exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InteractionFacts {
    pub channel: Channel,
    pub direction: Direction,
    /// When it happened, UTC milliseconds; may be well before it was recorded.
    pub occurred_at_ms: i64,
    /// The officer who dealt with the contact.
    pub officer: OfficerId,
    pub category: Slug,
    pub case_ref: Option<CaseRef>,
    pub notification_id: Option<NotificationId>,
}

/// What a disposal removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InteractionContent {
    pub subject: Subject,
    pub notes: Option<Notes>,
    pub outcome: Option<Outcome>,
    pub tags: Tags,
    pub documents: Vec<DocumentRef>,
}

/// A validated interaction, ready to be appended to its contact's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInteraction {
    contact_id: ContactId,
    recorded_at_ms: i64,
    facts: InteractionFacts,
    content: InteractionContent,
}

/// At most this many documents per interaction.
pub const MAX_DOCUMENTS: usize = 20;

impl NewInteraction {
    /// Checks every field against `recorded_at_ms` (the time it is being
    /// recorded) and reports all refusals together.
    pub fn parse(raw: &RawInteraction, recorded_at_ms: i64) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let contact_id = errors
            .required("contact_id", &raw.contact_id)
            .and_then(|r| errors.check("contact_id", ContactId::parse(r)));
        let channel = errors
            .required("channel", &raw.channel)
            .and_then(|r| errors.check("channel", Channel::parse(r.trim())));
        let direction = errors
            .required("direction", &raw.direction)
            .and_then(|r| errors.check("direction", Direction::parse(r.trim())));
        let occurred_at_ms = match &raw.occurred_at {
            None => Some(recorded_at_ms),
            Some(r) => errors.check("occurred_at", parse_occurred_at(r, recorded_at_ms)),
        };
        let officer = errors
            .required("officer_id", &raw.officer_id)
            .and_then(|r| errors.check("officer_id", OfficerId::parse(r)));
        let category = errors
            .required("category", &raw.category)
            .and_then(|r| errors.check("category", Slug::parse(r)));
        let case_ref = optional(
            &mut errors,
            "case_reference",
            &raw.case_reference,
            CaseRef::parse,
        );
        let notification_id = optional(
            &mut errors,
            "notification_id",
            &raw.notification_id,
            NotificationId::parse,
        );
        let subject = errors
            .required("subject", &raw.subject)
            .and_then(|r| errors.check("subject", Subject::parse(r)));
        let notes = match &raw.notes {
            None => Some(None),
            Some(r) => errors.check("notes", Notes::parse_optional(r)),
        };
        let outcome = optional(&mut errors, "outcome", &raw.outcome, Outcome::parse);
        let tags = parse_tags(&mut errors, &raw.tags);
        let documents = parse_documents(&mut errors, &raw.documents);

        errors.finish(|| {
            Some(Self {
                contact_id: contact_id?,
                recorded_at_ms,
                facts: InteractionFacts {
                    channel: channel?,
                    direction: direction?,
                    occurred_at_ms: occurred_at_ms?,
                    officer: officer?,
                    category: category?,
                    case_ref: case_ref?,
                    notification_id: notification_id?,
                },
                content: InteractionContent {
                    subject: subject?,
                    notes: notes?,
                    outcome: outcome?,
                    tags: tags?,
                    documents: documents?,
                },
            })
        })
    }

    pub fn contact_id(&self) -> &ContactId {
        &self.contact_id
    }

    pub fn recorded_at_ms(&self) -> i64 {
        self.recorded_at_ms
    }

    pub fn facts(&self) -> &InteractionFacts {
        &self.facts
    }

    pub fn content(&self) -> &InteractionContent {
        &self.content
    }

    pub(crate) fn into_parts(self) -> (ContactId, i64, InteractionFacts, InteractionContent) {
        (
            self.contact_id,
            self.recorded_at_ms,
            self.facts,
            self.content,
        )
    }
}

/// `Some(None)` when absent, `Some(Some(v))` when valid, `None` when refused.
pub(crate) fn optional<T>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, crm_domain::Invalid>,
) -> Option<Option<T>> {
    match raw {
        None => Some(None),
        Some(r) => errors.check(field, parse(r)).map(Some),
    }
}

pub(crate) fn parse_tags(errors: &mut FieldErrors, raw: &[String]) -> Option<Tags> {
    Tags::parse(raw)
        .map_err(|refused| {
            for (index, why) in refused {
                let field = index.map_or("tags".to_string(), |i| format!("tags[{i}]"));
                errors.push(field, why.0);
            }
        })
        .ok()
}

fn parse_documents(errors: &mut FieldErrors, raw: &[RawDocumentRef]) -> Option<Vec<DocumentRef>> {
    if raw.len() > MAX_DOCUMENTS {
        errors.push(
            "documents",
            format!("must cite at most {MAX_DOCUMENTS} documents"),
        );
        return None;
    }
    let parsed: Vec<Option<DocumentRef>> = raw
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let field = |name: &str| format!("documents[{i}].{name}");
            let target = match (&doc.uri, &doc.id) {
                (Some(uri), None) => errors
                    .check(&field("uri"), DocumentUri::parse(uri))
                    .map(DocumentTarget::Uri),
                (None, Some(id)) => errors
                    .check(&field("id"), DocumentId::parse(id))
                    .map(DocumentTarget::Id),
                _ => {
                    errors.push(
                        format!("documents[{i}]"),
                        "must have exactly one of uri and id",
                    );
                    None
                }
            };
            let content_hash = errors
                .required(&field("content_hash"), &doc.content_hash)
                .and_then(|r| errors.check(&field("content_hash"), Sha256Hash::parse_prefixed(r)));
            Some(DocumentRef {
                target: target?,
                content_hash: content_hash?,
            })
        })
        .collect();
    parsed.into_iter().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crm_domain::parse_rfc3339_ms;

    pub const RECORDED_AT: i64 = 1_795_416_000_000; // 2026-11-23T06:40:00Z

    pub fn raw() -> RawInteraction {
        RawInteraction {
            contact_id: Some("contact-1".into()),
            channel: Some("field-visit".into()),
            direction: Some("inbound".into()),
            occurred_at: Some("2026-11-23T09:15:00+10:00".into()),
            officer_id: Some("officer-7".into()),
            category: Some("hardship".into()),
            tags: vec!["rent".into(), "Arrears".into()],
            case_reference: Some("case-2026-000123".into()),
            subject: Some("  Home visit about rent arrears ".into()),
            notes: Some("Discussed a payment plan.\nFollow up in two weeks.".into()),
            outcome: Some("follow-up-required".into()),
            notification_id: None,
            documents: vec![RawDocumentRef {
                uri: None,
                id: Some("D26-1234".into()),
                content_hash: Some(format!("sha256:{}", "0f".repeat(32))),
            }],
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_complete_interaction_parses_and_normalises() {
        let new = NewInteraction::parse(&raw(), RECORDED_AT).unwrap();
        assert_eq!(new.contact_id().as_str(), "contact-1");
        let facts = new.facts();
        assert_eq!(facts.channel, Channel::FieldVisit);
        let spaced = RawInteraction {
            channel: Some(" sms ".into()),
            ..raw()
        };
        assert_eq!(
            NewInteraction::parse(&spaced, RECORDED_AT)
                .unwrap()
                .facts()
                .channel,
            Channel::Sms
        );
        assert_eq!(
            facts.occurred_at_ms,
            parse_rfc3339_ms("2026-11-22T23:15:00Z").unwrap()
        );
        assert_eq!(
            facts.case_ref.as_ref().unwrap().as_str(),
            "CASE-2026-000123"
        );
        let content = new.content();
        assert_eq!(content.subject.as_str(), "Home visit about rent arrears");
        assert_eq!(
            content.tags.iter().map(Slug::as_str).collect::<Vec<_>>(),
            ["arrears", "rent"]
        );
        assert_eq!(content.documents.len(), 1);
    }

    #[test]
    fn occurred_at_defaults_to_recorded_at() {
        let new = NewInteraction::parse(
            &RawInteraction {
                occurred_at: None,
                ..raw()
            },
            RECORDED_AT,
        )
        .unwrap();
        assert_eq!(new.facts().occurred_at_ms, RECORDED_AT);
    }

    #[test]
    fn every_refused_field_is_reported_at_once() {
        let bad = RawInteraction {
            contact_id: None,
            channel: Some("fax".into()),
            direction: Some("sideways".into()),
            occurred_at: Some("2026-11-23T07:00:00Z".into()),
            officer_id: Some("".into()),
            category: Some("Not A Slug".into()),
            tags: vec!["ok".into(), "no way".into()],
            case_reference: Some("123".into()),
            subject: Some("   ".into()),
            notes: Some("x".repeat(20_001)),
            outcome: Some("??".into()),
            notification_id: Some("bad id".into()),
            documents: vec![
                RawDocumentRef {
                    uri: Some("https://example.gov.au/d".into()),
                    id: Some("D1".into()),
                    content_hash: Some(format!("sha256:{}", "0".repeat(64))),
                },
                RawDocumentRef {
                    uri: Some("not a uri".into()),
                    id: None,
                    content_hash: Some("md5:abc".into()),
                },
            ],
        };
        let errors = NewInteraction::parse(&bad, RECORDED_AT).unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "contact_id",
                "channel",
                "direction",
                "occurred_at",
                "officer_id",
                "category",
                "case_reference",
                "notification_id",
                "subject",
                "notes",
                "outcome",
                "tags[1]",
                "documents[0]",
                "documents[1].uri",
                "documents[1].content_hash",
            ]
        );
        assert!(errors[0].reason.contains("required"));
        assert!(errors[1].reason.contains("field-visit"));
    }

    #[test]
    fn blank_notes_are_no_notes_and_documents_are_capped() {
        let new = NewInteraction::parse(
            &RawInteraction {
                notes: Some(" \n ".into()),
                ..raw()
            },
            RECORDED_AT,
        )
        .unwrap();
        assert_eq!(new.content().notes, None);
        let too_many = RawInteraction {
            documents: vec![raw().documents[0].clone(); MAX_DOCUMENTS + 1],
            ..raw()
        };
        assert_eq!(
            fields(&NewInteraction::parse(&too_many, RECORDED_AT).unwrap_err()),
            ["documents"]
        );
    }

    #[test]
    fn unknown_json_fields_are_refused() {
        let json = r#"{"contact_id":"c","subject":"s","colour":"red"}"#;
        assert!(serde_json::from_str::<RawInteraction>(json).is_err());
        let json = r#"{"contact_id":"c","documents":[{"id":"D1","content_hash":"sha256:00"}]}"#;
        let raw: RawInteraction = serde_json::from_str(json).unwrap();
        assert_eq!(raw.documents[0].id.as_deref(), Some("D1"));
    }
}
