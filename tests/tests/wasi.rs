//! WASI 0.2 as a Spin component sees it on crm-host: `environment`, `files`
//! (glob strings and `{ source, destination }` mappings, read-only), and
//! nothing else of the host's filesystem or environment.

mod common;
use common::*;
use std::sync::OnceLock;

fn host() -> &'static Host {
    static HOST: OnceLock<(Host, AppDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let mut manifest = HEADER.to_string();
            manifest += &trigger("/files/...", "files");
            manifest += &trigger("/bare/...", "bare");
            manifest += &probe(
                "files",
                r#"files = [{ source = "assets", destination = "/mapped" }, { source = "static", destination = "/static" }]"#,
            );
            manifest += &probe("bare", "");
            let app = AppDir::new(&manifest);
            std::fs::create_dir_all(app.path().join("static")).unwrap();
            std::fs::create_dir_all(app.path().join("assets/deep")).unwrap();
            app.write("static/a.txt", "text a");
            app.write("static/skip.md", "not matched");
            app.write("assets/deep/b.txt", "text b");
            app.write("secret.txt", "outside the mounts");
            let host = start_shared(&app, &[]);
            (host, app)
        })
        .0
}

fn op(path: &str) -> Value {
    let reply = host().get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

#[test]
fn environment_is_the_manifests_only() {
    // `environment = { PROBE_NAME = ... }` from the manifest, nothing from the
    // host process.
    let env = op("/bare?op=env")["ok"].clone();
    assert_eq!(env["PROBE_NAME"], "bare", "{env}");
    assert!(
        env.get("PATH").is_none(),
        "the host's environment leaked: {env}"
    );
    assert!(
        env.get("HOME").is_none(),
        "the host's environment leaked: {env}"
    );
}

#[test]
fn mapped_directories_are_mounted_at_their_destination() {
    assert_eq!(
        op("/files?op=file&path=/mapped/deep/b.txt"),
        json!({"ok": "text b"})
    );
    assert!(op("/files?op=file&path=/assets/deep/b.txt")["error"].is_string());
}

#[test]
fn nothing_else_is_visible() {
    for path in [
        "/secret.txt",
        "/spin.toml",
        "/etc/passwd",
        "/static/../secret.txt",
    ] {
        assert!(
            op(&format!("/files?op=file&path={}", enc(path)))["error"].is_string(),
            "{path}"
        );
    }
    assert!(
        op("/bare?op=file&path=/static/a.txt")["error"].is_string(),
        "no files for `bare`"
    );
}
