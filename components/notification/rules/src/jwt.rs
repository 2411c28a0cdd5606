//! Notify's request authentication: `Authorization: Bearer <JWT>`, the JWT
//! signed HS256 with the API key's secret, `iss` the service id and `iat`
//! within 30 seconds of the server's clock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::api_key::{KeySecret, ServiceId};

/// How far `iat` may be from the server's clock, either way.
pub const TOKEN_LEEWAY_SECS: i64 = 30;

/// Why a request was not authenticated. The texts are those of
/// notifications-api's `app/authentication/auth.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("Unauthorized: authentication token must be provided")]
    MissingToken,
    #[error("Unauthorized: authentication bearer scheme must be used")]
    NotBearer,
    #[error(
        "Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header"
    )]
    Malformed,
    #[error("Invalid token: algorithm used is not HS256")]
    Algorithm,
    #[error("Invalid token: iss field not provided")]
    MissingIssuer,
    #[error("Invalid token: service id is not the right data type")]
    IssuerNotServiceId,
    /// Notify's client library text; the server folds this case into
    /// [`AuthError::KeyNotFound`].
    #[error("Invalid token: iat field not provided")]
    MissingIssuedAt,
    /// The signature matches none of the service's keys (or the token names
    /// another service).
    #[error("Invalid token: API key not found")]
    KeyNotFound,
    #[error("Error: Your system clock must be accurate to within 30 seconds")]
    ClockSkew,
    #[error("Invalid token: service not found")]
    ServiceNotFound,
    #[error("Invalid token: service has no API keys")]
    NoApiKeys,
    #[error("Invalid token: service is archived")]
    ServiceArchived,
    #[error("Invalid token: API key revoked")]
    KeyRevoked,
}

impl AuthError {
    /// 401 when there is no usable bearer token at all, 403 otherwise.
    pub fn status_code(self) -> u16 {
        match self {
            Self::MissingToken | Self::NotBearer => 401,
            _ => 403,
        }
    }
}

/// The token of an `Authorization` header; the scheme is matched without
/// regard to case, as Notify does.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let header = authorization
        .filter(|h| !h.is_empty())
        .ok_or(AuthError::MissingToken)?;
    match header.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => Ok(&header[7..]),
        _ => Err(AuthError::NotBearer),
    }
}

/// A verified token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub service_id: ServiceId,
    /// `iat`, seconds since the epoch.
    pub issued_at: i64,
}

struct Parts<'a> {
    signing_input: &'a str,
    header: serde_json::Value,
    claims: serde_json::Map<String, serde_json::Value>,
    signature: &'a str,
}

fn decode_json(segment: &str) -> Result<serde_json::Value, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

fn split(token: &str) -> Result<Parts<'_>, AuthError> {
    let (signing_input, signature) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
    let (header, claims) = signing_input.split_once('.').ok_or(AuthError::Malformed)?;
    let header = decode_json(header)?;
    let serde_json::Value::Object(claims) = decode_json(claims)? else {
        return Err(AuthError::Malformed);
    };
    Ok(Parts {
        signing_input,
        header,
        claims,
        signature,
    })
}

fn issuer(claims: &serde_json::Map<String, serde_json::Value>) -> Result<ServiceId, AuthError> {
    match claims.get("iss") {
        None | Some(serde_json::Value::Null) => Err(AuthError::MissingIssuer),
        Some(serde_json::Value::String(iss)) => {
            ServiceId::parse(iss).ok_or(AuthError::IssuerNotServiceId)
        }
        Some(_) => Err(AuthError::IssuerNotServiceId),
    }
}

/// The service a token claims to come from, unverified: the first step,
/// to find the keys to verify it with.
pub fn token_issuer(token: &str) -> Result<ServiceId, AuthError> {
    issuer(&split(token)?.claims)
}

fn mac(secret: &KeySecret, signing_input: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(signing_input.as_bytes());
    mac
}

/// Verifies a token against one of the service's keys: the header's `alg`
/// must be `HS256` (never `none`), the HS256 signature must match `secret`
/// (compared in constant time), `iss` must be `expected` and `iat` within
/// [`TOKEN_LEEWAY_SECS`] of `now_secs`.
pub fn verify_notify_jwt(
    token: &str,
    secret: &KeySecret,
    expected: &ServiceId,
    now_secs: i64,
) -> Result<Claims, AuthError> {
    let parts = split(token)?;
    if parts.header.get("alg").and_then(|alg| alg.as_str()) != Some("HS256") {
        return Err(AuthError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(parts.signature)
        .map_err(|_| AuthError::KeyNotFound)?;
    mac(secret, parts.signing_input)
        .verify_slice(&signature)
        .map_err(|_| AuthError::KeyNotFound)?;
    let service_id = issuer(&parts.claims)?;
    if &service_id != expected {
        return Err(AuthError::KeyNotFound);
    }
    let issued_at = match parts.claims.get("iat") {
        None | Some(serde_json::Value::Null) => return Err(AuthError::MissingIssuedAt),
        // Whole seconds, as Notify reads a fractional `iat`.
        Some(iat) => iat
            .as_i64()
            .or_else(|| iat.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or(AuthError::Malformed)?,
    };
    if (now_secs - issued_at).abs() > TOKEN_LEEWAY_SECS {
        return Err(AuthError::ClockSkew);
    }
    Ok(Claims {
        service_id,
        issued_at,
    })
}

/// A token as Notify's client libraries make one.
pub fn create_notify_jwt(secret: &KeySecret, service_id: &ServiceId, issued_at: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = URL_SAFE_NO_PAD
        .encode(serde_json::json!({ "iss": service_id.as_str(), "iat": issued_at }).to_string());
    let signing_input = format!("{header}.{claims}");
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &signing_input).finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;

    fn service() -> ServiceId {
        ServiceId::parse("26785a09-ab16-4eb0-8407-a37497a57506").unwrap()
    }

    fn secret() -> KeySecret {
        KeySecret::parse("3d844edf-8d35-48ac-975b-e847b4f122b0").unwrap()
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    /// A token with any header and claims, signed with `secret()`.
    fn signed(header: &str, claims: &str) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        let sig = URL_SAFE_NO_PAD.encode(mac(&secret(), &input).finalize().into_bytes());
        format!("{input}.{sig}")
    }

    fn verify(token: &str) -> Result<Claims, AuthError> {
        verify_notify_jwt(token, &secret(), &service(), NOW)
    }

    #[test]
    fn accepts_a_client_token_within_30_seconds_either_way() {
        for iat in [NOW - 30, NOW, NOW + 30] {
            let claims = verify(&create_notify_jwt(&secret(), &service(), iat)).unwrap();
            assert_eq!(claims.service_id, service());
            assert_eq!(claims.issued_at, iat);
        }
    }

    #[test]
    fn refuses_a_token_outside_30_seconds() {
        for iat in [NOW - 31, NOW + 31, 0] {
            assert_eq!(
                verify(&create_notify_jwt(&secret(), &service(), iat)),
                Err(AuthError::ClockSkew)
            );
        }
    }

    #[test]
    fn verifies_a_token_signed_elsewhere() {
        // Made with Python's hmac and hashlib, as Notify's clients sign.
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.\
                     eyJpc3MiOiIyNjc4NWEwOS1hYjE2LTRlYjAtODQwNy1hMzc0OTdhNTc1MDYiLCJpYXQiOjE3NjcyMjU2MDB9.\
                     noRdfkAf-3bFg5z4LzDX0CD9LIkk7DfyJYgNVPRONCc";
        assert_eq!(
            verify(token),
            Ok(Claims {
                service_id: service(),
                issued_at: NOW
            })
        );
        let flipped = token.replace("noRd", "noRe");
        assert_eq!(verify(&flipped), Err(AuthError::KeyNotFound));
    }

    #[test]
    fn refuses_another_key_or_a_changed_token() {
        let other = KeySecret::parse("00000000-0000-4000-8000-000000000000").unwrap();
        let token = create_notify_jwt(&other, &service(), NOW);
        assert_eq!(verify(&token), Err(AuthError::KeyNotFound));

        let token = create_notify_jwt(&secret(), &service(), NOW);
        let (input, sig) = token.rsplit_once('.').unwrap();
        let forged_claims =
            b64(r#"{"iss":"26785a09-ab16-4eb0-8407-a37497a57506","iat":1767225601}"#);
        let header = input.split('.').next().unwrap();
        assert_eq!(
            verify(&format!("{header}.{forged_claims}.{sig}")),
            Err(AuthError::KeyNotFound)
        );
        assert_eq!(verify(&format!("{input}.")), Err(AuthError::KeyNotFound));
        assert_eq!(verify(&format!("{input}.!!")), Err(AuthError::KeyNotFound));
    }

    #[test]
    fn refuses_any_algorithm_but_hs256() {
        let claims = r#"{"iss":"26785a09-ab16-4eb0-8407-a37497a57506","iat":1767225600}"#;
        for header in [
            r#"{"typ":"JWT","alg":"none"}"#,
            r#"{"typ":"JWT","alg":"HS512"}"#,
            r#"{"typ":"JWT","alg":"hs256"}"#,
            r#"{"typ":"JWT"}"#,
        ] {
            assert_eq!(
                verify(&signed(header, claims)),
                Err(AuthError::Algorithm),
                "{header}"
            );
        }
        // An unsigned token, as `alg: none` tokens come.
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(claims));
        assert_eq!(verify(&unsigned), Err(AuthError::Algorithm));
    }

    #[test]
    fn refuses_tokens_for_another_service() {
        let other = ServiceId::parse("11111111-2222-4333-8444-555555555555").unwrap();
        let token = create_notify_jwt(&secret(), &other, NOW);
        assert_eq!(verify(&token), Err(AuthError::KeyNotFound));
    }

    #[test]
    fn claim_problems() {
        let header = r#"{"typ":"JWT","alg":"HS256"}"#;
        let cases = [
            (r#"{"iat":1767225600}"#, AuthError::MissingIssuer),
            (
                r#"{"iss":"not-a-uuid","iat":1767225600}"#,
                AuthError::IssuerNotServiceId,
            ),
            (
                r#"{"iss":42,"iat":1767225600}"#,
                AuthError::IssuerNotServiceId,
            ),
            (
                r#"{"iss":"26785a09-ab16-4eb0-8407-a37497a57506"}"#,
                AuthError::MissingIssuedAt,
            ),
            (
                r#"{"iss":"26785a09-ab16-4eb0-8407-a37497a57506","iat":"soon"}"#,
                AuthError::Malformed,
            ),
        ];
        for (claims, expected) in cases {
            assert_eq!(verify(&signed(header, claims)), Err(expected), "{claims}");
        }
        let fractional = r#"{"iss":"26785A09-AB16-4EB0-8407-A37497A57506","iat":1767225600.9}"#;
        assert_eq!(verify(&signed(header, fractional)).unwrap().issued_at, NOW);
    }

    #[test]
    fn malformed_tokens() {
        for token in [
            "",
            "abc",
            "a.b",
            "a.b.c",
            "!.!.!",
            &format!("{}.{}.x", b64("[]"), b64("[]")),
        ] {
            assert_eq!(verify(token), Err(AuthError::Malformed), "{token}");
        }
        // Padding is not base64url-without-padding.
        let token = create_notify_jwt(&secret(), &service(), NOW);
        let (header, rest) = token.split_once('.').unwrap();
        assert_eq!(
            verify(&format!("{header}==.{rest}")),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn issuer_is_read_before_verification() {
        let token = create_notify_jwt(&secret(), &service(), NOW);
        assert_eq!(token_issuer(&token), Ok(service()));
        assert_eq!(token_issuer("x.y.z"), Err(AuthError::Malformed));
        assert_eq!(
            token_issuer(&signed(r#"{"alg":"HS256"}"#, r#"{"iat":1}"#)),
            Err(AuthError::MissingIssuer)
        );
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(AuthError::MissingToken));
        assert_eq!(bearer_token(Some("")), Err(AuthError::MissingToken));
        assert_eq!(bearer_token(Some("Basic abc")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearer")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Beärer x")), Err(AuthError::NotBearer));
        assert_eq!(AuthError::NotBearer.status_code(), 401);
        assert_eq!(AuthError::ClockSkew.status_code(), 403);
    }
}
