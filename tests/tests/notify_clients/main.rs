//! GOV.UK Notify compatibility (issue 18): the project's own suites drive
//! the official clients through every operation they offer against a real
//! crm-host serving the app's `spin.toml`, and check every answer against
//! JSON Schemas written from Notify's API documentation
//! (`tests/notify-clients/schemas`). Each runs once with a test key and
//! once with a live key, on one host, in the environment
//! `tests/notify-clients/notify_env.py` makes (a service, its keys,
//! Notify's functional-test templates, senders and received texts).
//! `scripts/test` installs the clients: notifications-python-client 13.0.0
//! with jsonschema in `target/notify-clients`
//! (`tests/notify-clients/requirements.txt`) and notifications-node-client
//! 8.4.0 with mocha and ajv (`npm ci` in `tests/notify-clients/node`).

use std::path::PathBuf;
use std::process::Command;

use crm_tests::auth::cli_bin;
use crm_tests::{cache_dir, host_bin, workspace};

/// Runs `tests/notify-clients/<runner>`; panics with its output unless
/// every test of the suite passed with both keys.
fn suite_passes(runner: &str) {
    let python = workspace().join("target/notify-clients/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/test makes it from tests/notify-clients/requirements.txt",
        python.display()
    );
    let path = |p: PathBuf| p.display().to_string();
    let output = Command::new(python)
        .arg(workspace().join("tests/notify-clients").join(runner))
        .args(["--manifest", &path(workspace().join("spin.toml"))])
        .args(["--host-bin", &path(host_bin())])
        .args(["--cli", &path(cli_bin())])
        .args(["--cache-dir", &path(cache_dir())])
        .args(["--key-type", "test", "--key-type", "live"])
        .output()
        .expect("run the suite's runner");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{runner} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    println!("{stdout}");
}

/// notifications-python-client (`tests/notify-clients/python/steps.py`).
#[test]
fn python_client_suite_passes_with_test_and_live_keys() {
    suite_passes("python_suite.py");
}

/// notifications-node-client (`tests/notify-clients/node/spec`).
#[test]
fn node_client_suite_passes_with_test_and_live_keys() {
    suite_passes("node_suite.py");
}
