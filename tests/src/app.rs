//! An app on a host of its own, with its state in a fresh directory, and what
//! the tests of the application's capabilities share: its problems, callers
//! in its roles, and a contact to work on.

use std::path::{Path, PathBuf};

use crate::auth::token;
use crate::{AppDir, Caller, Host, Reply, Value, cache_args, json, workspace};

/// A running host, its state directory, and (for a manifest a test wrote)
/// the directory of that manifest.
pub struct App {
    pub host: Host,
    pub state: tempfile::TempDir,
    pub dir: Option<AppDir>,
}

impl App {
    /// The application's own `spin.toml` on a host that lives for the rest
    /// of the test binary, shared by the tests that use it.
    pub fn shared(args: &[&str]) -> Self {
        Self::launch(None, args, true)
    }

    /// The application's own `spin.toml` on a host for one test.
    pub fn start(args: &[&str]) -> Self {
        Self::launch(None, args, false)
    }

    /// `dir`'s manifest on a host for the rest of the test binary.
    pub fn shared_in(dir: AppDir, args: &[&str]) -> Self {
        Self::launch(Some(dir), args, true)
    }

    /// `dir`'s manifest on a host for one test.
    pub fn start_in(dir: AppDir, args: &[&str]) -> Self {
        Self::launch(Some(dir), args, false)
    }

    /// Every host gets the run's shared compiled-code cache and its own
    /// state directory, then `args`.
    fn launch(dir: Option<AppDir>, args: &[&str], shared: bool) -> Self {
        let state = tempfile::tempdir().expect("state dir");
        let state_dir = state.path().to_str().expect("utf-8 path");
        let mut all = vec!["--state-dir", state_dir];
        all.extend(args);
        let all = cache_args(&all);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let manifest = dir
            .as_ref()
            .map_or_else(|| workspace().join("spin.toml"), AppDir::manifest);
        let host = if shared {
            Host::start_shared(&manifest, &all)
        } else {
            Host::start(&manifest, &all, &[])
        };
        Self { host, state, dir }
    }

    /// The directory of the manifest the host serves.
    pub fn manifest_dir(&self) -> PathBuf {
        self.dir
            .as_ref()
            .map_or_else(workspace, |dir| dir.path().to_path_buf())
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// The app's default SQLite database.
    pub fn db_path(&self) -> PathBuf {
        self.state_dir().join("sqlite_db.db")
    }

    /// A connection to the app's database that waits for the app's writers.
    pub fn db(&self) -> rusqlite::Connection {
        let db = rusqlite::Connection::open(self.db_path()).expect("open the app database");
        db.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        db
    }

    /// The audit entries whose `column` (`request_id`, `resource`) is
    /// `value`, in sequence order: `columns` (a select list) read by `row`.
    pub fn audit_entries<T>(
        &self,
        columns: &str,
        column: &str,
        value: &str,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Vec<T> {
        let db = self.db();
        let mut statement = db
            .prepare(&format!(
                "SELECT {columns} FROM audit_entries WHERE {column} = ?1 ORDER BY sequence"
            ))
            .expect("an audit query");
        statement
            .query_map([value], row)
            .expect("audit entries")
            .map(|entry| entry.expect("an audit entry"))
            .collect()
    }
}

/// Asserts an application problem+json reply of `status` and `kind`
/// (`https://crm.gov.au/problems/<kind>`), returning its body.
pub fn assert_problem(reply: &Reply, status: u16, kind: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{}",
        reply.body
    );
    let body = reply.json();
    assert_eq!(
        body["type"],
        format!("https://crm.gov.au/problems/{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    body
}

/// The fields a validation problem names, in order.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_string())
        .collect()
}

/// The request id every answer carries.
pub fn request_id(reply: &Reply) -> String {
    reply
        .header("x-request-id")
        .expect("every answer carries x-request-id")
        .to_string()
}

/// An intake officer `id` who also works cases, for case management.
pub fn officer<'a>(host: &'a Host, id: &str) -> Caller<'a> {
    host.as_caller(&token(id, &["intake-officer", "case-worker"]))
        .purpose("case-management")
}

/// A communications officer `id`, for communications.
pub fn comms<'a>(host: &'a Host, id: &str) -> Caller<'a> {
    host.as_caller(&token(id, &["communications-officer"]))
        .purpose("communications")
}

/// An administrator `id`.
pub fn admin<'a>(host: &'a Host, id: &str) -> Caller<'a> {
    host.as_caller(&token(id, &["administrator"]))
}

/// A new individual named `name`, taken in by `intake-1`; returns its id.
pub fn new_contact(host: &Host, name: &str) -> String {
    let reply = host
        .as_caller(&token("intake-1", &["intake-officer"]))
        .post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": name}),
        );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().expect("id").to_string()
}
