//! The audit trail's hash chain: each entry's hash is SHA-256 over the
//! previous entry's hash and the entry's canonical bytes, so editing,
//! deleting or reordering any stored entry breaks every later link.

use sha2::{Digest, Sha256};

#[cfg(feature = "checkpoints")]
pub mod checkpoint;

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
    /// The contact whose personal information the entry is about.
    pub subject_contact_id: Option<&'a str>,
    /// Why an attempt was denied or failed.
    pub detail: Option<&'a str>,
}

impl Entry<'_> {
    /// Length-prefixed fields, so no two different entries share bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.recorded_at.to_be_bytes());
        // An absent optional field and an empty one must differ.
        let optional = |v: Option<&str>| v.map_or(String::from("\u{0}"), |p| format!("={p}"));
        let (purpose, subject, detail) = (
            optional(self.purpose),
            optional(self.subject_contact_id),
            optional(self.detail),
        );
        for field in [
            self.request_id,
            self.actor_id,
            self.role,
            &purpose,
            self.action,
            self.resource,
            self.outcome,
            &subject,
            &detail,
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
        // Lower-case hex, two digits a byte, in one formatting pass.
        format!("{:x}", hasher.finalize())
    }
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

/// Checks a chain entry by entry, so a long trail is verified page by page
/// without holding it in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_prev: String,
    verified: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_prev: GENESIS.to_string(),
            verified: 0,
        }
    }
}

impl ChainVerifier {
    /// Checks the next stored entry, in sequence order.
    pub fn push(&mut self, stored: &Stored<'_>) -> Result<(), BrokenLink> {
        let sequence = stored.entry.sequence;
        if sequence != self.verified + 1 {
            return Err(BrokenLink {
                sequence,
                reason: "an entry is missing before this one",
            });
        }
        if stored.prev_hash != self.expected_prev {
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
        self.expected_prev = stored.hash.to_string();
        self.verified = sequence;
        Ok(())
    }

    /// How many entries have verified.
    pub fn verified(&self) -> u64 {
        self.verified
    }

    /// The hash of the last verified entry (the genesis hash before any).
    pub fn head(&self) -> &str {
        &self.expected_prev
    }
}

/// Walks stored entries in sequence order; returns how many were verified.
pub fn verify<'a>(entries: impl IntoIterator<Item = Stored<'a>>) -> Result<u64, BrokenLink> {
    let mut verifier = ChainVerifier::default();
    for stored in entries {
        verifier.push(&stored)?;
    }
    Ok(verifier.verified())
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
            subject_contact_id: Some("1"),
            detail: None,
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
        let mut c = entry(1, "x");
        c.detail = Some("");
        assert_ne!(entry(1, "x").hash(GENESIS), c.hash(GENESIS));
    }

    #[test]
    fn the_verifier_reports_the_head_as_it_goes() {
        let items = chain(&["a", "b"]);
        let mut verifier = ChainVerifier::default();
        assert_eq!(verifier.head(), GENESIS);
        for s in stored(&items) {
            verifier.push(&s).unwrap();
        }
        assert_eq!(verifier.head(), items[1].2);
        assert_eq!(verifier.verified(), 2);
    }
}
