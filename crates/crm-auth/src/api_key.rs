//! Service clients' API keys: `crm_<key id>_<secret>`. Only a SHA-256 of the
//! secret is stored; the key id finds the row, the hash is compared in
//! constant time, and expiry and revocation are checked on every request (no
//! cache), so a revocation takes effect at once.
//!
//! A plain hash is enough because the secret is 256 random bits: there is
//! nothing for a slow password hash to protect against.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::policy::Action;

/// The prefix that marks a bearer credential as an API key (JWTs start `eyJ`).
pub const PREFIX: &str = "crm_";
const KEY_ID_LEN: usize = 16;
const SECRET_LEN: usize = 43;

/// A key as presented by a caller, split but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedKey {
    pub key_id: String,
    secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiKeyError {
    #[error("the API key is malformed")]
    Malformed,
    #[error("the API key is not recognised")]
    Unknown,
    #[error("the API key has been revoked")]
    Revoked,
    #[error("the API key has expired")]
    Expired,
}

impl PresentedKey {
    pub fn parse(raw: &str) -> Result<Self, ApiKeyError> {
        let rest = raw.strip_prefix(PREFIX).ok_or(ApiKeyError::Malformed)?;
        let (key_id, secret) = rest.split_once('_').ok_or(ApiKeyError::Malformed)?;
        let id_ok = key_id.len() == KEY_ID_LEN
            && key_id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let secret_ok = secret.len() == SECRET_LEN
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok || !secret_ok {
            return Err(ApiKeyError::Malformed);
        }
        Ok(Self {
            key_id: key_id.to_string(),
            secret: secret.to_string(),
        })
    }

    /// Checks the key against its stored record at `now_ms`.
    pub fn check(&self, record: &StoredKey, now_ms: i64) -> Result<(), ApiKeyError> {
        let presented = hash_secret(&self.secret);
        if !bool::from(presented.as_bytes().ct_eq(record.secret_hash.as_bytes())) {
            return Err(ApiKeyError::Unknown);
        }
        if record.revoked_at.is_some_and(|at| at <= now_ms) {
            return Err(ApiKeyError::Revoked);
        }
        if record.expires_at.is_some_and(|at| at <= now_ms) {
            return Err(ApiKeyError::Expired);
        }
        Ok(())
    }
}

/// Lower-case hex SHA-256 of a secret: what the `api_keys` table stores.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A row of the `api_keys` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub key_id: String,
    pub secret_hash: String,
    pub owner: String,
    pub scopes: Vec<Action>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Scopes as stored: action names separated by spaces. Unknown names are
/// dropped, so a scope removed from the code grants nothing.
pub fn parse_scopes(text: &str) -> Vec<Action> {
    text.split_whitespace().filter_map(Action::parse).collect()
}

/// A new key: the string to hand to the client once, and the row to store.
pub struct IssuedKey {
    pub presented: String,
    pub record: StoredKey,
}

/// Why scopes cannot be granted to a service key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScopeError {
    #[error("unknown scope `{0}`")]
    Unknown(String),
    #[error("scope `{0}` cannot be granted to a service key")]
    NotGrantable(String),
    #[error("a key needs at least one scope")]
    Empty,
}

/// Parses scopes an administrator asked for, refusing any a service may not hold.
pub fn grantable_scopes(names: &[String]) -> Result<Vec<Action>, ScopeError> {
    if names.is_empty() {
        return Err(ScopeError::Empty);
    }
    names
        .iter()
        .map(|name| {
            let action = Action::parse(name).ok_or_else(|| ScopeError::Unknown(name.clone()))?;
            if action.grantable_to_service() {
                Ok(action)
            } else {
                Err(ScopeError::NotGrantable(name.clone()))
            }
        })
        .collect()
}

/// Builds a key from 8 random bytes for the id and 32 for the secret.
pub fn issue(
    id_bytes: [u8; 8],
    secret_bytes: [u8; 32],
    owner: &str,
    scopes: Vec<Action>,
    created_at: i64,
    expires_at: Option<i64>,
) -> IssuedKey {
    use base64::Engine;
    let key_id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
    IssuedKey {
        presented: format!("{PREFIX}{key_id}_{secret}"),
        record: StoredKey {
            secret_hash: hash_secret(&secret),
            key_id,
            owner: owner.to_string(),
            scopes,
            created_at,
            expires_at,
            revoked_at: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued() -> IssuedKey {
        issue(
            [1, 2, 3, 4, 5, 6, 7, 8],
            [9; 32],
            "portal",
            vec![Action::ContactRead],
            1_000,
            Some(10_000),
        )
    }

    #[test]
    fn an_issued_key_parses_and_checks() {
        let key = issued();
        assert!(key.presented.starts_with("crm_0102030405060708_"));
        let presented = PresentedKey::parse(&key.presented).unwrap();
        assert_eq!(presented.key_id, "0102030405060708");
        assert_eq!(presented.check(&key.record, 5_000), Ok(()));
        assert_ne!(
            key.record.secret_hash, presented.secret,
            "only a hash is stored"
        );
    }

    #[test]
    fn wrong_revoked_and_expired_keys_fail() {
        let key = issued();
        let presented = PresentedKey::parse(&key.presented).unwrap();
        let mut wrong = key.presented.clone();
        wrong.replace_range(wrong.len() - 1.., "A");
        let wrong = PresentedKey::parse(&wrong).unwrap();
        assert_eq!(wrong.check(&key.record, 5_000), Err(ApiKeyError::Unknown));
        let revoked = StoredKey {
            revoked_at: Some(4_000),
            ..key.record.clone()
        };
        assert_eq!(presented.check(&revoked, 4_000), Err(ApiKeyError::Revoked));
        assert_eq!(presented.check(&revoked, 3_999), Ok(()));
        assert_eq!(
            presented.check(&key.record, 10_000),
            Err(ApiKeyError::Expired)
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        for raw in [
            "",
            "crm_",
            "crm_0102030405060708",
            "crm_01020304050607_secret",
            "xyz_0102030405060708_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "crm_010203040506070G_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "crm_0102030405060708_AAAA",
            "crm_0102030405060708_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert_eq!(
                PresentedKey::parse(raw),
                Err(ApiKeyError::Malformed),
                "{raw}"
            );
        }
    }

    #[test]
    fn scopes_round_trip_and_privileged_ones_are_not_grantable() {
        assert_eq!(
            parse_scopes("contact.read  consent.read nonsense"),
            vec![Action::ContactRead, Action::ConsentRead]
        );
        assert_eq!(
            grantable_scopes(&["contact.read".into()]),
            Ok(vec![Action::ContactRead])
        );
        assert_eq!(
            grantable_scopes(&["audit.read".into()]),
            Err(ScopeError::NotGrantable("audit.read".into()))
        );
        assert_eq!(
            grantable_scopes(&["root".into()]),
            Err(ScopeError::Unknown("root".into()))
        );
        assert_eq!(grantable_scopes(&[]), Err(ScopeError::Empty));
    }
}
