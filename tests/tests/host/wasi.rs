//! WASI 0.2 as a Spin component sees it on crm-host: `environment`, `files`
//! (glob strings and `{ source, destination }` mappings, read-only), and
//! nothing else of the host's filesystem or environment.

use crm_tests::conformance::*;
use std::sync::OnceLock;

fn host() -> &'static Host {
    static HOST: OnceLock<(Host, AppDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let mut manifest = HEADER.to_string();
            manifest += &trigger("/files/...", "files");
            manifest += &trigger("/bare/...", "bare");
            manifest += &trigger("/globbed/...", "globbed");
            manifest += &probe(
                "files",
                r#"files = [{ source = "assets", destination = "/mapped" }, { source = "static", destination = "/static" }]"#,
            );
            manifest += &probe("bare", "");
            // Spin's other forms: glob strings, a plain path, a single file
            // placed elsewhere, and `exclude_files`.
            manifest += &probe(
                "globbed",
                r#"files = ["static/*.txt", "notes/**/*.md", "secret.txt", { source = "assets/deep/b.txt", destination = "/one/b.txt" }]
exclude_files = ["notes/drafts/*"]"#,
            );
            let app = AppDir::new(&manifest);
            std::fs::create_dir_all(app.path().join("static")).unwrap();
            std::fs::create_dir_all(app.path().join("assets/deep")).unwrap();
            app.write("static/a.txt", "text a");
            app.write("static/skip.md", "not matched");
            app.write("assets/deep/b.txt", "text b");
            app.write("secret.txt", "outside the mounts");
            std::fs::create_dir_all(app.path().join("notes/drafts")).unwrap();
            app.write("notes/top.md", "top note");
            app.write("notes/drafts/wip.md", "excluded");
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

#[test]
fn glob_patterns_paths_and_file_placements_are_copied_as_spin_does() {
    for (path, expected) in [
        ("/static/a.txt", "text a"),
        ("/notes/top.md", "top note"),
        ("/secret.txt", "outside the mounts"),
        ("/one/b.txt", "text b"),
    ] {
        assert_eq!(
            op(&format!("/globbed?op=file&path={}", enc(path))),
            json!({"ok": expected}),
            "{path}"
        );
    }
    for path in [
        "/static/skip.md",      // not matched by `static/*.txt`
        "/notes/drafts/wip.md", // matched, then excluded
        "/assets/deep/b.txt",   // only placed at `/one/b.txt`
        "/spin.toml",
    ] {
        assert!(
            op(&format!("/globbed?op=file&path={}", enc(path)))["error"].is_string(),
            "{path} should not be visible"
        );
    }
}

#[test]
fn files_are_read_only() {
    let reply = host().post("/globbed?op=write&path=/static/a.txt", "overwritten");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json()["error"].is_string(), "{}", reply.body);
    assert_eq!(
        op("/globbed?op=file&path=/static/a.txt"),
        json!({"ok": "text a"})
    );
}

#[test]
fn entries_naming_nothing_are_refused_at_start() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "missing");
    manifest += &probe("missing", r#"files = ["no-such-file.txt"]"#);
    let app = AppDir::new(&manifest);
    assert_refused(
        &start_failure(&app, &[]),
        &["missing", "no-such-file.txt", "does not exist"],
    );
}
