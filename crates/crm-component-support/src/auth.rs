//! Authentication and authorisation of a Spin request, with `crm-auth`'s
//! rules: reads the configuration from Spin variables, verifies the bearer
//! credential (JWT against a JWKS from a variable or a fetched, cached URL;
//! API key against its hashed row), and gives the handler a [`Ctx`] that
//! authorises each action and records it in the audit trail.

use crm_auth::api_key::{PresentedKey, StoredKey};
use crm_auth::fields::{RecordKind, hidden_fields};
use crm_auth::jwt::{self, Expectations};
use crm_auth::policy::{Action, Decision, Principal, Role, Target, may};
use crm_auth::purpose::{self, Purpose, PurposeError, PurposeList};
use crm_auth::{AuthError, Credential};
use crm_auth_spin::VerifyError;
use crm_domain::Email;
use crm_http::{FieldError, Problem};
use spin_sdk::http::Request;
use spin_sdk::sqlite::Connection;

use std::cell::Cell;

use crate::audit::{AuditRecord, AuditSink, Outcome};
use crate::{Db, now_ms};

/// The purposes a read may state (the `auth_*` variables are
/// `crm-auth-spin`'s).
const PURPOSES_VAR: &str = "purposes_of_use";

fn variable(name: &str) -> Result<String, Problem> {
    crm_auth_spin::variable(name).map_err(|e| Problem::internal(e.to_string()))
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
    Ok(PurposeList::parse(&variable(PURPOSES_VAR)?))
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

impl From<VerifyError> for Failure {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Token(e) => Self::Auth(e.into()),
            VerifyError::Config(detail) => Self::Config(Problem::internal(detail)),
            VerifyError::Unavailable(detail) => Self::Config(Problem::unavailable(detail)),
        }
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
            let roles_claim = crm_auth_spin::roles_claim();
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
    crm_auth_spin::expectations().map_err(|e| Problem::internal(e.to_string()))
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
    let key_source = crm_auth_spin::key_source().map_err(Failure::from)?;
    let digest = jwt::cache_digest(&expect.fingerprint(&key_source), token);
    if let Some(verified) = crm_auth_store::cached_token(db, &digest, now)
        .map_err(db_problem)?
        .and_then(|json| serde_json::from_str(&json).ok())
    {
        return Ok(verified);
    }
    let verified = crm_auth_spin::verify(token, expect)?;
    let cache_until = (verified.expires_at.saturating_mul(1000)).min(now + TOKEN_CACHE_MS);
    if let Ok(json) = serde_json::to_string(&verified) {
        // Best effort: a failed cache write costs a verification next time.
        let _ = crm_auth_store::cache_token(db, &digest, &json, cache_until, now);
    }
    Ok(verified)
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
