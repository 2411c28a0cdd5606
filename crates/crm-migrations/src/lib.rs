//! The schema migrations in `migrations/`, compiled into every component that
//! uses the database, and applied exactly once, in order, in one
//! `BEGIN IMMEDIATE` transaction, so racing first requests serialise and the
//! schema reaches the database on unmodified Spin with no extra flags.
//!
//! `build.rs` splits each file into its statements (`statements.rs`: `;`
//! outside quotes and comments ends one; a `CREATE TRIGGER` runs to its
//! `END;`) and drops comments and runs of spaces, so a component carries
//! only the SQL it runs (every component that opens the database holds
//! these), and one statement goes to each `execute`, as libSQL needs.

use crm_sql::{Sql, Value};
use thiserror::Error;

/// One migration: its number, name and statements.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

/// Every file in `migrations/`, in order (listed by `build.rs`).
pub const MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Runs one statement, discarding any rows.
fn execute(db: &impl Sql, sql: &str) -> Result<(), String> {
    db.run(sql, &[]).map(drop).map_err(|e| e.0)
}

/// Runs a query whose first row's first column is an integer (or NULL).
fn query_i64(db: &impl Sql, sql: &str) -> Result<Option<i64>, String> {
    let rows = db.run(sql, &[]).map_err(|e| e.0)?;
    Ok(match rows.first().and_then(|row| row.first()) {
        Some(Value::Integer(n)) => Some(*n),
        _ => None,
    })
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MigrationError {
    #[error("migration {version} ({name}) failed: {message}")]
    Failed {
        version: i64,
        name: &'static str,
        message: String,
    },
    #[error("database stayed locked while migrating: {0}")]
    Locked(String),
    #[error("migration bookkeeping failed: {0}")]
    Database(String),
}

/// The newest version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the schema up to date; returns how many migrations it applied.
/// When the schema is current it costs one query.
pub fn migrate(db: &impl Sql) -> Result<usize, MigrationError> {
    if applied_count(db) == MIGRATIONS.len() as i64 {
        return Ok(0);
    }
    let mut attempt = 0;
    loop {
        match execute(db, "BEGIN IMMEDIATE") {
            Ok(()) => break,
            Err(e) if is_busy(&e) && attempt < 100 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) if is_busy(&e) => return Err(MigrationError::Locked(e)),
            Err(e) => return Err(MigrationError::Database(e)),
        }
    }
    match apply_pending(db) {
        Ok(applied) => execute(db, "COMMIT")
            .map(|()| applied)
            .map_err(MigrationError::Database),
        Err(e) => {
            let _ = execute(db, "ROLLBACK");
            Err(e)
        }
    }
}

/// How many of this build's migrations the database has applied. Counting
/// by version, not taking the highest, applies a migration that arrived
/// with a lower number than one already applied (branches merged late).
fn applied_count(db: &impl Sql) -> i64 {
    let versions: Vec<String> = MIGRATIONS.iter().map(|m| m.version.to_string()).collect();
    // A missing table reads as none applied; the transaction creates it.
    query_i64(
        db,
        &format!(
            "SELECT COUNT(*) FROM schema_migrations WHERE version IN ({})",
            versions.join(", ")
        ),
    )
    .ok()
    .flatten()
    .unwrap_or(0)
}

fn is_applied(db: &impl Sql, version: i64) -> bool {
    query_i64(
        db,
        &format!("SELECT COUNT(*) FROM schema_migrations WHERE version = {version}"),
    )
    .ok()
    .flatten()
    .is_some_and(|n| n > 0)
}

fn apply_pending(db: &impl Sql) -> Result<usize, MigrationError> {
    execute(
        db,
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .map_err(MigrationError::Database)?;
    // Read again inside the lock: another instance may have just migrated.
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|m| !is_applied(db, m.version)) {
        let failed = |message| MigrationError::Failed {
            version: migration.version,
            name: migration.name,
            message,
        };
        for statement in migration.statements {
            execute(db, statement).map_err(failed)?;
        }
        execute(db, &format!(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({}, '{}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            migration.version, migration.name
        ))
        .map_err(failed)?;
        applied += 1;
    }
    Ok(applied)
}

fn is_busy(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("locked") || message.contains("busy")
}

#[cfg(test)]
mod statements;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn open(path: &Path) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(path).unwrap();
        // Racing openers wait for each other's switch to WAL, as the
        // host's connections do.
        c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c
    }

    #[test]
    fn migrations_are_numbered_in_order_from_one() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(versions, (1..=MIGRATIONS.len() as i64).collect::<Vec<_>>());
    }

    #[test]
    fn migrations_apply_once_and_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir.path().join("db.sqlite"));
        assert_eq!(migrate(&db), Ok(MIGRATIONS.len()));
        assert_eq!(migrate(&db), Ok(0));
        assert_eq!(
            query_i64(&db, "SELECT COUNT(*) FROM schema_migrations"),
            Ok(Some(MIGRATIONS.len() as i64))
        );
        assert_eq!(
            query_i64(&db, "SELECT MAX(version) FROM schema_migrations"),
            Ok(Some(latest_version()))
        );
    }

    #[test]
    fn a_migration_numbered_below_an_applied_one_is_still_applied() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir.path().join("db.sqlite"));
        assert_eq!(migrate(&db), Ok(MIGRATIONS.len()));
        // As if the outbox migration (3) had arrived after the others.
        execute(&db, "DELETE FROM schema_migrations WHERE version = 3").unwrap();
        execute(&db, "DROP TABLE outbox_events").unwrap();
        execute(&db, "DROP TABLE outbox_cursors").unwrap();
        assert_eq!(migrate(&db), Ok(1), "only the missing migration runs");
        assert_eq!(
            query_i64(
                &db,
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox_events'"
            ),
            Ok(Some(1))
        );
        assert_eq!(migrate(&db), Ok(0));
    }

    #[test]
    fn racing_first_requests_apply_each_migration_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        // The file exists in WAL mode before the race, as the host's files
        // do: switching a journal mode takes a lock SQLite does not wait
        // for, which is not what this test is about.
        drop(open(&path));
        let applied: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| s.spawn(|| migrate(&open(&path)).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(applied, MIGRATIONS.len());
        let db = open(&path);
        assert_eq!(
            query_i64(&db, "SELECT COUNT(*) FROM schema_migrations"),
            Ok(Some(MIGRATIONS.len() as i64))
        );
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir.path().join("db.sqlite"));
        // Occupy a name the first migration creates, so it fails part-way.
        execute(&db, "CREATE TABLE notifications (x INTEGER)").unwrap();
        assert!(matches!(
            migrate(&db),
            Err(MigrationError::Failed { version: 1, .. })
        ));
        assert_eq!(
            query_i64(
                &db,
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'contacts'"
            ),
            Ok(Some(0))
        );
        assert_eq!(
            query_i64(
                &db,
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'"
            ),
            Ok(Some(0))
        );
    }
}
