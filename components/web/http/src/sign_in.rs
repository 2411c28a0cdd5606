//! How people sign in: [`development`] (pick a role and a subject and get a
//! token signed with the public development key, offered only while the
//! app trusts that key), or the OpenID Connect code flow with PKCE against
//! the issuer the app trusts ([`crate::oidc`]). Each ends in a
//! [`User`](crate::session::User) for a new session.

/// The sign-in the app's configuration allows.
pub enum Method {
    Development,
    /// At the identity provider `auth_issuer` names, as `web_oidc_client_id`.
    OpenIdConnect,
    /// A real issuer is trusted, but no client of it is configured.
    Unavailable,
}

/// Chosen from the app's `auth_*` variables, the ones the API checks tokens
/// by, and the `web_oidc_*` ones.
pub fn method() -> Method {
    if development::trusted() {
        Method::Development
    } else if crate::oidc::configured() {
        Method::OpenIdConnect
    } else {
        Method::Unavailable
    }
}

pub mod development {
    //! DEVELOPMENT ONLY: tokens signed with the key in `dev/`, whose private
    //! half is public. Minted only while the app's variables trust it for
    //! the development issuer; any real configuration turns this off.

    use crm_auth::jwt::signing::SigningKey;
    use crm_auth::policy::Role;
    use serde_json::{Value, json};

    use crate::session::{Audience, User};

    const KEY: &str = include_str!("../../../../dev/dev-signing-key.json");
    pub const ISSUER: &str = "https://dev-only.crm.invalid";

    /// The roles the form offers, as (claim, label).
    pub const ROLES: &[(&str, &str)] = &[
        ("citizen", "Citizen (the portal)"),
        ("intake-officer", "Intake officer"),
        ("case-worker", "Case worker"),
        ("communications-officer", "Communications officer"),
        ("auditor", "Auditor"),
        ("administrator", "Administrator"),
    ];

    fn variable(name: &str) -> String {
        spin_sdk::variables::get(name)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    fn key() -> Value {
        serde_json::from_str(KEY).expect("dev/dev-signing-key.json is JSON")
    }

    /// Whether the API would accept a development token: the issuer is the
    /// development one, no JWKS URL replaces the inline keys, and those
    /// include the development key's public half.
    pub fn trusted() -> bool {
        if variable("auth_issuer") != ISSUER || !variable("auth_jwks_url").is_empty() {
            return false;
        }
        let dev = key();
        let jwks: Value = serde_json::from_str(&variable("auth_jwks")).unwrap_or_default();
        jwks["keys"].as_array().is_some_and(|keys| {
            keys.iter()
                .any(|k| k["kid"] == dev["kid"] && k["x"] == dev["x"] && k["y"] == dev["y"])
        })
    }

    /// A subject as the form takes it: 1 to 64 of `A-Z a-z 0-9 . _ @ : -`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Subject(String);

    impl Subject {
        pub fn parse(raw: &str) -> Result<Self, &'static str> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Err("Enter the user id to sign in as");
            }
            if raw.len() > 64
                || !raw
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._@:-".contains(&b))
            {
                return Err(
                    "User id must be 64 characters or fewer, of letters, digits and . _ @ : -",
                );
            }
            Ok(Self(raw.to_string()))
        }
    }

    /// Signs `subject` in as `role` until `expires_secs` (the session's end).
    pub fn sign_in(role: Role, subject: &Subject, now_secs: i64, expires_secs: i64) -> User {
        let dev = key();
        let signer = SigningKey::es256_from_d(
            dev["kid"].as_str().unwrap_or_default(),
            dev["d"].as_str().unwrap_or_default(),
        )
        .expect("the development key is a P-256 key");
        let token = signer.sign(&json!({
            "iss": ISSUER,
            "aud": variable("auth_audience"),
            "sub": subject.0,
            "iat": now_secs,
            "exp": expires_secs,
            "roles": [role.as_str()],
        }));
        User {
            audience: if role == Role::Citizen {
                Audience::Citizen
            } else {
                Audience::Staff
            },
            label: format!("{} ({})", role.as_str(), subject.0),
            token,
            id_token: None,
        }
    }
}
