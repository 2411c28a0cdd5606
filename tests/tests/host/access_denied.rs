//! A component opening a key-value store or SQLite database it was not
//! granted gets `access-denied` (as on Spin), even when another component of
//! the same app was granted that label.

use crm_tests::conformance::*;
use std::sync::OnceLock;

fn host() -> &'static Host {
    static HOST: OnceLock<(Host, AppDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let mut manifest = HEADER.to_string();
            manifest += &trigger("/granted/...", "granted");
            manifest += &trigger("/bare/...", "bare");
            manifest += &trigger("/partial/...", "partial");
            manifest += &probe(
                "granted",
                r#"key_value_stores = ["default", "extra"]
sqlite_databases = ["default", "extra"]"#,
            );
            manifest += &probe("bare", "");
            manifest += &probe(
                "partial",
                r#"key_value_stores = ["default"]
sqlite_databases = ["default"]"#,
            );
            let app = AppDir::new(&manifest);
            app.write(
                "runtime-config.toml",
                "[key_value_store.extra]\ntype = \"spin\"\npath = \"kv-extra.db\"\n\n[sqlite_database.extra]\ntype = \"spin\"\npath = \"sql-extra.db\"\n",
            );
            let rc = app.path().join("runtime-config.toml");
            let host = start_shared(&app, &["--runtime-config-file", rc.to_str().unwrap()]);
            (host, app)
        })
        .0
}

fn attempt(component: &str, op: &str, label: &str) -> Value {
    let path = format!("/{component}?op={op}&label={label}&action=open");
    let reply = host().request("POST", &path, &[], Some(b"SELECT 1"));
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

#[test]
fn granted_labels_open() {
    for label in ["default", "extra"] {
        assert_eq!(
            attempt("granted", "kv", label),
            json!({"ok": true}),
            "kv {label}"
        );
        for op in ["sql2", "sql3"] {
            let result = attempt("granted", op, label);
            assert_eq!(result["rows"], json!([[1]]), "{op} {label}: {result}");
        }
    }
}

#[test]
fn a_component_with_no_grants_is_denied_everything() {
    for label in ["default", "extra", "never-declared"] {
        for op in ["kv", "sql2", "sql3"] {
            assert_eq!(
                attempt("bare", op, label),
                json!({"error": "access-denied"}),
                "{op} {label}"
            );
        }
    }
}

#[test]
fn a_label_granted_to_another_component_is_denied() {
    assert_eq!(attempt("partial", "kv", "default"), json!({"ok": true}));
    for op in ["kv", "sql2", "sql3"] {
        assert_eq!(
            attempt("partial", op, "extra"),
            json!({"error": "access-denied"}),
            "{op}"
        );
    }
}

#[test]
fn denial_does_not_break_later_requests() {
    assert_eq!(
        attempt("bare", "kv", "default"),
        json!({"error": "access-denied"})
    );
    let reply = host().get("/bare?op=headers");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["probe_name"], "bare");
}
