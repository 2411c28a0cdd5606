//! Signed one-click unsubscribe links: a compact, URL-safe token that lets
//! whoever holds it withdraw one consent without logging in.
//!
//! A token is `u1.<key-id>.<claims>.<mac>`: `claims` and `mac` are base64url
//! without padding, `claims` is the newline-joined contact id, purpose,
//! channel, nonce and expiry (none of which can contain a newline), and `mac`
//! is HMAC-SHA256 under the named key over everything before the last dot. The
//! key id lets keys rotate: sign with the newest, verify with all still
//! trusted. The claims are signed, not encrypted: they name the contact's
//! opaque id, nothing more personal. A token verifies any number of times;
//! the component records each redeemed nonce so a link works once
//! ([`redeem_unsubscribe`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::Invalid;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::catalogue::PurposeId;
use crate::consent::Channel;
use crate::text::checked_string;
use crm_domain::ContactId;

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "u1";
/// HMAC-SHA256 keys shorter than its output weaken it.
const MIN_SECRET_LEN: usize = 32;
/// Longest token looked at; anything longer is refused before any work.
const MAX_TOKEN_LEN: usize = 1024;

fn check_url_safe(raw: &str, min: usize, max: usize) -> Result<&str, Invalid> {
    let ok = (min..=max).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(raw).ok_or_else(|| {
        Invalid(format!(
            "must be {min} to {max} of the characters A-Z a-z 0-9 - _"
        ))
    })
}

fn check_nonce(raw: &str) -> Result<&str, Invalid> {
    check_url_safe(raw, 16, 64)
}

fn check_key_id(raw: &str) -> Result<&str, Invalid> {
    check_url_safe(raw, 1, 32)
}

checked_string!(
    /// A link's single-use value, chosen by the caller from a secure random
    /// source (at least 16 URL-safe characters, for example 128 bits in
    /// base64url). The component records redeemed nonces to stop replays.
    Nonce,
    check_nonce
);
checked_string!(
    /// Names a link key, so keys can rotate.
    KeyId,
    check_key_id
);

/// A key that signs or verifies links.
#[derive(Clone)]
pub struct LinkKey {
    id: KeyId,
    secret: Vec<u8>,
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A key refused for signing links.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("link key {id}: the secret is {len} bytes; at least {MIN_SECRET_LEN} are needed")]
pub struct WeakLinkKey {
    pub id: KeyId,
    pub len: usize,
}

impl LinkKey {
    pub fn new(id: KeyId, secret: &[u8]) -> Result<Self, WeakLinkKey> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(WeakLinkKey {
                id,
                len: secret.len(),
            });
        }
        Ok(Self {
            id,
            secret: secret.to_vec(),
        })
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        mac.update(signed.as_bytes());
        mac
    }
}

/// What a link allows: withdrawing the consent for one contact, purpose and
/// channel, until `expires_at_ms` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeClaims {
    pub contact_id: ContactId,
    pub purpose: PurposeId,
    pub channel: Channel,
    pub nonce: Nonce,
    pub expires_at_ms: i64,
}

impl UnsubscribeClaims {
    fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}",
            self.contact_id, self.purpose, self.channel, self.nonce, self.expires_at_ms
        )
    }

    fn from_text(text: &str) -> Result<Self, LinkError> {
        let malformed = |_| LinkError::Malformed("the claims do not parse");
        let fields: Vec<&str> = text.split('\n').collect();
        let [contact_id, purpose, channel, nonce, expires_at_ms] = fields.as_slice() else {
            return Err(LinkError::Malformed("the claims do not have five fields"));
        };
        Ok(Self {
            contact_id: ContactId::parse(contact_id).map_err(malformed)?,
            purpose: PurposeId::parse(purpose).map_err(malformed)?,
            channel: Channel::parse(channel).map_err(malformed)?,
            nonce: Nonce::parse(nonce).map_err(malformed)?,
            expires_at_ms: expires_at_ms
                .parse()
                .map_err(|_| LinkError::Malformed("the expiry is not a number"))?,
        })
    }
}

/// Why a link was refused. Each cause is distinct so the component can log
/// it; the person sees one plain message whatever the cause.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    #[error("malformed unsubscribe link: {0}")]
    Malformed(&'static str),
    #[error("unsubscribe link signed with unknown key {0}")]
    UnknownKey(KeyId),
    #[error("unsubscribe link does not match its signature")]
    Tampered,
    #[error("unsubscribe link expired at {expired_at_ms}")]
    Expired { expired_at_ms: i64 },
    #[error("unsubscribe link {0} was already used")]
    Replayed(Nonce),
}

/// Signs `claims` under `key`.
pub fn sign_unsubscribe(claims: &UnsubscribeClaims, key: &LinkKey) -> String {
    let signed = format!(
        "{VERSION}.{}.{}",
        key.id,
        URL_SAFE_NO_PAD.encode(claims.to_text())
    );
    let mac = URL_SAFE_NO_PAD.encode(key.mac(&signed).finalize().into_bytes());
    format!("{signed}.{mac}")
}

/// Checks a token's shape, key, signature (in constant time) and expiry,
/// and returns its claims. It does not know which nonces were used; see
/// [`redeem_unsubscribe`].
pub fn verify_unsubscribe(
    token: &str,
    keys: &[LinkKey],
    now_ms: i64,
) -> Result<UnsubscribeClaims, LinkError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(LinkError::Malformed("too long"));
    }
    let Some((signed, mac)) = token.rsplit_once('.') else {
        return Err(LinkError::Malformed("no signature"));
    };
    let parts: Vec<&str> = signed.split('.').collect();
    let [version, key_id, claims] = parts.as_slice() else {
        return Err(LinkError::Malformed("expected four dot-separated parts"));
    };
    if *version != VERSION {
        return Err(LinkError::Malformed("unknown version"));
    }
    let key_id = KeyId::parse(key_id).map_err(|_| LinkError::Malformed("bad key id"))?;
    let key = keys
        .iter()
        .find(|k| k.id == key_id)
        .ok_or(LinkError::UnknownKey(key_id))?;
    let mac = URL_SAFE_NO_PAD
        .decode(mac)
        .map_err(|_| LinkError::Malformed("the signature is not base64url"))?;
    key.mac(signed)
        .verify_slice(&mac)
        .map_err(|_| LinkError::Tampered)?;
    let claims = URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(LinkError::Malformed("the claims are not base64url text"))?;
    let claims = UnsubscribeClaims::from_text(&claims)?;
    if now_ms >= claims.expires_at_ms {
        return Err(LinkError::Expired {
            expired_at_ms: claims.expires_at_ms,
        });
    }
    Ok(claims)
}

/// Where the `consent` component serves one-click unsubscribe links; a
/// link is this path with `?token=<token>` on the app's public base URL.
pub const UNSUBSCRIBE_PATH: &str = "/api/consents/unsubscribe";

/// The full link for `token` on the app's public base URL (for example
/// `https://crm.agency.gov.au`). Tokens are URL-safe, so nothing is escaped.
pub fn unsubscribe_url(base_url: &str, token: &str) -> String {
    format!(
        "{}{UNSUBSCRIBE_PATH}?token={token}",
        base_url.trim_end_matches('/')
    )
}

/// The link keys an app is configured with: the first signs new links, all
/// verify (so a retired key keeps its links working until it is removed).
#[derive(Debug, Clone)]
pub struct LinkKeyring {
    keys: Vec<LinkKey>,
}

/// Why the configured link keys cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkKeysError {
    #[error("no unsubscribe link key is configured")]
    Unset,
    #[error("link key entry {entry}: expected <key id>:<base64 secret>")]
    Malformed { entry: usize },
    #[error("link key entry {entry}: the key id {reason}")]
    BadKeyId { entry: usize, reason: String },
    #[error("link key entry {entry}: the secret is not base64")]
    NotBase64 { entry: usize },
    #[error(transparent)]
    Weak(#[from] WeakLinkKey),
    #[error("link key {0} is listed twice")]
    Duplicate(KeyId),
}

impl LinkKeyring {
    /// Parses `<key id>:<secret>` entries separated by commas (spaces
    /// around them are ignored), each secret base64 (standard or URL-safe,
    /// padded or not) of at least 32 bytes: for example
    /// `k2026:$(openssl rand -base64 32)`. Empty text is [`LinkKeysError::Unset`].
    pub fn parse(text: &str) -> Result<Self, LinkKeysError> {
        use base64::engine::general_purpose::STANDARD_NO_PAD;
        if text.trim().is_empty() {
            return Err(LinkKeysError::Unset);
        }
        let mut keys: Vec<LinkKey> = Vec::new();
        for (entry, item) in text.split(',').map(str::trim).enumerate() {
            let (id, secret) = item
                .split_once(':')
                .ok_or(LinkKeysError::Malformed { entry })?;
            let id = KeyId::parse(id.trim())
                .map_err(|Invalid(reason)| LinkKeysError::BadKeyId { entry, reason })?;
            let secret = secret.trim().trim_end_matches('=');
            let secret = STANDARD_NO_PAD
                .decode(secret)
                .or_else(|_| URL_SAFE_NO_PAD.decode(secret))
                .map_err(|_| LinkKeysError::NotBase64 { entry })?;
            if keys.iter().any(|k| k.id == id) {
                return Err(LinkKeysError::Duplicate(id));
            }
            keys.push(LinkKey::new(id, &secret)?);
        }
        Ok(Self { keys })
    }

    /// The key new links are signed with.
    pub fn signing_key(&self) -> &LinkKey {
        &self.keys[0]
    }

    /// Every key a link may be signed with.
    pub fn keys(&self) -> &[LinkKey] {
        &self.keys
    }

    /// Signs `claims` with the signing key.
    pub fn sign(&self, claims: &UnsubscribeClaims) -> String {
        sign_unsubscribe(claims, self.signing_key())
    }
}

/// [`verify_unsubscribe`], then refuses a link whose nonce was already
/// redeemed (`nonce_used` asks the component's record of them). The
/// component records the nonce in the same transaction as the withdrawal,
/// under a unique constraint, so two concurrent clicks cannot both pass.
pub fn redeem_unsubscribe(
    token: &str,
    keys: &[LinkKey],
    now_ms: i64,
    nonce_used: impl FnOnce(&Nonce) -> bool,
) -> Result<UnsubscribeClaims, LinkError> {
    let claims = verify_unsubscribe(token, keys, now_ms)?;
    if nonce_used(&claims.nonce) {
        return Err(LinkError::Replayed(claims.nonce));
    }
    Ok(claims)
}
