//! Corrections. A record is never rewritten: an amendment entry carries a
//! patch, and the timeline shows the corrected view with the original and
//! every amendment still reachable.
//!
//! Amendments of amendments, precisely: an amendment targets either the
//! interaction or an earlier amendment. Amending an amendment *replaces that
//! amendment's patch* in full (to correct a correction, restate it); the
//! latest amendment of an amendment wins, recursively. The corrected view
//! then applies, in recorded order, the effective patch of each amendment
//! that targets the interaction itself.

use std::collections::HashMap;

use crm_domain::FieldError;
use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

use crate::chain::{Entry, EntryBody, Retained};
use crate::field_errors::{FieldErrors, parse_occurred_at};
use crate::interaction::{InteractionContent, InteractionFacts, optional, parse_tags};
use crate::values::{CaseRef, EntryId, Notes, OfficerId, Outcome, Reason, Slug, Subject, Tags};

/// A correction as a caller sends it. An absent field is left as it was;
/// `null` clears a field that may be empty (`notes`, `outcome`,
/// `case_reference`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAmendment {
    pub reason: Option<String>,
    pub subject: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub outcome: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub category: Option<String>,
    pub occurred_at: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub case_reference: Option<Option<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The fields an amendment changes (`None`: unchanged; for clearable fields
/// `Some(None)`: cleared), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmendmentPatch {
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Option<Notes>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Option<Outcome>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Slug>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_ref: Option<Option<CaseRef>>,
}

/// A validated amendment, ready to be appended after its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAmendment {
    recorded_at_ms: i64,
    patch: AmendmentPatch,
}

impl NewAmendment {
    /// Checks every field (a corrected occurred-at against `recorded_at_ms`,
    /// as for a new interaction) and reports all refusals together. A patch
    /// must change at least one field.
    pub fn parse(raw: &RawAmendment, recorded_at_ms: i64) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let reason = errors
            .required("reason", &raw.reason)
            .and_then(|r| errors.check("reason", Reason::parse(r)));
        let subject = optional(&mut errors, "subject", &raw.subject, Subject::parse);
        let notes = clearable(&mut errors, "notes", &raw.notes, Notes::parse_optional);
        let outcome = clearable(&mut errors, "outcome", &raw.outcome, |r| {
            Outcome::parse(r).map(Some)
        });
        let tags = match &raw.tags {
            None => Some(None),
            Some(tags) => parse_tags(&mut errors, tags).map(Some),
        };
        let category = optional(&mut errors, "category", &raw.category, Slug::parse);
        let occurred_at_ms = optional(&mut errors, "occurred_at", &raw.occurred_at, |r| {
            parse_occurred_at(r, recorded_at_ms)
        });
        let case_ref = clearable(&mut errors, "case_reference", &raw.case_reference, |r| {
            CaseRef::parse(r).map(Some)
        });
        let changes_something = raw.subject.is_some()
            || raw.notes.is_some()
            || raw.outcome.is_some()
            || raw.tags.is_some()
            || raw.category.is_some()
            || raw.occurred_at.is_some()
            || raw.case_reference.is_some();
        if !changes_something {
            errors.push("amendment", "must change at least one field");
        }
        errors.finish(|| {
            Some(Self {
                recorded_at_ms,
                patch: AmendmentPatch {
                    reason: reason?,
                    subject: subject?,
                    notes: notes?,
                    outcome: outcome?,
                    tags: tags?,
                    category: category?,
                    occurred_at_ms: occurred_at_ms?,
                    case_ref: case_ref?,
                },
            })
        })
    }

    pub fn recorded_at_ms(&self) -> i64 {
        self.recorded_at_ms
    }

    pub fn patch(&self) -> &AmendmentPatch {
        &self.patch
    }

    pub(crate) fn into_parts(self) -> (i64, AmendmentPatch) {
        (self.recorded_at_ms, self.patch)
    }
}

/// A clearable field: absent → `Some(None)`; `null` → `Some(Some(None))`;
/// a value → `Some(Some(parsed))`; refused → `None`.
fn clearable<T>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &Option<Option<String>>,
    parse: impl FnOnce(&str) -> Result<Option<T>, crm_domain::Invalid>,
) -> Option<Option<Option<T>>> {
    match raw {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(r)) => errors.check(field, parse(r)).map(Some),
    }
}

/// Which amendment supplied each field of the corrected view (`None`: the
/// original's value stands).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldSources {
    pub subject: Option<EntryId>,
    pub notes: Option<EntryId>,
    pub outcome: Option<EntryId>,
    pub tags: Option<EntryId>,
    pub category: Option<EntryId>,
    pub occurred_at: Option<EntryId>,
    pub case_ref: Option<EntryId>,
}

/// One amendment as recorded, and whether a later one replaced its patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmendmentTrail {
    pub id: EntryId,
    pub amends: EntryId,
    pub recorded_at_ms: i64,
    pub recorded_by: OfficerId,
    pub patch: AmendmentPatch,
    /// The latest amendment of this one; its effective patch stands in for
    /// this one's.
    pub superseded_by: Option<EntryId>,
}

/// The original as first recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginalRecord {
    pub facts: InteractionFacts,
    pub content: InteractionContent,
}

/// An interaction as corrected, with how it got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorrectedView {
    pub id: EntryId,
    pub facts: InteractionFacts,
    pub content: InteractionContent,
    pub sources: FieldSources,
    pub original: OriginalRecord,
    /// Every amendment, in recorded order.
    pub amendments: Vec<AmendmentTrail>,
}

/// Why a corrected view cannot be built from the entries given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ViewError {
    #[error("{0} is not an interaction")]
    NotAnInteraction(EntryId),
    #[error("{id} was disposed of by {by}; show its tombstone instead")]
    Disposed { id: EntryId, by: EntryId },
    #[error("{0} is not an amendment")]
    NotAnAmendment(EntryId),
    #[error("amendment {0} was disposed of but its interaction was not")]
    AmendmentDisposed(EntryId),
    #[error("amendment {0} is not in recorded order after the interaction and earlier amendments")]
    OutOfOrder(EntryId),
    #[error(
        "amendment {id} amends {amends}, which is neither the interaction nor an earlier amendment of it"
    )]
    Unrelated { id: EntryId, amends: EntryId },
}

struct Amendment<'a> {
    entry: &'a Entry,
    amends: &'a EntryId,
    patch: &'a AmendmentPatch,
}

/// The interaction `original` as corrected by `amendments_in_order` (all of
/// its amendments, direct or of amendments, in recorded order).
pub fn corrected_view(
    original: &Entry,
    amendments_in_order: &[Entry],
) -> Result<CorrectedView, ViewError> {
    let EntryBody::Interaction { facts, content } = &original.body else {
        return Err(ViewError::NotAnInteraction(original.id.clone()));
    };
    let content = match content {
        Retained::Present(content) => content,
        Retained::Disposed { by } => {
            return Err(ViewError::Disposed {
                id: original.id.clone(),
                by: by.clone(),
            });
        }
    };

    let mut amendments = Vec::with_capacity(amendments_in_order.len());
    let mut previous_sequence = original.sequence;
    for entry in amendments_in_order {
        let EntryBody::Amendment { amends, patch } = &entry.body else {
            return Err(ViewError::NotAnAmendment(entry.id.clone()));
        };
        let Some(patch) = patch.present() else {
            return Err(ViewError::AmendmentDisposed(entry.id.clone()));
        };
        if entry.sequence <= previous_sequence || entry.contact_id != original.contact_id {
            return Err(ViewError::OutOfOrder(entry.id.clone()));
        }
        previous_sequence = entry.sequence;
        let known_target =
            *amends == original.id || amendments.iter().any(|a: &Amendment| a.entry.id == *amends);
        if !known_target {
            return Err(ViewError::Unrelated {
                id: entry.id.clone(),
                amends: amends.clone(),
            });
        }
        amendments.push(Amendment {
            entry,
            amends,
            patch,
        });
    }

    // Walking back from the newest: the first amendment seen that targets
    // an amendment is its latest correction; an amendment's patch comes from
    // its latest correction's source, or is its own.
    let mut latest_correction: HashMap<&EntryId, &EntryId> = HashMap::new();
    let mut source: HashMap<&EntryId, usize> = HashMap::new();
    for (index, amendment) in amendments.iter().enumerate().rev() {
        let id = &amendment.entry.id;
        let from = latest_correction
            .get(id)
            .map_or(index, |correction| source[correction]);
        source.insert(id, from);
        if *amendment.amends != original.id {
            latest_correction.entry(amendment.amends).or_insert(id);
        }
    }

    let mut view_facts = facts.clone();
    let mut view_content = content.clone();
    let mut sources = FieldSources::default();
    for amendment in amendments.iter().filter(|a| *a.amends == original.id) {
        let effective = &amendments[source[&amendment.entry.id]];
        apply(
            &mut view_facts,
            &mut view_content,
            &mut sources,
            effective.patch,
            &effective.entry.id,
        );
    }

    Ok(CorrectedView {
        id: original.id.clone(),
        facts: view_facts,
        content: view_content,
        sources,
        original: OriginalRecord {
            facts: facts.clone(),
            content: content.clone(),
        },
        amendments: amendments
            .iter()
            .map(|a| AmendmentTrail {
                id: a.entry.id.clone(),
                amends: a.amends.clone(),
                recorded_at_ms: a.entry.recorded_at_ms,
                recorded_by: a.entry.recorded_by.clone(),
                patch: a.patch.clone(),
                superseded_by: latest_correction.get(&a.entry.id).map(|&id| id.clone()),
            })
            .collect(),
    })
}

fn apply(
    facts: &mut InteractionFacts,
    content: &mut InteractionContent,
    sources: &mut FieldSources,
    patch: &AmendmentPatch,
    from: &EntryId,
) {
    fn set<T: Clone>(
        field: &mut T,
        source: &mut Option<EntryId>,
        value: &Option<T>,
        from: &EntryId,
    ) {
        if let Some(value) = value {
            *field = value.clone();
            *source = Some(from.clone());
        }
    }
    set(
        &mut content.subject,
        &mut sources.subject,
        &patch.subject,
        from,
    );
    set(&mut content.notes, &mut sources.notes, &patch.notes, from);
    set(
        &mut content.outcome,
        &mut sources.outcome,
        &patch.outcome,
        from,
    );
    set(&mut content.tags, &mut sources.tags, &patch.tags, from);
    set(
        &mut facts.category,
        &mut sources.category,
        &patch.category,
        from,
    );
    set(
        &mut facts.occurred_at_ms,
        &mut sources.occurred_at,
        &patch.occurred_at_ms,
        from,
    );
    set(
        &mut facts.case_ref,
        &mut sources.case_ref,
        &patch.case_ref,
        from,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disposal::ADMINISTRATOR_ROLE;
    use crate::fixtures::{Log, T0, id};
    use crate::values::{KnownOutcome, Slug};

    fn raw(reason: &str) -> RawAmendment {
        RawAmendment {
            reason: Some(reason.into()),
            ..RawAmendment::default()
        }
    }

    fn subject(reason: &str, subject: &str) -> RawAmendment {
        RawAmendment {
            subject: Some(subject.into()),
            ..raw(reason)
        }
    }

    fn view(log: &Log, root: &str) -> Result<CorrectedView, ViewError> {
        corrected_view(log.get(root), &log.family(root))
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let json =
            r#"{"reason":"Wrong case","case_reference":null,"notes":"","outcome":"referred"}"#;
        let raw: RawAmendment = serde_json::from_str(json).unwrap();
        assert_eq!(raw.case_reference, Some(None));
        assert_eq!(raw.subject, None);
        let patch = NewAmendment::parse(&raw, T0).unwrap().patch().clone();
        assert_eq!(patch.case_ref, Some(None));
        assert_eq!(patch.notes, Some(None));
        assert_eq!(
            patch.outcome,
            Some(Some(Outcome::Known(KnownOutcome::Referred)))
        );
        assert_eq!(patch.subject, None);
        assert_eq!(patch.tags, None);
    }

    #[test]
    fn every_refused_field_is_reported_at_once() {
        let bad = RawAmendment {
            reason: None,
            subject: Some(" ".into()),
            notes: Some(Some("\u{0}".into())),
            outcome: Some(Some("no way".into())),
            tags: Some(vec!["Fine".into(), "not fine".into()]),
            category: Some("--".into()),
            occurred_at: Some("2026-11-23T06:46:00Z".into()),
            case_reference: Some(Some("x".into())),
        };
        let errors = NewAmendment::parse(&bad, T0).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "reason",
                "subject",
                "notes",
                "outcome",
                "tags[1]",
                "category",
                "occurred_at",
                "case_reference"
            ]
        );
        let nothing = NewAmendment::parse(&raw("No change"), T0).unwrap_err();
        assert_eq!(nothing[0].field, "amendment");
    }

    #[test]
    fn a_correction_shows_the_new_values_and_keeps_the_original() {
        let mut log = Log::new("contact-1");
        log.record("i1", "2026-11-20T09:00:00+10:00", "Rent call");
        log.amend(
            "a1",
            "i1",
            RawAmendment {
                occurred_at: Some("2026-11-19T16:30:00+10:00".into()),
                category: Some("housing".into()),
                outcome: Some(None),
                ..subject("Wrong day and subject", "Rent arrears call")
            },
        );
        let view = view(&log, "i1").unwrap();
        assert_eq!(view.content.subject.as_str(), "Rent arrears call");
        assert_eq!(view.content.outcome, None);
        assert_eq!(view.facts.category, Slug::parse("housing").unwrap());
        assert_eq!(
            view.facts.occurred_at_ms,
            crm_domain::parse_rfc3339_ms("2026-11-19T06:30:00Z").unwrap()
        );
        assert_eq!(view.sources.subject, Some(id("a1")));
        assert_eq!(view.sources.occurred_at, Some(id("a1")));
        assert_eq!(view.sources.outcome, Some(id("a1")));
        assert_eq!(view.sources.notes, None);
        assert_eq!(view.sources.tags, None);
        assert_eq!(view.original.content.subject.as_str(), "Rent call");
        assert!(view.original.content.outcome.is_some());
        assert_eq!(view.amendments.len(), 1);
        assert_eq!(view.amendments[0].superseded_by, None);
    }

    #[test]
    fn amending_an_amendment_replaces_its_patch_recursively() {
        let mut log = Log::new("contact-1");
        log.record("i1", "2026-11-20T09:00:00+10:00", "Original");
        log.amend(
            "a1",
            "i1",
            RawAmendment {
                notes: Some(Some("Amended notes".into())),
                ..subject("First fix", "S1")
            },
        );
        log.amend(
            "a2",
            "i1",
            RawAmendment {
                outcome: Some(Some("escalated".into())),
                ..raw("Outcome")
            },
        );
        // a3 restates a1 with only a subject: a1's notes change is withdrawn.
        log.amend("a3", "a1", subject("Fix the fix", "S3"));
        // a4 corrects a3, so it now stands for a1.
        log.amend(
            "a4",
            "a3",
            RawAmendment {
                category: Some("complaint".into()),
                ..subject("Fix the fix of the fix", "S4")
            },
        );
        let view = view(&log, "i1").unwrap();
        assert_eq!(view.content.subject.as_str(), "S4");
        assert_eq!(view.sources.subject, Some(id("a4")));
        assert_eq!(view.facts.category.as_str(), "complaint");
        assert_eq!(view.sources.category, Some(id("a4")));
        assert_eq!(
            view.content.notes, view.original.content.notes,
            "a1's notes were withdrawn by its correction"
        );
        assert_eq!(view.sources.notes, None);
        assert_eq!(
            view.content.outcome,
            Some(Outcome::Known(KnownOutcome::Escalated))
        );
        assert_eq!(view.sources.outcome, Some(id("a2")));
        let superseded: Vec<(&str, Option<&str>)> = view
            .amendments
            .iter()
            .map(|a| (a.id.as_str(), a.superseded_by.as_ref().map(|s| s.as_str())))
            .collect();
        assert_eq!(
            superseded,
            [
                ("a1", Some("a3")),
                ("a2", None),
                ("a3", Some("a4")),
                ("a4", None)
            ]
        );
        // The recorded patches stay reachable as recorded.
        assert_eq!(
            view.amendments[0].patch.subject.as_ref().unwrap().as_str(),
            "S1"
        );
    }

    #[test]
    fn a_corrected_amendment_keeps_its_place_in_recorded_order() {
        let mut log = Log::new("contact-1");
        log.record("i1", "2026-11-20T09:00:00+10:00", "Original");
        log.amend("a1", "i1", subject("First", "S1"));
        log.amend("a2", "i1", subject("Second", "S2"));
        // Correcting a1 later does not move it after a2.
        log.amend("a3", "a1", subject("Fix first", "S3"));
        let corrected = view(&log, "i1").unwrap();
        assert_eq!(corrected.content.subject.as_str(), "S2");
        assert_eq!(corrected.sources.subject, Some(id("a2")));
        // The latest of two corrections of the same amendment wins.
        log.amend("a4", "i1", subject("Third", "S4"));
        log.amend("a5", "a4", subject("Fix third", "S5"));
        log.amend("a6", "a4", subject("Fix third again", "S6"));
        let corrected = view(&log, "i1").unwrap();
        assert_eq!(corrected.content.subject.as_str(), "S6");
        assert_eq!(corrected.sources.subject, Some(id("a6")));
    }

    #[test]
    fn amendments_must_belong_and_be_in_order() {
        let mut log = Log::new("contact-1");
        log.record("i1", "2026-11-20T09:00:00+10:00", "One");
        log.record("i2", "2026-11-20T09:00:00+10:00", "Two");
        log.amend("a1", "i1", subject("r", "S1"));
        log.amend("a2", "i2", subject("r", "S2"));
        log.amend("a3", "a1", subject("r", "S3"));
        log.amend("a4", "i1", subject("r", "S4"));
        let (i1, a1, a2, a3) = (log.get("i1"), log.get("a1"), log.get("a2"), log.get("a3"));
        let a4 = log.get("a4");
        assert_eq!(
            corrected_view(i1, &[a1.clone(), a2.clone()]),
            Err(ViewError::Unrelated {
                id: id("a2"),
                amends: id("i2")
            })
        );
        assert_eq!(
            corrected_view(i1, &[a4.clone(), a1.clone()]),
            Err(ViewError::OutOfOrder(id("a1")))
        );
        assert_eq!(
            corrected_view(i1, std::slice::from_ref(a3)),
            Err(ViewError::Unrelated {
                id: id("a3"),
                amends: id("a1")
            })
        );
        assert_eq!(
            corrected_view(a1, &[]),
            Err(ViewError::NotAnInteraction(id("a1")))
        );
        assert_eq!(
            corrected_view(i1, std::slice::from_ref(i1)),
            Err(ViewError::NotAnAmendment(id("i1")))
        );
    }

    #[test]
    fn a_disposed_interaction_has_no_corrected_view() {
        let mut log = Log::new("contact-1");
        log.record("i1", "2026-11-20T09:00:00+10:00", "One");
        log.amend("a1", "i1", subject("r", "S1"));
        log.dispose("d1", "i1", &[], ADMINISTRATOR_ROLE).unwrap();
        assert_eq!(
            view(&log, "i1"),
            Err(ViewError::Disposed {
                id: id("i1"),
                by: id("d1")
            })
        );
    }
}
