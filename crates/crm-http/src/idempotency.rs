//! `Idempotency-Key`: the key a client sends on a POST, scoped to the caller
//! and the operation and kept with a fingerprint of the request, so a retry
//! can be answered with the first answer and the key reused for a different
//! request refused. Where the first answer is kept is the component's.

use std::fmt;

use sha2::{Digest, Sha256};

/// The longest key accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A request's `Idempotency-Key`, scoped and fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    key_hash: String,
    fingerprint: String,
}

/// The key is not 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] printable ASCII characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidIdempotencyKey;

impl fmt::Display for InvalidIdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters, e.g. a UUID"
        )
    }
}

impl std::error::Error for InvalidIdempotencyKey {}

/// SHA-256 (lower-case hex) over length-prefixed parts, so no two lists of
/// parts collide.
fn hash_parts(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl IdempotencyKey {
    /// `key` as sent, scoped by `scope` (the caller, the operation) and
    /// fingerprinting `request` (the method, path, query and body).
    pub fn new(
        key: &str,
        scope: &[&[u8]],
        request: &[&[u8]],
    ) -> Result<Self, InvalidIdempotencyKey> {
        if key.is_empty()
            || key.len() > MAX_IDEMPOTENCY_KEY_LEN
            || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(InvalidIdempotencyKey);
        }
        let mut scoped = scope.to_vec();
        scoped.push(key.as_bytes());
        Ok(Self {
            key_hash: hash_parts(&scoped),
            fingerprint: hash_parts(request),
        })
    }

    /// What the key is kept under: the scope and the key, hashed.
    pub fn key_hash(&self) -> &str {
        &self.key_hash
    }

    /// The request the key was first sent with, hashed.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_printable_ascii_of_1_to_255() {
        let new = |k: &str| IdempotencyKey::new(k, &[b"caller"], &[b"body"]);
        assert!(new("8c1f2a4e-5d9b-4c1e-9f3a-2b7d6e0c1a99").is_ok());
        assert!(new(&"k".repeat(MAX_IDEMPOTENCY_KEY_LEN)).is_ok());
        assert_eq!(new(""), Err(InvalidIdempotencyKey));
        assert_eq!(
            new(&"k".repeat(MAX_IDEMPOTENCY_KEY_LEN + 1)),
            Err(InvalidIdempotencyKey)
        );
        assert_eq!(new("has space"), Err(InvalidIdempotencyKey));
        assert_eq!(new("tab\there"), Err(InvalidIdempotencyKey));
        assert_eq!(new("café"), Err(InvalidIdempotencyKey));
    }

    #[test]
    fn keys_are_scoped_and_requests_fingerprinted() {
        let key = |caller: &str, body: &str| {
            IdempotencyKey::new("k1", &[caller.as_bytes(), b"op"], &[body.as_bytes()]).unwrap()
        };
        assert_ne!(key("a", "{}").key_hash(), key("b", "{}").key_hash());
        assert_eq!(key("a", "{}").key_hash(), key("a", "{ }").key_hash());
        assert_ne!(key("a", "{}").fingerprint(), key("a", "{ }").fingerprint());
        // Length-prefixed: moving bytes between parts changes the hash.
        let split = |a: &[u8], b: &[u8]| IdempotencyKey::new("k", &[a, b], &[]).unwrap();
        assert_ne!(split(b"ab", b"c").key_hash(), split(b"a", b"bc").key_hash());
    }
}
