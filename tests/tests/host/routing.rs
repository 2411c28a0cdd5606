//! Spin's HTTP routing on crm-host: exact and `/...` wildcard routes, the most
//! specific route winning, the `spin-*` request headers' exact values, private
//! components reachable only by in-process chaining, and the built-in
//! `/.well-known/spin/` endpoints.

use crm_tests::conformance::*;
use std::sync::OnceLock;

fn host() -> &'static Host {
    static HOST: OnceLock<(Host, AppDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let mut manifest = HEADER.to_string();
            manifest += &trigger("/exact", "exact");
            manifest += &trigger("/wild/...", "wild");
            manifest += &trigger("/wild/deeper/...", "deeper");
            manifest += &trigger("/wild/exact", "wild-exact");
            manifest += &private_trigger("hidden");
            manifest += &probe("exact", "");
            manifest += &probe(
                "wild",
                r#"allowed_outbound_hosts = ["http://self", "http://*.spin.internal"]"#,
            );
            manifest += &probe("deeper", "");
            manifest += &probe("wild-exact", "");
            manifest += &probe("hidden", "");
            let app = AppDir::new(&manifest);
            let host = start_shared(&app, &[]);
            (host, app)
        })
        .0
}

/// GETs `path` and returns the probe's view of the request.
fn probe_view(path: &str) -> Value {
    let reply = host().get(path);
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
    assert_eq!(
        reply.header("x-probe"),
        Some("1"),
        "guest's own header is passed through"
    );
    reply.json()
}

fn header<'a>(view: &'a Value, name: &str) -> &'a str {
    view["headers"][name]
        .as_str()
        .unwrap_or_else(|| panic!("header {name} missing in {view}"))
}

#[test]
fn exact_route_and_its_spin_headers() {
    let view = probe_view("/exact");
    assert_eq!(view["probe_name"], "exact");
    assert_eq!(view["path"], "/exact");
    assert_eq!(header(&view, "spin-matched-route"), "/exact");
    assert_eq!(header(&view, "spin-raw-component-route"), "/exact");
    assert_eq!(header(&view, "spin-component-route"), "/exact");
    assert_eq!(header(&view, "spin-path-info"), "");
    assert_eq!(header(&view, "spin-base-path"), "/");
    assert_eq!(header(&view, "spin-full-url"), host().url("/exact"));
    // An exact route does not match below itself.
    assert_host_problem(&host().get("/exact/more"), 404, "not-found");
}

#[test]
fn wildcard_route_path_info() {
    for (path, info) in [
        ("/wild", ""),
        ("/wild/", "/"),
        ("/wild/a", "/a"),
        ("/wild/a/b", "/a/b"),
        ("/wild/a/b/", "/a/b/"),
    ] {
        let view = probe_view(path);
        assert_eq!(view["probe_name"], "wild", "{path}");
        assert_eq!(header(&view, "spin-path-info"), info, "{path}");
        assert_eq!(header(&view, "spin-matched-route"), "/wild/...", "{path}");
        assert_eq!(
            header(&view, "spin-raw-component-route"),
            "/wild/...",
            "{path}"
        );
        assert_eq!(header(&view, "spin-component-route"), "/wild", "{path}");
        assert_eq!(header(&view, "spin-base-path"), "/", "{path}");
    }
    // A wildcard matches whole segments only.
    assert_host_problem(&host().get("/wildcat"), 404, "not-found");
}

#[test]
fn most_specific_route_wins() {
    let view = probe_view("/wild/deeper/x");
    assert_eq!(view["probe_name"], "deeper");
    assert_eq!(header(&view, "spin-path-info"), "/x");
    assert_eq!(header(&view, "spin-component-route"), "/wild/deeper");
    assert_eq!(probe_view("/wild/deeper")["probe_name"], "deeper");
    // An exact route beats a wildcard covering it...
    let view = probe_view("/wild/exact");
    assert_eq!(view["probe_name"], "wild-exact");
    assert_eq!(header(&view, "spin-matched-route"), "/wild/exact");
    // ...but only for its exact path.
    let view = probe_view("/wild/exact/x");
    assert_eq!(view["probe_name"], "wild");
    assert_eq!(header(&view, "spin-path-info"), "/exact/x");
    // `/wild/deeperx` is not under `/wild/deeper/...`.
    let view = probe_view("/wild/deeperx");
    assert_eq!(view["probe_name"], "wild");
    assert_eq!(header(&view, "spin-path-info"), "/deeperx");
}

#[test]
fn full_url_client_addr_query_and_request_headers() {
    let reply = host().request(
        "GET",
        "/wild/a?x=1&y=two",
        &[("x-custom", "abc"), ("accept", "text/plain")],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let view = reply.json();
    assert_eq!(view["query"], "x=1&y=two");
    assert_eq!(
        header(&view, "spin-full-url"),
        host().url("/wild/a?x=1&y=two")
    );
    assert_eq!(header(&view, "x-custom"), "abc");
    assert_eq!(header(&view, "accept"), "text/plain");
    let client: std::net::SocketAddr = header(&view, "spin-client-addr")
        .parse()
        .expect("spin-client-addr is ip:port");
    assert_eq!(client.ip().to_string(), "127.0.0.1");
    let server_port: u16 = host().base.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(
        client.port(),
        server_port,
        "the client's port, not the server's"
    );
    assert_ne!(client.port(), 0);
}

#[test]
fn full_url_uses_the_host_header() {
    let reply = host().request(
        "GET",
        "/wild/h?q=1",
        &[("host", "crm.example.test:8080")],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let view = reply.json();
    assert_eq!(
        header(&view, "spin-full-url"),
        "http://crm.example.test:8080/wild/h?q=1"
    );
}

#[test]
fn methods_and_bodies_reach_the_guest() {
    let reply = host().request("PUT", "/exact", &[], Some(b"0123456789"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let view = reply.json();
    assert_eq!(view["method"], "PUT");
    assert_eq!(view["body_len"], 10);
    let view = host().request("DELETE", "/wild/z", &[], None).json();
    assert_eq!(view["method"], "DELETE");
}

#[test]
fn unknown_paths_are_404_problems() {
    for path in ["/", "/nope", "/exac", "/hidden", "/.well-known/spin/nope"] {
        assert_host_problem(&host().get(path), 404, "not-found");
    }
}

#[test]
fn private_component_is_reachable_only_by_chaining() {
    // From outside: no route leads to it (checked above). From inside:
    let url = enc("http://hidden.spin.internal/any/path?op=headers");
    let reply = host().get(&format!("/wild/chain?op=fetch&url={url}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let fetched = reply.json();
    assert_eq!(fetched["status"], 200, "{fetched}");
    let inner: Value = serde_json::from_str(fetched["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["probe_name"], "hidden", "{inner}");
    assert_eq!(inner["path"], "/any/path");
}

#[test]
fn self_requests_go_through_the_router() {
    let url = enc("http://self/wild/deeper/q?op=headers");
    let fetched = host()
        .get(&format!("/wild/chain?op=fetch&url={url}"))
        .json();
    assert_eq!(fetched["status"], 200, "{fetched}");
    let inner: Value = serde_json::from_str(fetched["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["probe_name"], "deeper", "{inner}");
    assert_eq!(inner["headers"]["spin-path-info"], "/q", "{inner}");
    // Through `self`, the router still has no route to the private component.
    let url = enc("http://self/hidden");
    let fetched = host()
        .get(&format!("/wild/chain?op=fetch&url={url}"))
        .json();
    assert_eq!(fetched["status"], 404, "{fetched}");
}

#[test]
fn chaining_needs_the_allow_list_too() {
    // `exact` has no allowed_outbound_hosts: neither `self` nor `*.spin.internal`.
    for url in ["http://self/exact", "http://hidden.spin.internal/"] {
        let fetched = host()
            .get(&format!("/exact?op=fetch&url={}", enc(url)))
            .json();
        assert_eq!(fetched["error"], "HttpRequestDenied", "{url}: {fetched}");
    }
}

#[test]
fn health_endpoint() {
    let reply = host().get("/.well-known/spin/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.trim(), "OK");
}

#[test]
fn info_endpoint() {
    // The contract (design.md): `{"version": <crm-host version>, "build_info": ...,
    // "components": [ids]}`. (Spin itself answers the app's name and version.)
    let reply = host().get("/.well-known/spin/info");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let info = reply.json();
    let version = std::process::Command::new(host_bin())
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    let version = version
        .split_whitespace()
        .last()
        .expect("crm-host --version");
    assert_eq!(info["version"], version, "{info}");
    let components: Vec<&str> = info["components"]
        .as_array()
        .unwrap_or_else(|| panic!("components list in {info}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for id in ["exact", "wild", "deeper", "wild-exact"] {
        assert!(components.contains(&id), "{id} in {info}");
    }
    assert!(info.get("build_info").is_some(), "build_info in {info}");
}

#[test]
fn startup_banner_lists_the_routes() {
    let stdout = host().stdout.lines();
    assert_eq!(stdout[0], format!("Serving {}", host().base));
    assert_eq!(stdout[1], "Available Routes:");
    let routes = stdout[2..].join("\n");
    for (id, route) in [
        ("exact", "/exact"),
        ("wild", "/wild/..."),
        ("deeper", "/wild/deeper/..."),
        ("wild-exact", "/wild/exact"),
    ] {
        assert!(
            routes.contains(&format!("{id}: {}{route}", host().base)),
            "{id} {route} in\n{routes}"
        );
    }
    assert!(
        !routes.contains("hidden"),
        "private components have no route:\n{routes}"
    );
}
