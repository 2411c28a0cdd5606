//! The audit trail's hash chain: each entry's hash is SHA-256 over the
//! previous entry's hash and the entry's canonical bytes, so editing,
//! deleting or reordering any stored entry breaks every later link.

use sha2::{Digest, Sha256};

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The recorded content of one entry (everything but its hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub sequence: u64,
    pub recorded_at: i64,
    pub request_id: &'a str,
    pub actor_id: &'a str,
    pub role: &'a str,
    pub purpose: Option<&'a str>,
    pub action: &'a str,
    pub resource: &'a str,
    pub outcome: &'a str,
}

impl Entry<'_> {
    /// Length-prefixed fields, so no two different entries share bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.recorded_at.to_be_bytes());
        let purpose = self
            .purpose
            .map_or(String::from("\u{0}"), |p| format!("={p}"));
        for field in [
            self.request_id,
            self.actor_id,
            self.role,
            &purpose,
            self.action,
            self.resource,
            self.outcome,
        ] {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// This entry's hash when it follows `prev_hash`.
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(self.canonical_bytes());
        hex(&hasher.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored entry with the hashes it was stored with.
#[derive(Debug, Clone)]
pub struct Stored<'a> {
    pub entry: Entry<'a>,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// The first link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub sequence: u64,
    pub reason: &'static str,
}

/// Walks stored entries in sequence order; returns how many were verified.
pub fn verify<'a>(entries: impl IntoIterator<Item = Stored<'a>>) -> Result<u64, BrokenLink> {
    let mut expected_prev = GENESIS.to_string();
    let mut count = 0;
    for (expected_sequence, stored) in (1u64..).zip(entries) {
        let sequence = stored.entry.sequence;
        if sequence != expected_sequence {
            return Err(BrokenLink {
                sequence,
                reason: "an entry is missing before this one",
            });
        }
        if stored.prev_hash != expected_prev {
            return Err(BrokenLink {
                sequence,
                reason: "prev_hash does not match the previous entry",
            });
        }
        if stored.entry.hash(stored.prev_hash) != stored.hash {
            return Err(BrokenLink {
                sequence,
                reason: "the entry's content does not match its hash",
            });
        }
        expected_prev = stored.hash.to_string();
        count = expected_sequence;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sequence: u64, action: &'static str) -> Entry<'static> {
        Entry {
            sequence,
            recorded_at: 1_700_000_000_000 + sequence as i64,
            request_id: "r",
            actor_id: "officer-7",
            role: "case-worker",
            purpose: Some("service-delivery"),
            action,
            resource: "contact/1",
            outcome: "allowed",
        }
    }

    fn chain(actions: &[&'static str]) -> Vec<(Entry<'static>, String, String)> {
        let mut prev = GENESIS.to_string();
        actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let e = entry(i as u64 + 1, a);
                let hash = e.hash(&prev);
                let item = (e, prev.clone(), hash.clone());
                prev = hash;
                item
            })
            .collect()
    }

    fn stored<'a>(items: &'a [(Entry<'static>, String, String)]) -> Vec<Stored<'a>> {
        items
            .iter()
            .map(|(e, p, h)| Stored {
                entry: e.clone(),
                prev_hash: p,
                hash: h,
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let items = chain(&["contact.read", "contact.create", "consent.withdraw"]);
        assert_eq!(verify(stored(&items)), Ok(3));
    }

    #[test]
    fn an_edited_entry_is_the_first_broken_link() {
        let mut items = chain(&["contact.read", "contact.create", "consent.withdraw"]);
        items[1].0.action = "contact.delete";
        assert_eq!(verify(stored(&items)).unwrap_err().sequence, 2);
    }

    #[test]
    fn a_deleted_entry_is_detected() {
        let mut items = chain(&["a", "b", "c"]);
        items.remove(1);
        assert_eq!(verify(stored(&items)).unwrap_err().sequence, 3);
    }

    #[test]
    fn absent_and_empty_purposes_hash_differently() {
        let mut a = entry(1, "x");
        a.purpose = None;
        let mut b = entry(1, "x");
        b.purpose = Some("");
        assert_ne!(a.hash(GENESIS), b.hash(GENESIS));
    }
}
