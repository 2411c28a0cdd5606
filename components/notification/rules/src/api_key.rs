//! Notify API keys: `{key_name}-{service_id}-{secret}`.

use std::fmt;

use thiserror::Error;

/// A UUID in canonical lower-case form.
fn canonical_uuid(raw: &str) -> Option<String> {
    let groups: Vec<&str> = raw.split('-').collect();
    let shape_ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()));
    shape_ok.then(|| raw.to_ascii_lowercase())
}

/// A service's id (a UUID), the `iss` of its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceId(String);

impl ServiceId {
    pub fn parse(raw: &str) -> Option<Self> {
        canonical_uuid(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret half of an API key (a UUID), the HMAC key of its tokens.
/// Never printed in full.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret(String);

impl KeySecret {
    pub fn parse(raw: &str) -> Option<Self> {
        canonical_uuid(raw).map(Self)
    }

    /// Tokens are signed with the secret's text, as Notify's clients do.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret(…)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ApiKeyError {
    #[error("API key must be {{key_name}}-{{service_id}}-{{secret}}")]
    Shape,
    #[error("API key's service id is not a UUID")]
    ServiceId,
    #[error("API key's secret is not a UUID")]
    Secret,
}

/// An API key as a service holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    name: String,
    service_id: ServiceId,
    secret: KeySecret,
}

const UUID_LEN: usize = 36;

impl ApiKey {
    /// Splits a key as Notify's clients do: the secret is the last 36
    /// characters, the service id the 36 before them (`key[-73:-37]`), each
    /// after a `-`; the rest is the key's name, which must not be empty.
    pub fn parse(raw: &str) -> Result<Self, ApiKeyError> {
        let secret_start = raw.len().checked_sub(UUID_LEN).ok_or(ApiKeyError::Shape)?;
        let service_start = secret_start
            .checked_sub(UUID_LEN + 1)
            .ok_or(ApiKeyError::Shape)?;
        let name_end = service_start.checked_sub(1).ok_or(ApiKeyError::Shape)?;
        let bytes = raw.as_bytes();
        if name_end == 0 || bytes[name_end] != b'-' || bytes[secret_start - 1] != b'-' {
            return Err(ApiKeyError::Shape);
        }
        let service_id = raw
            .get(service_start..secret_start - 1)
            .and_then(ServiceId::parse)
            .ok_or(ApiKeyError::ServiceId)?;
        let secret = raw
            .get(secret_start..)
            .and_then(KeySecret::parse)
            .ok_or(ApiKeyError::Secret)?;
        Ok(Self {
            name: raw[..name_end].to_string(),
            service_id,
            secret,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn service_id(&self) -> &ServiceId {
        &self.service_id
    }

    pub fn secret(&self) -> &KeySecret {
        &self.secret
    }
}

/// What a key may do: `live` sends to anyone, `team` only to the service's
/// team and guest list, `test` sends nothing and simulates outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Live,
    Team,
    Test,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Team => "team",
            Self::Test => "test",
        }
    }

    /// Also reads `normal`, Notify's stored name for a live key.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "live" | "normal" => Some(Self::Live),
            "team" => Some(Self::Team),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    pub fn delivers(self) -> bool {
        self != Self::Test
    }

    /// What a `/v2` request's `Idempotency-Key` is stored as, unique within
    /// its service: scoped by key type too, so that a retry with a live key
    /// never answers with a test key's message (never delivered, and hidden
    /// from live keys) or the other way round.
    pub fn scoped_idempotency_key(self, key: &str) -> String {
        format!("{}:{key}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";

    #[test]
    fn splits_name_service_and_secret() {
        let key = ApiKey::parse(&format!("my_test_key-{SERVICE}-{SECRET}")).unwrap();
        assert_eq!(key.name(), "my_test_key");
        assert_eq!(key.service_id().as_str(), SERVICE);
        assert_eq!(key.secret().as_str(), SECRET);
    }

    #[test]
    fn names_may_hold_hyphens_and_any_characters() {
        let key = ApiKey::parse(&format!("prod-key-ñ-{SERVICE}-{SECRET}")).unwrap();
        assert_eq!(key.name(), "prod-key-ñ");
    }

    #[test]
    fn uuids_are_lower_cased() {
        let raw = format!("k-{}-{}", SERVICE.to_uppercase(), SECRET.to_uppercase());
        let key = ApiKey::parse(&raw).unwrap();
        assert_eq!(key.service_id().as_str(), SERVICE);
        assert_eq!(key.secret().as_str(), SECRET);
    }

    #[test]
    fn refuses_bad_shapes() {
        assert_eq!(ApiKey::parse(""), Err(ApiKeyError::Shape));
        assert_eq!(ApiKey::parse(SECRET), Err(ApiKeyError::Shape));
        assert_eq!(
            ApiKey::parse(&format!("{SERVICE}-{SECRET}")),
            Err(ApiKeyError::Shape)
        );
        assert_eq!(
            ApiKey::parse(&format!("-{SERVICE}-{SECRET}")),
            Err(ApiKeyError::Shape)
        );
        assert_eq!(
            ApiKey::parse(&format!("k_{SERVICE}-{SECRET}")),
            Err(ApiKeyError::Shape)
        );
        assert_eq!(
            ApiKey::parse(&format!("k-{SERVICE}_{SECRET}")),
            Err(ApiKeyError::Shape)
        );
        // A multi-byte character where the name separator should be.
        assert_eq!(
            ApiKey::parse(&format!("k€{SERVICE}-{SECRET}")),
            Err(ApiKeyError::Shape)
        );
    }

    #[test]
    fn refuses_parts_that_are_not_uuids() {
        let not_uuid = "26785a09-ab16-4eb0-8407-a37497a5750g";
        assert_eq!(
            ApiKey::parse(&format!("k-{not_uuid}-{SECRET}")),
            Err(ApiKeyError::ServiceId)
        );
        assert_eq!(
            ApiKey::parse(&format!("k-{SERVICE}-{not_uuid}")),
            Err(ApiKeyError::Secret)
        );
        let misplaced = "26785a09ab16-4eb0-8407-a37497a57506-";
        assert_eq!(
            ApiKey::parse(&format!("k-{misplaced}-{SECRET}")),
            Err(ApiKeyError::ServiceId)
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let key = ApiKey::parse(&format!("k-{SERVICE}-{SECRET}")).unwrap();
        assert!(!format!("{key:?}").contains(SECRET));
    }

    #[test]
    fn key_types() {
        assert_eq!(KeyType::parse("normal"), Some(KeyType::Live));
        for t in [KeyType::Live, KeyType::Team, KeyType::Test] {
            assert_eq!(KeyType::parse(t.as_str()), Some(t));
        }
        assert_eq!(KeyType::parse("LIVE"), None);
        assert!(!KeyType::Test.delivers());
        assert!(KeyType::Team.delivers());
    }

    #[test]
    fn idempotency_keys_are_scoped_by_key_type() {
        let scoped: Vec<String> = [KeyType::Live, KeyType::Team, KeyType::Test]
            .iter()
            .map(|t| t.scoped_idempotency_key("retry-1"))
            .collect();
        assert_eq!(scoped, ["live:retry-1", "team:retry-1", "test:retry-1"]);
        // A key that looks scoped is still scoped again.
        assert_ne!(
            KeyType::Live.scoped_idempotency_key("test:retry-1"),
            KeyType::Test.scoped_idempotency_key("retry-1")
        );
    }
}
