//! Authentication and authorisation of a Spin request, with `crm-auth`'s
//! rules: reads the configuration from Spin variables, verifies the bearer
//! credential (JWT against a JWKS from a variable or a fetched, cached URL;
//! API key against its hashed row), and gives the handler a [`Ctx`] that
//! authorises each action and records it in the audit trail.

use crm_auth::api_key::{PresentedKey, StoredKey};
use crm_auth::fields::{RecordKind, hidden_fields};
use crm_auth::jwt::{self, Algorithm, Expectations, KeySet, TokenError};
use crm_auth::policy::{Action, Decision, Principal, Role, Target, may};
use crm_auth::purpose::{self, Purpose, PurposeError, PurposeList};
use crm_auth::{AuthError, Credential};
use crm_domain::Email;
use crm_http::{FieldError, Problem};
use spin_sdk::http::Request;
use spin_sdk::sqlite::Connection;

use std::cell::Cell;

use crate::audit::{AuditRecord, AuditSink, Outcome};
use crate::{Db, now_ms};

/// Variables every authenticating component declares in `spin.toml`.
mod var {
    pub const ISSUER: &str = "auth_issuer";
    pub const AUDIENCE: &str = "auth_audience";
    pub const JWKS: &str = "auth_jwks";
    pub const JWKS_URL: &str = "auth_jwks_url";
    pub const ALGORITHMS: &str = "auth_algorithms";
    pub const LEEWAY_SECS: &str = "auth_leeway_secs";
    pub const ROLES_CLAIM: &str = "auth_roles_claim";
    pub const PURPOSES: &str = "purposes_of_use";
}

/// How long a fetched JWKS is used before it is fetched again.
const JWKS_TTL_MS: i64 = 5 * 60 * 1000;
/// A token with an unknown `kid` refetches the JWKS at most this often.
const JWKS_REFRESH_MIN_MS: i64 = 30 * 1000;

fn variable(name: &str) -> Result<String, Problem> {
    spin_sdk::variables::get(name)
        .map_err(|e| Problem::internal(format!("configuration variable `{name}`: {e}")))
}

fn optional_variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The verified caller and what the request has been allowed so far; handed
/// to each handler.
pub struct Ctx<'a> {
    pub request_id: String,
    pub caller: Principal,
    /// The caller's email address: a token's OIDC `email` claim, when it
    /// is one (an API key has none).
    pub email: Option<Email>,
    db: &'a Db,
    sink: &'a dyn AuditSink,
    /// The request's path, for entries about the request as a whole.
    path: String,
    /// The purpose the request's header stated, checked.
    stated_purpose: Option<Purpose>,
    /// The purpose a read was allowed for.
    purpose: Option<Purpose>,
    acting_role: Option<Role>,
    /// The last allowed action, so a failure after it is recorded too.
    allowed: Option<(Action, String, Option<String>)>,
    /// Whether anything was recorded for this request yet.
    recorded: Cell<bool>,
}

impl<'a> Ctx<'a> {
    /// The request's database connection (opened and migrated on first use).
    pub fn db(&self) -> Result<&'a Connection, Problem> {
        self.db.get()
    }

    /// The role the caller acted in for the last allowed action.
    pub fn role(&self) -> &'static str {
        self.acting_role
            .map_or(self.caller.primary_role(), |r| r.as_str())
    }

    pub fn actor_id(&self) -> String {
        self.caller.actor_id()
    }

    /// The purpose of use stated (or implied) for this request.
    pub fn purpose(&self) -> Option<&Purpose> {
        self.purpose.as_ref().or(self.stated_purpose.as_ref())
    }

    /// The contact a citizen caller is linked to.
    pub fn own_contact(&self) -> Option<&str> {
        self.caller.own_contact()
    }

    /// Fields of a record about `target` the caller may not see.
    pub fn hidden_fields(&self, record: RecordKind, target: Target<'_>) -> Vec<&'static str> {
        hidden_fields(&self.caller, record, target)
    }

    /// Removes from `value` (a record about `target`, or a list of them) the
    /// fields the caller may not see.
    pub fn redact(&self, value: &mut serde_json::Value, record: RecordKind, target: Target<'_>) {
        crm_auth::fields::redact(value, &self.hidden_fields(record, target));
    }

    /// Whether the caller holds `action` on `target` (no audit, no error):
    /// for choosing what to show, never for allowing an action.
    pub fn holds(&self, action: Action, target: Target<'_>) -> bool {
        may(&self.caller, action, target).is_allowed()
    }

    /// Authorises `action` on `resource` (about `target`), checks the purpose
    /// of use when the action reads personal information, and records the
    /// decision. A refusal is a 403 problem, or a 404 when the caller may only
    /// act on their own record and this is not it (so they learn nothing
    /// about it).
    pub fn require(
        &mut self,
        action: Action,
        target: Target<'_>,
        resource: &str,
    ) -> Result<(), Problem> {
        let subject = match target {
            Target::Contact(id) => Some(id.to_string()),
            Target::General => None,
        };
        self.authorise(action, target, resource, subject)
    }

    /// As [`require`](Self::require) for creating the record of a new
    /// contact: authorised as a general action, recorded as about that
    /// contact so it appears in their access log and under their id.
    pub fn require_new_contact(
        &mut self,
        action: Action,
        contact_id: &str,
        resource: &str,
    ) -> Result<(), Problem> {
        self.authorise(
            action,
            Target::General,
            resource,
            Some(contact_id.to_string()),
        )
    }

    fn authorise(
        &mut self,
        action: Action,
        target: Target<'_>,
        resource: &str,
        subject: Option<String>,
    ) -> Result<(), Problem> {
        let role = match may(&self.caller, action, target) {
            Decision::Allowed(role) => role,
            Decision::Forbidden => {
                self.append(
                    action,
                    resource,
                    subject,
                    Outcome::Denied,
                    Some("forbidden"),
                )?;
                return Err(Problem::forbidden(format!(
                    "{} may not {}",
                    self.caller.primary_role(),
                    action.as_str()
                )));
            }
            Decision::NotOwnRecord => {
                self.append(
                    action,
                    resource,
                    subject,
                    Outcome::Denied,
                    Some("not-own-record"),
                )?;
                return Err(Problem::not_found(format!("no {resource}")));
            }
        };
        self.acting_role = Some(role);
        if reads_personal_information(action) {
            match self
                .purposes()?
                .for_read(&self.caller, self.stated_purpose.as_ref())
            {
                Ok(purpose) => self.purpose = Some(purpose),
                Err(e) => {
                    self.append(
                        action,
                        resource,
                        subject,
                        Outcome::Denied,
                        Some("purpose-of-use"),
                    )?;
                    return Err(purpose_problem(&e));
                }
            }
        }
        self.append(action, resource, subject.clone(), Outcome::Allowed, None)?;
        self.allowed = Some((action, resource.to_string(), subject));
        Ok(())
    }

    /// Records one more entry for this request (for example each record an
    /// export or a search returned).
    pub fn record(
        &self,
        action: Action,
        resource: &str,
        subject: Option<&str>,
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Result<(), Problem> {
        self.append(
            action,
            resource,
            subject.map(str::to_string),
            outcome,
            detail,
        )
    }

    /// Records one entry per disclosed record, in one write: `(resource,
    /// subject contact)` pairs, all with `action`, `outcome` and `detail`.
    pub fn record_many(
        &self,
        action: Action,
        records: &[(String, Option<String>)],
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Result<(), Problem> {
        let actor_id = self.caller.actor_id();
        let entries = self.records(&actor_id, action, records, outcome, detail);
        if entries.is_empty() {
            return Ok(());
        }
        self.sink
            .append_many(&entries)
            .map_err(|e| Problem::unavailable(format!("the audit trail cannot be written: {e}")))?;
        self.recorded.set(true);
        Ok(())
    }

    /// As [`record_many`](Self::record_many), but `append` writes the
    /// entries inside the caller's open write transaction, so they commit
    /// with its writes or not at all (the audit trail's own component
    /// writes on a connection of its own, so it could record them only
    /// before or after the transaction).
    pub fn record_many_in_transaction(
        &self,
        append: impl FnOnce(&[AuditRecord<'_>]) -> Result<(), Problem>,
        action: Action,
        records: &[(String, Option<String>)],
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Result<(), Problem> {
        let actor_id = self.caller.actor_id();
        let entries = self.records(&actor_id, action, records, outcome, detail);
        append(&entries)?;
        // Kept only if the caller's transaction commits; should it not, its
        // problem is recorded as the request's outcome.
        self.recorded.set(!entries.is_empty());
        Ok(())
    }

    /// Records an entry about the request as a whole ([`REQUEST_ACTION`] on
    /// its path), for a refusal before it reached an action of the matrix.
    pub(crate) fn record_request(&self, outcome: Outcome, detail: &str) -> Result<(), Problem> {
        let path = self.path.clone();
        self.sink
            .append(&AuditRecord {
                request_id: &self.request_id,
                actor_id: &self.caller.actor_id(),
                role: self.role(),
                purpose: None,
                action: REQUEST_ACTION,
                resource: &path,
                subject_contact: None,
                outcome,
                detail: Some(detail),
            })
            .map_err(|e| Problem::unavailable(format!("the audit trail cannot be written: {e}")))?;
        self.recorded.set(true);
        Ok(())
    }

    fn records<'r>(
        &'r self,
        actor_id: &'r str,
        action: Action,
        records: &'r [(String, Option<String>)],
        outcome: Outcome,
        detail: Option<&'r str>,
    ) -> Vec<AuditRecord<'r>> {
        records
            .iter()
            .map(|(resource, subject)| AuditRecord {
                request_id: &self.request_id,
                actor_id,
                role: self.role(),
                purpose: self.purpose(),
                action: action.as_str(),
                resource,
                subject_contact: subject.as_deref(),
                outcome,
                detail,
            })
            .collect()
    }

    fn append(
        &self,
        action: Action,
        resource: &str,
        subject: Option<String>,
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Result<(), Problem> {
        let record = AuditRecord {
            request_id: &self.request_id,
            actor_id: &self.caller.actor_id(),
            role: self.role(),
            purpose: self.purpose(),
            action: action.as_str(),
            resource,
            subject_contact: subject.as_deref(),
            outcome,
            detail,
        };
        // Fail closed: nothing is read or written that the trail does not hold.
        self.sink
            .append(&record)
            .map_err(|e| Problem::unavailable(format!("the audit trail cannot be written: {e}")))?;
        self.recorded.set(true);
        Ok(())
    }

    fn purposes(&self) -> Result<PurposeList, Problem> {
        purposes()
    }

    /// The handler has recorded how its allowed action ended (a denial on
    /// grounds the matrix does not know, say no consent): the problem it
    /// answers with adds no `failed` entry after that.
    pub fn outcome_recorded(&mut self) {
        self.allowed = None;
    }

    /// Called by `serve` when the request failed: after an allowed action,
    /// a `failed` entry for it (a refusal the handler made on finer grounds
    /// than the matrix, a 403, is a denial, so an auditor looking for
    /// denials finds it); before anything was recorded (a problem before
    /// any action, a method or path with no operation), a [`REQUEST_ACTION`]
    /// entry, `denied` for the caller's fault and `failed` for ours. Either
    /// names the problem type.
    pub(crate) fn record_failure(&self, problem: &Problem) {
        let kind = problem.kind.trim_start_matches(crm_http::PROBLEM_BASE);
        if let Some((action, resource, subject)) = &self.allowed {
            let outcome = if problem.status == 403 {
                Outcome::Denied
            } else {
                Outcome::Failed
            };
            let _ = self.append(*action, resource, subject.clone(), outcome, Some(kind));
        } else if !self.recorded.get() {
            let outcome = if problem.status >= 500 {
                Outcome::Failed
            } else {
                Outcome::Denied
            };
            let _ = self.record_request(outcome, kind);
        }
    }
}

/// Actions whose success discloses personal information: they need a
/// purpose of use.
fn reads_personal_information(action: Action) -> bool {
    use Action::*;
    matches!(
        action,
        ContactRead
            | ContactReadIdentifiers
            | ContactSearch
            | ContactExport
            | ConsentRead
            | SuppressionRead
            | InteractionRead
            | LegalHoldRead
            | NotificationRead
            | InboxRead
            | AuditRead
            | AuditReadOwn
            | CaseRead
    )
}

fn purposes() -> Result<PurposeList, Problem> {
    Ok(PurposeList::parse(&variable(var::PURPOSES)?))
}

/// The 400 for a purpose of use that is missing or not listed.
fn purpose_problem(error: &PurposeError) -> Problem {
    Problem::validation(vec![FieldError::new(purpose::HEADER, error.to_string())])
        .with_kind("purpose-of-use", "Purpose of use required")
}

/// The action of an entry about a request as a whole, refused before it
/// reached an action of the matrix.
pub const REQUEST_ACTION: &str = "request";

/// Authenticates `req` and checks the purpose of use it states; on failure
/// records the attempt and answers 401 (or 400 for a purpose that is not
/// listed, which is recorded without it).
pub fn authenticate<'a>(
    req: &Request,
    request_id: String,
    db: &'a Db,
    sink: &'a dyn AuditSink,
) -> Result<Ctx<'a>, Problem> {
    let header = req.header("authorization").and_then(|v| v.as_str());
    match principal(header, db) {
        Ok((caller, email)) => {
            let header = req.header(purpose::HEADER).map(|v| {
                v.as_str().map_or_else(
                    || String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    str::to_string,
                )
            });
            let stated = match header.as_deref() {
                None => Ok(None),
                Some(given) => purposes()?.stated(&caller, Some(given)),
            };
            let mut ctx = Ctx {
                request_id,
                caller,
                email,
                db,
                sink,
                path: req.path().to_string(),
                stated_purpose: None,
                purpose: None,
                acting_role: None,
                allowed: None,
                recorded: Cell::new(false),
            };
            match stated {
                Ok(stated) => ctx.stated_purpose = stated,
                Err(e) => {
                    ctx.record_request(Outcome::Denied, "purpose-of-use")?;
                    return Err(purpose_problem(&e));
                }
            }
            Ok(ctx)
        }
        Err(Failure::Config(problem)) => Err(problem),
        Err(Failure::Auth(error)) => {
            let record = AuditRecord {
                request_id: &request_id,
                actor_id: "anonymous",
                role: "none",
                purpose: None,
                action: "authenticate",
                resource: req.path(),
                subject_contact: None,
                outcome: Outcome::Denied,
                detail: Some(&error.to_string()),
            };
            sink.append(&record).map_err(|e| {
                Problem::unavailable(format!("the audit trail cannot be written: {e}"))
            })?;
            Err(unauthorized(&error))
        }
    }
}

/// A 401 with the RFC 6750 challenge.
pub fn unauthorized(error: &AuthError) -> Problem {
    let mut challenge = String::from("Bearer realm=\"crm\"");
    if let Some(code) = error.bearer_error() {
        let description = error.to_string().replace(['"', '\\'], "'");
        challenge.push_str(&format!(
            ", error=\"{code}\", error_description=\"{description}\""
        ));
    }
    Problem::unauthorized(error.to_string()).with_header("www-authenticate", challenge)
}

enum Failure {
    /// The caller's fault: 401.
    Auth(AuthError),
    /// Ours (configuration, storage): a 5xx problem.
    Config(Problem),
}

impl From<AuthError> for Failure {
    fn from(e: AuthError) -> Self {
        Self::Auth(e)
    }
}

impl From<TokenError> for Failure {
    fn from(e: TokenError) -> Self {
        Self::Auth(e.into())
    }
}

impl From<Problem> for Failure {
    fn from(p: Problem) -> Self {
        Self::Config(p)
    }
}

/// The caller, and their email address if their credential names one.
fn principal(header: Option<&str>, db: &Db) -> Result<(Principal, Option<Email>), Failure> {
    match crm_auth::parse_authorization(header)? {
        Credential::ApiKey(presented) => {
            let stored = stored_key(db.get()?, &presented)?;
            Ok((
                crm_auth::principal_from_key(&presented, stored, now_ms())?,
                None,
            ))
        }
        Credential::Jwt(token) => {
            let expect = expectations()?;
            let verified = verify_token_cached(token, &expect, db.get()?)?;
            let roles_claim = optional_variable(var::ROLES_CLAIM).unwrap_or("roles".into());
            let mut link_error = None;
            let principal = crm_auth::principal_from_token(&verified, &roles_claim, || {
                citizen_link(db, &verified.issuer, &verified.subject)
                    .map_err(|p| link_error = Some(p))
                    .ok()
                    .flatten()
            })?;
            let email = verified
                .claims
                .get("email")
                .and_then(|v| v.as_str())
                .and_then(|raw| Email::parse(raw).ok());
            match link_error {
                Some(problem) => Err(problem.into()),
                None => Ok((principal, email)),
            }
        }
    }
}

fn expectations() -> Result<Expectations, Problem> {
    let algorithms = optional_variable(var::ALGORITHMS).unwrap_or("RS256,ES256".into());
    let algorithms = algorithms
        .split(',')
        .map(|a| {
            Algorithm::parse(a.trim()).ok_or_else(|| {
                Problem::internal(format!(
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
                Problem::internal(format!("`{}` must be 0 to 300 seconds", var::LEEWAY_SECS))
            })?,
    };
    Ok(Expectations {
        issuer: variable(var::ISSUER)?,
        audience: variable(var::AUDIENCE)?,
        algorithms,
        leeway_secs,
    })
}

/// How long a verified token is trusted without checking its signature again.
const TOKEN_CACHE_MS: i64 = 5 * 60 * 1000;

/// Verifies a token, or takes an unexpired earlier verification of it under
/// the same configuration and keys from `auth_token_cache`.
fn verify_token_cached(
    token: &str,
    expect: &Expectations,
    db: &Connection,
) -> Result<jwt::VerifiedToken, Failure> {
    let now = now_ms();
    let key_source = match optional_variable(var::JWKS_URL) {
        Some(url) => format!("url:{url}"),
        None => format!("jwks:{}", variable(var::JWKS)?),
    };
    let digest = jwt::cache_digest(&expect.fingerprint(&key_source), token);
    if let Some(verified) = crm_auth_store::cached_token(db, &digest, now)
        .map_err(db_problem)?
        .and_then(|json| serde_json::from_str(&json).ok())
    {
        return Ok(verified);
    }
    let verified = verify_token(token, expect)?;
    let cache_until = (verified.expires_at.saturating_mul(1000)).min(now + TOKEN_CACHE_MS);
    if let Ok(json) = serde_json::to_string(&verified) {
        // Best effort: a failed cache write costs a verification next time.
        let _ = crm_auth_store::cache_token(db, &digest, &json, cache_until, now);
    }
    Ok(verified)
}

fn verify_token(token: &str, expect: &Expectations) -> Result<jwt::VerifiedToken, Failure> {
    let now_secs = now_ms() / 1000;
    let Some(url) = optional_variable(var::JWKS_URL) else {
        let keys = KeySet::from_jwks(&variable(var::JWKS)?)
            .map_err(|e| Problem::internal(format!("`{}`: {e}", var::JWKS)))?;
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
fn fetched_jwks(url: &str, refresh: bool) -> Result<(KeySet, i64), Problem> {
    let store = spin_sdk::key_value::Store::open_default()
        .map_err(|e| Problem::internal(format!("key-value store: {e}")))?;
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
        .map_err(|e| Problem::unavailable(format!("fetching the JWKS from {url}: {e}")))?;
    if *response.status() != 200 {
        return Err(Problem::unavailable(format!(
            "the JWKS at {url} answered {}",
            response.status()
        )));
    }
    let body = std::str::from_utf8(response.body())
        .map_err(|_| Problem::unavailable(format!("the JWKS at {url} is not UTF-8")))?;
    let keys = KeySet::from_jwks(body)
        .map_err(|e| Problem::unavailable(format!("the JWKS at {url}: {e}")))?;
    // A cache write that fails only costs a fetch next time.
    let _ = store.set(&cache_key, format!("{now}\n{body}").as_bytes());
    Ok((keys, now))
}

fn stored_key(db: &Connection, presented: &PresentedKey) -> Result<Option<StoredKey>, Problem> {
    crm_auth_store::stored_key(db, &presented.key_id).map_err(db_problem)
}

fn citizen_link(db: &Db, issuer: &str, subject: &str) -> Result<Option<String>, Problem> {
    crm_auth_store::citizen_link(db.get()?, issuer, subject).map_err(db_problem)
}

/// A failed statement (logged with its words by the store) as the caller sees it.
fn db_problem(_: crm_sql::SqlError) -> Problem {
    Problem::internal("a database statement failed (the details are in the log)")
}
