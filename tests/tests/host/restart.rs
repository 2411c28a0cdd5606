//! Data outlives the host: key-value entries and SQLite rows written by one
//! `crm-host` process are read back by the next one on the same state, in the
//! default `.spin` directory beside the manifest, in `--state-dir`, and in
//! runtime-config stores. The compiled-code cache lands in `<state>/cache`;
//! a restart loads each component compiled there, unless what it is made of
//! (its Wasm, its dependencies' and how they are plugged in) has changed.

use crm_tests::conformance::*;

fn manifest() -> String {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "keeper");
    manifest += &probe(
        "keeper",
        r#"key_value_stores = ["default", "mapped"]
sqlite_databases = ["default", "mapped"]"#,
    );
    manifest
}

fn write_everything(host: &Host, tag: &str) {
    for label in ["default", "mapped"] {
        let set = host.request(
            "POST",
            &format!("/?op=kv&action=set&label={label}&key=k"),
            &[],
            Some(tag.as_bytes()),
        );
        assert_eq!(set.json(), json!({"ok": true}), "{label}");
        let create = host.request(
            "POST",
            &format!("/?op=sql3&label={label}"),
            &[],
            Some(b"CREATE TABLE IF NOT EXISTS kept (t TEXT)"),
        );
        assert_eq!(create.json()["error"], Value::Null, "{}", create.body);
        let insert = format!("INSERT INTO kept VALUES ('{tag}')");
        let insert = host.request(
            "POST",
            &format!("/?op=sql2&label={label}"),
            &[],
            Some(insert.as_bytes()),
        );
        assert_eq!(insert.json()["error"], Value::Null, "{}", insert.body);
    }
}

fn assert_everything(host: &Host, tags: &[&str]) {
    let last = tags.last().unwrap();
    for label in ["default", "mapped"] {
        let get = host.get(&format!("/?op=kv&action=get&label={label}&key=k"));
        assert_eq!(get.json(), json!({"ok": last}), "{label}");
        let rows = host.request(
            "POST",
            &format!("/?op=sql3&label={label}"),
            &[],
            Some(b"SELECT t FROM kept ORDER BY rowid"),
        );
        let expected: Vec<Value> = tags.iter().map(|t| json!([t])).collect();
        assert_eq!(rows.json()["rows"], json!(expected), "{label}");
    }
}

fn run(app: &AppDir, extra: &[&str], state: &std::path::Path) {
    let rc = app.path().join("runtime-config.toml");
    app.write(
        "runtime-config.toml",
        "[key_value_store.mapped]\ntype = \"spin\"\npath = \"data/mapped-kv.db\"\n\n[sqlite_database.mapped]\ntype = \"spin\"\npath = \"data/mapped.db\"\n",
    );
    std::fs::create_dir_all(app.path().join("data")).unwrap();
    let mut args = vec!["--runtime-config-file", rc.to_str().unwrap()];
    args.extend_from_slice(extra);
    // Own cache handling: no shared --cache-dir, so the default is exercised.
    let first = Host::start(&app.manifest(), &args, &[]);
    write_everything(&first, "one");
    assert!(first.stop().success());
    assert!(state.join("sqlite_key_value.db").is_file());
    assert!(state.join("sqlite_db.db").is_file());
    assert!(app.path().join("data/mapped-kv.db").is_file());
    assert!(app.path().join("data/mapped.db").is_file());
    let cache = state.join("cache");
    let cached = walk_files(&cache);
    assert!(
        cached > 0,
        "no compiled code cached under {}",
        cache.display()
    );

    let second = Host::start(&app.manifest(), &args, &[]);
    assert_everything(&second, &["one"]);
    write_everything(&second, "two");
    assert!(second.stop().success());

    let third = Host::start(&app.manifest(), &args, &[]);
    assert_everything(&third, &["one", "two"]);
    assert!(third.stop().success());
}

fn walk_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map_while(Result::ok)
        .map(|e| {
            if e.path().is_dir() {
                walk_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// One component plugging in the greeter, which inherits the component's
/// key-value grant or not.
fn greeter_client(inherit: bool) -> String {
    format!(
        r#"{HEADER}
[[trigger.http]]
route = "/..."
component = "client"

[component.client]
source = "{{wasm:guest_greeter_client}}"
key_value_stores = ["default"]

[component.client.dependencies]
"crm-test:greeter/greet@0.1.0" = {{ path = "{{wasm:guest_greeter}}", inherit_configuration = {inherit} }}
"crm-test:counter/count@0.1.0" = {{ path = "{{wasm:guest_counter}}" }}
"#
    )
}

#[test]
fn a_restart_loads_compiled_components_and_composes_a_changed_one_anew() {
    let cache = tempfile::tempdir().unwrap();
    let args = ["--cache-dir", cache.path().to_str().unwrap()];
    let compiled = || walk_files(&cache.path().join("components"));
    let greeter_kv = |app: &AppDir| {
        let host = app.start(&args);
        let reply = host.get("/?try=kv&arg=default");
        assert!(host.stop().success());
        reply.body
    };
    let isolated = AppDir::new(&greeter_client(false));
    assert_eq!(greeter_kv(&isolated), "error:access-denied");
    assert_eq!(compiled(), 1, "the composed component is kept compiled");
    assert_eq!(greeter_kv(&isolated), "error:access-denied");
    assert_eq!(
        compiled(),
        1,
        "the restart loaded it instead of compiling again"
    );
    // The same Wasm files plugged in differently: composed and compiled anew,
    // not served from what the first app left.
    let inheriting = AppDir::new(&greeter_client(true));
    assert_eq!(greeter_kv(&inheriting), "ok");
    assert_eq!(compiled(), 2);
}

#[test]
fn data_survives_restarts_in_the_default_state_dir() {
    let app = AppDir::new(&manifest());
    let state = app.path().join(".spin");
    run(&app, &[], &state);
}

#[test]
fn data_survives_restarts_in_an_explicit_state_dir() {
    let app = AppDir::new(&manifest());
    let state = tempfile::tempdir().unwrap();
    run(
        &app,
        &["--state-dir", state.path().to_str().unwrap()],
        state.path(),
    );
    assert!(
        !app.path().join(".spin").exists(),
        "nothing in the default place"
    );
}

#[test]
fn a_killed_host_loses_no_acknowledged_write() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "keeper");
    manifest += &probe(
        "keeper",
        "key_value_stores = [\"default\"]\nsqlite_databases = [\"default\"]",
    );
    let app = AppDir::new(&manifest);
    let first = start(&app, &[]);
    for i in 0..20 {
        let set = first.request(
            "POST",
            &format!("/?op=kv&action=set&key=k{i}"),
            &[],
            Some(b"v"),
        );
        assert_eq!(set.json(), json!({"ok": true}));
    }
    let create = first.request(
        "POST",
        "/?op=sql3",
        &[],
        Some(b"CREATE TABLE acked (i INTEGER)"),
    );
    assert_eq!(create.json()["error"], Value::Null);
    for i in 0..20 {
        let insert = format!("INSERT INTO acked VALUES ({i})");
        let insert = first.request("POST", "/?op=sql3", &[], Some(insert.as_bytes()));
        assert_eq!(insert.json()["changes"], 1);
    }
    // SIGKILL: no drain, no clean close.
    drop(first);
    let second = start(&app, &[]);
    let keys = second.get("/?op=kv&action=keys").json();
    assert_eq!(keys["ok"].as_array().map(Vec::len), Some(20), "{keys}");
    let count = second.request(
        "POST",
        "/?op=sql3",
        &[],
        Some(b"SELECT count(*) FROM acked"),
    );
    assert_eq!(count.json()["rows"], json!([[20]]));
}
