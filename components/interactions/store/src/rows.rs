//! Entries as rows of `interaction_entries` and back, and the timeline
//! projection's rows. Reading a row parses every value again with the type
//! that validated it, so a stored value that no longer parses is reported
//! as corrupt rather than shown.

use crm_domain::{Invalid, rfc3339_utc};
use interactions_rules::amendment::{AmendmentPatch, NewAmendment, RawAmendment};
use interactions_rules::chain::{Entry, EntryBody, Retained};
use interactions_rules::disposal::{AuthorityClass, Disposal};
use interactions_rules::interaction::{InteractionContent, InteractionFacts, RawDocumentRef};
use interactions_rules::values::{
    CaseRef, Channel, Direction, DocumentId, DocumentRef, DocumentTarget, DocumentUri, EntryId,
    Notes, NotificationId, OfficerId, Outcome, Reason, Sha256Hash, Slug, Subject, Tags,
};
use serde_json::json;

use crate::StoreError;
use crate::chain::Contact;
use crm_sql::{Sql, Value};

/// The columns [`decode`] reads, in its order.
pub(crate) const ENTRY_COLUMNS: &str = "sequence, id, kind, recorded_at, recorded_by, \
    channel, direction, occurred_at, officer_id, category, case_ref, notification_id, \
    target_id, root_sequence, authority_class, reason, \
    subject, notes, outcome, tags, documents, patch, disposed_by, \
    content_hash, prev_hash, hash";

/// An entry as stored, with the sequence of the interaction an amendment or
/// a disposal is about (`None` for an interaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub entry: Entry,
    pub root_sequence: Option<u64>,
}

impl StoredEntry {
    /// The sequence of the interaction this entry is about.
    pub fn root(&self) -> u64 {
        self.root_sequence.unwrap_or(self.entry.sequence)
    }
}

pub(crate) fn hash_from(value: &Value) -> Option<Sha256Hash> {
    match value {
        Value::Blob(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).ok().map(Sha256Hash),
        _ => None,
    }
}

fn blob(hash: &Sha256Hash) -> Value {
    Value::Blob(hash.0.to_vec())
}

/// The columns of an entry that depend on its kind; NULL unless set.
#[derive(Default)]
struct KindColumns {
    channel: Value,
    direction: Value,
    occurred_at: Value,
    officer: Value,
    category: Value,
    case_ref: Value,
    notification: Value,
    target: Value,
    authority_class: Value,
    reason: Value,
    content: [Value; 5],
    patch: Value,
    disposed_by: Value,
}

impl KindColumns {
    fn of(body: &EntryBody) -> (&'static str, Self) {
        let mut c = Self::default();
        let kind = match body {
            EntryBody::Interaction { facts, content } => {
                c.channel = facts.channel.as_str().into();
                c.direction = facts.direction.as_str().into();
                c.occurred_at = facts.occurred_at_ms.into();
                c.officer = facts.officer.as_str().into();
                c.category = facts.category.as_str().into();
                c.case_ref = facts.case_ref.as_ref().map(|v| v.as_str()).into();
                c.notification = facts.notification_id.as_ref().map(|v| v.as_str()).into();
                match content {
                    Retained::Present(content) => c.content = interaction_content(content),
                    Retained::Disposed { by } => c.disposed_by = by.as_str().into(),
                }
                "interaction"
            }
            EntryBody::Amendment { amends, patch } => {
                c.target = amends.as_str().into();
                match patch {
                    Retained::Present(patch) => c.patch = patch_json(patch).into(),
                    Retained::Disposed { by } => c.disposed_by = by.as_str().into(),
                }
                "amendment"
            }
            EntryBody::Disposal(disposal) => {
                c.target = disposal.disposes.as_str().into();
                c.authority_class = disposal.authority_class.as_str().into();
                c.reason = disposal.reason.as_str().into();
                "disposal"
            }
        };
        (kind, c)
    }
}

/// Writes `entry` of `contact`; `root_sequence` is the interaction an
/// amendment or disposal is about (`None` for an interaction).
pub fn insert_entry(
    db: &impl Sql,
    contact: &Contact,
    entry: &Entry,
    root_sequence: Option<u64>,
) -> Result<(), StoreError> {
    let (kind, c) = KindColumns::of(&entry.body);
    let [subject, notes, outcome, tags, documents] = c.content;
    db.run(
        "INSERT INTO interaction_entries (contact_key, sequence, id, kind, recorded_at, recorded_by, \
         channel, direction, occurred_at, officer_id, category, case_ref, notification_id, \
         target_id, root_sequence, authority_class, reason, \
         subject, notes, outcome, tags, documents, patch, disposed_by, \
         content_hash, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            contact.key.into(),
            entry.sequence.into(),
            entry.id.as_str().into(),
            kind.into(),
            entry.recorded_at_ms.into(),
            entry.recorded_by.as_str().into(),
            c.channel,
            c.direction,
            c.occurred_at,
            c.officer,
            c.category,
            c.case_ref,
            c.notification,
            c.target,
            root_sequence.into(),
            c.authority_class,
            c.reason,
            subject,
            notes,
            outcome,
            tags,
            documents,
            c.patch,
            c.disposed_by,
            blob(&entry.content_hash),
            blob(&entry.prev_hash),
            blob(&entry.hash),
        ],
    )?;
    Ok(())
}

/// subject, notes, outcome, tags (space-separated slugs) and documents
/// (JSON, as callers send them).
fn interaction_content(content: &InteractionContent) -> [Value; 5] {
    let tags: Vec<&str> = content.tags.iter().map(Slug::as_str).collect();
    let documents: Vec<serde_json::Value> = content
        .documents
        .iter()
        .map(|doc| {
            let hash = doc.content_hash.to_string();
            match &doc.target {
                DocumentTarget::Uri(uri) => json!({"uri": uri.as_str(), "content_hash": hash}),
                DocumentTarget::Id(id) => json!({"id": id.as_str(), "content_hash": hash}),
            }
        })
        .collect();
    [
        content.subject.as_str().into(),
        content.notes.as_ref().map(|n| n.as_str()).into(),
        content.outcome.as_ref().map(|o| o.as_str()).into(),
        (!tags.is_empty()).then(|| tags.join(" ")).into(),
        (!documents.is_empty())
            .then(|| serde_json::Value::Array(documents).to_string())
            .into(),
    ]
}

/// A patch as the amendment request that makes it (`null` clears a field),
/// so reading it back goes through [`NewAmendment::parse`].
fn patch_json(patch: &AmendmentPatch) -> String {
    let mut fields = serde_json::Map::new();
    let mut put = |name: &str, value: serde_json::Value| {
        fields.insert(name.to_string(), value);
    };
    put("reason", json!(patch.reason.as_str()));
    if let Some(subject) = &patch.subject {
        put("subject", json!(subject.as_str()));
    }
    if let Some(notes) = &patch.notes {
        put("notes", json!(notes.as_ref().map(|n| n.as_str())));
    }
    if let Some(outcome) = &patch.outcome {
        put("outcome", json!(outcome.as_ref().map(|o| o.as_str())));
    }
    if let Some(tags) = &patch.tags {
        put(
            "tags",
            json!(tags.iter().map(Slug::as_str).collect::<Vec<_>>()),
        );
    }
    if let Some(category) = &patch.category {
        put("category", json!(category.as_str()));
    }
    if let Some(ms) = patch.occurred_at_ms {
        put("occurred_at", json!(rfc3339_utc(ms)));
    }
    if let Some(case) = &patch.case_ref {
        put("case_reference", json!(case.as_ref().map(|c| c.as_str())));
    }
    serde_json::Value::Object(fields).to_string()
}

/// Adds an interaction's row to the timeline projection, with its facts as
/// corrected.
pub fn insert_timeline_row(
    db: &impl Sql,
    contact: &Contact,
    sequence: u64,
    facts: &InteractionFacts,
) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO interaction_timeline (contact_key, occurred_at, sequence, channel, direction, category, case_ref) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            contact.key.into(),
            facts.occurred_at_ms.into(),
            sequence.into(),
            facts.channel.as_str().into(),
            facts.direction.as_str().into(),
            facts.category.as_str().into(),
            facts.case_ref.as_ref().map(|c| c.as_str()).into(),
        ],
    )?;
    Ok(())
}

/// Removes an interaction's timeline row (to write it again as corrected).
pub(crate) fn delete_timeline_row(
    db: &impl Sql,
    contact: &Contact,
    occurred_at_ms: i64,
    sequence: u64,
) -> Result<(), StoreError> {
    db.run(
        "DELETE FROM interaction_timeline WHERE contact_key = ? AND occurred_at = ? AND sequence = ?",
        &[contact.key.into(), occurred_at_ms.into(), sequence.into()],
    )?;
    Ok(())
}

/// The one update ever made to an entry: its content becomes a tombstone.
pub(crate) fn tombstone_row(
    db: &impl Sql,
    contact: &Contact,
    sequence: u64,
    disposed_by: &EntryId,
) -> Result<(), StoreError> {
    db.run(
        "UPDATE interaction_entries SET subject = NULL, notes = NULL, outcome = NULL, tags = NULL, \
         documents = NULL, patch = NULL, disposed_by = ? WHERE contact_key = ? AND sequence = ?",
        &[
            disposed_by.as_str().into(),
            contact.key.into(),
            sequence.into(),
        ],
    )?;
    Ok(())
}

/// Reads one row of [`ENTRY_COLUMNS`] of `contact`'s entries.
pub(crate) fn decode(contact: &Contact, row: &[Value]) -> Result<StoredEntry, StoreError> {
    let sequence = match row.first() {
        Some(Value::Integer(s)) => *s,
        _ => -1,
    };
    let r = Reader {
        row,
        contact_key: contact.key,
        sequence,
    };
    let sequence = r.int(0, "sequence")? as u64;
    let id = r.parse(1, "id", EntryId::parse)?;
    let kind = r.text(2, "kind")?;
    let recorded_at_ms = r.int(3, "recorded_at")?;
    let disposed_by = r.parse_opt(22, "disposed_by", EntryId::parse)?;
    let root_sequence = r.int_opt(13, "root_sequence")?.map(|s| s as u64);
    let body = match kind {
        "interaction" => {
            let facts = InteractionFacts {
                channel: r.parse(5, "channel", Channel::parse)?,
                direction: r.parse(6, "direction", Direction::parse)?,
                occurred_at_ms: r.int(7, "occurred_at")?,
                officer: r.parse(8, "officer_id", OfficerId::parse)?,
                category: r.parse(9, "category", Slug::parse)?,
                case_ref: r.parse_opt(10, "case_ref", CaseRef::parse)?,
                notification_id: r.parse_opt(11, "notification_id", NotificationId::parse)?,
            };
            let content = match disposed_by {
                Some(by) => Retained::Disposed { by },
                None => Retained::Present(InteractionContent {
                    subject: r.parse(16, "subject", Subject::parse)?,
                    notes: r.parse_opt(17, "notes", Notes::parse_optional)?.flatten(),
                    outcome: r.parse_opt(18, "outcome", Outcome::parse)?,
                    tags: r.tags(19)?,
                    documents: r.documents(20)?,
                }),
            };
            EntryBody::Interaction { facts, content }
        }
        "amendment" => {
            let patch = match disposed_by {
                Some(by) => Retained::Disposed { by },
                None => Retained::Present(r.patch(21, recorded_at_ms)?),
            };
            let amends = r.parse(12, "target_id", EntryId::parse)?;
            EntryBody::Amendment { amends, patch }
        }
        "disposal" => {
            let disposal = Disposal {
                disposes: r.parse(12, "target_id", EntryId::parse)?,
                authority_class: r.parse(14, "authority_class", AuthorityClass::parse)?,
                reason: r.parse(15, "reason", Reason::parse)?,
            };
            EntryBody::Disposal(disposal)
        }
        other => return Err(r.corrupt("kind", format!("is {other:?}"))),
    };
    if root_sequence.is_none() && !matches!(body, EntryBody::Interaction { .. }) {
        return Err(r.corrupt("root_sequence", "is missing"));
    }
    Ok(StoredEntry {
        entry: Entry {
            id,
            contact_id: contact.id.clone(),
            sequence,
            recorded_at_ms,
            recorded_by: r.parse(4, "recorded_by", OfficerId::parse)?,
            body,
            content_hash: r.hash(23, "content_hash")?,
            prev_hash: r.hash(24, "prev_hash")?,
            hash: r.hash(25, "hash")?,
        },
        root_sequence,
    })
}

struct Reader<'a> {
    row: &'a [Value],
    contact_key: i64,
    sequence: i64,
}

impl Reader<'_> {
    fn corrupt(&self, column: &'static str, why: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            contact_key: self.contact_key,
            sequence: self.sequence,
            column,
            why: why.into(),
        }
    }

    fn value(&self, i: usize) -> &Value {
        self.row.get(i).unwrap_or(&Value::Null)
    }

    fn int_opt(&self, i: usize, column: &'static str) -> Result<Option<i64>, StoreError> {
        match self.value(i) {
            Value::Null => Ok(None),
            Value::Integer(v) => Ok(Some(*v)),
            _ => Err(self.corrupt(column, "is not an integer")),
        }
    }

    fn int(&self, i: usize, column: &'static str) -> Result<i64, StoreError> {
        self.int_opt(i, column)?
            .ok_or_else(|| self.corrupt(column, "is missing"))
    }

    fn text_opt(&self, i: usize, column: &'static str) -> Result<Option<&str>, StoreError> {
        match self.value(i) {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t)),
            _ => Err(self.corrupt(column, "is not text")),
        }
    }

    fn text(&self, i: usize, column: &'static str) -> Result<&str, StoreError> {
        self.text_opt(i, column)?
            .ok_or_else(|| self.corrupt(column, "is missing"))
    }

    fn parse<T>(
        &self,
        i: usize,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<T, StoreError> {
        parse(self.text(i, column)?).map_err(|e| self.corrupt(column, e.0))
    }

    fn parse_opt<T>(
        &self,
        i: usize,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<Option<T>, StoreError> {
        self.text_opt(i, column)?
            .map(|t| parse(t).map_err(|e| self.corrupt(column, e.0)))
            .transpose()
    }

    fn hash(&self, i: usize, column: &'static str) -> Result<Sha256Hash, StoreError> {
        hash_from(self.value(i)).ok_or_else(|| self.corrupt(column, "is not 32 bytes"))
    }

    fn tags(&self, i: usize) -> Result<Tags, StoreError> {
        let raw: Vec<String> = self
            .text_opt(i, "tags")?
            .unwrap_or_default()
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        Tags::parse(&raw).map_err(|errors| {
            let why = errors.into_iter().map(|(_, e)| e.0).collect::<Vec<_>>();
            self.corrupt("tags", why.join("; "))
        })
    }

    fn documents(&self, i: usize) -> Result<Vec<DocumentRef>, StoreError> {
        let Some(text) = self.text_opt(i, "documents")? else {
            return Ok(Vec::new());
        };
        let raw: Vec<RawDocumentRef> =
            serde_json::from_str(text).map_err(|e| self.corrupt("documents", e.to_string()))?;
        raw.iter()
            .map(|doc| {
                let target = match (&doc.uri, &doc.id) {
                    (Some(uri), None) => Ok(DocumentTarget::Uri(DocumentUri::from_stored(uri))),
                    (None, Some(id)) => DocumentId::parse(id).map(DocumentTarget::Id),
                    _ => Err(Invalid("must have exactly one of uri and id".into())),
                };
                let hash = Sha256Hash::parse_prefixed(doc.content_hash.as_deref().unwrap_or(""));
                match (target, hash) {
                    (Ok(target), Ok(content_hash)) => Ok(DocumentRef {
                        target,
                        content_hash,
                    }),
                    (Err(e), _) | (_, Err(e)) => Err(self.corrupt("documents", e.0)),
                }
            })
            .collect()
    }

    fn patch(&self, i: usize, recorded_at_ms: i64) -> Result<AmendmentPatch, StoreError> {
        let raw: RawAmendment = serde_json::from_str(self.text(i, "patch")?)
            .map_err(|e| self.corrupt("patch", e.to_string()))?;
        NewAmendment::parse(&raw, recorded_at_ms)
            .map(|new| new.patch().clone())
            .map_err(|errors| {
                let why: Vec<String> = errors
                    .into_iter()
                    .map(|e| format!("{}: {}", e.field, e.reason))
                    .collect();
                self.corrupt("patch", why.join("; "))
            })
    }
}

/// Entries of `contact` matching `condition` (over `interaction_entries`
/// with `index_hint`, e.g. `INDEXED BY …` or nothing; `params` follow the
/// contact key), in sequence order.
pub(crate) fn select(
    db: &impl Sql,
    contact: &Contact,
    index_hint: &str,
    condition: &str,
    params: &[Value],
) -> Result<Vec<StoredEntry>, StoreError> {
    let mut all = vec![Value::Integer(contact.key)];
    all.extend_from_slice(params);
    db.run(
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM interaction_entries {index_hint} WHERE contact_key = ? AND {condition} ORDER BY sequence"
        ),
        &all,
    )?
    .iter()
    .map(|row| decode(contact, row))
    .collect()
}
