//! The application itself (`spin.toml` at the root) on a real host: intake,
//! consent, consent-checked notification through the composed leaves, the
//! audit chain (and its tamper detection on the database file), and
//! `openapi.yaml` against what is served.

use crm_tests::auth::token;
use crm_tests::{Caller, Host, Reply, json, workspace};
use std::sync::OnceLock;

/// One host for the file, serving the real app with its state in a temp dir.
fn app() -> &'static (Host, tempfile::TempDir) {
    static APP: OnceLock<(Host, tempfile::TempDir)> = OnceLock::new();
    APP.get_or_init(|| {
        let state = tempfile::tempdir().expect("state dir");
        let state_dir = state.path().to_str().expect("utf-8 path").to_string();
        let host = Host::start_shared(&workspace().join("spin.toml"), &["--state-dir", &state_dir]);
        (host, state)
    })
}

fn host() -> &'static Host {
    &app().0
}

/// A staff member who takes in and works on cases.
fn officer() -> Caller<'static> {
    host()
        .as_caller(&token("officer-1", &["intake-officer", "case-worker"]))
        .purpose("case-management")
}

fn auditor() -> Caller<'static> {
    host()
        .as_caller(&token("auditor-1", &["auditor"]))
        .purpose("audit")
}

fn assert_problem(reply: &Reply, status: u16, kind: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let body = reply.json();
    assert_eq!(
        body["type"],
        format!("https://crm.gov.au/problems/{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], status);
}

fn new_contact(name: &str) -> String {
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": name}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().expect("id").to_string()
}

#[test]
fn contacts_are_validated_created_and_read_back() {
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "  Zoë Ngô ", "email": "Zoe@Example.GOV.au"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let created = reply.json();
    let location = reply.header("location").expect("location").to_string();
    assert_eq!(
        location,
        format!("/api/contacts/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["display_name"], "Zoë Ngô");
    assert_eq!(created["emails"], json!(["Zoe@example.gov.au"]));
    let read = officer().get(&location);
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), created);
}

#[test]
fn bad_contacts_are_refused_per_field_and_nothing_is_written() {
    // A good intake first, so the schema exists whatever order tests run in.
    new_contact("Schema Maker");
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "person", "display_name": "", "email": "nope"}),
    );
    assert_problem(&reply, 400, "validation");
    let fields: Vec<String> = reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["archetype", "display_name", "email"]);
    assert_problem(
        &officer().send("POST", "/api/contacts", Some("{not json")),
        400,
        "invalid-json",
    );
    assert_problem(
        &officer().post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": "A", "shoe_size": 9}),
        ),
        400,
        "invalid-json",
    );
    let db = rusqlite::Connection::open(app().1.path().join("sqlite_db.db")).unwrap();
    let written: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM contacts WHERE email = 'nope' OR display_name IN ('', 'A')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(written, 0, "refused intakes must not write contacts");
}

#[test]
fn unknown_routes_and_methods_are_problems() {
    assert_problem(
        &officer().get("/api/contacts/does-not-exist"),
        404,
        "not-found",
    );
    let reply = officer().request("DELETE", "/api/contacts/x", None);
    assert_problem(&reply, 405, "method-not-allowed");
    assert_eq!(reply.header("allow"), Some("GET, PATCH"));
    let outside = host().get("/nowhere");
    assert_eq!(outside.status, 404);
    assert_eq!(outside.json()["type"], "urn:crm-host:problem:not-found");
}

#[test]
fn a_notification_needs_consent_and_withdrawal_takes_effect_at_once() {
    let contact = new_contact("Consent Tester");
    let comms = host()
        .as_caller(&token("comms-app", &["communications-officer"]))
        .purpose("communications");
    let template = comms.post_json(
        "/api/templates",
        &json!({"name": "Claim moved", "type": "portal", "subject": "Your claim", "body": "Your claim moved", "purpose": "status-updates"}),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let template_id = template.json()["id"].as_str().unwrap().to_string();
    let send = || {
        comms.post_json(
            "/api/notifications",
            &json!({"contact_id": contact, "template_id": template_id}),
        )
    };
    let refused = send();
    assert_problem(&refused, 400, "consent-refused");
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("no-consent")
    );

    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let consent = json!({"contact_id": contact, "purpose": "status-updates", "channel": "portal",
        "decision": "given", "notice_id": "general", "notice_version": 1,
        "data_categories": ["contact-details"], "given_at": now_ms,
        "collection": {"method": "phone-call", "call_reference": "CALL-7", "officer_id": "officer-1"}});
    assert_eq!(officer().post_json("/api/consents", &consent).status, 201);
    let sent = send();
    assert_eq!(sent.status, 201, "{}", sent.body);
    let notification_id = sent.json()["id"].as_str().unwrap().to_string();
    let read = comms
        .get(&format!("/api/notifications/{notification_id}"))
        .json();
    assert_eq!(
        read["status"], "delivered",
        "portal messages land in the inbox"
    );
    let interaction = officer().get(&format!(
        "/api/interactions/{}",
        read["interaction_id"].as_str().unwrap()
    ));
    assert_eq!(interaction.status, 200);
    assert_eq!(interaction.json()["direction"], "outbound");
    assert_eq!(
        interaction.json()["notification_id"],
        notification_id.as_str()
    );

    let withdrawal = json!({"contact_id": contact, "purpose": "status-updates",
        "channel": "portal", "via": "phone"});
    assert_eq!(
        officer()
            .post_json("/api/consents/withdrawals", &withdrawal)
            .status,
        200
    );
    let after = send();
    assert_problem(&after, 400, "consent-refused");
    assert!(
        after.json()["detail"]
            .as_str()
            .unwrap()
            .contains("withdrawn")
    );
    let history = officer()
        .get(&format!("/api/consents?contact_id={contact}"))
        .json();
    let events: Vec<&str> = history["history"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["given", "withdrawn"],
        "a withdrawal is an event on the record, nothing overwritten"
    );
}

#[test]
fn consent_records_are_validated() {
    let reply = officer().post_json(
        "/api/consents",
        &json!({"contact_id": "", "purpose": "x", "channel": "pigeon", "decision": "maybe",
            "notice_id": "general", "notice_version": 9, "data_categories": ["contact-details"],
            "collection": {"method": "counter", "officer_id": "officer-1"}, "given_at": 0}),
    );
    assert_problem(&reply, 400, "validation");
    let fields: Vec<String> = reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        ["contact_id", "purpose", "channel", "decision", "notice_id"]
    );
    assert_problem(&officer().get("/api/consents"), 400, "validation");
    let notices = officer().get("/api/privacy-notices").json();
    assert_eq!(notices["privacy_notices"][0]["id"], "general");
}

#[test]
fn interactions_are_appended_and_validated() {
    let contact = new_contact("Caller");
    let reply = officer().post_json(
        "/api/interactions",
        &json!({"contact_id": contact, "channel": "phone", "direction": "inbound", "category": "enquiry",
            "subject": "Asked about a form", "occurred_at": "2023-11-15T09:13:20+11:00"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let interaction = reply.json();
    assert_eq!(interaction["occurred_at"], "2023-11-14T22:13:20.000Z");
    assert!(interaction["recorded_at"].as_str().unwrap() > "2023-11-14T22:13:20.000Z");
    let bad = officer().post_json(
        "/api/interactions",
        &json!({"contact_id": contact, "channel": "fax", "direction": "sideways", "category": "enquiry",
            "subject": " ", "occurred_at": "2999-01-01T00:00:00Z"}),
    );
    assert_problem(&bad, 400, "validation");
    assert_eq!(bad.json()["errors"].as_array().unwrap().len(), 4);
}

#[test]
fn every_action_is_audited_in_an_intact_chain_with_a_cursor() {
    let contact = new_contact("Audited");
    officer().get(&format!("/api/contacts/{contact}"));
    let entries = auditor().get("/api/audit/entries?limit=500").json();
    let actions: Vec<(String, String)> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let resource = format!("contact/{contact}");
    assert!(actions.contains(&("contact.create".into(), resource.clone())));
    assert!(actions.contains(&("contact.read".into(), resource)));
    let verdict = auditor().get("/api/audit/verify").json();
    assert_eq!(verdict["valid"], true, "{verdict}");

    let first = auditor().get("/api/audit/entries?limit=1").json();
    let next = first["next"].as_str().expect("a next page");
    let second = auditor().get(next).json();
    assert_eq!(
        second["entries"][0]["sequence"],
        first["entries"][0]["sequence"].as_i64().unwrap() + 1
    );
    assert_problem(
        &auditor().get("/api/audit/entries?limit=0"),
        400,
        "validation",
    );
}

/// Editing an audit row in the database file is caught by `verify`. It runs on
/// its own host and state, since it breaks the chain.
#[test]
fn tampering_with_the_audit_table_is_detected() {
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let host = Host::start(
        &workspace().join("spin.toml"),
        &["--state-dir", state_dir],
        &[],
    );
    let officer = host.as_caller(&token("officer-2", &["intake-officer"]));
    let auditor = || host.as_caller(&token("auditor-2", &["auditor"]));
    for name in ["One", "Two", "Three"] {
        assert_eq!(
            officer
                .post_json(
                    "/api/contacts",
                    &json!({"archetype": "business", "display_name": name})
                )
                .status,
            201
        );
    }
    assert_eq!(auditor().get("/api/audit/verify").json()["valid"], true);
    let db = rusqlite::Connection::open(state.path().join("sqlite_db.db")).unwrap();
    // The application cannot change the trail...
    let refused = db.execute(
        "UPDATE audit_entries SET actor_id = 'x' WHERE sequence = 2",
        [],
    );
    assert!(
        refused.unwrap_err().to_string().contains("append-only"),
        "the append-only trigger must refuse updates"
    );
    // ...so a tamperer with the file drops the guards first.
    db.execute_batch("DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;")
        .unwrap();
    db.execute(
        "UPDATE audit_entries SET actor_id = 'someone-else' WHERE sequence = 2",
        [],
    )
    .unwrap();
    let verdict = auditor().get("/api/audit/verify").json();
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["first_broken_sequence"], 2);
    db.execute("DELETE FROM audit_entries WHERE sequence = 2", [])
        .unwrap();
    assert_eq!(
        auditor().get("/api/audit/verify").json()["first_broken_sequence"],
        3
    );
    assert!(host.stop().success());
}

/// A caller holding every staff role.
fn everyone() -> Caller<'static> {
    let roles = [
        "intake-officer",
        "case-worker",
        "communications-officer",
        "auditor",
        "administrator",
    ];
    host()
        .as_caller(&token("everyone", &roles))
        .purpose("case-management")
}

/// Every operation in openapi.yaml is served by the app: the host routes it
/// to a component (no host 404) and the component knows it (no 404/405 for
/// an unknown operation).
#[test]
fn every_documented_operation_is_served() {
    let text = std::fs::read_to_string(workspace().join("openapi.yaml")).unwrap();
    let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap().replace("{id}", "unknown-id");
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap().to_ascii_uppercase();
            if method == "PARAMETERS" {
                continue;
            }
            let body = (method == "POST").then_some("{}");
            let reply = everyone().send(&method, &path, body);
            let kind = serde_json::from_str::<serde_json::Value>(&reply.body)
                .ok()
                .and_then(|b| b["type"].as_str().map(String::from));
            assert_ne!(
                kind.as_deref(),
                Some("urn:crm-host:problem:not-found"),
                "{method} {path} is not routed"
            );
            assert_ne!(
                kind.as_deref(),
                Some("https://crm.gov.au/problems/method-not-allowed"),
                "{method} {path}"
            );
            let unknown_operation = reply.status == 404 && !path.contains("unknown-id");
            assert!(!unknown_operation, "{method} {path}: {}", reply.body);
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} operations checked");
}
