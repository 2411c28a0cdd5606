//! Secrets kept at rest (Notify API key secrets, services' callback
//! tokens) sealed with XChaCha20-Poly1305. HS256 needs the secret itself to
//! verify a token, so it cannot be stored as a hash the way the CRM's own
//! API keys are; sealing keeps a copied database file useless without the
//! key, which lives in a Spin secret variable.
//!
//! The sealed form is `v1.<nonce>.<ciphertext>` (base64url without
//! padding). The associated data names what the secret belongs to, so a
//! sealed value moved to another row does not open.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use thiserror::Error;

/// Bytes of randomness each seal needs (XChaCha20's nonce): random nonces
/// of this size never repeat in practice.
pub const SEAL_NONCE_LEN: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SealError {
    #[error("the sealing key must be 32 bytes in base64")]
    Key,
    #[error("a sealed value must be `v1.<nonce>.<ciphertext>`")]
    Shape,
    #[error("the sealed value does not open with this key and label")]
    Open,
}

/// The key that seals and opens secrets.
#[derive(Clone)]
pub struct SealingKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(…)")
    }
}

impl SealingKey {
    /// From 32 bytes in standard base64 (as `openssl rand -base64 32`
    /// prints them).
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| SealError::Key)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::Key)?;
        Ok(Self(XChaCha20Poly1305::new(&key.into())))
    }

    /// Seals `plaintext` for `label`, with the caller's random `nonce`.
    pub fn seal(&self, label: &str, plaintext: &[u8], nonce: [u8; SEAL_NONCE_LEN]) -> String {
        let payload = Payload {
            msg: plaintext,
            aad: label.as_bytes(),
        };
        let ciphertext = self
            .0
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 seals any length we store");
        format!(
            "v1.{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        )
    }

    /// Opens a value sealed for `label`.
    pub fn open(&self, label: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(nonce), Some(ciphertext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Shape);
        };
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .filter(|n| n.len() == SEAL_NONCE_LEN)
            .ok_or(SealError::Shape)?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| SealError::Shape)?;
        let payload = Payload {
            msg: &ciphertext,
            aad: label.as_bytes(),
        };
        self.0
            .decrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn key() -> SealingKey {
        SealingKey::from_base64(KEY).unwrap()
    }

    #[test]
    fn opens_what_it_sealed() {
        let sealed = key().seal("notify-key:k1", b"3d844edf-secret", [7; 24]);
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("3d844edf"));
        assert_eq!(
            key().open("notify-key:k1", &sealed).unwrap(),
            b"3d844edf-secret"
        );
    }

    #[test]
    fn another_label_key_or_a_changed_byte_does_not_open() {
        let sealed = key().seal("notify-key:k1", b"secret", [1; 24]);
        assert_eq!(key().open("notify-key:k2", &sealed), Err(SealError::Open));
        let other = SealingKey::from_base64(&STANDARD.encode([9u8; 32])).unwrap();
        assert_eq!(other.open("notify-key:k1", &sealed), Err(SealError::Open));
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(key().open("notify-key:k1", &tampered), Err(SealError::Open));
    }

    #[test]
    fn nonces_make_seals_differ() {
        let a = key().seal("l", b"same", [1; 24]);
        let b = key().seal("l", b"same", [2; 24]);
        assert_ne!(a, b);
    }

    #[test]
    fn bad_keys_and_shapes() {
        assert_eq!(SealingKey::from_base64("").unwrap_err(), SealError::Key);
        assert_eq!(
            SealingKey::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err(),
            SealError::Key
        );
        for bad in ["", "v1", "v2.a.b", "v1.!!.b", "v1.AAAA.b", "v1.a.b.c"] {
            assert_eq!(key().open("l", bad), Err(SealError::Shape), "{bad}");
        }
        assert!(!format!("{:?}", key()).contains(KEY));
    }
}
