//! Glue every CRM component shares on Spin: the migrated database, routing by
//! the `crm-http` tables, authentication and audit ([`auth`], [`audit`]),
//! and JSON / problem+json responses. Handlers stay thin; rules live in the
//! plain crates under `crates/`.

pub mod audit;
pub mod auth;
pub mod wit;

pub use audit::Outcome;
pub use auth::Ctx;
pub use crm_auth::fields::RecordKind;
pub use crm_auth::policy::{Action, Target};
pub use crm_auth::purpose::Purpose;

use std::cell::OnceCell;

use crm_http::routes::{Matched, Route, match_route};
use crm_http::{IDEMPOTENCY_KEY_HEADER, IdempotencyKey, Problem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::{Connection, Value};

pub use crm_http::FieldError;

/// The default database, brought up to the current schema.
pub fn open_db() -> Result<Connection, Problem> {
    let db = Connection::open_default()
        .map_err(|e| Problem::internal(format!("opening the database: {e}")))?;
    crm_migrations::migrate(&db).map_err(|e| Problem::internal(e.to_string()))?;
    Ok(db)
}

/// Runs `op` on `db` without checking the schema first and, if it fails in
/// a way `may_need_schema` accepts, once more on a freshly migrated
/// connection. For leaves: the component calling one has almost always
/// migrated already, so this saves a statement on every call. Answers the
/// connection to keep using, and what `op` answered.
pub fn migrating_on_failure<T, E>(
    db: Connection,
    may_need_schema: impl Fn(&E) -> bool,
    op: impl Fn(&Connection) -> Result<T, E>,
) -> Result<(Connection, Result<T, E>), Problem> {
    match op(&db) {
        Err(e) if may_need_schema(&e) => {
            let migrated = open_db()?;
            let answer = op(&migrated);
            Ok((migrated, answer))
        }
        answer => Ok((db, answer)),
    }
}

/// The request's database connection, opened and migrated on first use.
#[derive(Default)]
pub struct Db(OnceCell<Connection>);

impl Db {
    pub fn get(&self) -> Result<&Connection, Problem> {
        if let Some(db) = self.0.get() {
            return Ok(db);
        }
        let db = open_db()?;
        Ok(self.0.get_or_init(|| db))
    }
}

/// Runs a statement, turning a database error into a 500 problem. SQLite's
/// words name tables and columns, so they go to the log, not the caller.
pub fn query(
    db: &Connection,
    sql: &str,
    params: &[Value],
) -> Result<spin_sdk::sqlite::QueryResult, Problem> {
    db.execute(sql, params).map_err(|e| {
        let statement = crm_sql::one_line(sql);
        eprintln!("database statement failed: {e}; statement: {statement}");
        Problem::internal("a database statement failed (the details are in the log)")
    })
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction ([`crm_sql::transaction`]):
/// all of it is written or none. A problem from `f` rolls it back and is
/// answered as it is; the database failing to begin or commit is logged and
/// answered as any failed statement.
pub fn transaction<C: crm_sql::Sql, T>(
    db: &C,
    f: impl FnOnce(&C) -> Result<T, Problem>,
) -> Result<T, Problem> {
    /// `f`'s own problem, or the database's.
    enum Failed {
        Database(crm_sql::SqlError),
        Other(Problem),
    }
    impl From<crm_sql::SqlError> for Failed {
        fn from(e: crm_sql::SqlError) -> Self {
            Self::Database(e)
        }
    }
    crm_sql::transaction(db, || f(db).map_err(Failed::Other)).map_err(|failed| match failed {
        Failed::Database(e) => {
            eprintln!("database transaction failed: {e}");
            Problem::internal("a database statement failed (the details are in the log)")
        }
        Failed::Other(problem) => problem,
    })
}

/// An operation id, the path parameters it was matched with, and whether it
/// is public.
pub type Operation = (&'static str, Vec<(&'static str, String)>, bool);

/// The operation a request names in `table`, or the 404/405 problem (a 405
/// with its `allow` header).
pub fn route(table: &[Route], req: &Request) -> Result<Operation, Problem> {
    let method = req.method().to_string();
    match match_route(table, &method, req.path()) {
        Matched::Operation {
            operation_id,
            params,
            public,
        } => Ok((operation_id, params, public)),
        Matched::MethodNotAllowed { allow } => Err(Problem::method_not_allowed(format!(
            "{method} is not allowed on {}",
            req.path()
        ))
        .with_header("allow", allow.join(", "))),
        Matched::NotFound => Err(Problem::not_found(format!(
            "no operation at {}",
            req.path()
        ))),
    }
}

/// Routes `req` by `table`, authenticates the caller and runs `handler`
/// with a [`Ctx`], the operation id and its path parameters; a problem
/// becomes a problem+json response (and, after an allowed action, a
/// `failed` audit entry; before any entry, a `request` entry, as for a
/// method or path no operation has).
pub fn serve(
    table: &[Route],
    req: &Request,
    sink: &dyn audit::AuditSink,
    handler: impl FnOnce(
        &mut Ctx<'_>,
        &'static str,
        &[(&'static str, String)],
    ) -> Result<Response, Problem>,
) -> Response {
    serve_with_public(
        table,
        req,
        sink,
        |operation, _, _| Err(Problem::not_found(operation)),
        handler,
    )
}

/// As [`serve`], for a table that also has public operations (signed links,
/// routes with their own credentials): those go to `public` with the
/// request id and no authenticated caller.
pub fn serve_with_public(
    table: &[Route],
    req: &Request,
    sink: &dyn audit::AuditSink,
    public: impl FnOnce(&'static str, &[(&'static str, String)], &str) -> Result<Response, Problem>,
    handler: impl FnOnce(
        &mut Ctx<'_>,
        &'static str,
        &[(&'static str, String)],
    ) -> Result<Response, Problem>,
) -> Response {
    let request_id = request_id(req);
    let db = Db::default();
    let response = match route(table, req) {
        Ok((operation, params, true)) => {
            public(operation, &params, &request_id).unwrap_or_else(|p| problem(&p))
        }
        Ok((operation, params, false)) => {
            match auth::authenticate(req, request_id.clone(), &db, sink) {
                Err(p) => problem(&p),
                Ok(mut ctx) => handler(&mut ctx, operation, &params).unwrap_or_else(|p| {
                    ctx.record_failure(&p);
                    problem(&p)
                }),
            }
        }
        // No operation: still an attempt, recorded once the caller is known
        // (an unknown caller is recorded as refused authentication).
        Err(missed) => match auth::authenticate(req, request_id.clone(), &db, sink) {
            Err(p) => problem(&p),
            Ok(ctx) => {
                ctx.record_failure(&missed);
                problem(&missed)
            }
        },
    };
    with_request_id(response, &request_id)
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    response.set_header("x-request-id", request_id);
    response
}

/// The request's JSON body as `T`: a 415 problem unless it is labelled
/// JSON, a 400 naming the path of a value of the wrong shape.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    Ok(crm_http::json::parse_body(content_type(req), req.body())?)
}

/// The request's `content-type`, if it sent one.
pub fn content_type(req: &Request) -> Option<&str> {
    req.header("content-type").and_then(|v| v.as_str())
}

/// The request's `Idempotency-Key`, if it sent one: scoped to the caller
/// and `operation`, fingerprinting the method, path, query and body. A key
/// that is not 1 to 255 printable ASCII characters is a 400 naming it.
pub fn idempotency_key(
    ctx: &Ctx,
    req: &Request,
    operation: &str,
) -> Result<Option<IdempotencyKey>, Problem> {
    let Some(key) = req.header(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let actor = ctx.actor_id();
    let method = req.method().to_string();
    IdempotencyKey::new(
        key.as_str().unwrap_or_default(),
        &[actor.as_bytes(), operation.as_bytes()],
        &[
            method.as_bytes(),
            req.path().as_bytes(),
            req.query().as_bytes(),
            req.body(),
        ],
    )
    .map(Some)
    .map_err(|e| Problem::validation(vec![FieldError::new("Idempotency-Key", e.to_string())]))
}

/// `If-Match` against the current version of `resource` (`contact/…`),
/// whose ETag is `"v<version>"`: a 428 when `required` and absent, a 412
/// (with the current ETag) when it names another version.
pub fn check_if_match(
    req: &Request,
    resource: &str,
    version: i64,
    required: bool,
) -> Result<(), Problem> {
    let current = version_etag(version);
    let Some(given) = req.header("if-match").and_then(|v| v.as_str()) else {
        if required {
            return Err(Problem::validation(vec![FieldError::new(
                "If-Match",
                format!("is required: send the ETag of the version you are changing ({current})"),
            )])
            .with_kind("if-match-required", "Precondition required")
            .with_status(428));
        }
        return Ok(());
    };
    if given
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current)
    {
        Ok(())
    } else {
        Err(Problem::precondition_failed(format!(
            "{resource} is at version {version} ({current}), not {given}; read it again and reapply the change"
        ))
        .with_extension("current_etag", serde_json::json!(current)))
    }
}

/// The ETag of a record's version.
pub fn version_etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// A query-string parameter, percent-decoded.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    form_pairs(req.query()).find_map(|(k, v)| (k == name).then_some(v))
}

/// Every query-string parameter, percent-decoded, in order.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    form_pairs(req.query()).collect()
}

/// A field of an `application/x-www-form-urlencoded` body (an HTML form's
/// post), percent-decoded.
pub fn form_param(body: &[u8], name: &str) -> Option<String> {
    form_pairs(std::str::from_utf8(body).ok()?).find_map(|(k, v)| (k == name).then_some(v))
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("responses serialise"))
        .build()
}

pub fn created<T: Serialize>(location: &str, body: &T) -> Response {
    let mut response = json(201, body);
    response.set_header("location", location);
    response
}

pub fn problem(problem: &Problem) -> Response {
    let mut response = Response::builder()
        .status(problem.status)
        .header("content-type", "application/problem+json")
        .body(problem.to_json())
        .build();
    for (name, value) in &problem.headers {
        response.set_header(name, value);
    }
    response
}

/// A new opaque id such as `con_5f0c…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The caller's `x-request-id` when it is a plausible correlation id (1 to
/// 64 of `A-Z a-z 0-9 . _ : -`), else a new one: the id is stored in audit
/// entries, so a caller may not stuff them with arbitrary text.
pub fn request_id(req: &Request) -> String {
    req.header("x-request-id")
        .and_then(|v| v.as_str())
        .filter(|id| is_correlation_id(id))
        .map(str::to_string)
        .unwrap_or_else(|| new_id("req"))
}

fn is_correlation_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}
