//! Outbound HTTP (`wasi:http/outgoing-handler`) on crm-host, limited to each
//! component's `allowed_outbound_hosts`: exact hosts and ports, port
//! wildcards and ranges, schemes, `{{ variable }}` templates, and denial
//! (`HttpRequestDenied`) without any connection being made.

use crm_tests::app::App;
use crm_tests::conformance::*;
use std::sync::OnceLock;

/// The probes' host and the two servers they try to reach.
struct Outbound {
    app: App,
    allowed: LocalServer,
    forbidden: LocalServer,
}

fn outbound() -> &'static Outbound {
    static OUTBOUND: OnceLock<Outbound> = OnceLock::new();
    OUTBOUND.get_or_init(|| {
        let allowed = LocalServer::start("hello from upstream");
        let forbidden = LocalServer::start("should never be reached");
        let (a, f) = (allowed.port, forbidden.port);
        let mut manifest = HEADER.to_string();
        manifest += &format!("\n[variables]\nupstream_port = {{ default = \"{a}\" }}\n");
        for id in [
            "exact",
            "anyport",
            "range",
            "nothing",
            "wrongport",
            "https-only",
            "other-host",
            "templated",
            "star",
        ] {
            manifest += &trigger(&format!("/{id}/..."), id);
        }
        manifest += &probe(
            "exact",
            &format!("allowed_outbound_hosts = [\"http://127.0.0.1:{a}\"]"),
        );
        manifest += &probe(
            "anyport",
            "allowed_outbound_hosts = [\"http://127.0.0.1:*\"]",
        );
        let (lo, hi) = (a.min(f), a.max(f));
        // A range holding `a` only (ports are distinct, so one end excludes `f`).
        let range = if a < f {
            format!("{}..{}", lo.saturating_sub(1), a)
        } else {
            format!("{a}..{}", hi.saturating_add(1))
        };
        manifest += &probe(
            "range",
            &format!("allowed_outbound_hosts = [\"http://127.0.0.1:{range}\"]"),
        );
        manifest += &probe("nothing", "");
        manifest += &probe(
            "wrongport",
            "allowed_outbound_hosts = [\"http://127.0.0.1:1\", \"http://127.0.0.1\"]",
        );
        manifest += &probe(
            "https-only",
            &format!("allowed_outbound_hosts = [\"https://127.0.0.1:{a}\"]"),
        );
        manifest += &probe(
            "other-host",
            &format!(
                "allowed_outbound_hosts = [\"http://localhost:{a}\", \"http://*.127.0.0.1:{a}\"]"
            ),
        );
        manifest += &probe(
            "templated",
            "allowed_outbound_hosts = [\"http://127.0.0.1:{{ upstream_port }}\"]",
        );
        manifest += &probe("star", "allowed_outbound_hosts = [\"*://*:*\"]");
        Outbound {
            app: App::shared_in(AppDir::new(&manifest), &[]),
            allowed,
            forbidden,
        }
    })
}

fn fetch(component: &str, url: &str) -> Value {
    let reply = outbound()
        .app
        .host
        .get(&format!("/{component}?op=fetch&url={}", enc(url)));
    assert_eq!(reply.status, 200, "{component} → {url}: {}", reply.body);
    reply.json()
}

fn allowed_url() -> String {
    format!("http://127.0.0.1:{}/some/path?q=1", outbound().allowed.port)
}

fn forbidden_url() -> String {
    format!("http://127.0.0.1:{}/", outbound().forbidden.port)
}

fn assert_reached(component: &str, url: &str) {
    let result = fetch(component, url);
    assert_eq!(
        result,
        json!({"status": 200, "body": "hello from upstream"}),
        "{component} → {url}"
    );
}

fn assert_denied(component: &str, url: &str) {
    let result = fetch(component, url);
    assert_eq!(
        result,
        json!({"error": "HttpRequestDenied"}),
        "{component} → {url}"
    );
}

#[test]
fn an_allowed_host_is_reached() {
    let before = *outbound().allowed.hits.lock().unwrap();
    assert_reached("exact", &allowed_url());
    assert!(
        *outbound().allowed.hits.lock().unwrap() > before,
        "the upstream saw the request"
    );
}

#[test]
fn an_exact_port_allows_only_that_port() {
    assert_denied("exact", &forbidden_url());
}

#[test]
fn port_wildcards_and_ranges() {
    assert_reached("anyport", &allowed_url());
    assert_reached("range", &allowed_url());
    assert_denied("range", &forbidden_url());
}

#[test]
fn no_allow_list_denies_everything() {
    assert_denied("nothing", &allowed_url());
    assert_denied("nothing", "http://self/exact");
}

#[test]
fn a_host_without_port_means_the_default_port() {
    // `http://127.0.0.1` is port 80 only; `:1` is another port.
    assert_denied("wrongport", &allowed_url());
}

#[test]
fn the_scheme_must_match() {
    assert_denied("https-only", &allowed_url());
}

#[test]
fn the_host_must_match() {
    // `localhost` is not `127.0.0.1`, and `*.127.0.0.1` is not `127.0.0.1` itself.
    assert_denied("other-host", &allowed_url());
}

#[test]
fn templates_in_the_allow_list_use_app_variables() {
    assert_reached("templated", &allowed_url());
    assert_denied("templated", &forbidden_url());
}

#[test]
fn a_full_wildcard_allows_anything() {
    assert_reached("star", &allowed_url());
}

#[test]
fn denied_requests_never_reach_the_network() {
    for component in ["exact", "range", "nothing", "templated"] {
        assert_denied(component, &forbidden_url());
    }
    assert_eq!(*outbound().forbidden.hits.lock().unwrap(), 0);
}
