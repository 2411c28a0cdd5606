//! Records, events, catalogue entries and suppressions as the component
//! stores them: one plain field per column. Writing takes a checked value
//! apart; reading puts it back together through each field type's parser,
//! so a row that no longer passes its checks is reported, never trusted.

use crm_domain::{Invalid, ShortText};
use serde::Serialize;
use thiserror::Error;

use crate::catalogue::{
    LanguageTag, LawfulBasis, NoticeContent, NoticeId, NoticeRef, NoticeVersion, PrivacyNotice,
    Purpose, PurposeCategory, PurposeId,
};
use crate::consent::{
    Channel, CollectionRequest, ConsentDecision, Grantor, NewConsent, Relationship, Validity,
};
use crate::events::{Actor, ConsentEvent, EventKind, Via};
use crate::record::ConsentRecord;
use crate::suppression::{Suppression, SuppressionReason};
use crate::text::{DataCategory, RecordId};
use crm_domain::ContactId;

/// Longest privacy notice title accepted (characters).
pub const MAX_NOTICE_TITLE_CHARS: usize = 200;

/// A stored row that does not pass its checks any more.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("stored {table} row {key}: {column}: {reason}")]
pub struct CorruptRow {
    pub table: &'static str,
    pub key: String,
    pub column: &'static str,
    pub reason: String,
}

/// Names the row being read, for its errors.
struct Row<'a> {
    table: &'static str,
    key: &'a str,
}

impl Row<'_> {
    fn check<T>(&self, column: &'static str, result: Result<T, Invalid>) -> Result<T, CorruptRow> {
        result.map_err(|Invalid(reason)| self.corrupt(column, reason))
    }

    fn corrupt(&self, column: &'static str, reason: impl Into<String>) -> CorruptRow {
        CorruptRow {
            table: self.table,
            key: self.key.to_owned(),
            column,
            reason: reason.into(),
        }
    }
}

/// The columns of a consent record row (table `consent_records`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: String,
    pub contact_id: String,
    pub grantor_id: Option<String>,
    pub grantor_relationship: Option<String>,
    pub purpose: String,
    pub lawful_basis: String,
    /// JSON array of slugs.
    pub data_categories: String,
    pub channel: String,
    pub decision: String,
    pub notice_id: String,
    pub notice_version: i64,
    /// JSON object: `method` and the evidence it requires.
    pub collection: String,
    pub given_at_ms: i64,
    pub valid_until_ms: Option<i64>,
    pub recorded_at_ms: i64,
    pub supersedes: Option<String>,
}

/// The columns of a consent event row (table `consent_events`), in the
/// order appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub record_id: String,
    pub at_ms: i64,
    pub kind: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub via: String,
    pub superseded_by: Option<String>,
}

impl StoredRecord {
    pub fn from_record(record: &ConsentRecord) -> Self {
        let consent = &record.consent;
        Self {
            id: record.id.to_string(),
            contact_id: consent.subject.to_string(),
            grantor_id: consent.grantor.as_ref().map(|g| g.contact_id.to_string()),
            grantor_relationship: consent.grantor.as_ref().map(|g| g.relationship.to_string()),
            purpose: consent.purpose.to_string(),
            lawful_basis: consent.lawful_basis.to_string(),
            data_categories: json(&consent.data_categories),
            channel: consent.channel.to_string(),
            decision: consent.decision.to_string(),
            notice_id: consent.notice.id.to_string(),
            notice_version: i64::from(consent.notice.version.get()),
            collection: json(&consent.collection),
            given_at_ms: consent.validity.given_at_ms(),
            valid_until_ms: consent.validity.valid_until_ms(),
            recorded_at_ms: record.recorded_at_ms,
            supersedes: record.supersedes.as_ref().map(ToString::to_string),
        }
    }

    /// Rebuilds the record with `events` (this record's, in the order
    /// appended).
    pub fn into_record(self, events: Vec<StoredEvent>) -> Result<ConsentRecord, CorruptRow> {
        let row = Row {
            table: "consent_records",
            key: &self.id,
        };
        let grantor = match (&self.grantor_id, &self.grantor_relationship) {
            (None, None) => None,
            (Some(id), Some(relationship)) => Some(Grantor {
                contact_id: row.check("grantor_id", ContactId::parse(id))?,
                relationship: row
                    .check("grantor_relationship", Relationship::parse(relationship))?,
            }),
            _ => return Err(row.corrupt("grantor_id", "grantor id and relationship go together")),
        };
        let categories: Vec<String> = serde_json::from_str(&self.data_categories)
            .map_err(|e| row.corrupt("data_categories", e.to_string()))?;
        let data_categories = categories
            .iter()
            .map(|c| row.check("data_categories", DataCategory::parse(c)))
            .collect::<Result<_, _>>()?;
        let collection = serde_json::from_str::<CollectionRequest>(&self.collection)
            .map_err(|e| e.to_string())
            .and_then(|c| c.to_collection().map_err(|e| e.to_string()))
            .map_err(|reason| row.corrupt("collection", reason))?;
        let validity = Validity::new(self.given_at_ms, self.valid_until_ms)
            .map_err(|e| row.corrupt("valid_until", e.to_string()))?;
        let consent = NewConsent {
            subject: row.check("contact_id", ContactId::parse(&self.contact_id))?,
            grantor,
            purpose: row.check("purpose", PurposeId::parse(&self.purpose))?,
            lawful_basis: row.check("lawful_basis", LawfulBasis::parse(&self.lawful_basis))?,
            data_categories,
            channel: row.check("channel", Channel::parse(&self.channel))?,
            decision: row.check("decision", ConsentDecision::parse(&self.decision))?,
            notice: NoticeRef {
                id: row.check("notice_id", NoticeId::parse(&self.notice_id))?,
                version: row.check("notice_version", NoticeVersion::parse(self.notice_version))?,
            },
            collection,
            validity,
        };
        let events = events
            .into_iter()
            .map(|event| {
                if event.record_id != self.id {
                    return Err(row.corrupt("events", format!("event of {}", event.record_id)));
                }
                event.into_event()
            })
            .collect::<Result<_, _>>()?;
        Ok(ConsentRecord {
            id: row.check("id", RecordId::parse(&self.id))?,
            recorded_at_ms: self.recorded_at_ms,
            supersedes: self
                .supersedes
                .as_deref()
                .map(|s| row.check("supersedes", RecordId::parse(s)))
                .transpose()?,
            consent,
            events,
        })
    }
}

impl StoredEvent {
    pub fn from_event(record_id: &RecordId, event: &ConsentEvent) -> Self {
        Self {
            record_id: record_id.to_string(),
            at_ms: event.at_ms,
            kind: event.kind.to_string(),
            actor_kind: event.actor.kind().to_owned(),
            actor_id: event.actor.id().map(str::to_owned),
            via: event.via.to_string(),
            superseded_by: event.superseded_by.as_ref().map(ToString::to_string),
        }
    }

    fn into_event(self) -> Result<ConsentEvent, CorruptRow> {
        let row = Row {
            table: "consent_events",
            key: &self.record_id,
        };
        Ok(ConsentEvent {
            at_ms: self.at_ms,
            kind: row.check("kind", EventKind::parse(&self.kind))?,
            actor: row.check(
                "actor_kind",
                Actor::parse(&self.actor_kind, self.actor_id.as_deref()),
            )?,
            via: row.check("via", Via::parse(&self.via))?,
            superseded_by: self
                .superseded_by
                .as_deref()
                .map(|s| row.check("superseded_by", RecordId::parse(s)))
                .transpose()?,
        })
    }
}

/// Rebuilds a purpose from its row (table `consent_purposes`).
pub fn stored_purpose(
    id: &str,
    category: &str,
    lawful_basis: &str,
    description: &str,
) -> Result<Purpose, CorruptRow> {
    let row = Row {
        table: "consent_purposes",
        key: id,
    };
    Purpose::new(
        row.check("id", PurposeId::parse(id))?,
        row.check("category", PurposeCategory::parse(category))?,
        row.check("lawful_basis", LawfulBasis::parse(lawful_basis))?,
        description,
    )
    .map_err(|e| row.corrupt("description", e.to_string()))
}

/// The columns of a privacy notice row (table `privacy_notices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotice {
    pub id: String,
    pub version: i64,
    pub language: String,
    pub title: String,
    pub text: Option<String>,
    pub url: Option<String>,
    pub published_at_ms: i64,
}

impl StoredNotice {
    pub fn into_notice(self) -> Result<PrivacyNotice, CorruptRow> {
        let key = format!("{}/{}", self.id, self.version);
        let row = Row {
            table: "privacy_notices",
            key: &key,
        };
        Ok(PrivacyNotice {
            id: row.check("id", NoticeId::parse(&self.id))?,
            version: row.check("version", NoticeVersion::parse(self.version))?,
            language: row.check("language", LanguageTag::parse(&self.language))?,
            title: row.check(
                "title",
                ShortText::parse(&self.title, MAX_NOTICE_TITLE_CHARS),
            )?,
            content: row.check(
                "text",
                NoticeContent::parse(self.text.as_deref(), self.url.as_deref()),
            )?,
            published_at_ms: self.published_at_ms,
        })
    }
}

/// Rebuilds a suppression from its row (table `consent_suppressions`) and
/// the time it was lifted, if it was: a lift ends it early. `None` when it
/// was lifted before it began, so it never applies.
pub fn stored_suppression(
    id: &str,
    contact_id: &str,
    channel: &str,
    reason: &str,
    since_ms: i64,
    until_ms: Option<i64>,
    lifted_at_ms: Option<i64>,
) -> Result<Option<Suppression>, CorruptRow> {
    let row = Row {
        table: "consent_suppressions",
        key: id,
    };
    if lifted_at_ms.is_some_and(|lifted| lifted <= since_ms) {
        return Ok(None);
    }
    let until_ms = match (until_ms, lifted_at_ms) {
        (Some(until), Some(lifted)) => Some(until.min(lifted)),
        (until, lifted) => until.or(lifted),
    };
    Suppression::new(
        row.check("contact_id", ContactId::parse(contact_id))?,
        row.check("channel", Channel::parse(channel))?,
        row.check("reason", SuppressionReason::parse(reason))?,
        since_ms,
        until_ms,
    )
    .map(Some)
    .map_err(|Invalid(reason)| row.corrupt("until", reason))
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("consent values serialise")
}
