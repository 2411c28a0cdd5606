//! Test builders: one contact's log, grown entry by entry as a store would.

use crate::interaction::tests::raw;
use crate::*;

/// 2026-11-23T06:40:00Z; each entry is recorded a minute after the last.
pub const T0: i64 = 1_795_416_000_000;

pub fn id(text: &str) -> values::EntryId {
    values::EntryId::parse(text).unwrap()
}

pub fn officer(text: &str) -> values::OfficerId {
    values::OfficerId::parse(text).unwrap()
}

pub struct Log {
    pub entries: Vec<Entry>,
    tip: ChainTip,
}

impl Log {
    pub fn new(contact: &str) -> Self {
        Self {
            entries: Vec::new(),
            tip: ChainTip::genesis(values::ContactId::parse(contact).unwrap()),
        }
    }

    pub fn now(&self) -> i64 {
        T0 + 60_000 * self.entries.len() as i64
    }

    fn push(&mut self, entry: Entry) -> &Entry {
        self.tip = entry.tip();
        self.entries.push(entry);
        self.entries.last().unwrap()
    }

    pub fn record_raw(&mut self, entry_id: &str, raw: RawInteraction) -> &Entry {
        let new = NewInteraction::parse(&raw, self.now()).unwrap();
        let entry = append_interaction(&self.tip, id(entry_id), officer("clerk-1"), new).unwrap();
        self.push(entry)
    }

    /// An interaction of this log's contact that occurred at `occurred_at`.
    pub fn record(&mut self, entry_id: &str, occurred_at: &str, subject: &str) -> &Entry {
        let raw = RawInteraction {
            contact_id: Some(self.tip.contact_id.to_string()),
            occurred_at: Some(occurred_at.into()),
            subject: Some(subject.into()),
            ..raw()
        };
        self.record_raw(entry_id, raw)
    }

    pub fn amend(&mut self, entry_id: &str, target: &str, raw: RawAmendment) -> &Entry {
        let new = NewAmendment::parse(&raw, self.now()).unwrap();
        let target = self.get(target).clone();
        let entry =
            append_amendment(&self.tip, &target, id(entry_id), officer("clerk-2"), new).unwrap();
        self.push(entry)
    }

    /// Records a disposal of `target` and tombstones it and its amendments.
    pub fn dispose(
        &mut self,
        entry_id: &str,
        target: &str,
        holds: &[LegalHold],
        role: &str,
    ) -> Result<&Entry, DisposalRefused> {
        let raw = RawDisposal {
            authority_class: Some("RDA 2018/00123456 class 1234".into()),
            reason: Some("Retention period of 7 years has ended".into()),
        };
        let request = DisposalRequest::parse(&raw, officer("admin-1"), role).unwrap();
        let family = self.family(target);
        let target_entry = self.get(target).clone();
        let disposal = append_disposal(
            &self.tip,
            id(entry_id),
            &target_entry,
            &family,
            holds,
            request,
            self.now(),
        )?;
        let mut tombstoned: Vec<Entry> = std::iter::once(target_entry).chain(family).collect();
        tombstone(&disposal, &mut tombstoned).unwrap();
        for entry in tombstoned {
            let position = self.position(entry.id.as_str());
            self.entries[position] = entry;
        }
        Ok(self.push(disposal))
    }

    pub fn position(&self, entry_id: &str) -> usize {
        self.entries
            .iter()
            .position(|e| e.id.as_str() == entry_id)
            .unwrap_or_else(|| panic!("no entry {entry_id}"))
    }

    pub fn get(&self, entry_id: &str) -> &Entry {
        &self.entries[self.position(entry_id)]
    }

    /// The amendments of `root`, direct or of amendments, in recorded order.
    pub fn family(&self, root: &str) -> Vec<Entry> {
        let mut members = vec![id(root)];
        let mut family = Vec::new();
        for entry in &self.entries {
            if let EntryBody::Amendment { amends, .. } = &entry.body
                && members.contains(amends)
            {
                members.push(entry.id.clone());
                family.push(entry.clone());
            }
        }
        family
    }
}
