//! `openapi.yaml` is true of the running app, as schemathesis finds it: every
//! operation, every phase (examples, coverage, fuzzing, stateful), checked for
//! no server error and for status codes, content types and bodies the
//! document promises, once in each role with a valid purpose of use, and once
//! as a GOV.UK Notify client on `/v2`. Each run has a time budget
//! (`CRM_SCHEMATHESIS_SECONDS`, default 25 s) so the whole stays within a few
//! minutes of CI; a failure prints schemathesis' report with its seed and a
//! `curl` to reproduce it.

use std::path::PathBuf;
use std::process::Command;

use crm_auth::policy::MATRIX;
use crm_tests::app::{App, admin, new_contact};
use crm_tests::auth::{api_key, link_citizen, token};
use crm_tests::{json, workspace};

use crate::CHECKPOINT_SEED;

/// The checks: a 5xx, and anything the document does not promise.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// Test-only secrets, so that no operation is off for want of configuration.
const LINK_KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SEALING_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The `st` of the pinned schemathesis that `scripts/test` installs from
/// `tests/schemathesis/requirements.txt`, or `CRM_SCHEMATHESIS`.
fn schemathesis() -> PathBuf {
    let path = std::env::var_os("CRM_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/schemathesis/bin/st"));
    assert!(
        path.exists(),
        "{} is missing: scripts/test installs it (python3 -m venv target/schemathesis && \
         target/schemathesis/bin/pip install -r tests/schemathesis/requirements.txt)",
        path.display()
    );
    path
}

fn seconds_per_run() -> String {
    std::env::var("CRM_SCHEMATHESIS_SECONDS").unwrap_or_else(|_| "25".into())
}

/// One schemathesis run against `app`; the report when it fails.
fn run(app: &App, label: &str, args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let base_url = app.host.url("");
    let output = Command::new(schemathesis())
        // Its own state (`.schemathesis/`) goes with the app's.
        .current_dir(app.state_dir())
        .arg("run")
        .arg(workspace().join("openapi.yaml"))
        .args([
            "--url",
            base_url.trim_end_matches('/'),
            "--checks",
            CHECKS,
            "--workers",
            "1",
        ])
        .args(["--max-time", &seconds_per_run()])
        .args(["--max-failures", "20", "--no-color"])
        .args(args)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", workspace().join("tests/schemathesis"))
        .envs(env.iter().copied())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&output.stdout);
    println!(
        "schemathesis as {label}: {}",
        report.lines().last().unwrap_or("")
    );
    (!output.status.success()).then(|| {
        format!(
            "== as {label}\n{report}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The queue every staff caller of the run is a member of.
const QUEUE: &str = "schemathesis";

/// Case management's own data, so that generated requests reach past "no
/// such case" (the hooks put these ids into paths and bodies): a queue with
/// every staff caller in it, and cases in it, one about the citizen and one
/// restricted. Answers the case ids, comma-separated.
fn case_management_data(host: &crm_tests::Host, citizen_contact: &str) -> String {
    let members: Vec<_> = ["intake-officer", "case-worker", "administrator"]
        .iter()
        .map(|role| json!({"officer": format!("staff:schemathesis-{role}"), "capacity": 1000}))
        .collect();
    let queue = admin(host, "schemathesis-admin").request(
        "PUT",
        &format!("/api/queues/{QUEUE}"),
        Some(&json!({"name": "Schemathesis", "ordering": ["due"], "members": members})),
    );
    assert_eq!(queue.status, 200, "{}", queue.body);
    let worker = host.as_caller(&token("schemathesis-case-worker", &["case-worker"]));
    [
        json!({"case_type": "general-enquiry", "subject": "About the citizen",
               "contact_id": citizen_contact, "queue_id": QUEUE}),
        json!({"case_type": "correction-request", "subject": "Restricted",
               "queue_id": QUEUE, "confidentiality": "restricted"}),
    ]
    .iter()
    .map(|body| {
        let case = worker.post_json("/api/cases", body);
        assert_eq!(case.status, 201, "{}", case.body);
        case.json()["id"].as_str().unwrap().to_string()
    })
    .collect::<Vec<_>>()
    .join(",")
}

#[test]
fn schemathesis_finds_openapi_yaml_true_in_every_role() {
    let key = format!("audit_checkpoint_key={CHECKPOINT_SEED}");
    let links = format!("consent_link_keys={LINK_KEYS}");
    let sealing = format!("notification_sealing_key={SEALING_KEY}");
    let app = App::start(&[
        "--variable",
        &key,
        "--variable",
        &links,
        "--variable",
        &sealing,
    ]);
    let host = &app.host;

    // A citizen linked to a contact, and a service key holding every scope.
    let own_contact = new_contact(host, "Schemathesis Citizen");
    link_citizen(&app.db_path(), "schemathesis-citizen", &own_contact);
    let scopes: Vec<&str> = MATRIX
        .iter()
        .filter(|row| row.service_scope)
        .map(|row| row.name)
        .collect();
    let service_key = api_key(&app.db_path(), "schemathesis", &scopes);
    // A Notify service and live key for `/v2`.
    let service = admin(host, "schemathesis-admin").post_json(
        "/api/notifications/services",
        &json!({"name": "Schemathesis"}),
    );
    assert_eq!(service.status, 201, "{}", service.body);
    let service_id = service.json()["id"].as_str().unwrap().to_string();
    let notify_key = admin(host, "schemathesis-admin").post_json(
        &format!("/api/notifications/services/{service_id}/keys"),
        &json!({"name": "live key", "key_type": "live"}),
    );
    assert_eq!(notify_key.status, 201, "{}", notify_key.body);
    let notify_key = notify_key.json()["key"].as_str().unwrap().to_string();

    let cases = case_management_data(host, &own_contact);

    let mut credentials: Vec<(String, String)> = [
        "intake-officer",
        "case-worker",
        "communications-officer",
        "auditor",
        "administrator",
    ]
    .iter()
    .map(|role| {
        (
            role.to_string(),
            token(&format!("schemathesis-{role}"), &[role]),
        )
    })
    .collect();
    credentials.push((
        "citizen".into(),
        token("schemathesis-citizen", &["citizen"]),
    ));
    credentials.push(("service".into(), service_key));

    let mut failures = Vec::new();
    for (label, credential) in &credentials {
        let authorization = format!("Authorization: Bearer {credential}");
        failures.extend(run(
            &app,
            label,
            &[
                "--header",
                &authorization,
                "--header",
                "purpose-of-use: case-management",
                "--exclude-path-regex",
                "^/v2/",
            ],
            &[("CRM_CASE_IDS", &cases), ("CRM_QUEUE_IDS", QUEUE)],
        ));
    }
    failures.extend(run(
        &app,
        "a GOV.UK Notify client",
        &["--include-path-regex", "^/v2/"],
        &[("CRM_NOTIFY_KEY", &notify_key)],
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
