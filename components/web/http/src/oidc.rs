//! OpenID Connect sign-in: the authorisation code flow with PKCE (S256)
//! against the issuer the API trusts (`auth_issuer`), as the client
//! `web_oidc_client_id`.
//!
//! `GET /sign-in/oidc` keeps a fresh `state`, `nonce` and PKCE verifier in
//! the visitor's session and sends them to the provider's authorisation
//! endpoint (from its discovery document). The provider sends them back to
//! `web_oidc_redirect_url` (`GET /sign-in/callback`), which takes the
//! pending sign-in out of the session (so a `state` or code works once),
//! exchanges the code at the token endpoint, checks the ID token by the
//! API's rules (issuer, signature by the API's keys, expiry) with this
//! client as its audience and the session's nonce, and checks the access
//! token exactly as the API will. The user is then whoever the access token
//! makes them for the API: a citizen (linked to their contact by the API)
//! or staff with roles; a token with no role signs no one in.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use crm_auth::policy::Principal;
use crm_auth_spin::VerifyError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use spin_sdk::http::{Method, Request, Response};
use subtle::ConstantTimeEq;
use web_pages::{Errors, SignInFailedPage, render};

use crate::session::{Audience, User, random_token};
use crate::visit::{Handled, Outcome, Visit, html, redirect};

/// Where the sign-in starts (the sign-in page's button).
pub const START_PATH: &str = "/sign-in/oidc";
/// How long a person may take at the provider before the sign-in lapses.
const PENDING_MS: i64 = 10 * 60 * 1000;
/// How long a fetched discovery document is used.
const DISCOVERY_TTL_MS: i64 = 5 * 60 * 1000;

mod var {
    pub const CLIENT_ID: &str = "web_oidc_client_id";
    pub const CLIENT_SECRET: &str = "web_oidc_client_secret";
    pub const REDIRECT_URL: &str = "web_oidc_redirect_url";
    pub const SCOPE: &str = "web_oidc_scope";
}

/// A sign-in begun here and not yet back from the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    state: String,
    nonce: String,
    /// The PKCE code verifier; the provider saw only its SHA-256.
    verifier: String,
    started_ms: i64,
}

/// Whether a client of the identity provider is configured.
pub fn configured() -> bool {
    crm_auth_spin::optional_variable(var::CLIENT_ID).is_some()
}

/// The identity provider's origin (`scheme://host[:port]` of `auth_issuer`)
/// when OpenID Connect sign-in is configured: the sign-out form's redirect
/// goes on to its end-session endpoint, so pages allow it as a form target.
pub fn provider_origin() -> Option<String> {
    if !configured() {
        return None;
    }
    origin(&crm_auth_spin::optional_variable(
        crm_auth_spin::var::ISSUER,
    )?)
}

/// `scheme://authority` of an http(s) URL, if it is plain enough to name in
/// a Content-Security-Policy.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
    ((scheme == "https" || scheme == "http")
        && !authority.is_empty()
        && authority.chars().all(plain))
    .then(|| format!("{scheme}://{authority}"))
}

/// Why a sign-in did not end in a session.
#[derive(Debug, thiserror::Error)]
enum SignInError {
    /// What came back cannot sign anyone in: a page says so.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The provider could not be used just now, or is configured wrongly.
    #[error("the identity provider: {0}")]
    Provider(String),
}

#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("no sign-in was started in this session, or it was already finished")]
    NotStarted,
    #[error("the state does not match the sign-in started in this session")]
    State,
    #[error("the sign-in took longer than {} minutes", PENDING_MS / 60_000)]
    Lapsed,
    #[error("the answer names issuer {0:?}")]
    Issuer(String),
    #[error("the provider answered {0}")]
    ProviderSaid(String),
    #[error("the answer carries no code")]
    NoCode,
    #[error("the token endpoint refused the code: {0}")]
    Code(String),
    #[error("the ID token: {0}")]
    IdToken(String),
    #[error("the access token: {0}")]
    AccessToken(String),
    #[error("the account has no role in this service")]
    NoRole,
}

impl From<Refusal> for SignInError {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

/// A token the API's rules refused is the answer's fault; keys that could
/// not be had or a broken configuration are not.
fn checked<T>(
    result: Result<T, VerifyError>,
    refusal: fn(String) -> Refusal,
) -> Result<T, SignInError> {
    result.map_err(|e| match e {
        VerifyError::Token(e) => refusal(e.to_string()).into(),
        VerifyError::Config(detail) | VerifyError::Unavailable(detail) => {
            SignInError::Provider(detail)
        }
    })
}

/// This component as a client of the identity provider.
struct Client {
    issuer: String,
    id: String,
    secret: Option<String>,
    redirect_url: String,
    scope: String,
}

impl Client {
    fn configured() -> Result<Self, Outcome> {
        let id = crm_auth_spin::optional_variable(var::CLIENT_ID).ok_or(Outcome::NotFound)?;
        let required = |name: &str| {
            crm_auth_spin::optional_variable(name)
                .ok_or_else(|| Outcome::Unavailable(format!("`{name}` is not set")))
        };
        let issuer = required(crm_auth_spin::var::ISSUER)?;
        let audience = required(crm_auth_spin::var::AUDIENCE)?;
        // An ID token is signed by the same issuer with the same keys: were
        // the client id the API's audience, ID tokens would pass as API tokens.
        if id == audience {
            return Err(Outcome::Unavailable(format!(
                "`{}` must differ from `{}`",
                var::CLIENT_ID,
                crm_auth_spin::var::AUDIENCE
            )));
        }
        Ok(Self {
            redirect_url: required(var::REDIRECT_URL)?,
            scope: crm_auth_spin::optional_variable(var::SCOPE).unwrap_or_else(|| "openid".into()),
            secret: crm_auth_spin::optional_variable(var::CLIENT_SECRET),
            issuer,
            id,
        })
    }

    /// The provider's discovery document, from the key-value cache while fresh.
    fn discovery(&self) -> Result<Discovery, SignInError> {
        let store = spin_sdk::key_value::Store::open_default()
            .map_err(|e| SignInError::Provider(format!("key-value store: {e}")))?;
        let cache_key = format!("web-oidc/discovery/{}", self.issuer);
        let now = crate::visit::now_ms();
        if let Ok(Some(bytes)) = store.get(&cache_key)
            && let Ok(cached) = serde_json::from_slice::<CachedDiscovery>(&bytes)
            && now - cached.fetched_ms < DISCOVERY_TTL_MS
            && cached.document.issuer == self.issuer
        {
            return Ok(cached.document);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let response = send(Request::get(&url).build())?;
        if *response.status() != 200 {
            return Err(SignInError::Provider(format!(
                "{url} answered {}",
                response.status()
            )));
        }
        let document: Discovery = serde_json::from_slice(response.body())
            .map_err(|e| SignInError::Provider(format!("{url}: {e}")))?;
        // OpenID Connect Discovery 1.0, 4.3: the document's issuer is the one asked.
        if document.issuer != self.issuer {
            return Err(SignInError::Provider(format!(
                "{url} names issuer {:?}",
                document.issuer
            )));
        }
        let cached = CachedDiscovery {
            fetched_ms: now,
            document,
        };
        // A cache write that fails only costs a fetch next time.
        let _ = store.set(
            &cache_key,
            &serde_json::to_vec(&cached).expect("JSON values serialise"),
        );
        Ok(cached.document)
    }

    fn authorization_url(&self, discovery: &Discovery, pending: &Pending) -> String {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.id)
            .append_pair("redirect_uri", &self.redirect_url)
            .append_pair("scope", &self.scope)
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        with_query(&discovery.authorization_endpoint, &query)
    }

    /// The callback's answer, checked and exchanged, as the user it signs in.
    fn finish(&self, visit: &Visit, pending: Option<Pending>) -> Result<User, SignInError> {
        let pending = pending.ok_or(Refusal::NotStarted)?;
        let given_state = visit.query("state").unwrap_or_default();
        if !bool::from(given_state.as_bytes().ct_eq(pending.state.as_bytes())) {
            return Err(Refusal::State.into());
        }
        if visit.now_ms() - pending.started_ms > PENDING_MS {
            return Err(Refusal::Lapsed.into());
        }
        // RFC 9207: an answer naming another issuer is a mix-up.
        if let Some(iss) = visit.query("iss")
            && iss != self.issuer
        {
            return Err(Refusal::Issuer(iss).into());
        }
        if let Some(error) = visit.query("error") {
            return Err(Refusal::ProviderSaid(error).into());
        }
        let code = visit.query("code").ok_or(Refusal::NoCode)?;
        let tokens = self.exchange(&self.discovery()?, &code, &pending.verifier)?;

        let api = checked(crm_auth_spin::expectations(), Refusal::IdToken)?;
        let id_rules = crm_auth::jwt::Expectations {
            audience: self.id.clone(),
            ..api.clone()
        };
        let id = checked(
            crm_auth_spin::verify(&tokens.id_token, &id_rules),
            Refusal::IdToken,
        )?;
        let claim = |name: &str| id.claims.get(name).and_then(Value::as_str);
        if !claim("nonce").is_some_and(|n| bool::from(n.as_bytes().ct_eq(pending.nonce.as_bytes())))
        {
            return Err(Refusal::IdToken("its nonce is not this sign-in's".into()).into());
        }
        if claim("azp").is_some_and(|azp| azp != self.id) {
            return Err(Refusal::IdToken("it was issued to another client (azp)".into()).into());
        }
        let access = checked(
            crm_auth_spin::verify(&tokens.access_token, &api),
            Refusal::AccessToken,
        )?;
        if access.subject != id.subject {
            return Err(Refusal::AccessToken("it is for another subject".into()).into());
        }
        // Who the API will take the token for; the API links a citizen to
        // their contact itself.
        let principal =
            crm_auth::principal_from_token(&access, &crm_auth_spin::roles_claim(), || None)
                .map_err(|e| Refusal::AccessToken(e.to_string()))?;
        let (audience, roles) = match &principal {
            Principal::Citizen { .. } => (Audience::Citizen, "citizen".to_string()),
            Principal::Staff { roles, .. } if !roles.is_empty() => (
                Audience::Staff,
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => return Err(Refusal::NoRole.into()),
        };
        let name = claim("name").unwrap_or(&id.subject);
        Ok(User {
            audience,
            label: format!("{roles} ({name})"),
            token: tokens.access_token,
            id_token: Some(tokens.id_token),
        })
    }

    /// The code, exchanged at the token endpoint with the PKCE verifier.
    fn exchange(
        &self,
        discovery: &Discovery,
        code: &str,
        verifier: &str,
    ) -> Result<Tokens, SignInError> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.redirect_url)
            .append_pair("code_verifier", verifier);
        let mut request = Request::builder();
        request
            .method(Method::Post)
            .uri(&discovery.token_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json");
        match &self.secret {
            // RFC 6749, 2.3.1: client_secret_basic, each part form-encoded.
            Some(secret) => {
                let pair = format!("{}:{}", form_encoded(&self.id), form_encoded(secret));
                request.header("authorization", format!("Basic {}", STANDARD.encode(pair)));
            }
            // A public client names itself; PKCE is its proof.
            None => {
                form.append_pair("client_id", &self.id);
            }
        }
        let response = send(request.body(form.finish().into_bytes()).build())?;
        let status = *response.status();
        let body: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        if status == 400 || status == 401 {
            let error = body["error"].as_str().unwrap_or("no error code");
            return Err(Refusal::Code(format!("{status} {error}")).into());
        }
        if status != 200 {
            return Err(SignInError::Provider(format!(
                "the token endpoint answered {status}"
            )));
        }
        let tokens: Tokens = serde_json::from_value(body)
            .map_err(|e| SignInError::Provider(format!("the token endpoint's answer: {e}")))?;
        if !tokens.token_type.eq_ignore_ascii_case("bearer") {
            return Err(SignInError::Provider(format!(
                "the token endpoint gave a {:?} token, not a bearer token",
                tokens.token_type
            )));
        }
        Ok(tokens)
    }

    /// Where sign-out sends the browser to end the provider's session too
    /// (RP-initiated logout), when the provider advertises an end-session
    /// endpoint at its own origin (the one pages allow as a form target).
    fn end_session_url(&self, id_token: &str) -> Result<Option<String>, SignInError> {
        let Some(endpoint) = self.discovery()?.end_session_endpoint else {
            return Ok(None);
        };
        if origin(&endpoint) != origin(&self.issuer) {
            return Ok(None);
        }
        let Some(back) = origin(&self.redirect_url) else {
            return Ok(None);
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", id_token)
            .append_pair("client_id", &self.id)
            .append_pair("post_logout_redirect_uri", &format!("{back}/"))
            .finish();
        Ok(Some(with_query(&endpoint, &query)))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    end_session_endpoint: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CachedDiscovery {
    fetched_ms: i64,
    document: Discovery,
}

#[derive(Deserialize)]
struct Tokens {
    id_token: String,
    access_token: String,
    token_type: String,
}

fn with_query(endpoint: &str, query: &str) -> String {
    let joint = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{joint}{query}")
}

fn form_encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn send(request: Request) -> Result<Response, SignInError> {
    spin_sdk::http::run(spin_sdk::http::send(request))
        .map_err(|e| SignInError::Provider(format!("could not be reached: {e}")))
}

/// `GET /sign-in/oidc`: on to the provider, the sign-in pending in the session.
pub fn start(visit: &mut Visit) -> Handled {
    let client = Client::configured()?;
    let discovery = client.discovery().map_err(unavailable)?;
    let pending = Pending {
        state: random_token(),
        nonce: random_token(),
        verifier: random_token(),
        started_ms: visit.now_ms(),
    };
    let url = client.authorization_url(&discovery, &pending);
    visit.session_mut().oidc = Some(pending);
    Ok(redirect(&url))
}

/// `GET /sign-in/callback`: the provider's answer; signs in, or says why not.
pub fn callback(visit: &mut Visit) -> Handled {
    let client = Client::configured()?;
    // Taken whatever happens next: a state and its code are good once.
    let pending = visit.session.as_mut().and_then(|s| s.oidc.take());
    match client.finish(visit, pending) {
        Ok(user) => {
            let home = match user.audience {
                Audience::Citizen => "/my-details",
                Audience::Staff => "/staff/",
            };
            visit.sign_in(user)?;
            Ok(redirect(home))
        }
        Err(SignInError::Refused(refusal)) => {
            eprintln!("web: an OpenID Connect sign-in was refused: {refusal}");
            let (status, heading, body) = match refusal {
                Refusal::ProviderSaid(_) => (
                    400,
                    "You were not signed in",
                    "The identity provider did not sign you in. You can try again.",
                ),
                Refusal::NoRole => (
                    403,
                    "Your account cannot use this service",
                    "Your account has no role here. Ask your administrator for access.",
                ),
                _ => (
                    400,
                    "Sign-in could not be completed",
                    "The answer from the identity provider was not for a sign-in started in this \
                     browser, was already used, or could not be trusted. No one has been signed in.",
                ),
            };
            let page = SignInFailedPage {
                chrome: visit.chrome(""),
                errors: Errors::default(),
                heading,
                body,
                again_href: "/sign-in",
            };
            Ok(html(status, &render(&page)))
        }
        Err(other) => Err(unavailable(other)),
    }
}

/// Where sign-out goes after ending the session here: the provider's
/// end-session endpoint for a user who signed in there, else `None`. A
/// provider that cannot be asked does not keep anyone signed in here.
pub fn end_session_url(visit: &Visit) -> Option<String> {
    let id_token = visit.session.as_ref()?.user.as_ref()?.id_token.as_deref()?;
    let client = Client::configured().ok()?;
    client
        .end_session_url(id_token)
        .map_err(|e| eprintln!("web: sign-out could not reach the provider: {e}"))
        .ok()
        .flatten()
}

fn unavailable(e: SignInError) -> Outcome {
    Outcome::Unavailable(e.to_string())
}
