//! OIDC bearer tokens: compact JWS parsing, JWKS keys and the checks an
//! access token must pass (signature, `iss`, `aud`, `exp`, `nbf`).
//!
//! Only asymmetric algorithms on an explicit allow-list are accepted, and the
//! key chosen must be of the algorithm's own key type: a token cannot talk the
//! verifier into `none`, into HMAC keyed with a public key, or into using an
//! RSA key for an EC signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

/// Signature algorithms this verifier implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Es256,
}

impl Algorithm {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }
}

/// Why a token was refused. The text goes into `WWW-Authenticate` and the
/// audit trail, so it says what failed without echoing the token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("the token is not a compact JWS (three base64url parts)")]
    Malformed,
    #[error("the token header is not valid JSON with an `alg`")]
    BadHeader,
    #[error("algorithm `{0}` is not accepted")]
    AlgorithmRefused(String),
    #[error("no trusted key matches the token (kid {0:?})")]
    UnknownKey(Option<String>),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the claims are not a JSON object")]
    BadClaims,
    #[error("claim `{0}` is missing or has the wrong type")]
    MissingClaim(&'static str),
    #[error("the token was issued by `{0}`, which is not trusted")]
    WrongIssuer(String),
    #[error("the token is not meant for this service (audience)")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("claim `sub` must be 1 to 255 printable ASCII characters without spaces")]
    BadSubject,
}

/// OIDC Core 1.0 caps `sub` at 255 ASCII characters; ids with spaces or
/// control characters cannot be recorded as an actor, so such tokens are
/// refused here rather than failing later in a component.
const MAX_SUBJECT_CHARS: usize = 255;

/// A JWKS document's keys, parsed once per request (or taken from a cache).
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

#[derive(Clone)]
struct Jwk {
    kid: Option<String>,
    /// The `alg` the key is pinned to, if the JWKS says.
    alg: Option<String>,
    key: PublicKey,
}

#[derive(Clone)]
enum PublicKey {
    Rsa(Box<rsa::RsaPublicKey>),
    P256(Box<p256::ecdsa::VerifyingKey>),
}

impl PublicKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Rsa(_) => Algorithm::Rs256,
            Self::P256(_) => Algorithm::Es256,
        }
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// A JWKS document that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid JWKS: {0}")]
pub struct JwksError(pub String);

impl KeySet {
    /// Parses a JWKS document, keeping the signing keys of supported types
    /// (RSA, EC P-256); other keys (encryption keys, other curves) are skipped.
    pub fn from_jwks(json: &str) -> Result<Self, JwksError> {
        let raw: RawJwks =
            serde_json::from_str(json).map_err(|e| JwksError(format!("not a JWKS: {e}")))?;
        let mut keys = Vec::new();
        for jwk in raw.keys {
            if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
                continue;
            }
            let key = match jwk.kty.as_str() {
                "RSA" => {
                    let (Some(n), Some(e)) = (&jwk.n, &jwk.e) else {
                        return Err(JwksError("an RSA key lacks `n` or `e`".into()));
                    };
                    let n = rsa::BigUint::from_bytes_be(&b64(n)?);
                    let e = rsa::BigUint::from_bytes_be(&b64(e)?);
                    let key = rsa::RsaPublicKey::new(n, e)
                        .map_err(|e| JwksError(format!("RSA key: {e}")))?;
                    PublicKey::Rsa(Box::new(key))
                }
                "EC" if jwk.crv.as_deref() == Some("P-256") => {
                    let (Some(x), Some(y)) = (&jwk.x, &jwk.y) else {
                        return Err(JwksError("an EC key lacks `x` or `y`".into()));
                    };
                    let (x, y) = (b64(x)?, b64(y)?);
                    if x.len() != 32 || y.len() != 32 {
                        return Err(JwksError("a P-256 coordinate is not 32 bytes".into()));
                    }
                    let point = p256::EncodedPoint::from_affine_coordinates(
                        x.as_slice().into(),
                        y.as_slice().into(),
                        false,
                    );
                    let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                        .map_err(|_| JwksError("a P-256 key is not on the curve".into()))?;
                    PublicKey::P256(Box::new(key))
                }
                _ => continue,
            };
            keys.push(Jwk {
                kid: jwk.kid,
                alg: jwk.alg,
                key,
            });
        }
        Ok(Self { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys a token with `kid` and `alg` may be checked against: of the
    /// algorithm's key type, not pinned to another algorithm, and with the
    /// same `kid` when the token names one.
    fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> impl Iterator<Item = &PublicKey> {
        self.keys
            .iter()
            .filter(move |k| k.key.algorithm() == alg)
            .filter(move |k| k.alg.as_deref().is_none_or(|a| a == alg.as_str()))
            .filter(move |k| kid.is_none() || k.kid.as_deref() == kid)
            .map(|k| &k.key)
    }
}

fn b64(text: &str) -> Result<Vec<u8>, JwksError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwksError("a key member is not base64url".into()))
}

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub issuer: String,
    pub audience: String,
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: i64,
}

/// A verified token's claims.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct VerifiedToken {
    pub issuer: String,
    pub subject: String,
    pub expires_at: i64,
    /// Every claim, for role and link lookups by the caller's configuration.
    pub claims: serde_json::Map<String, Value>,
}

impl Expectations {
    /// Names this configuration together with where its keys come from, so a
    /// cached verification is never reused under different rules or keys.
    pub fn fingerprint(&self, key_source: &str) -> String {
        let algorithms: Vec<&str> = self.algorithms.iter().map(|a| a.as_str()).collect();
        format!(
            "{}\n{}\n{}\n{}\n{}",
            self.issuer,
            self.audience,
            algorithms.join(","),
            self.leeway_secs,
            key_source
        )
    }
}

/// The cache key of a verification of `token` under `fingerprint`:
/// lower-case hex SHA-256, so the cache never holds a usable token.
pub fn cache_digest(fingerprint: &str, token: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update((fingerprint.len() as u64).to_be_bytes());
    hasher.update(fingerprint.as_bytes());
    hasher.update(token.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Verifies `token` against `keys` and `expect` at `now_secs`.
pub fn verify(
    token: &str,
    keys: &KeySet,
    expect: &Expectations,
    now_secs: i64,
) -> Result<VerifiedToken, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed)
    };
    let header: Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::BadHeader)?;
    let alg_name = header["alg"].as_str().ok_or(TokenError::BadHeader)?;
    let alg = Algorithm::parse(alg_name)
        .filter(|a| expect.algorithms.contains(a))
        .ok_or_else(|| TokenError::AlgorithmRefused(alg_name.to_string()))?;
    let kid = header["kid"].as_str();
    let signed = &token.as_bytes()[..token.len() - signature.len() - 1];
    let signature = decode(signature)?;
    let mut tried = false;
    let mut verified = false;
    for key in keys.candidates(kid, alg) {
        tried = true;
        if verify_signature(key, signed, &signature) {
            verified = true;
            break;
        }
    }
    if !tried {
        return Err(TokenError::UnknownKey(kid.map(str::to_string)));
    }
    if !verified {
        return Err(TokenError::BadSignature);
    }
    let claims = match serde_json::from_slice(&decode(payload)?) {
        Ok(Value::Object(map)) => map,
        _ => return Err(TokenError::BadClaims),
    };
    check_claims(claims, expect, now_secs)
}

fn verify_signature(key: &PublicKey, signed: &[u8], signature: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    match key {
        PublicKey::Rsa(key) => {
            let digest = Sha256::digest(signed);
            key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, signature)
                .is_ok()
        }
        PublicKey::P256(key) => {
            use p256::ecdsa::signature::Verifier;
            // JWS carries the raw r||s form, not DER.
            p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(signed, &sig).is_ok())
        }
    }
}

fn check_claims(
    claims: serde_json::Map<String, Value>,
    expect: &Expectations,
    now: i64,
) -> Result<VerifiedToken, TokenError> {
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(TokenError::MissingClaim("iss"))?;
    if issuer != expect.issuer {
        return Err(TokenError::WrongIssuer(issuer.to_string()));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == expect.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(&expect.audience)),
        _ => return Err(TokenError::MissingClaim("aud")),
    };
    if !audience_ok {
        return Err(TokenError::WrongAudience);
    }
    let time = |name: &'static str| match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or(TokenError::MissingClaim(name)),
    };
    let expires_at = time("exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    if now >= expires_at + expect.leeway_secs {
        return Err(TokenError::Expired);
    }
    if let Some(nbf) = time("nbf")?
        && now + expect.leeway_secs < nbf
    {
        return Err(TokenError::NotYetValid);
    }
    if let Some(iat) = time("iat")?
        && now + expect.leeway_secs < iat
    {
        return Err(TokenError::NotYetValid);
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::MissingClaim("sub"))?;
    if subject.len() > MAX_SUBJECT_CHARS || !subject.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::BadSubject);
    }
    let subject = subject.to_string();
    Ok(VerifiedToken {
        issuer: issuer.to_string(),
        subject,
        expires_at,
        claims,
    })
}

/// Signing, for `crm-cli` and tests only (feature `signing`).
#[cfg(feature = "signing")]
pub mod signing {
    use super::*;
    use p256::ecdsa::signature::Signer;

    /// A private signing key with its `kid`.
    pub enum SigningKey {
        Es256 {
            kid: String,
            key: p256::ecdsa::SigningKey,
        },
        Rs256 {
            kid: String,
            key: Box<rsa::RsaPrivateKey>,
        },
    }

    impl SigningKey {
        pub fn generate_es256(kid: &str) -> Self {
            Self::Es256 {
                kid: kid.to_string(),
                key: p256::ecdsa::SigningKey::random(&mut rand_core::OsRng),
            }
        }

        pub fn generate_rs256(kid: &str, bits: usize) -> Self {
            Self::Rs256 {
                kid: kid.to_string(),
                key: Box::new(
                    rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).expect("RSA key"),
                ),
            }
        }

        /// A P-256 key from its 32-byte scalar, base64url (the JWK `d`).
        pub fn es256_from_d(kid: &str, d: &str) -> Result<Self, JwksError> {
            let key = p256::ecdsa::SigningKey::from_slice(&b64(d)?)
                .map_err(|_| JwksError("`d` is not a P-256 scalar".into()))?;
            Ok(Self::Es256 {
                kid: kid.to_string(),
                key,
            })
        }

        pub fn kid(&self) -> &str {
            match self {
                Self::Es256 { kid, .. } | Self::Rs256 { kid, .. } => kid,
            }
        }

        pub fn algorithm(&self) -> Algorithm {
            match self {
                Self::Es256 { .. } => Algorithm::Es256,
                Self::Rs256 { .. } => Algorithm::Rs256,
            }
        }

        /// The public half as one JWK object.
        pub fn public_jwk(&self) -> Value {
            match self {
                Self::Es256 { kid, key } => {
                    let point = key.verifying_key().to_encoded_point(false);
                    serde_json::json!({
                        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                        "x": URL_SAFE_NO_PAD.encode(point.x().expect("uncompressed")),
                        "y": URL_SAFE_NO_PAD.encode(point.y().expect("uncompressed")),
                    })
                }
                Self::Rs256 { kid, key } => {
                    use rsa::traits::PublicKeyParts;
                    serde_json::json!({
                        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
                    })
                }
            }
        }

        /// Signs `claims` into a compact JWS.
        pub fn sign(&self, claims: &Value) -> String {
            let header = serde_json::json!({
                "alg": self.algorithm().as_str(), "typ": "JWT", "kid": self.kid(),
            });
            sign_with_header(&header, claims, |input| self.signature(input))
        }

        fn signature(&self, input: &[u8]) -> Vec<u8> {
            match self {
                Self::Es256 { key, .. } => {
                    let sig: p256::ecdsa::Signature = key.sign(input);
                    sig.to_bytes().to_vec()
                }
                Self::Rs256 { key, .. } => {
                    use sha2::{Digest, Sha256};
                    key.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input))
                        .expect("RSA signature")
                }
            }
        }
    }

    /// A compact JWS with any header and any signature function: tests use it
    /// to build hostile tokens (`alg: none`, HMAC keyed with a public key).
    pub fn sign_with_header(
        header: &Value,
        claims: &Value,
        signature: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = signature(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// A JWKS document holding the public halves of `keys`.
    pub fn jwks(keys: &[&SigningKey]) -> String {
        serde_json::json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() })
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::signing::{SigningKey, jwks, sign_with_header};
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expectations {
        Expectations {
            issuer: "https://idp.example".into(),
            audience: "gov-crm".into(),
            algorithms: vec![Algorithm::Rs256, Algorithm::Es256],
            leeway_secs: 30,
        }
    }

    fn claims() -> Value {
        json!({"iss": "https://idp.example", "aud": "gov-crm", "sub": "staff-1",
               "exp": NOW + 300, "iat": NOW - 10, "roles": ["case-worker"]})
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    #[test]
    fn es256_and_rs256_tokens_verify() {
        let ec = SigningKey::generate_es256("ec-1");
        let rsa = SigningKey::generate_rs256("rsa-1", 2048);
        let keys = KeySet::from_jwks(&jwks(&[&ec, &rsa])).unwrap();
        assert_eq!(keys.len(), 2);
        for key in [&ec, &rsa] {
            let token = key.sign(&claims());
            let verified = verify(&token, &keys, &expect(), NOW).unwrap();
            assert_eq!(verified.subject, "staff-1");
            assert_eq!(verified.claims["roles"], json!(["case-worker"]));
        }
    }

    #[test]
    fn claim_checks_refuse_with_the_reason() {
        let key = SigningKey::generate_es256("k");
        let keys = KeySet::from_jwks(&jwks(&[&key])).unwrap();
        let check = |claims: Value| verify(&key.sign(&claims), &keys, &expect(), NOW);
        assert_eq!(
            check(with(claims(), "iss", json!("https://evil.example"))),
            Err(TokenError::WrongIssuer("https://evil.example".into()))
        );
        assert_eq!(
            check(with(claims(), "aud", json!("other"))),
            Err(TokenError::WrongAudience)
        );
        assert!(check(with(claims(), "aud", json!(["other", "gov-crm"]))).is_ok());
        // exp: leeway of 30 s, exclusive.
        assert!(check(with(claims(), "exp", json!(NOW - 29))).is_ok());
        assert_eq!(
            check(with(claims(), "exp", json!(NOW - 30))),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check(with(claims(), "nbf", json!(NOW + 31))),
            Err(TokenError::NotYetValid)
        );
        assert!(check(with(claims(), "nbf", json!(NOW + 30))).is_ok());
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(check(no_exp), Err(TokenError::MissingClaim("exp")));
        assert_eq!(
            check(with(claims(), "sub", json!(""))),
            Err(TokenError::MissingClaim("sub"))
        );
        // sub: at most 255 printable ASCII characters (OIDC), no spaces.
        assert!(check(with(claims(), "sub", json!("s".repeat(255)))).is_ok());
        for bad in [
            "s".repeat(256),
            "two words".into(),
            "tab\there".into(),
            "café".into(),
        ] {
            assert_eq!(
                check(with(claims(), "sub", json!(bad))),
                Err(TokenError::BadSubject),
                "{bad}"
            );
        }
    }

    #[test]
    fn forged_and_confused_tokens_are_refused() {
        let key = SigningKey::generate_es256("k");
        let other = SigningKey::generate_es256("k");
        let keys = KeySet::from_jwks(&jwks(&[&key])).unwrap();
        // Signed by a different key under the trusted kid.
        assert_eq!(
            verify(&other.sign(&claims()), &keys, &expect(), NOW),
            Err(TokenError::BadSignature)
        );
        // A payload swapped under a valid signature.
        let good = key.sign(&claims());
        let evil = key.sign(&with(claims(), "sub", json!("admin")));
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[1] = evil.split('.').nth(1).unwrap();
        assert_eq!(
            verify(&parts.join("."), &keys, &expect(), NOW),
            Err(TokenError::BadSignature)
        );
        // alg none, with and without a signature.
        let none = sign_with_header(&json!({"alg": "none", "kid": "k"}), &claims(), |_| vec![]);
        assert_eq!(
            verify(&none, &keys, &expect(), NOW),
            Err(TokenError::AlgorithmRefused("none".into()))
        );
        // HS256 keyed with the public key's bytes (the classic confusion).
        let public = jwks(&[&key]);
        let hs = sign_with_header(&json!({"alg": "HS256", "kid": "k"}), &claims(), |input| {
            use sha2::{Digest, Sha256};
            Sha256::digest([public.as_bytes(), input].concat()).to_vec()
        });
        assert_eq!(
            verify(&hs, &keys, &expect(), NOW),
            Err(TokenError::AlgorithmRefused("HS256".into()))
        );
        // RS256 claimed against an EC key: no RSA key to use.
        let rs_header = sign_with_header(&json!({"alg": "RS256", "kid": "k"}), &claims(), |_| {
            vec![0; 256]
        });
        assert_eq!(
            verify(&rs_header, &keys, &expect(), NOW),
            Err(TokenError::UnknownKey(Some("k".into())))
        );
        // An algorithm removed from the allow-list.
        let only_rs = Expectations {
            algorithms: vec![Algorithm::Rs256],
            ..expect()
        };
        assert_eq!(
            verify(&key.sign(&claims()), &keys, &only_rs, NOW),
            Err(TokenError::AlgorithmRefused("ES256".into()))
        );
        for garbage in ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30"] {
            assert!(verify(garbage, &keys, &expect(), NOW).is_err(), "{garbage}");
        }
    }

    #[test]
    fn keys_pinned_to_another_algorithm_or_kid_are_not_used() {
        let key = SigningKey::generate_es256("k1");
        let mut jwk = key.public_jwk();
        jwk["alg"] = json!("ES384");
        let keys = KeySet::from_jwks(&json!({"keys": [jwk]}).to_string()).unwrap();
        assert!(matches!(
            verify(&key.sign(&claims()), &keys, &expect(), NOW),
            Err(TokenError::UnknownKey(_))
        ));
        let keys = KeySet::from_jwks(&jwks(&[&SigningKey::generate_es256("k2")])).unwrap();
        assert_eq!(
            verify(&key.sign(&claims()), &keys, &expect(), NOW),
            Err(TokenError::UnknownKey(Some("k1".into())))
        );
    }

    #[test]
    fn cache_digests_depend_on_the_configuration_and_the_token() {
        let e = expect();
        let a = cache_digest(&e.fingerprint("jwks-1"), "t1");
        assert_eq!(a, cache_digest(&e.fingerprint("jwks-1"), "t1"));
        assert_ne!(a, cache_digest(&e.fingerprint("jwks-2"), "t1"));
        assert_ne!(a, cache_digest(&e.fingerprint("jwks-1"), "t2"));
        let other = Expectations {
            audience: "other".into(),
            ..expect()
        };
        assert_ne!(a, cache_digest(&other.fingerprint("jwks-1"), "t1"));
        let key = SigningKey::generate_es256("k");
        let keys = KeySet::from_jwks(&jwks(&[&key])).unwrap();
        let verified = verify(&key.sign(&claims()), &keys, &e, NOW).unwrap();
        let json = serde_json::to_string(&verified).unwrap();
        assert_eq!(
            serde_json::from_str::<VerifiedToken>(&json).unwrap(),
            verified
        );
    }

    #[test]
    fn jwks_skips_unsupported_keys_and_refuses_broken_ones() {
        let doc = json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
        ]});
        assert!(KeySet::from_jwks(&doc.to_string()).unwrap().is_empty());
        assert!(KeySet::from_jwks(r#"{"keys":[{"kty":"RSA","n":"AQAB"}]}"#).is_err());
        assert!(
            KeySet::from_jwks(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}"#)
                .is_err()
        );
        assert!(KeySet::from_jwks("not json").is_err());
    }
}
