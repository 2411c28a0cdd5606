//! `fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0` on crm-host:
//! statements and values both ways, both versions on one database, labels,
//! `--sqlite` start-up statements, errors reported to the guest, WAL mode
//! in the files, and WALs left empty by a clean stop.

use crm_tests::app::App;
use crm_tests::conformance::*;
use std::sync::OnceLock;

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let mut manifest = HEADER.to_string();
        manifest += &trigger("/db/...", "db");
        manifest += &probe("db", r#"sqlite_databases = ["default", "other"]"#);
        let app = AppDir::new(&manifest);
        app.write(
            "runtime-config.toml",
            "[sqlite_database.other]\ntype = \"spin\"\npath = \"other.db\"\n",
        );
        app.write(
            "seed.sql",
            "CREATE TABLE IF NOT EXISTS seeded_other (v TEXT);\nINSERT INTO seeded_other VALUES ('from-file');\n",
        );
        let rc = app.path().join("runtime-config.toml");
        let seed = format!("@{}:other", app.path().join("seed.sql").display());
        App::shared_in(
            app,
            &[
                "--runtime-config-file",
                rc.to_str().unwrap(),
                "--sqlite",
                "CREATE TABLE IF NOT EXISTS seeded (v TEXT)",
                "--sqlite",
                "INSERT INTO seeded VALUES ('from-flag')",
                "--sqlite",
                &seed,
            ],
        )
    })
}

/// Runs one statement through the probe with SQLite `version` (2 or 3).
fn sql(version: u8, label: &str, statement: &str) -> Value {
    let path = format!("/db?op=sql{version}&label={label}");
    let reply = app()
        .host
        .request("POST", &path, &[], Some(statement.as_bytes()));
    assert_eq!(reply.status, 200, "{statement}: {}", reply.body);
    reply.json()
}

fn ok(version: u8, label: &str, statement: &str) -> Value {
    let result = sql(version, label, statement);
    assert!(result.get("error").is_none(), "{statement}: {result}");
    result
}

#[test]
fn v2_round_trips_every_value_type() {
    ok(
        2,
        "default",
        "CREATE TABLE v2_types (i INTEGER, r REAL, t TEXT, b BLOB, n TEXT)",
    );
    ok(
        2,
        "default",
        "INSERT INTO v2_types VALUES (42, 1.5, 'héllo', X'010203', NULL)",
    );
    let result = ok(2, "default", "SELECT i, r, t, b, n FROM v2_types");
    assert_eq!(result["columns"], json!(["i", "r", "t", "b", "n"]));
    assert_eq!(
        result["rows"],
        json!([[42, 1.5, "héllo", {"blob": 3}, null]])
    );
}

#[test]
fn v3_round_trips_and_reports_rowid_and_changes() {
    ok(
        3,
        "default",
        "CREATE TABLE v3_rows (id INTEGER PRIMARY KEY, t TEXT)",
    );
    let first = ok(3, "default", "INSERT INTO v3_rows (t) VALUES ('a')");
    assert_eq!(first["changes"], 1, "{first}");
    let second = ok(3, "default", "INSERT INTO v3_rows (t) VALUES ('b')");
    assert_eq!(second["last_insert_rowid"], 2, "{second}");
    let updated = ok(3, "default", "UPDATE v3_rows SET t = 'z'");
    assert_eq!(updated["changes"], 2, "{updated}");
    let result = ok(
        3,
        "default",
        "SELECT id, t, 2.25, NULL, X'00' FROM v3_rows ORDER BY id",
    );
    assert_eq!(
        result["rows"],
        json!([[1, "z", 2.25, null, {"blob": 1}], [2, "z", 2.25, null, {"blob": 1}]])
    );
}

#[test]
fn both_versions_share_one_database() {
    ok(2, "default", "CREATE TABLE shared_versions (t TEXT)");
    ok(2, "default", "INSERT INTO shared_versions VALUES ('via-2')");
    ok(3, "default", "INSERT INTO shared_versions VALUES ('via-3')");
    for version in [2, 3] {
        let rows = ok(
            version,
            "default",
            "SELECT t FROM shared_versions ORDER BY t",
        )["rows"]
            .clone();
        assert_eq!(rows, json!([["via-2"], ["via-3"]]), "v{version}");
    }
}

#[test]
fn labels_are_separate_databases() {
    ok(3, "other", "CREATE TABLE only_in_other (x)");
    let missing = sql(3, "default", "SELECT * FROM only_in_other");
    let error = missing["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{missing}"));
    assert!(error.contains("no such table"), "{error}");
}

#[test]
fn sql_errors_reach_the_guest_as_errors() {
    for version in [2, 3] {
        let result = sql(version, "default", "SELEKT nonsense");
        let error = result["error"]
            .as_str()
            .unwrap_or_else(|| panic!("v{version}: {result}"));
        assert!(error.starts_with("io:"), "v{version}: {error}");
        assert!(error.contains("syntax error"), "v{version}: {error}");
    }
    // The host keeps serving the component afterwards.
    ok(3, "default", "SELECT 1");
}

/// `PRAGMA synchronous` is answered per connection as SQLite would: FULL
/// on a new connection, whatever an earlier request's connection set.
/// As Spin's in-process backend (rusqlite), and so that a component keeps
/// to what libSQL can run: one statement per `execute`, even a harmless
/// second one, and nothing of the string runs.
#[test]
fn a_string_of_several_statements_is_refused_whole() {
    ok(3, "default", "CREATE TABLE IF NOT EXISTS several (x)");
    for version in [2, 3] {
        for statement in [
            "INSERT INTO several VALUES (1); INSERT INTO several VALUES (2)",
            "SELECT 1; SELECT 2",
            "INSERT INTO several VALUES (3);;SELECT 1",
        ] {
            let result = sql(version, "default", statement);
            let error = result["error"]
                .as_str()
                .unwrap_or_else(|| panic!("v{version} {statement}: {result}"));
            assert!(
                error.contains("Multiple statements provided"),
                "v{version}: {error}"
            );
        }
    }
    assert_eq!(
        ok(3, "default", "SELECT count(*) FROM several")["rows"],
        json!([[0]])
    );
    // One statement with a trailing semicolon or comment is one statement.
    ok(3, "default", "INSERT INTO several VALUES (4);");
    ok(3, "default", "SELECT 1; -- a comment");
}

#[test]
fn synchronous_is_full_on_every_new_connection_and_can_be_lowered() {
    for version in [2, 3] {
        let level = |statement| ok(version, "default", statement)["rows"].clone();
        assert_eq!(level("PRAGMA synchronous"), json!([[2]]), "v{version}");
        ok(version, "default", "PRAGMA synchronous = NORMAL");
        // Each request opens a new connection: the pooled one it reuses
        // does not carry the last request's setting.
        assert_eq!(level("PRAGMA main.synchronous"), json!([[2]]), "v{version}");
        let refused = sql(version, "default", "PRAGMA synchronous = sometimes");
        let error = refused["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("not one of OFF, NORMAL, FULL"),
            "v{version}: {refused}"
        );
    }
}

#[test]
fn startup_statements_ran_once_per_start() {
    let rows = ok(2, "default", "SELECT v FROM seeded")["rows"].clone();
    assert_eq!(rows, json!([["from-flag"]]));
    let rows = ok(3, "other", "SELECT v FROM seeded_other")["rows"].clone();
    assert_eq!(rows, json!([["from-file"]]));
}

#[test]
fn database_files_are_where_spin_puts_them() {
    ok(2, "default", "CREATE TABLE IF NOT EXISTS file_check (x)");
    ok(2, "other", "CREATE TABLE IF NOT EXISTS file_check (x)");
    assert!(app().state_dir().join("sqlite_db.db").is_file());
    assert!(
        app().manifest_dir().join("other.db").is_file(),
        "relative to the runtime config"
    );
}

#[test]
fn databases_are_in_wal_mode() {
    ok(2, "default", "CREATE TABLE IF NOT EXISTS wal_check (x)");
    ok(2, "other", "CREATE TABLE IF NOT EXISTS wal_check (x)");
    for file in [
        app().state_dir().join("sqlite_db.db"),
        app().manifest_dir().join("other.db"),
    ] {
        // journal_mode=WAL is persistent: a fresh connection reports it.
        let conn = rusqlite::Connection::open(&file).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode.to_ascii_lowercase(), "wal", "{}", file.display());
    }
}

#[test]
fn wal_mode_survives_stop_and_the_data_is_durable() {
    // Own host: stopped here, then the files are read directly.
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "db");
    manifest += &probe(
        "db",
        r#"sqlite_databases = ["default"]
key_value_stores = ["default"]"#,
    );
    let app = AppDir::new(&manifest);
    let host = start(&app, &[]);
    let write = host.request("POST", "/?op=sql3", &[], Some(b"CREATE TABLE durable (x)"));
    assert_eq!(write.json()["error"], Value::Null, "{}", write.body);
    let write = host.request(
        "POST",
        "/?op=sql3",
        &[],
        Some(b"INSERT INTO durable VALUES (7)"),
    );
    assert_eq!(write.json()["changes"], 1, "{}", write.body);
    let kv = host.request("POST", "/?op=kv&action=set&key=k", &[], Some(b"v"));
    assert_eq!(kv.json(), json!({"ok": true}));
    assert!(host.stop().success());
    let conn = rusqlite::Connection::open(app.path().join(".spin/sqlite_db.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    let x: i64 = conn
        .query_row("SELECT x FROM durable", [], |r| r.get(0))
        .unwrap();
    assert_eq!(x, 7);
    let conn = rusqlite::Connection::open(app.path().join(".spin/sqlite_key_value.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        mode.to_ascii_lowercase(),
        "wal",
        "the key-value store's database too"
    );
}

#[test]
fn a_clean_stop_leaves_every_wal_empty() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut manifest = HEADER.to_string();
        manifest += &trigger("/...", "db");
        manifest += &probe(
            "db",
            r#"sqlite_databases = ["default"]
key_value_stores = ["default"]"#,
        );
        let app = AppDir::new(&manifest);
        let host = start(&app, &[]);
        let write = |statement: &str| {
            let reply = host.request("POST", "/?op=sql3", &[], Some(statement.as_bytes()));
            assert_eq!(reply.json()["error"], Value::Null, "{}", reply.body);
        };
        write("CREATE TABLE kept (x)");
        for _ in 0..20 {
            write("INSERT INTO kept VALUES (randomblob(10000))");
        }
        let kv = host.request("POST", "/?op=kv&action=set&key=k", &[], Some(b"v"));
        assert_eq!(kv.json(), json!({"ok": true}));
        assert!(host.stop_with(signal).success());
        for database in ["sqlite_db.db", "sqlite_key_value.db"] {
            let wal = app.path().join(format!(".spin/{database}-wal"));
            let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
            assert_eq!(size, 0, "{} after signal {signal}", wal.display());
        }
        let conn = rusqlite::Connection::open(app.path().join(".spin/sqlite_db.db")).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM kept", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 20);
    }
}

#[test]
fn a_granted_label_without_runtime_config_fails_at_start() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "db");
    manifest += &probe("db", r#"sqlite_databases = ["unmapped-db"]"#);
    let app = AppDir::new(&manifest);
    assert_refused(&start_failure(&app, &[]), &["unmapped-db"]);
}

#[test]
fn a_failing_startup_statement_fails_the_start() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "db");
    manifest += &probe("db", r#"sqlite_databases = ["default"]"#);
    let app = AppDir::new(&manifest);
    assert_refused(
        &start_failure(&app, &["--sqlite", "SELEKT broken"]),
        &["SELEKT"],
    );
}
