//! Signed checkpoints: an Ed25519 signature over the chain's length and head
//! hash at a moment. Kept outside the database as well, a checkpoint catches
//! what the chain alone cannot: entries cut off the end, or a whole trail
//! rebuilt from some point with fresh hashes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// What a checkpoint states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Entries in the chain (the sequence of the last one).
    pub size: u64,
    /// The last entry's hash.
    pub head_hash: String,
    pub created_at: i64,
    /// Names the signing key: the first 16 hex digits of SHA-256 of its public key.
    pub key_id: String,
}

impl Checkpoint {
    /// The exact bytes signed: versioned, one field a line.
    pub fn signed_bytes(&self) -> Vec<u8> {
        format!(
            "crm-audit-checkpoint/v1\n{}\n{}\n{}\n{}\n",
            self.size, self.head_hash, self.created_at, self.key_id
        )
        .into_bytes()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    #[error("the checkpoint key must be 32 bytes, base64: {0}")]
    BadKey(&'static str),
    #[error("the signature is malformed")]
    MalformedSignature,
    #[error("the checkpoint was signed by key {found}, not {expected}")]
    WrongKey { expected: String, found: String },
    #[error("the signature does not verify")]
    BadSignature,
}

/// A checkpoint signing key (from a Spin secret variable).
pub struct CheckpointSigner {
    key: SigningKey,
}

impl CheckpointSigner {
    /// From a 32-byte Ed25519 seed, base64.
    pub fn from_seed_base64(seed: &str) -> Result<Self, CheckpointError> {
        let bytes = STANDARD
            .decode(seed.trim())
            .map_err(|_| CheckpointError::BadKey("not base64"))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CheckpointError::BadKey("not 32 bytes"))?;
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().as_bytes())
    }

    pub fn key_id(&self) -> String {
        key_id(self.key.verifying_key().as_bytes())
    }

    /// Signs a checkpoint of `size` entries ending in `head_hash`; returns it
    /// with its base64 signature.
    pub fn sign(&self, size: u64, head_hash: &str, created_at: i64) -> (Checkpoint, String) {
        let checkpoint = Checkpoint {
            size,
            head_hash: head_hash.to_string(),
            created_at,
            key_id: self.key_id(),
        };
        let signature = self.key.sign(&checkpoint.signed_bytes());
        (checkpoint, STANDARD.encode(signature.to_bytes()))
    }
}

fn key_id(public: &[u8; 32]) -> String {
    Sha256::digest(public)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a checkpoint's signature with a base64 Ed25519 public key.
pub fn verify_checkpoint(
    checkpoint: &Checkpoint,
    signature_base64: &str,
    public_key_base64: &str,
) -> Result<(), CheckpointError> {
    let public: [u8; 32] = STANDARD
        .decode(public_key_base64.trim())
        .map_err(|_| CheckpointError::BadKey("not base64"))?
        .try_into()
        .map_err(|_| CheckpointError::BadKey("not 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&public)
        .map_err(|_| CheckpointError::BadKey("not an Ed25519 point"))?;
    let expected = key_id(&public);
    if checkpoint.key_id != expected {
        return Err(CheckpointError::WrongKey {
            expected,
            found: checkpoint.key_id.clone(),
        });
    }
    let signature: [u8; 64] = STANDARD
        .decode(signature_base64)
        .map_err(|_| CheckpointError::MalformedSignature)?
        .try_into()
        .map_err(|_| CheckpointError::MalformedSignature)?;
    key.verify(
        &checkpoint.signed_bytes(),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| CheckpointError::BadSignature)
}

/// A checkpoint as stored, with its row id and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub id: i64,
    pub checkpoint: Checkpoint,
    pub signature: String,
}

/// A checkpoint the trail does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointFailure {
    pub id: i64,
    pub size: u64,
    pub reason: String,
}

/// Holds stored checkpoints against a chain while it is verified in order:
/// feed it the verified length and head after each entry (and once before
/// the first, for checkpoints of the empty trail).
pub struct CheckpointCheck<'a> {
    pending: Vec<&'a SignedCheckpoint>,
    failures: Vec<CheckpointFailure>,
}

impl<'a> CheckpointCheck<'a> {
    pub fn new(checkpoints: &'a [SignedCheckpoint]) -> Self {
        let mut pending: Vec<_> = checkpoints.iter().collect();
        // Popped from the end: largest size first in the vector.
        pending.sort_by_key(|cp| std::cmp::Reverse(cp.checkpoint.size));
        Self {
            pending,
            failures: Vec::new(),
        }
    }

    /// The chain has verified `size` entries ending in `head`.
    pub fn observe(&mut self, size: u64, head: &str) {
        while let Some(cp) = self.pending.last().filter(|cp| cp.checkpoint.size <= size) {
            if cp.checkpoint.size == size && cp.checkpoint.head_hash != head {
                self.failures.push(CheckpointFailure {
                    id: cp.id,
                    size: cp.checkpoint.size,
                    reason: "the chain's hash at this size differs from the signed head".into(),
                });
            }
            self.pending.pop();
        }
    }

    /// The failures, once the walk is over. Checkpoints longer than an intact
    /// chain mean entries were cut off its end; signatures are checked when
    /// the public key is known.
    pub fn finish(
        mut self,
        chain_intact: bool,
        checkpoints: &[SignedCheckpoint],
        public_key_base64: Option<&str>,
    ) -> Vec<CheckpointFailure> {
        if chain_intact {
            for cp in self.pending.drain(..) {
                self.failures.push(CheckpointFailure {
                    id: cp.id,
                    size: cp.checkpoint.size,
                    reason: "the chain is shorter than this signed checkpoint: entries were removed from its end".into(),
                });
            }
        }
        if let Some(key) = public_key_base64 {
            for cp in checkpoints {
                if let Err(e) = verify_checkpoint(&cp.checkpoint, &cp.signature, key) {
                    self.failures.push(CheckpointFailure {
                        id: cp.id,
                        size: cp.checkpoint.size,
                        reason: e.to_string(),
                    });
                }
            }
        }
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let signer = CheckpointSigner::from_seed_base64(SEED).unwrap();
        let public = signer.public_key_base64();
        let (checkpoint, signature) = signer.sign(42, "ab", 1_700_000_000_000);
        assert_eq!(verify_checkpoint(&checkpoint, &signature, &public), Ok(()));
        let shorter = Checkpoint {
            size: 41,
            ..checkpoint.clone()
        };
        assert_eq!(
            verify_checkpoint(&shorter, &signature, &public),
            Err(CheckpointError::BadSignature)
        );
        let other = CheckpointSigner::from_seed_base64(&STANDARD.encode([7u8; 32])).unwrap();
        assert!(matches!(
            verify_checkpoint(&checkpoint, &signature, &other.public_key_base64()),
            Err(CheckpointError::WrongKey { .. })
        ));
        assert_eq!(
            verify_checkpoint(&checkpoint, "AAAA", &public),
            Err(CheckpointError::MalformedSignature)
        );
    }

    #[test]
    fn checkpoints_catch_a_rewritten_head_and_a_truncated_tail() {
        let signer = CheckpointSigner::from_seed_base64(SEED).unwrap();
        let public = signer.public_key_base64();
        let stored = |id, size, head: &str| {
            let (checkpoint, signature) = signer.sign(size, head, 0);
            SignedCheckpoint {
                id,
                checkpoint,
                signature,
            }
        };
        let cps = vec![
            stored(1, 2, "h2"),
            stored(2, 0, "genesis"),
            stored(3, 5, "h5"),
        ];
        // Walk a chain of 3 entries whose second head was rewritten.
        let mut check = CheckpointCheck::new(&cps);
        check.observe(0, "genesis");
        check.observe(1, "h1");
        check.observe(2, "rewritten");
        check.observe(3, "h3");
        let failures = check.finish(true, &cps, Some(&public));
        let ids: Vec<i64> = failures.iter().map(|f| f.id).collect();
        assert_eq!(ids, [1, 3], "{failures:?}");
        assert!(failures[1].reason.contains("removed from its end"));
        // A forged signature is reported too.
        let mut forged = cps.clone();
        forged[1].checkpoint.created_at = 1;
        let mut check = CheckpointCheck::new(&forged);
        check.observe(0, "genesis");
        let failures = check.finish(false, &forged[1..2], Some(&public));
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].reason,
            CheckpointError::BadSignature.to_string()
        );
    }

    #[test]
    fn bad_seeds_are_refused() {
        assert!(CheckpointSigner::from_seed_base64("short").is_err());
        assert!(CheckpointSigner::from_seed_base64(&STANDARD.encode([1u8; 31])).is_err());
    }
}
