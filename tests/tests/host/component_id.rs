//! `crm-host up --component-id ID` (repeatable) serves only the selected
//! components, like `spin up --component-id`.

use crm_tests::conformance::*;

fn manifest(extra_for_a: &str) -> String {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/a/...", "a");
    manifest += &trigger("/b/...", "b");
    manifest += &trigger("/c", "c");
    manifest += &probe("a", extra_for_a);
    manifest += &probe("b", "");
    manifest += &probe("c", "");
    manifest
}

fn served(host: &Host, path: &str) -> bool {
    let reply = host.get(path);
    match reply.status {
        200 => true,
        404 => false,
        other => panic!("{path}: {other} {}", reply.body),
    }
}

#[test]
fn only_the_selected_components_are_served() {
    let app = AppDir::new(&manifest(""));
    let host = start(&app, &["--component-id", "a", "-c", "c"]);
    assert!(served(&host, "/a/x"));
    assert!(served(&host, "/c"));
    assert!(!served(&host, "/b/x"));
    let routes = host.stdout.lines().join("\n");
    assert!(routes.contains("a: ") && routes.contains("c: "), "{routes}");
    assert!(!routes.contains("b: "), "{routes}");
}

#[test]
fn without_the_flag_everything_is_served() {
    let app = AppDir::new(&manifest(""));
    let host = start(&app, &[]);
    for path in ["/a/x", "/b/x", "/c"] {
        assert!(served(&host, path), "{path}");
    }
}

#[test]
fn a_left_out_component_is_not_reachable_by_chaining_either() {
    let app = AppDir::new(&manifest(r#"allowed_outbound_hosts = ["http://self"]"#));
    let host = start(&app, &["--component-id", "a"]);
    let fetched = host
        .get(&format!("/a?op=fetch&url={}", enc("http://self/b/x")))
        .json();
    assert_eq!(fetched["status"], 404, "{fetched}");
}

#[test]
fn an_unknown_component_id_is_refused() {
    let app = AppDir::new(&manifest(""));
    assert_refused(&start_failure(&app, &["--component-id", "zzz"]), &["zzz"]);
}

#[test]
fn a_selected_component_chaining_to_a_left_out_one_is_refused() {
    // As Spin: `a` may call `b.spin.internal`, but `b` is not selected.
    let app = AppDir::new(&manifest(
        r#"allowed_outbound_hosts = ["http://b.spin.internal"]"#,
    ));
    assert_refused(
        &start_failure(&app, &["--component-id", "a"]),
        &["`a`", "b.spin.internal"],
    );
}

#[test]
fn a_selected_component_with_wildcard_chaining_is_refused() {
    // As Spin: with a selection, `*.spin.internal` could reach a left-out component.
    let app = AppDir::new(&manifest(
        r#"allowed_outbound_hosts = ["http://*.spin.internal"]"#,
    ));
    assert_refused(
        &start_failure(&app, &["--component-id", "a"]),
        &["*.spin.internal"],
    );
}
