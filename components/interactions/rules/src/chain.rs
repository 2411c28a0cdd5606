//! Each contact's log is a hash chain that survives disposal.
//!
//! ```text
//! content_hash = SHA-256(canonical content)           subject, notes, patch…
//! hash         = SHA-256(prev_hash || canonical metadata || content_hash)
//! ```
//!
//! The content is hashed on its own so that a disposal can remove it and keep
//! `content_hash`: the chain still verifies, yet an edit of stored content no
//! longer matches `content_hash`, an edit of metadata (or of `content_hash`)
//! no longer matches `hash`, and a deleted, inserted or reordered entry breaks
//! the sequence or the `prev_hash` link. Truncating the newest entries is only
//! visible against a [`ChainHead`] kept elsewhere (a signed checkpoint).

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::amendment::{AmendmentPatch, NewAmendment};
use crate::canonical::Canonical;
use crate::disposal::Disposal;
use crate::interaction::{InteractionContent, InteractionFacts, NewInteraction};
use crate::values::{ContactId, DocumentTarget, EntryId, OfficerId, Sha256Hash};

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: Sha256Hash = Sha256Hash([0; 32]);

/// Content that is either still held or was removed by a disposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retained<T> {
    Present(T),
    /// A tombstone: the content is gone, `by` is the disposal entry.
    Disposed {
        by: EntryId,
    },
}

impl<T> Retained<T> {
    pub fn present(&self) -> Option<&T> {
        match self {
            Self::Present(content) => Some(content),
            Self::Disposed { .. } => None,
        }
    }

    pub fn disposed_by(&self) -> Option<&EntryId> {
        match self {
            Self::Present(_) => None,
            Self::Disposed { by } => Some(by),
        }
    }
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryBody {
    Interaction {
        facts: InteractionFacts,
        content: Retained<InteractionContent>,
    },
    /// A correction of an interaction, or of an earlier amendment.
    Amendment {
        amends: EntryId,
        patch: Retained<AmendmentPatch>,
    },
    /// A disposal; its fields are metadata and stay for good.
    Disposal(Disposal),
}

/// One stored entry of a contact's chain, with the hashes it was stored with.
/// Fields are public so a store can rebuild entries from rows; only the
/// `append_*` functions compute hashes, and [`verify_chain`] rechecks them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: EntryId,
    pub contact_id: ContactId,
    /// 1 for a contact's first entry, then one more for each.
    pub sequence: u64,
    pub recorded_at_ms: i64,
    /// Who recorded the entry (for an interaction, perhaps not who dealt with it).
    pub recorded_by: OfficerId,
    #[serde(flatten)]
    pub body: EntryBody,
    pub content_hash: Sha256Hash,
    pub prev_hash: Sha256Hash,
    pub hash: Sha256Hash,
}

/// Where a contact's chain ends: what the next entry links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    pub contact_id: ContactId,
    pub sequence: u64,
    pub hash: Sha256Hash,
}

impl ChainTip {
    /// The tip of a contact's empty chain.
    pub fn genesis(contact_id: ContactId) -> Self {
        Self {
            contact_id,
            sequence: 0,
            hash: GENESIS,
        }
    }
}

/// Why an entry cannot be appended.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AppendRefused {
    #[error("the chain tip is contact {tip}'s, but the entry is for {entry}")]
    WrongContact { tip: ContactId, entry: ContactId },
    #[error("{0} is a disposal; only interactions and amendments can be amended")]
    NotAmendable(EntryId),
    #[error("{id} was disposed of by {by} and can no longer be amended")]
    Disposed { id: EntryId, by: EntryId },
}

fn same_contact(tip: &ChainTip, contact_id: &ContactId) -> Result<(), AppendRefused> {
    if &tip.contact_id == contact_id {
        Ok(())
    } else {
        Err(AppendRefused::WrongContact {
            tip: tip.contact_id.clone(),
            entry: contact_id.clone(),
        })
    }
}

/// Seals a new interaction onto its contact's chain. `id` and `recorded_by`
/// come from the caller (a fresh id; the authenticated actor).
pub fn append_interaction(
    tip: &ChainTip,
    id: EntryId,
    recorded_by: OfficerId,
    new: NewInteraction,
) -> Result<Entry, AppendRefused> {
    let (contact_id, recorded_at_ms, facts, content) = new.into_parts();
    same_contact(tip, &contact_id)?;
    let body = EntryBody::Interaction {
        facts,
        content: Retained::Present(content),
    };
    Ok(seal(tip, id, recorded_at_ms, recorded_by, body))
}

/// Seals an amendment of `target` (an interaction, or an earlier amendment
/// being corrected) onto the same contact's chain.
pub fn append_amendment(
    tip: &ChainTip,
    target: &Entry,
    id: EntryId,
    recorded_by: OfficerId,
    new: NewAmendment,
) -> Result<Entry, AppendRefused> {
    same_contact(tip, &target.contact_id)?;
    if let Some(by) = target.disposed_by() {
        return Err(AppendRefused::Disposed {
            id: target.id.clone(),
            by: by.clone(),
        });
    }
    if matches!(target.body, EntryBody::Disposal(_)) {
        return Err(AppendRefused::NotAmendable(target.id.clone()));
    }
    let (recorded_at_ms, patch) = new.into_parts();
    let body = EntryBody::Amendment {
        amends: target.id.clone(),
        patch: Retained::Present(patch),
    };
    Ok(seal(tip, id, recorded_at_ms, recorded_by, body))
}

/// Links `body` (whose content is present) after `tip`.
pub(crate) fn seal(
    tip: &ChainTip,
    id: EntryId,
    recorded_at_ms: i64,
    recorded_by: OfficerId,
    body: EntryBody,
) -> Entry {
    let mut entry = Entry {
        id,
        contact_id: tip.contact_id.clone(),
        sequence: tip.sequence + 1,
        recorded_at_ms,
        recorded_by,
        body,
        content_hash: GENESIS,
        prev_hash: tip.hash,
        hash: GENESIS,
    };
    entry.content_hash = entry
        .computed_content_hash()
        .expect("a new entry's content is present");
    entry.hash = entry.computed_hash();
    entry
}

impl Entry {
    /// The tip this entry leaves its chain at.
    pub fn tip(&self) -> ChainTip {
        ChainTip {
            contact_id: self.contact_id.clone(),
            sequence: self.sequence,
            hash: self.hash,
        }
    }

    /// The disposal that removed this entry's content, if one did.
    pub fn disposed_by(&self) -> Option<&EntryId> {
        match &self.body {
            EntryBody::Interaction { content, .. } => content.disposed_by(),
            EntryBody::Amendment { patch, .. } => patch.disposed_by(),
            EntryBody::Disposal(_) => None,
        }
    }

    /// Everything that is never removed, as hashed.
    pub fn metadata_bytes(&self) -> Vec<u8> {
        let mut c = Canonical::new("crm-interactions/entry-metadata/v1");
        c.str(self.id.as_str())
            .str(self.contact_id.as_str())
            .u64(self.sequence)
            .i64(self.recorded_at_ms)
            .str(self.recorded_by.as_str());
        match &self.body {
            EntryBody::Interaction { facts, .. } => {
                c.tag(1)
                    .str(facts.channel.as_str())
                    .str(facts.direction.as_str())
                    .i64(facts.occurred_at_ms)
                    .str(facts.officer.as_str())
                    .str(facts.category.as_str())
                    .opt(facts.case_ref.as_ref(), |c, v| {
                        c.str(v.as_str());
                    })
                    .opt(facts.notification_id.as_ref(), |c, v| {
                        c.str(v.as_str());
                    });
            }
            EntryBody::Amendment { amends, .. } => {
                c.tag(2).str(amends.as_str());
            }
            EntryBody::Disposal(disposal) => {
                c.tag(3)
                    .str(disposal.disposes.as_str())
                    .str(disposal.authority_class.as_str())
                    .str(disposal.reason.as_str());
            }
        }
        c.into_bytes()
    }

    /// The hash of the content as it is now; `None` once disposed of.
    pub fn computed_content_hash(&self) -> Option<Sha256Hash> {
        match &self.body {
            EntryBody::Interaction { content, .. } => {
                content.present().map(interaction_content_hash)
            }
            EntryBody::Amendment { patch, .. } => patch.present().map(amendment_patch_hash),
            // A disposal has no content: its hash is that of "nothing", kept
            // distinct from any other kind's.
            EntryBody::Disposal(_) => {
                Some(Canonical::new("crm-interactions/disposal-content/v1").sha256())
            }
        }
    }

    /// `SHA-256(prev_hash || metadata || content_hash)` over the stored fields.
    pub fn computed_hash(&self) -> Sha256Hash {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.0);
        hasher.update(self.metadata_bytes());
        hasher.update(self.content_hash.0);
        Sha256Hash(hasher.finalize().into())
    }
}

fn interaction_content_hash(content: &InteractionContent) -> Sha256Hash {
    let mut c = Canonical::new("crm-interactions/interaction-content/v1");
    c.str(content.subject.as_str())
        .opt(content.notes.as_ref(), |c, v| {
            c.str(v.as_str());
        })
        .opt(content.outcome.as_ref(), |c, v| {
            c.str(v.as_str());
        })
        .list(content.tags.iter(), |c, tag| {
            c.str(tag.as_str());
        })
        .list(content.documents.iter(), |c, doc| {
            match &doc.target {
                DocumentTarget::Uri(uri) => c.tag(1).str(uri.as_str()),
                DocumentTarget::Id(id) => c.tag(2).str(id.as_str()),
            }
            .hash(&doc.content_hash);
        });
    c.sha256()
}

fn amendment_patch_hash(patch: &AmendmentPatch) -> Sha256Hash {
    let mut c = Canonical::new("crm-interactions/amendment-patch/v1");
    c.str(patch.reason.as_str())
        .opt(patch.subject.as_ref(), |c, v| {
            c.str(v.as_str());
        })
        .opt(patch.notes.as_ref(), |c, v| {
            c.opt(v.as_ref(), |c, v| {
                c.str(v.as_str());
            });
        })
        .opt(patch.outcome.as_ref(), |c, v| {
            c.opt(v.as_ref(), |c, v| {
                c.str(v.as_str());
            });
        })
        .opt(patch.tags.as_ref(), |c, tags| {
            c.list(tags.iter(), |c, tag| {
                c.str(tag.as_str());
            });
        })
        .opt(patch.category.as_ref(), |c, v| {
            c.str(v.as_str());
        })
        .opt(patch.occurred_at_ms, |c, v| {
            c.i64(v);
        })
        .opt(patch.case_ref.as_ref(), |c, v| {
            c.opt(v.as_ref(), |c, v| {
                c.str(v.as_str());
            });
        });
    c.sha256()
}

/// Why a link of the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainBreak {
    #[error("the entry belongs to contact {found}, not {expected}")]
    ForeignEntry {
        expected: ContactId,
        found: ContactId,
    },
    #[error(
        "expected sequence {expected} but found {found}: an entry is missing, repeated or out of order"
    )]
    SequenceGap { expected: u64, found: u64 },
    #[error("prev_hash is not the previous entry's hash")]
    LinkBroken,
    #[error("the stored content no longer matches its content_hash")]
    ContentAltered,
    #[error("the entry no longer matches its hash: its metadata or content_hash was altered")]
    MetadataAltered,
    #[error("the id appears earlier in the chain")]
    DuplicateId,
    #[error("it refers to {0}, which is not an earlier entry it may refer to")]
    DanglingReference(EntryId),
    #[error("its content was removed without a disposal of it in the chain")]
    TombstoneWithoutDisposal,
}

/// The first link found not to hold.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("entry {id} (sequence {sequence}, position {position}): {reason}")]
pub struct BrokenLink {
    /// Index in the entries as given, from 0.
    pub position: usize,
    pub sequence: u64,
    pub id: EntryId,
    pub reason: ChainBreak,
}

/// A verified chain's length and last hash: compare with a checkpoint kept
/// outside the database to notice the newest entries being cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub length: u64,
    pub hash: Sha256Hash,
}

/// What later entries may refer to.
enum Referent {
    Interaction,
    Amendment { amends: EntryId },
    Disposal { disposes: EntryId },
}

struct PendingTombstone {
    position: usize,
    sequence: u64,
    id: EntryId,
    by: EntryId,
}

/// Checks one contact's entries in sequence order, one at a time, so a store
/// can stream a long chain. Memory grows with the number of ids, not content.
#[derive(Default)]
pub struct ChainVerifier {
    contact_id: Option<ContactId>,
    position: usize,
    length: u64,
    last_hash: Option<Sha256Hash>,
    referents: HashMap<EntryId, Referent>,
    tombstones: Vec<PendingTombstone>,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry. Every rule except the tombstone rule is checked
    /// here; tombstones are settled by [`Self::finish`], because the disposal
    /// that justifies one comes later in the chain.
    pub fn push(&mut self, entry: &Entry) -> Result<(), BrokenLink> {
        let position = self.position;
        let broken = |reason| BrokenLink {
            position,
            sequence: entry.sequence,
            id: entry.id.clone(),
            reason,
        };
        let contact_id = self
            .contact_id
            .get_or_insert_with(|| entry.contact_id.clone());
        if *contact_id != entry.contact_id {
            return Err(broken(ChainBreak::ForeignEntry {
                expected: contact_id.clone(),
                found: entry.contact_id.clone(),
            }));
        }
        if entry.sequence != self.length + 1 {
            return Err(broken(ChainBreak::SequenceGap {
                expected: self.length + 1,
                found: entry.sequence,
            }));
        }
        if entry.prev_hash != self.last_hash.unwrap_or(GENESIS) {
            return Err(broken(ChainBreak::LinkBroken));
        }
        if entry
            .computed_content_hash()
            .is_some_and(|h| h != entry.content_hash)
        {
            return Err(broken(ChainBreak::ContentAltered));
        }
        if entry.computed_hash() != entry.hash {
            return Err(broken(ChainBreak::MetadataAltered));
        }
        if self.referents.contains_key(&entry.id) {
            return Err(broken(ChainBreak::DuplicateId));
        }
        let referent = match &entry.body {
            EntryBody::Interaction { .. } => Referent::Interaction,
            EntryBody::Amendment { amends, .. } => {
                let amendable = matches!(
                    self.referents.get(amends),
                    Some(Referent::Interaction | Referent::Amendment { .. })
                );
                if !amendable {
                    return Err(broken(ChainBreak::DanglingReference(amends.clone())));
                }
                Referent::Amendment {
                    amends: amends.clone(),
                }
            }
            EntryBody::Disposal(disposal) => {
                if !matches!(
                    self.referents.get(&disposal.disposes),
                    Some(Referent::Interaction)
                ) {
                    return Err(broken(ChainBreak::DanglingReference(
                        disposal.disposes.clone(),
                    )));
                }
                Referent::Disposal {
                    disposes: disposal.disposes.clone(),
                }
            }
        };
        if let Some(by) = entry.disposed_by() {
            self.tombstones.push(PendingTombstone {
                position,
                sequence: entry.sequence,
                id: entry.id.clone(),
                by: by.clone(),
            });
        }
        self.referents.insert(entry.id.clone(), referent);
        self.position += 1;
        self.length = entry.sequence;
        self.last_hash = Some(entry.hash);
        Ok(())
    }

    /// Settles the tombstones: each must name a disposal of its interaction
    /// (for an amendment, of the interaction it ultimately amends).
    pub fn finish(self) -> Result<ChainHead, BrokenLink> {
        for tombstone in &self.tombstones {
            let justified = match self.referents.get(&tombstone.by) {
                Some(Referent::Disposal { disposes }) => {
                    self.root_of(&tombstone.id) == Some(disposes)
                }
                _ => false,
            };
            if !justified {
                return Err(BrokenLink {
                    position: tombstone.position,
                    sequence: tombstone.sequence,
                    id: tombstone.id.clone(),
                    reason: ChainBreak::TombstoneWithoutDisposal,
                });
            }
        }
        Ok(ChainHead {
            length: self.length,
            hash: self.last_hash.unwrap_or(GENESIS),
        })
    }

    /// The interaction an entry is about, following amendments back. Each
    /// step goes to an earlier entry, so this ends.
    fn root_of<'a>(&'a self, mut id: &'a EntryId) -> Option<&'a EntryId> {
        loop {
            match self.referents.get(id)? {
                Referent::Interaction => return Some(id),
                Referent::Amendment { amends } => id = amends,
                Referent::Disposal { .. } => return None,
            }
        }
    }
}

/// Verifies one contact's whole chain, given in sequence order; returns how
/// many entries hold.
pub fn verify_chain<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<u64, BrokenLink> {
    let mut verifier = ChainVerifier::new();
    for entry in entries {
        verifier.push(entry)?;
    }
    verifier.finish().map(|head| head.length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amendment::RawAmendment;
    use crate::disposal::ADMINISTRATOR_ROLE;
    use crate::fixtures::{Log, id, officer};
    use crate::values::{CaseRef, Subject};

    fn amendment(subject: &str) -> RawAmendment {
        RawAmendment {
            reason: Some("Typo".into()),
            subject: Some(subject.into()),
            ..RawAmendment::default()
        }
    }

    /// Interactions, an amendment of an amendment, and a disposal.
    fn log() -> Log {
        let mut log = Log::new("contact-1");
        log.record("i1", "2026-11-20T09:00:00+10:00", "Rent arrears call");
        log.record("i2", "2026-11-21T09:00:00+10:00", "Counter visit");
        log.amend("a1", "i1", amendment("Rent arrears phone call"));
        log.amend("a2", "a1", amendment("Rent arrears phone call (corrected)"));
        log.record("i3", "2026-11-19T09:00:00+10:00", "Letter sent");
        log
    }

    fn broken(entries: &[Entry]) -> (usize, ChainBreak) {
        let e = verify_chain(entries).unwrap_err();
        (e.position, e.reason)
    }

    #[test]
    fn an_intact_chain_verifies_and_ends_at_its_tip() {
        let log = log();
        assert_eq!(verify_chain(&log.entries), Ok(5));
        let mut verifier = ChainVerifier::new();
        for entry in &log.entries {
            verifier.push(entry).unwrap();
        }
        let last = log.entries.last().unwrap();
        assert_eq!(
            verifier.finish(),
            Ok(ChainHead {
                length: 5,
                hash: last.hash
            })
        );
        assert_eq!(log.entries[0].prev_hash, GENESIS);
        assert_eq!(verify_chain(&[]), Ok(0));
    }

    #[test]
    fn the_chain_survives_disposal_with_every_hash_unchanged() {
        let mut log = log();
        let before: Vec<(Sha256Hash, Sha256Hash)> = log
            .entries
            .iter()
            .map(|e| (e.content_hash, e.hash))
            .collect();
        log.dispose("d1", "i1", &[], ADMINISTRATOR_ROLE).unwrap();
        for name in ["i1", "a1", "a2"] {
            assert_eq!(log.get(name).disposed_by(), Some(&id("d1")), "{name}");
            assert_eq!(log.get(name).computed_content_hash(), None);
        }
        assert_eq!(log.get("i2").disposed_by(), None);
        let after: Vec<(Sha256Hash, Sha256Hash)> = log
            .entries
            .iter()
            .map(|e| (e.content_hash, e.hash))
            .collect();
        assert_eq!(after[..5], before[..]);
        assert_eq!(verify_chain(&log.entries), Ok(6));
    }

    #[test]
    fn an_edited_content_is_detected() {
        let mut log = log();
        let EntryBody::Interaction { content, .. } = &mut log.entries[1].body else {
            unreachable!()
        };
        let Retained::Present(content) = content else {
            unreachable!()
        };
        content.subject = Subject::parse("Something else").unwrap();
        assert_eq!(broken(&log.entries), (1, ChainBreak::ContentAltered));
    }

    #[test]
    fn an_edited_amendment_patch_is_detected() {
        let mut log = log();
        let position = log.position("a2");
        let EntryBody::Amendment { patch, .. } = &mut log.entries[position].body else {
            unreachable!()
        };
        let Retained::Present(patch) = patch else {
            unreachable!()
        };
        patch.case_ref = Some(Some(CaseRef::parse("CASE-2026-1").unwrap()));
        assert_eq!(broken(&log.entries), (position, ChainBreak::ContentAltered));
    }

    #[test]
    fn an_edited_content_with_a_matching_content_hash_breaks_the_entry_hash() {
        let mut log = log();
        let entry = &mut log.entries[1];
        let EntryBody::Interaction { content, .. } = &mut entry.body else {
            unreachable!()
        };
        let Retained::Present(content) = content else {
            unreachable!()
        };
        content.notes = None;
        entry.content_hash = entry.computed_content_hash().unwrap();
        assert_eq!(broken(&log.entries), (1, ChainBreak::MetadataAltered));
    }

    #[test]
    fn edited_metadata_is_detected() {
        let mut log = log();
        let EntryBody::Interaction { facts, .. } = &mut log.entries[0].body else {
            unreachable!()
        };
        facts.occurred_at_ms += 1;
        assert_eq!(broken(&log.entries), (0, ChainBreak::MetadataAltered));

        let mut log = self::log();
        log.entries[2].recorded_by = officer("someone-else");
        assert_eq!(broken(&log.entries), (2, ChainBreak::MetadataAltered));
    }

    #[test]
    fn an_edited_disposal_is_detected() {
        let mut log = log();
        log.dispose("d1", "i2", &[], ADMINISTRATOR_ROLE).unwrap();
        let EntryBody::Disposal(disposal) = &mut log.entries[5].body else {
            unreachable!()
        };
        disposal.authority_class =
            crate::disposal::AuthorityClass::parse("GRA 31 class 1").unwrap();
        assert_eq!(broken(&log.entries), (5, ChainBreak::MetadataAltered));
    }

    #[test]
    fn a_deleted_entry_is_a_sequence_gap() {
        let mut log = log();
        log.entries.remove(1);
        assert_eq!(
            broken(&log.entries),
            (
                1,
                ChainBreak::SequenceGap {
                    expected: 2,
                    found: 3
                }
            )
        );
    }

    #[test]
    fn a_deletion_with_renumbering_breaks_the_link() {
        let mut log = log();
        log.entries.remove(1);
        for entry in &mut log.entries[1..] {
            entry.sequence -= 1;
        }
        assert_eq!(broken(&log.entries), (1, ChainBreak::LinkBroken));
    }

    #[test]
    fn reordered_entries_are_detected() {
        let mut log = log();
        log.entries.swap(1, 2);
        assert_eq!(
            broken(&log.entries),
            (
                1,
                ChainBreak::SequenceGap {
                    expected: 2,
                    found: 3
                }
            )
        );
    }

    #[test]
    fn a_cut_off_tail_shows_only_against_a_checkpoint() {
        let log = log();
        let checkpoint = {
            let mut v = ChainVerifier::new();
            log.entries.iter().try_for_each(|e| v.push(e)).unwrap();
            v.finish().unwrap()
        };
        let mut v = ChainVerifier::new();
        log.entries[..4].iter().try_for_each(|e| v.push(e)).unwrap();
        assert_ne!(v.finish().unwrap(), checkpoint);
    }

    #[test]
    fn an_entry_of_another_contact_is_foreign() {
        let mut log = log();
        let mut other = Log::new("contact-2");
        other.record("x1", "2026-11-20T09:00:00+10:00", "Other");
        other.record("x2", "2026-11-20T09:00:00+10:00", "Other");
        log.entries[1] = other.entries[1].clone();
        assert!(matches!(
            broken(&log.entries),
            (1, ChainBreak::ForeignEntry { .. })
        ));
    }

    #[test]
    fn a_tombstone_needs_a_disposal_of_its_interaction() {
        // Content blanked with no disposal at all.
        let mut log = log();
        let EntryBody::Interaction { content, .. } = &mut log.entries[1].body else {
            unreachable!()
        };
        *content = Retained::Disposed { by: id("d9") };
        assert_eq!(
            broken(&log.entries),
            (1, ChainBreak::TombstoneWithoutDisposal)
        );

        // Content blanked, citing a disposal of a different interaction.
        let mut log = self::log();
        log.dispose("d1", "i3", &[], ADMINISTRATOR_ROLE).unwrap();
        let EntryBody::Interaction { content, .. } = &mut log.entries[1].body else {
            unreachable!()
        };
        *content = Retained::Disposed { by: id("d1") };
        assert_eq!(
            broken(&log.entries),
            (1, ChainBreak::TombstoneWithoutDisposal)
        );
    }

    #[test]
    fn references_must_point_back_to_the_right_kind() {
        let mut log = log();
        let tip = log.entries.last().unwrap().tip();
        let (_, patch) = NewAmendment::parse(&amendment("x"), log.now())
            .unwrap()
            .into_parts();
        let dangling = seal(
            &tip,
            id("a9"),
            0,
            officer("clerk-1"),
            EntryBody::Amendment {
                amends: id("nowhere"),
                patch: Retained::Present(patch),
            },
        );
        log.entries.push(dangling);
        assert_eq!(
            broken(&log.entries),
            (5, ChainBreak::DanglingReference(id("nowhere")))
        );
    }

    #[test]
    fn a_repeated_id_is_detected() {
        let mut log = log();
        log.record("i1", "2026-11-20T09:00:00+10:00", "Again");
        assert_eq!(broken(&log.entries), (5, ChainBreak::DuplicateId));
    }

    #[test]
    fn appending_checks_the_contact_and_the_target() {
        let mut log = log();
        let other = ChainTip::genesis(crate::values::ContactId::parse("contact-2").unwrap());
        let new = NewAmendment::parse(&amendment("x"), log.now()).unwrap();
        let target = log.get("i1").clone();
        assert!(matches!(
            append_amendment(&other, &target, id("a9"), officer("c"), new.clone()),
            Err(AppendRefused::WrongContact { .. })
        ));
        log.dispose("d1", "i1", &[], ADMINISTRATOR_ROLE).unwrap();
        let tip = log.entries.last().unwrap().tip();
        assert_eq!(
            append_amendment(&tip, log.get("a1"), id("a9"), officer("c"), new.clone()),
            Err(AppendRefused::Disposed {
                id: id("a1"),
                by: id("d1")
            })
        );
        assert_eq!(
            append_amendment(&tip, log.get("d1"), id("a9"), officer("c"), new),
            Err(AppendRefused::NotAmendable(id("d1")))
        );
    }

    #[test]
    fn metadata_bytes_tell_absent_from_empty_and_kinds_apart() {
        let log = log();
        let interaction = &log.entries[0];
        let mut without_case = interaction.clone();
        let EntryBody::Interaction { facts, .. } = &mut without_case.body else {
            unreachable!()
        };
        facts.case_ref = None;
        assert_ne!(interaction.metadata_bytes(), without_case.metadata_bytes());
        assert_ne!(interaction.computed_hash(), without_case.computed_hash());
        let a = log.get("a1");
        assert!(a.metadata_bytes() != interaction.metadata_bytes());
    }
}
