//! `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue@0.2.0-draft2` on
//! crm-host: every operation, stores kept
//! apart by label, the default store's file in the state directory, and a
//! runtime-config store's file where the runtime config says; and a store on
//! a real Redis server (`type = "redis"`), shared by two host processes and
//! surviving the server's restart; `increment` and compare-and-swap exact
//! across two processes on either backend.

use crm_tests::Host;
use crm_tests::app::App;
use crm_tests::conformance::*;
use crm_tests::redis::RedisServer;
use std::sync::OnceLock;

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let mut manifest = HEADER.to_string();
        manifest += &trigger("/kv/...", "kv");
        manifest += &probe("kv", r#"key_value_stores = ["default", "extra"]"#);
        let app = AppDir::new(&manifest);
        std::fs::create_dir(app.path().join("rc")).unwrap();
        app.write(
            "rc/runtime-config.toml",
            "[key_value_store.extra]\ntype = \"spin\"\npath = \"stores/extra.db\"\n",
        );
        std::fs::create_dir(app.path().join("rc/stores")).unwrap();
        let rc = app.path().join("rc/runtime-config.toml");
        App::shared_in(app, &["--runtime-config-file", rc.to_str().unwrap()])
    })
}

/// One key-value operation through the probe of the shared app.
fn kv(label: &str, action: &str, key: &str, value: Option<&str>) -> Value {
    kv_on(&app().host, label, action, key, value)
}

/// One key-value operation through the probe on `host`.
fn kv_on(host: &Host, label: &str, action: &str, key: &str, value: Option<&str>) -> Value {
    let path = format!("/kv?op=kv&label={label}&action={action}&key={}", enc(key));
    let reply = match value {
        Some(v) => host.request("POST", &path, &[], Some(v.as_bytes())),
        None => host.get(&path),
    };
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

/// The probe with its `default` store on the Redis server at `url`.
fn on_redis(url: &str) -> App {
    with_default_store(&format!("type = \"redis\"\nurl = \"{url}\""))
}

/// The probe with its `default` store as `config` (a runtime-config table body) says.
fn with_default_store(config: &str) -> App {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/kv/...", "kv");
    manifest += &probe("kv", r#"key_value_stores = ["default"]"#);
    let app = AppDir::new(&manifest);
    app.write(
        "runtime-config.toml",
        &format!("[key_value_store.default]\n{config}\n"),
    );
    let rc = app.path().join("runtime-config.toml");
    App::start_in(app, &["--runtime-config-file", rc.to_str().unwrap()])
}

/// One `wasi:keyvalue` operation through the probe on `host`.
fn wkv_on(host: &Host, action: &str, key: &str, extra: &str, value: Option<&str>) -> Value {
    let path = format!("/kv?op=wkv&action={action}&key={}{extra}", enc(key));
    let reply = match value {
        Some(v) => host.request("POST", &path, &[], Some(v.as_bytes())),
        None => host.get(&path),
    };
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

#[test]
fn wasi_keyvalue_serves_the_same_granted_stores() {
    let host = &app().host;
    assert_eq!(
        wkv_on(host, "set", "w-1", "", Some("from wasi")),
        json!({"ok": true})
    );
    assert_eq!(
        kv("default", "get", "w-1", None),
        json!({"ok": "from wasi"})
    );
    assert_eq!(
        kv("default", "set", "w-2", Some("from spin")),
        json!({"ok": true})
    );
    assert_eq!(
        wkv_on(host, "get", "w-2", "", None),
        json!({"ok": "from spin"})
    );
    assert_eq!(wkv_on(host, "exists", "w-2", "", None), json!({"ok": true}));
    assert_eq!(wkv_on(host, "delete", "w-2", "", None), json!({"ok": true}));
    assert_eq!(wkv_on(host, "get", "w-2", "", None), json!({"ok": null}));
    assert_eq!(
        wkv_on(host, "get", "w-1", "&label=not-granted", None),
        json!({"error": "access-denied"})
    );
    assert_eq!(
        wkv_on(host, "increment", "w-n", "&delta=5", None),
        json!({"ok": 5})
    );
    assert_eq!(
        wkv_on(host, "increment", "w-n", "&delta=-7", None),
        json!({"ok": -2})
    );
    // A value increment did not write is an error, not a trap.
    let not_a_number = wkv_on(host, "increment", "w-1", "", None);
    assert!(
        not_a_number["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("other")),
        "{not_a_number}"
    );
}

/// Two processes incrementing and compare-and-swapping one key from eight
/// threads lose no update: increments and swaps are atomic across them.
fn atomics_are_exact_across(one: &Host, two: &Host) {
    const THREADS: usize = 8;
    const EACH: usize = 15;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let host = if t % 2 == 0 { one } else { two };
            scope.spawn(move || {
                for _ in 0..EACH {
                    let counted = wkv_on(host, "increment", "atomic-count", "", None);
                    assert!(counted["ok"].is_i64(), "{counted}");
                    let swapped = wkv_on(host, "cas-add", "atomic-sum", "&delta=2", None);
                    assert!(swapped["ok"].is_i64(), "{swapped}");
                }
            });
        }
    });
    let total = (THREADS * EACH) as i64;
    assert_eq!(
        wkv_on(one, "increment", "atomic-count", "&delta=0", None),
        json!({"ok": total})
    );
    assert_eq!(
        wkv_on(two, "get", "atomic-sum", "", None),
        json!({"ok": (2 * total).to_string()})
    );
}

#[test]
fn atomics_are_exact_across_processes_on_one_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared-kv.db");
    let config = format!("type = \"spin\"\npath = \"{}\"", file.display());
    let (one, two) = (with_default_store(&config), with_default_store(&config));
    atomics_are_exact_across(&one.host, &two.host);
}

#[test]
fn atomics_are_exact_across_processes_on_redis() {
    let redis = RedisServer::start();
    let (one, two) = (on_redis(&redis.url()), on_redis(&redis.url()));
    atomics_are_exact_across(&one.host, &two.host);
    assert_eq!(
        redis.command("GET atomic-count").as_deref(),
        Some("$3"),
        "decimal text, as INCRBY keeps it"
    );
}

#[test]
fn a_redis_store_is_shared_by_processes_and_outlives_a_server_restart() {
    let redis = RedisServer::start();
    let (one, two) = (on_redis(&redis.url()), on_redis(&redis.url()));
    let (one, two) = (&one.host, &two.host);
    assert_eq!(
        kv_on(one, "default", "get", "r-k", None),
        json!({"ok": null})
    );
    assert_eq!(
        kv_on(one, "default", "set", "r-k", Some("v1 ✓")),
        json!({"ok": true})
    );
    // The other process reads it, and the server holds it under its own name.
    assert_eq!(
        kv_on(two, "default", "get", "r-k", None),
        json!({"ok": "v1 ✓"})
    );
    assert_eq!(
        kv_on(two, "default", "exists", "r-k", None),
        json!({"ok": true})
    );
    assert_eq!(redis.command("EXISTS r-k").as_deref(), Some(":1"));
    assert_eq!(
        kv_on(two, "default", "set", "r-j", Some("")),
        json!({"ok": true})
    );
    assert_eq!(
        kv_on(one, "default", "keys", "", None),
        json!({"ok": ["r-j", "r-k"]})
    );
    assert_eq!(
        kv_on(two, "default", "delete", "r-k", None),
        json!({"ok": true})
    );
    assert_eq!(
        kv_on(one, "default", "get", "r-k", None),
        json!({"ok": null})
    );
    assert_eq!(
        kv_on(one, "default", "exists", "r-k", None),
        json!({"ok": false})
    );

    // The server goes away: an operation is an error the guest sees, not a
    // trap; once a server is back on the port, the stores work again.
    let url = redis.url();
    drop(redis);
    let down = kv_on(one, "default", "get", "r-j", None);
    assert!(
        down["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("other")),
        "{down}"
    );
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let _back = RedisServer::start_on(port);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let reply = kv_on(one, "default", "set", "r-again", Some("yes"));
        if reply == json!({"ok": true}) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reconnect: {reply}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        kv_on(two, "default", "get", "r-again", None),
        json!({"ok": "yes"})
    );
}

#[test]
fn set_get_exists_delete() {
    assert_eq!(kv("default", "get", "sgd", None), json!({"ok": null}));
    assert_eq!(kv("default", "exists", "sgd", None), json!({"ok": false}));
    assert_eq!(kv("default", "set", "sgd", Some("v1")), json!({"ok": true}));
    assert_eq!(kv("default", "get", "sgd", None), json!({"ok": "v1"}));
    assert_eq!(kv("default", "exists", "sgd", None), json!({"ok": true}));
    assert_eq!(kv("default", "set", "sgd", Some("v2")), json!({"ok": true}));
    assert_eq!(
        kv("default", "get", "sgd", None),
        json!({"ok": "v2"}),
        "set overwrites"
    );
    assert_eq!(kv("default", "delete", "sgd", None), json!({"ok": true}));
    assert_eq!(kv("default", "get", "sgd", None), json!({"ok": null}));
    assert_eq!(kv("default", "exists", "sgd", None), json!({"ok": false}));
    // Deleting a missing key is not an error.
    assert_eq!(kv("default", "delete", "sgd", None), json!({"ok": true}));
}

#[test]
fn values_are_bytes_and_keys_any_string() {
    let key = "odd key/ü?&=";
    let value = "line1\nline2 ✓";
    assert_eq!(kv("default", "set", key, Some(value)), json!({"ok": true}));
    assert_eq!(kv("default", "get", key, None), json!({"ok": value}));
    assert_eq!(
        kv("default", "set", "empty-value", Some("")),
        json!({"ok": true})
    );
    assert_eq!(kv("default", "get", "empty-value", None), json!({"ok": ""}));
}

#[test]
fn get_keys_lists_this_stores_keys() {
    // Only the `extra` store is used here, so no other test's keys appear.
    for key in ["k-b", "k-a", "k-c"] {
        assert_eq!(kv("extra", "set", key, Some("x")), json!({"ok": true}));
    }
    assert_eq!(kv("extra", "delete", "k-c", None), json!({"ok": true}));
    assert_eq!(kv("extra", "keys", "", None), json!({"ok": ["k-a", "k-b"]}));
}

#[test]
fn labels_are_separate_stores() {
    assert_eq!(
        kv("default", "set", "shared-name", Some("in-default")),
        json!({"ok": true})
    );
    assert_eq!(kv("extra", "get", "shared-name", None), json!({"ok": null}));
    assert_eq!(
        kv("extra", "set", "shared-name2", Some("in-extra")),
        json!({"ok": true})
    );
    assert_eq!(
        kv("default", "get", "shared-name2", None),
        json!({"ok": null})
    );
    assert_eq!(
        kv("default", "get", "shared-name", None),
        json!({"ok": "in-default"})
    );
}

#[test]
fn store_files_are_where_spin_puts_them() {
    assert_eq!(
        kv("default", "set", "file-check", Some("1")),
        json!({"ok": true})
    );
    assert_eq!(
        kv("extra", "set", "file-check", Some("1")),
        json!({"ok": true})
    );
    let default = app().state_dir().join("sqlite_key_value.db");
    assert!(default.is_file(), "{} missing", default.display());
    // Relative runtime-config paths are relative to the runtime-config file.
    let extra = app().manifest_dir().join("rc/stores/extra.db");
    assert!(extra.is_file(), "{} missing", extra.display());
    // Nothing next to the manifest when --state-dir is given.
    assert!(
        !app()
            .manifest_dir()
            .join(".spin/sqlite_key_value.db")
            .exists()
    );
}

#[test]
fn concurrent_writers_do_not_lose_updates() {
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..10 {
                    let key = format!("conc-{t}-{i}");
                    assert_eq!(kv("default", "set", &key, Some(&key)), json!({"ok": true}));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for t in 0..8 {
        for i in 0..10 {
            let key = format!("conc-{t}-{i}");
            assert_eq!(kv("default", "get", &key, None), json!({"ok": key}));
        }
    }
}

#[test]
fn a_granted_label_without_runtime_config_fails_at_start() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "kv");
    manifest += &probe("kv", r#"key_value_stores = ["default", "unmapped"]"#);
    let app = AppDir::new(&manifest);
    assert_refused(&start_failure(&app, &[]), &["unmapped"]);
}
