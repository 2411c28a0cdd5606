//! Server-side sessions in the key-value store: the cookie carries only a
//! random id; the store keeps (under the id's SHA-256, so a copy of the store
//! holds no live cookie) who signed in, their API token, the CSRF token and
//! the staff member's purpose. A session ends after `IDLE_MS` without a
//! request or `ABSOLUTE_MS` after it began, whichever is first.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spin_sdk::http::Request;
use spin_sdk::key_value::Store;

pub const IDLE_MS: i64 = 30 * 60 * 1000;
pub const ABSOLUTE_MS: i64 = 8 * 60 * 60 * 1000;

/// Who a signed-in session is for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    Citizen,
    Staff,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub audience: Audience,
    /// What the header shows: "case-worker (alice)".
    pub label: String,
    /// The bearer token the API is called with.
    pub token: String,
    /// The ID token of an OpenID Connect sign-in, the hint its sign-out
    /// gives the identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// `None` before sign-in: a session then only carries the CSRF token of
    /// the sign-in form.
    pub user: Option<User>,
    pub csrf: String,
    pub purpose: Option<String>,
    /// A one-time message for the next page (POST–redirect–GET).
    pub flash: Option<String>,
    /// An OpenID Connect sign-in under way at the identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<crate::oidc::Pending>,
    /// Forms of several steps a staff member is part-way through (a new
    /// contact, a message), by name: kept between the steps' redirects and
    /// gone with the session.
    #[serde(default)]
    pub drafts: BTreeMap<String, serde_json::Value>,
    pub created_ms: i64,
    pub seen_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the session store: {0}")]
    Store(#[from] spin_sdk::key_value::Error),
    #[error("a stored session could not be read: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// How the session cookie is named and flagged for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    /// Only a request that came over http on loopback (the developer's own
    /// machine) gets a cookie without `Secure`, and so without the
    /// `__Host-` prefix, which requires it.
    pub loopback_http: bool,
}

impl CookiePolicy {
    /// Read from what the runtime (Spin or crm-host) says about the
    /// connection, never from what the client claims: `spin-full-url` is
    /// built from the listener's scheme and the request's host, and
    /// `spin-client-addr` is the peer's socket address. Both must be
    /// loopback: a TLS-terminating proxy on the same machine forwards a
    /// public host name, so its requests keep `Secure`.
    pub fn of(req: &Request) -> Self {
        let header = |name: &str| req.header(name).and_then(|v| v.as_str()).unwrap_or("");
        let url = header("spin-full-url");
        let host_is_loopback = url.strip_prefix("http://").is_some_and(|rest| {
            let authority = rest.split('/').next().unwrap_or("");
            is_loopback_host(authority)
        });
        let client_is_loopback = is_loopback_host(header("spin-client-addr"));
        Self {
            loopback_http: host_is_loopback && client_is_loopback,
        }
    }

    pub fn name(self) -> &'static str {
        if self.loopback_http {
            "crm-session"
        } else {
            "__Host-crm-session"
        }
    }

    /// The `set-cookie` value carrying `id`; `None` clears it.
    pub fn set_cookie(self, id: Option<&str>) -> String {
        let secure = if self.loopback_http { "" } else { "; Secure" };
        match id {
            Some(id) => format!(
                "{}={id}; HttpOnly{secure}; SameSite=Lax; Path=/",
                self.name()
            ),
            None => format!(
                "{}=; HttpOnly{secure}; SameSite=Lax; Path=/; Max-Age=0",
                self.name()
            ),
        }
    }
}

/// `127.0.0.1:3000`, `[::1]:3000`, `localhost:3000` (port optional).
fn is_loopback_host(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the host gives random bytes");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn store_key(id: &str) -> String {
    format!("web-session/{}", hex(&Sha256::digest(id.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session id the request's cookie names, if any.
pub fn cookie_id(req: &Request, policy: CookiePolicy) -> Option<String> {
    let cookies = req.header("cookie").and_then(|v| v.as_str())?;
    cookies.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == policy.name() && !value.is_empty()).then(|| value.to_string())
    })
}

impl Session {
    pub fn new(now: i64) -> Self {
        Self {
            user: None,
            csrf: random_token(),
            purpose: None,
            flash: None,
            oidc: None,
            drafts: BTreeMap::new(),
            created_ms: now,
            seen_ms: now,
        }
    }

    /// Whether the session has ended by either clock at `now`.
    pub fn expired(&self, now: i64) -> bool {
        now - self.seen_ms > IDLE_MS || now - self.created_ms > ABSOLUTE_MS
    }

    /// The draft kept under `name`, if it is one of `T`.
    pub fn draft<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.drafts
            .get(name)
            .and_then(|d| serde_json::from_value(d.clone()).ok())
    }

    pub fn keep_draft<T: Serialize>(&mut self, name: &str, draft: &T) {
        let value = serde_json::to_value(draft).expect("drafts serialise");
        self.drafts.insert(name.to_string(), value);
    }

    pub fn drop_draft(&mut self, name: &str) {
        self.drafts.remove(name);
    }

    /// Whether `given` is this session's CSRF token, in constant time.
    pub fn csrf_matches(&self, given: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.csrf.len() == given.len() && bool::from(self.csrf.as_bytes().ct_eq(given.as_bytes()))
    }
}

/// The session store (the `default` key-value store).
pub struct Sessions(Store);

impl Sessions {
    pub fn open() -> Result<Self, SessionError> {
        Ok(Self(Store::open_default()?))
    }

    /// The live session `id` names, touched at `now`; an expired one is deleted.
    pub fn load(&self, id: &str, now: i64) -> Result<Option<Session>, SessionError> {
        let key = store_key(id);
        let Some(bytes) = self.0.get(&key)? else {
            return Ok(None);
        };
        let mut session: Session = serde_json::from_slice(&bytes)?;
        if session.expired(now) {
            self.0.delete(&key)?;
            return Ok(None);
        }
        session.seen_ms = now;
        Ok(Some(session))
    }

    pub fn save(&self, id: &str, session: &Session) -> Result<(), SessionError> {
        Ok(self.0.set(&store_key(id), &serde_json::to_vec(session)?)?)
    }

    pub fn delete(&self, id: &str) -> Result<(), SessionError> {
        Ok(self.0.delete(&store_key(id))?)
    }
}
