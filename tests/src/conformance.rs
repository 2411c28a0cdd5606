//! What the host conformance tests (`tests/tests/host/`) share: manifests
//! around the purpose-built guests in `tests/guests/`, hosts started with the
//! run's shared compiled-code cache ([`cache_args`](crate::cache_args)), and
//! checks of the host's own problems and refusals.

//! Its `start*` functions stand in for the root's, so host tests need only
//! `use crm_tests::conformance::*;`.

pub use crate::*;
use std::time::{Duration, Instant};

/// Starts a host on `app` with the shared cache and `extra` arguments.
pub fn start(app: &AppDir, extra: &[&str]) -> Host {
    start_env(app, extra, &[])
}

/// Like [`start`], with extra environment variables for the host process.
pub fn start_env(app: &AppDir, extra: &[&str], env: &[(&str, &str)]) -> Host {
    let all = cache_args(extra);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    Host::start(&app.manifest(), &all, env)
}

/// A host that lives for the rest of the test binary (for a module's shared host).
pub fn start_shared(app: &AppDir, extra: &[&str]) -> Host {
    let all = cache_args(extra);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    Host::start_shared(&app.manifest(), &all)
}

/// Starts a host expected to refuse to start.
pub fn start_failure(app: &AppDir, extra: &[&str]) -> Failure {
    let all = cache_args(extra);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    crate::start_failure(&app.manifest(), &all)
}

/// Asserts a refused start: non-zero exit, and stderr mentions every needle.
pub fn assert_refused(failure: &Failure, needles: &[&str]) {
    assert!(
        !failure.status.success(),
        "crm-host should have refused to start; it exited {}:\n{}",
        failure.status,
        failure.stderr
    );
    for needle in needles {
        assert!(
            failure.stderr.contains(needle),
            "crm-host's refusal should mention `{needle}`:\n{}",
            failure.stderr
        );
    }
}

/// The manifest header of a test app.
pub const HEADER: &str = r#"spin_manifest_version = 2

[application]
name = "conformance"
version = "9.8.7"
"#;

/// `[component.<id>]` running the probe guest; `extra` is more TOML lines for
/// the component table (e.g. `key_value_stores = ["default"]`).
pub fn probe(id: &str, extra: &str) -> String {
    format!(
        "\n[component.{id}]\nsource = \"{{wasm:guest_probe}}\"\nenvironment = {{ PROBE_NAME = \"{id}\" }}\n{extra}\n"
    )
}

/// `[[trigger.http]]` for `route` (a string route, already quoted TOML value
/// when `raw`), to `component`.
pub fn trigger(route: &str, component: &str) -> String {
    format!("\n[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n")
}

/// A private trigger for `component`.
pub fn private_trigger(component: &str) -> String {
    format!("\n[[trigger.http]]\nroute = {{ private = true }}\ncomponent = \"{component}\"\n")
}

/// Percent-encodes a query parameter value.
pub fn enc(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Polls `check` every 20 ms until it returns `Some`, for at most `timeout`.
pub fn poll<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The request log lines (JSON objects with `"msg":"request"`) a host wrote to stderr.
pub fn request_log(host: &Host) -> Vec<Value> {
    host.stderr
        .lines()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["msg"] == "request")
        .collect()
}

/// Asserts a host-generated problem+json reply of `status` and `kind`
/// (`urn:crm-host:problem:<kind>`), returning its body.
pub fn assert_host_problem(reply: &Reply, status: u16, kind: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{reply:?}"
    );
    let body = reply.json();
    assert_eq!(
        body["type"],
        format!("urn:crm-host:problem:{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(body["detail"].is_string(), "{body}");
    body
}
