//! One JSON request log line per request on stderr (method, path,
//! component, status, duration, request id), and guest stdout/stderr lines
//! prefixed with the component id.

use crm_tests::conformance::*;
use std::sync::OnceLock;
use std::time::Duration;

fn host() -> &'static Host {
    static HOST: OnceLock<(Host, AppDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let mut manifest = HEADER.to_string();
            manifest += &trigger("/log/...", "logger");
            manifest += &trigger("/other", "other-logger");
            manifest += &probe("logger", "");
            manifest += &probe("other-logger", "");
            let app = AppDir::new(&manifest);
            let host = start_shared(&app, &[]);
            (host, app)
        })
        .0
}

/// The request log lines for exactly `path`, waiting (bounded) for `n` of them.
fn log_lines(path: &str, n: usize) -> Vec<Value> {
    poll(Duration::from_secs(5), || {
        let lines: Vec<Value> = request_log(host())
            .into_iter()
            .filter(|l| l["path"] == path)
            .collect();
        (lines.len() >= n).then_some(lines)
    })
    .unwrap_or_else(|| {
        panic!(
            "fewer than {n} log lines for {path}:\n{}",
            host().stderr.lines().join("\n")
        )
    })
}

#[test]
fn each_request_logs_one_structured_line() {
    let reply = host().get("/log/one?op=status&code=418");
    assert_eq!(reply.status, 418);
    let lines = log_lines("/log/one", 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["level"], "info", "{line}");
    assert_eq!(line["msg"], "request", "{line}");
    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["component"], "logger", "{line}");
    assert_eq!(line["status"], 418, "{line}");
    let duration = line["duration_ms"]
        .as_f64()
        .unwrap_or_else(|| panic!("duration_ms in {line}"));
    assert!((0.0..60_000.0).contains(&duration), "{line}");
    assert!(
        line["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{line}"
    );
}

#[test]
fn every_request_gets_its_own_line_and_id() {
    for _ in 0..5 {
        assert_eq!(
            host().request("POST", "/other", &[], Some(b"x")).status,
            200
        );
    }
    let lines = log_lines("/other", 5);
    assert_eq!(lines.len(), 5, "{lines:?}");
    let mut ids: Vec<&str> = lines
        .iter()
        .map(|l| l["request_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "request ids are unique: {ids:?}");
    for line in &lines {
        assert_eq!(line["method"], "POST");
        assert_eq!(line["component"], "other-logger");
    }
}

#[test]
fn failures_are_logged_with_their_status() {
    assert_eq!(host().get("/log/trap?op=trap").status, 500);
    let line = &log_lines("/log/trap", 1)[0];
    assert_eq!(line["status"], 500, "{line}");
    assert_eq!(line["component"], "logger", "{line}");
    assert_eq!(host().get("/not-routed").status, 404);
    let line = &log_lines("/not-routed", 1)[0];
    assert_eq!(line["status"], 404, "{line}");
}

#[test]
fn the_log_path_has_no_query_string() {
    assert_eq!(host().get("/log/q?op=headers&secret=abc").status, 200);
    let line = &log_lines("/log/q", 1)[0];
    assert!(!line.to_string().contains("secret=abc"), "{line}");
}

#[test]
fn guest_output_is_prefixed_with_the_component_id() {
    let token = "token-7f3a";
    assert_eq!(
        host().get(&format!("/log/p?op=print&msg={token}")).status,
        200
    );
    let expected = format!("[logger] {token}");
    let out = poll(Duration::from_secs(5), || {
        host()
            .stdout
            .lines()
            .into_iter()
            .find(|l| l.contains(token))
    });
    assert_eq!(
        out.as_deref(),
        Some(expected.as_str()),
        "guest stdout on the host's stdout"
    );
    let err = poll(Duration::from_secs(5), || {
        host()
            .stderr
            .lines()
            .into_iter()
            .find(|l| l.contains(token))
    });
    assert_eq!(
        err.as_deref(),
        Some(expected.as_str()),
        "guest stderr on the host's stderr"
    );
}

#[test]
fn multi_line_guest_output_is_prefixed_line_by_line() {
    let msg = enc("first-line-x1\nsecond-line-x1");
    assert_eq!(
        host().get(&format!("/other?op=print&msg={msg}")).status,
        200
    );
    for needle in ["first-line-x1", "second-line-x1"] {
        let line = poll(Duration::from_secs(5), || {
            host()
                .stdout
                .lines()
                .into_iter()
                .find(|l| l.contains(needle))
        });
        assert_eq!(line, Some(format!("[other-logger] {needle}")));
    }
}
