//! Who is calling and what they may do, in plain Rust so it is tested
//! natively and compiled into every component:
//!
//! - [`jwt`]: OIDC bearer JWTs (RS256/ES256 on an allow-list, JWKS keys).
//! - [`api_key`]: service clients' API keys, stored only as hashes.
//! - [`policy`]: roles, actions, the role-to-action matrix and `may`.
//! - [`fields`]: field-level filtering of responses.
//! - [`purpose`]: the purpose of use a read must state.
//!
//! Components turn a request into a [`Credential`], verify it, and build a
//! [`policy::Principal`] with [`principal_from_token`] or
//! [`principal_from_key`]; storage lookups stay in the component.

pub mod api_key;
pub mod fields;
pub mod jwt;
pub mod policy;
pub mod purpose;

use thiserror::Error;

use api_key::{ApiKeyError, PresentedKey, StoredKey};
use jwt::{TokenError, VerifiedToken};
use policy::{Principal, Role};

/// The credential a request presents in `Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential<'a> {
    Jwt(&'a str),
    ApiKey(PresentedKey),
}

/// Why a caller could not be authenticated: every variant is a 401.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("no credential: send `Authorization: Bearer <token or API key>`")]
    Missing,
    #[error("the Authorization header must use the Bearer scheme")]
    WrongScheme,
    #[error("invalid token: {0}")]
    Token(#[from] TokenError),
    #[error("invalid API key: {0}")]
    ApiKey(#[from] ApiKeyError),
    #[error("the token mixes the citizen role with staff roles")]
    MixedRoles,
}

impl AuthError {
    /// The RFC 6750 `error` code for `WWW-Authenticate`.
    pub fn bearer_error(&self) -> Option<&'static str> {
        match self {
            Self::Missing => None,
            Self::WrongScheme => Some("invalid_request"),
            _ => Some("invalid_token"),
        }
    }
}

/// Reads an `Authorization` header value.
pub fn parse_authorization(header: Option<&str>) -> Result<Credential<'_>, AuthError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let header = header.ok_or(AuthError::Missing)?;
    let (scheme, value) = header.split_once(' ').ok_or(AuthError::WrongScheme)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::WrongScheme);
    }
    let value = value.trim();
    if value.starts_with(api_key::PREFIX) {
        Ok(Credential::ApiKey(PresentedKey::parse(value)?))
    } else {
        Ok(Credential::Jwt(value))
    }
}

/// The principal a verified token stands for. Roles come from the claim
/// named `roles_claim` (an array of role names; unknown names are ignored);
/// a citizen's contact comes from the link the component looked up for
/// (`iss`, `sub`), never from the token.
pub fn principal_from_token(
    token: &VerifiedToken,
    roles_claim: &str,
    linked_contact: impl FnOnce() -> Option<String>,
) -> Result<Principal, AuthError> {
    let roles: Vec<Role> = token
        .claims
        .get(roles_claim)
        .and_then(|v| v.as_array())
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().and_then(Role::parse))
                .filter(|r| *r != Role::Service)
                .collect()
        })
        .unwrap_or_default();
    let is_citizen = roles.contains(&Role::Citizen);
    if is_citizen && roles.len() > 1 {
        return Err(AuthError::MixedRoles);
    }
    Ok(if is_citizen {
        Principal::Citizen {
            subject: token.subject.clone(),
            contact_id: linked_contact(),
        }
    } else {
        Principal::Staff {
            subject: token.subject.clone(),
            roles,
        }
    })
}

/// The principal a checked API key stands for.
pub fn principal_from_key(
    presented: &PresentedKey,
    stored: Option<StoredKey>,
    now_ms: i64,
) -> Result<Principal, AuthError> {
    let stored = stored.ok_or(ApiKeyError::Unknown)?;
    presented.check(&stored, now_ms)?;
    Ok(Principal::Service {
        key_id: stored.key_id,
        owner: stored.owner,
        scopes: stored.scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(claims: serde_json::Value) -> VerifiedToken {
        VerifiedToken {
            issuer: "https://idp".into(),
            subject: "sub-1".into(),
            expires_at: 0,
            claims: claims.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn authorization_headers_are_classified() {
        assert_eq!(parse_authorization(None), Err(AuthError::Missing));
        assert_eq!(parse_authorization(Some("  ")), Err(AuthError::Missing));
        assert_eq!(
            parse_authorization(Some("Basic dXNlcjpwdw==")),
            Err(AuthError::WrongScheme)
        );
        assert_eq!(
            parse_authorization(Some("bearer eyJ.x.y")),
            Ok(Credential::Jwt("eyJ.x.y"))
        );
        assert_eq!(
            parse_authorization(Some("Bearer crm_short")),
            Err(AuthError::ApiKey(ApiKeyError::Malformed))
        );
    }

    #[test]
    fn roles_come_from_the_claim_and_citizens_from_the_link() {
        let staff = principal_from_token(
            &token(json!({"roles": ["case-worker", "root", "service"]})),
            "roles",
            || unreachable!("staff are not linked"),
        )
        .unwrap();
        assert_eq!(
            staff,
            Principal::Staff {
                subject: "sub-1".into(),
                roles: vec![Role::CaseWorker]
            }
        );
        let citizen = principal_from_token(&token(json!({"roles": ["citizen"]})), "roles", || {
            Some("con_9".into())
        })
        .unwrap();
        assert_eq!(citizen.own_contact(), Some("con_9"));
        assert_eq!(
            principal_from_token(
                &token(json!({"roles": ["citizen", "administrator"]})),
                "roles",
                || None
            ),
            Err(AuthError::MixedRoles)
        );
        let none = principal_from_token(&token(json!({})), "roles", || None).unwrap();
        assert_eq!(
            none,
            Principal::Staff {
                subject: "sub-1".into(),
                roles: vec![]
            }
        );
    }
}
