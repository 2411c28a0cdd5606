//! The API's token rules as a Spin component reads them: what a token must
//! satisfy ([`expectations`], from the `auth_*` variables) and the keys it
//! must be signed with (the `auth_jwks` variable, or the JWKS at
//! `auth_jwks_url`, fetched and cached in key-value). The API components
//! check bearer tokens with these, and the web component checks the tokens
//! its OpenID Connect sign-in receives with the same, so the two never
//! disagree about whom to trust.

use crm_auth::jwt::{self, Algorithm, Expectations, KeySet, TokenError, VerifiedToken};

/// The variables a component checking tokens declares in `spin.toml`.
pub mod var {
    pub const ISSUER: &str = "auth_issuer";
    pub const AUDIENCE: &str = "auth_audience";
    pub const JWKS: &str = "auth_jwks";
    pub const JWKS_URL: &str = "auth_jwks_url";
    pub const ALGORITHMS: &str = "auth_algorithms";
    pub const LEEWAY_SECS: &str = "auth_leeway_secs";
    pub const ROLES_CLAIM: &str = "auth_roles_claim";
}

/// How long a fetched JWKS is used before it is fetched again.
const JWKS_TTL_MS: i64 = 5 * 60 * 1000;
/// A token with an unknown `kid` refetches the JWKS at most this often.
const JWKS_REFRESH_MIN_MS: i64 = 30 * 1000;

/// Why a token was not verified.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The token's fault.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The configuration's fault.
    #[error("{0}")]
    Config(String),
    /// The issuer's keys could not be had just now.
    #[error("{0}")]
    Unavailable(String),
}

/// A variable the component must declare.
pub fn variable(name: &str) -> Result<String, VerifyError> {
    spin_sdk::variables::get(name)
        .map_err(|e| VerifyError::Config(format!("configuration variable `{name}`: {e}")))
}

/// A variable that may be absent or blank, trimmed.
pub fn optional_variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The claim a token's roles are read from.
pub fn roles_claim() -> String {
    optional_variable(var::ROLES_CLAIM).unwrap_or_else(|| "roles".into())
}

/// What an API token must satisfy besides its signature.
pub fn expectations() -> Result<Expectations, VerifyError> {
    let algorithms = optional_variable(var::ALGORITHMS).unwrap_or_else(|| "RS256,ES256".into());
    let algorithms = algorithms
        .split(',')
        .map(|a| {
            Algorithm::parse(a.trim()).ok_or_else(|| {
                VerifyError::Config(format!(
                    "`{}` lists unsupported algorithm `{a}`",
                    var::ALGORITHMS
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leeway_secs = match optional_variable(var::LEEWAY_SECS) {
        None => 30,
        Some(text) => text
            .parse()
            .ok()
            .filter(|s| (0..=300).contains(s))
            .ok_or_else(|| {
                VerifyError::Config(format!("`{}` must be 0 to 300 seconds", var::LEEWAY_SECS))
            })?,
    };
    Ok(Expectations {
        issuer: variable(var::ISSUER)?,
        audience: variable(var::AUDIENCE)?,
        algorithms,
        leeway_secs,
    })
}

/// Names where the keys come from, for caches of verifications.
pub fn key_source() -> Result<String, VerifyError> {
    Ok(match optional_variable(var::JWKS_URL) {
        Some(url) => format!("url:{url}"),
        None => format!("jwks:{}", variable(var::JWKS)?),
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Verifies `token` against `expect` with the configured keys.
pub fn verify(token: &str, expect: &Expectations) -> Result<VerifiedToken, VerifyError> {
    let now_secs = now_ms() / 1000;
    let Some(url) = optional_variable(var::JWKS_URL) else {
        let keys = KeySet::from_jwks(&variable(var::JWKS)?)
            .map_err(|e| VerifyError::Config(format!("`{}`: {e}", var::JWKS)))?;
        return Ok(jwt::verify(token, &keys, expect, now_secs)?);
    };
    let (keys, fetched_at) = fetched_jwks(&url, false)?;
    match jwt::verify(token, &keys, expect, now_secs) {
        // A new signing key: the issuer may have rotated since we fetched.
        Err(TokenError::UnknownKey(_)) if now_ms() - fetched_at > JWKS_REFRESH_MIN_MS => {
            let (keys, _) = fetched_jwks(&url, true)?;
            Ok(jwt::verify(token, &keys, expect, now_secs)?)
        }
        result => Ok(result?),
    }
}

/// The JWKS at `url`, from the key-value cache while fresh.
fn fetched_jwks(url: &str, refresh: bool) -> Result<(KeySet, i64), VerifyError> {
    let store = spin_sdk::key_value::Store::open_default()
        .map_err(|e| VerifyError::Config(format!("key-value store: {e}")))?;
    let cache_key = format!("auth:jwks:{url}");
    let now = now_ms();
    if !refresh
        && let Ok(Some(cached)) = store.get(&cache_key)
        && let Some((fetched_at, body)) = std::str::from_utf8(&cached)
            .ok()
            .and_then(|c| c.split_once('\n'))
        && let Ok(fetched_at) = fetched_at.parse::<i64>()
        && now - fetched_at < JWKS_TTL_MS
        && let Ok(keys) = KeySet::from_jwks(body)
    {
        return Ok((keys, fetched_at));
    }
    let request = spin_sdk::http::Request::get(url);
    let response: spin_sdk::http::Response = spin_sdk::http::run(spin_sdk::http::send(request))
        .map_err(|e| VerifyError::Unavailable(format!("fetching the JWKS from {url}: {e}")))?;
    if *response.status() != 200 {
        return Err(VerifyError::Unavailable(format!(
            "the JWKS at {url} answered {}",
            response.status()
        )));
    }
    let body = std::str::from_utf8(response.body())
        .map_err(|_| VerifyError::Unavailable(format!("the JWKS at {url} is not UTF-8")))?;
    let keys = KeySet::from_jwks(body)
        .map_err(|e| VerifyError::Unavailable(format!("the JWKS at {url}: {e}")))?;
    // A cache write that fails only costs a fetch next time.
    let _ = store.set(&cache_key, format!("{now}\n{body}").as_bytes());
    Ok((keys, now))
}
