//! A case's status changes told to its citizen through the notification
//! component's consent-checked send: once per change, never without
//! consent for `case-updates`.

use crm_tests::app::{App, comms, officer};
use crm_tests::{Host, cache_args, workspace};
use serde_json::json;

use super::*;

/// A contact reachable by email, taken in on `host`.
fn contact(host: &Host, name: &str, email: &str) -> String {
    let reply = officer(host, "officer-notify").post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": name, "email": email, "preferred_channel": "email"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_string()
}

fn consent(host: &Host, contact: &str, decision: &str) {
    let by = officer(host, "officer-notify");
    let reply = if decision == "withdrawn" {
        by.post_json(
            "/api/consents/withdrawals",
            &crm_tests::consent::withdrawal(contact, "case-updates", "email"),
        )
    } else {
        by.post_json(
            "/api/consents",
            &crm_tests::consent::decision(
                contact,
                "case-updates",
                "email",
                decision,
                "officer-notify",
            ),
        )
    };
    assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
}

#[test]
fn a_resolved_case_is_told_to_its_citizen_once_and_only_with_consent() {
    // The template must exist before the host that names it starts: a
    // first host makes it, a second serves the same state with it set.
    let first = App::start(&[]);
    let template = comms(&first.host, "comms-notify").post_json(
        "/api/templates",
        &json!({"name": "Case update", "type": "email", "subject": "Your case ((reference))",
                "body": "Your case ((reference)) is now ((status)).", "purpose": "case-updates"}),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let template = template.json()["id"].as_str().unwrap().to_string();
    let willing = contact(&first.host, "Willing Citizen", "willing@example.com");
    let unwilling = contact(&first.host, "Unwilling Citizen", "unwilling@example.com");
    consent(&first.host, &willing, "given");
    consent(&first.host, &unwilling, "given");
    consent(&first.host, &unwilling, "withdrawn");
    let state = first.state_dir().to_str().unwrap().to_string();
    let variable = format!("case_update_templates={template}");
    let args = cache_args(&["--state-dir", &state, "--variable", &variable]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let host = Host::start(&workspace().join("spin.toml"), &args, &[]);

    let by = host
        .as_caller(&token("worker-notify", &["case-worker"]))
        .purpose("case-management");
    let dispatcher = host.as_caller(&token("admin-notify", &["administrator"]));
    let mut references = Vec::new();
    for who in [&willing, &unwilling] {
        let reply = by.post_json("/api/cases", &enquiry("Told or not", Some(who), None));
        assert_eq!(reply.status, 201, "{}", reply.body);
        let case = reply.json();
        let id = case["id"].as_str().unwrap();
        for to in ["in-progress", "resolved"] {
            assert_eq!(transition(&by, id, to).status, 200);
        }
        references.push(case["reference"].as_str().unwrap().to_string());
    }
    let dispatch = || {
        let reply = dispatcher.post_json("/api/notifications/dispatch", &json!({}));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    };
    // new → in-progress is not told; in-progress → resolved is, to the
    // willing citizen only.
    assert_eq!(dispatch()["case_updates_queued"], 1);
    assert_eq!(dispatch()["case_updates_queued"], 0, "each change once");
    let db = first.db();
    let told = |contact: &str, reference: &str| -> Vec<String> {
        db.prepare("SELECT body FROM notifications WHERE contact_id = ?1 AND reference = ?2")
            .unwrap()
            .query_map([contact, reference], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        told(&willing, &references[0]),
        [format!("Your case {} is now Resolved.", references[0])]
    );
    assert!(told(&unwilling, &references[1]).is_empty());
}
