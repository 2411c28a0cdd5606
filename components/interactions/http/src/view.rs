//! What the routes answer with: an interaction as the timeline shows it
//! (corrected, or a tombstone), with its amendments and original on request,
//! and legal holds. Times are RFC 3339 in UTC; hashes are `sha256:<hex>`.

use crm_domain::rfc3339_utc;
use interactions_rules::amendment::{AmendmentPatch, FieldSources};
use interactions_rules::chain::{Entry, EntryBody, Retained};
use interactions_rules::interaction::{InteractionContent, InteractionFacts};
use interactions_rules::values::{DocumentRef, DocumentTarget, EntryId, Slug};
use interactions_rules::{HoldScope, Tombstone};
use interactions_store::{Record, RecordState, StoredHold};
use serde::Serialize;

/// An interaction: its facts and content as corrected, or its facts and
/// disposal once disposed of (content fields then null or empty).
#[derive(Serialize)]
pub struct Interaction {
    id: String,
    contact_id: String,
    sequence: u64,
    recorded_at: String,
    recorded_by: String,
    #[serde(flatten)]
    facts: Facts,
    #[serde(flatten)]
    content: Content,
    amendment_count: usize,
    disposal: Option<Disposal>,
    content_hash: String,
    hash: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    detail: Option<Detail>,
}

#[derive(Serialize)]
struct Facts {
    channel: &'static str,
    direction: &'static str,
    occurred_at: String,
    officer_id: String,
    category: String,
    case_reference: Option<String>,
    notification_id: Option<String>,
}

impl From<&InteractionFacts> for Facts {
    fn from(f: &InteractionFacts) -> Self {
        Self {
            channel: f.channel.as_str(),
            direction: f.direction.as_str(),
            occurred_at: rfc3339_utc(f.occurred_at_ms),
            officer_id: f.officer.to_string(),
            category: f.category.to_string(),
            case_reference: f.case_ref.as_ref().map(ToString::to_string),
            notification_id: f.notification_id.as_ref().map(ToString::to_string),
        }
    }
}

#[derive(Serialize, Default)]
struct Content {
    subject: Option<String>,
    notes: Option<String>,
    outcome: Option<String>,
    tags: Vec<String>,
    documents: Vec<Document>,
}

impl From<&InteractionContent> for Content {
    fn from(c: &InteractionContent) -> Self {
        Self {
            subject: Some(c.subject.as_str().to_string()),
            notes: c.notes.as_ref().map(ToString::to_string),
            outcome: c.outcome.as_ref().map(|o| o.as_str().to_string()),
            tags: tags(c.tags.iter()),
            documents: c.documents.iter().map(Document::from).collect(),
        }
    }
}

fn tags<'a>(tags: impl Iterator<Item = &'a Slug>) -> Vec<String> {
    tags.map(ToString::to_string).collect()
}

#[derive(Serialize)]
struct Document {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    content_hash: String,
}

impl From<&DocumentRef> for Document {
    fn from(d: &DocumentRef) -> Self {
        let (uri, id) = match &d.target {
            DocumentTarget::Uri(uri) => (Some(uri.to_string()), None),
            DocumentTarget::Id(id) => (None, Some(id.to_string())),
        };
        Self {
            uri,
            id,
            content_hash: d.content_hash.to_string(),
        }
    }
}

#[derive(Serialize)]
struct Disposal {
    id: String,
    disposed_at: String,
    authority_class: String,
    reason: String,
}

impl From<&Tombstone> for Disposal {
    fn from(t: &Tombstone) -> Self {
        Self {
            id: t.disposed_by.to_string(),
            disposed_at: rfc3339_utc(t.disposed_at_ms),
            authority_class: t.authority_class.as_str().to_string(),
            reason: t.reason.as_str().to_string(),
        }
    }
}

/// What `GET /api/interactions/{id}` adds to the timeline's view.
#[derive(Serialize)]
struct Detail {
    /// Which amendment supplied each corrected field.
    sources: Option<Sources>,
    /// The interaction as first recorded (gone once disposed of).
    original: Option<Original>,
    amendments: Vec<Amendment>,
}

/// For each field an amendment corrected, that amendment's id.
#[derive(Serialize)]
struct Sources {
    subject: Option<String>,
    notes: Option<String>,
    outcome: Option<String>,
    tags: Option<String>,
    category: Option<String>,
    occurred_at: Option<String>,
    case_reference: Option<String>,
}

impl From<&FieldSources> for Sources {
    fn from(s: &FieldSources) -> Self {
        let id = |v: &Option<EntryId>| v.as_ref().map(ToString::to_string);
        Self {
            subject: id(&s.subject),
            notes: id(&s.notes),
            outcome: id(&s.outcome),
            tags: id(&s.tags),
            category: id(&s.category),
            occurred_at: id(&s.occurred_at),
            case_reference: id(&s.case_ref),
        }
    }
}

#[derive(Serialize)]
struct Original {
    #[serde(flatten)]
    facts: Facts,
    #[serde(flatten)]
    content: Content,
}

#[derive(Serialize)]
struct Amendment {
    id: String,
    amends: String,
    recorded_at: String,
    recorded_by: String,
    /// What it changed and why; null once disposed of.
    patch: Option<Patch>,
    /// The latest amendment that restated this one's patch.
    superseded_by: Option<String>,
}

/// A patch as a caller sends one: absent fields unchanged, `null` cleared.
#[derive(Serialize)]
struct Patch {
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    occurred_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    case_reference: Option<Option<String>>,
}

impl From<&AmendmentPatch> for Patch {
    fn from(p: &AmendmentPatch) -> Self {
        Self {
            reason: p.reason.as_str().to_string(),
            subject: p.subject.as_ref().map(|s| s.as_str().to_string()),
            notes: p
                .notes
                .as_ref()
                .map(|n| n.as_ref().map(ToString::to_string)),
            outcome: p
                .outcome
                .as_ref()
                .map(|o| o.as_ref().map(|o| o.as_str().to_string())),
            tags: p.tags.as_ref().map(|t| tags(t.iter())),
            category: p.category.as_ref().map(ToString::to_string),
            occurred_at: p.occurred_at_ms.map(rfc3339_utc),
            case_reference: p
                .case_ref
                .as_ref()
                .map(|c| c.as_ref().map(ToString::to_string)),
        }
    }
}

impl Interaction {
    /// As the timeline lists it.
    pub fn summary(record: &Record) -> Self {
        let entry = &record.entry;
        let (facts, content, disposal) = match &record.state {
            RecordState::Present(view) => ((&view.facts).into(), (&view.content).into(), None),
            RecordState::Disposed(tombstone) => (
                (&tombstone.facts).into(),
                Content::default(),
                Some((&**tombstone).into()),
            ),
        };
        Self {
            id: entry.id.to_string(),
            contact_id: entry.contact_id.to_string(),
            sequence: entry.sequence,
            recorded_at: rfc3339_utc(entry.recorded_at_ms),
            recorded_by: entry.recorded_by.to_string(),
            facts,
            content,
            amendment_count: record.amendments.len(),
            disposal,
            content_hash: entry.content_hash.to_string(),
            hash: entry.hash.to_string(),
            detail: None,
        }
    }

    /// With the original as recorded and every amendment.
    pub fn detail(record: &Record) -> Self {
        let (sources, original, superseded) = match &record.state {
            RecordState::Present(view) => (
                Some((&view.sources).into()),
                Some(Original {
                    facts: (&view.original.facts).into(),
                    content: (&view.original.content).into(),
                }),
                view.amendments
                    .iter()
                    .map(|a| (a.id.clone(), a.superseded_by.clone()))
                    .collect(),
            ),
            RecordState::Disposed(_) => (None, None, Vec::new()),
        };
        let superseded_by = |id: &EntryId| {
            superseded
                .iter()
                .find(|(a, _)| a == id)
                .and_then(|(_, by)| by.as_ref().map(ToString::to_string))
        };
        let amendments = record
            .amendments
            .iter()
            .filter_map(|entry| amendment(entry, superseded_by(&entry.id)))
            .collect();
        Self {
            detail: Some(Detail {
                sources,
                original,
                amendments,
            }),
            ..Self::summary(record)
        }
    }
}

fn amendment(entry: &Entry, superseded_by: Option<String>) -> Option<Amendment> {
    let EntryBody::Amendment { amends, patch } = &entry.body else {
        return None;
    };
    Some(Amendment {
        id: entry.id.to_string(),
        amends: amends.to_string(),
        recorded_at: rfc3339_utc(entry.recorded_at_ms),
        recorded_by: entry.recorded_by.to_string(),
        patch: match patch {
            Retained::Present(patch) => Some(patch.into()),
            Retained::Disposed { .. } => None,
        },
        superseded_by,
    })
}

/// A legal hold.
#[derive(Serialize)]
pub struct Hold {
    id: String,
    contact_id: Option<String>,
    case_reference: Option<String>,
    reason: String,
    placed_at: String,
    placed_by: String,
    active: bool,
    lifted_at: Option<String>,
    lifted_by: Option<String>,
    lift_reason: Option<String>,
}

impl From<&StoredHold> for Hold {
    fn from(h: &StoredHold) -> Self {
        let (contact_id, case_reference) = match &h.hold.scope {
            HoldScope::Contact(contact) => (Some(contact.to_string()), None),
            HoldScope::Case(case) => (None, Some(case.to_string())),
        };
        Self {
            id: h.hold.id.to_string(),
            contact_id,
            case_reference,
            reason: h.reason.clone(),
            placed_at: rfc3339_utc(h.hold.placed_at_ms),
            placed_by: h.placed_by.clone(),
            active: h.hold.lifted_at_ms.is_none(),
            lifted_at: h.hold.lifted_at_ms.map(rfc3339_utc),
            lifted_by: h.lifted_by.clone(),
            lift_reason: h.lift_reason.clone(),
        }
    }
}
