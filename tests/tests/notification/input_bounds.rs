//! Input that must be refused with the field that failed (issue 15, items
//! 6 and 7): an unbounded `reference` or `personalisation`, control
//! characters, bodies not labelled JSON, and JSON of the wrong type.

use crm_tests::app::{assert_problem, error_fields};
use crm_tests::{Host, json};

use crate::notification::{
    app, assert_notify_error, comms, consent, notify_client, notify_service, pseudo_contact,
    template, use_templates,
};

const ADDRESS: &str = "bounds@example.gov.au";
/// `/v2`'s own recipient, so its consent is not recorded at the same moment
/// as [`ADDRESS`]'s by a test running beside it.
const V2_ADDRESS: &str = "bounds-v2@example.gov.au";

/// An email template whose purpose `address` has consented to.
fn email_template_consented_to(host: &Host, address: &str) -> String {
    let email = template(
        host,
        "email",
        Some("Ref ((ref))"),
        "Hello ((name))",
        "claim-updates",
    );
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    email
}

#[test]
fn reference_and_personalisation_are_bounded() {
    let host = &app().host;
    let email = email_template_consented_to(host, ADDRESS);
    let send = |reference: &str, name: &str| {
        comms(host).post_json(
            "/api/notifications",
            &json!({"template_id": email, "email_address": ADDRESS, "reference": reference,
                    "personalisation": {"name": name, "ref": "R1"}}),
        )
    };
    let megabyte = "x".repeat(1 << 20);
    for (reference, name, field) in [
        (megabyte.as_str(), "Ann", "reference"),
        (&"r".repeat(1001), "Ann", "reference"),
        ("ref\u{0}1", "Ann", "reference"),
        ("ref-1", megabyte.as_str(), "personalisation.name"),
        ("ref-1", "An\u{0}n", "personalisation.name"),
    ] {
        let reply = send(reference, name);
        assert_eq!(
            error_fields(&assert_problem(&reply, 400, "validation")),
            [field],
            "{}",
            &reply.body[..reply.body.len().min(300)]
        );
    }
    // Many values, each within bounds, still have a total.
    let many: serde_json::Map<String, serde_json::Value> = (0..40)
        .map(|i| (format!("k{i}"), json!("v".repeat(9_000))))
        .collect();
    let mut body = json!({"template_id": email, "email_address": ADDRESS, "personalisation": many});
    body["personalisation"]["name"] = json!("Ann");
    body["personalisation"]["ref"] = json!("R1");
    let reply = comms(host).post_json("/api/notifications", &body);
    assert_eq!(
        error_fields(&assert_problem(&reply, 400, "validation")),
        ["personalisation"]
    );
    // At the bounds, and with a multi-line value, the send goes through.
    let reply = send(&"r".repeat(1000), "Ann\nLee");
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["reference"], "r".repeat(1000));
}

#[test]
fn a_body_not_labelled_json_is_refused_and_type_errors_name_their_path() {
    let host = &app().host;
    let body = json!({"name": "Plain", "type": "email", "subject": "S", "body": "B", "purpose": "claim-updates"});
    for path in ["/api/templates", "/api/notifications"] {
        let reply = comms(host).send_as("POST", path, "text/plain", &body.to_string());
        assert_problem(&reply, 415, "unsupported-media-type");
    }
    let mut typed = body.clone();
    typed["body"] = json!(["B"]);
    let reply = comms(host).post_json("/api/templates", &typed);
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(error_fields(&problem), ["body"], "{problem}");
    let reply = comms(host).post_json(
        "/api/notifications",
        &json!({"template_ids": ["a", 2], "email_address": ADDRESS}),
    );
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(error_fields(&problem), ["template_ids[1]"], "{problem}");
}

#[test]
fn notify_v2_bounds_what_it_stores_or_echoes() {
    let host = &app().host;
    let email = email_template_consented_to(host, V2_ADDRESS);
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&email]);
    let send = |extra: serde_json::Value| {
        let mut body = json!({"email_address": V2_ADDRESS, "template_id": email,
                              "personalisation": {"name": "Ann", "ref": "R1"}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        notify_client(host, &key, 0).post_json("/v2/notifications/email", &body)
    };
    for (extra, message) in [
        (
            json!({"reference": "r".repeat(1001)}),
            "reference must be at most 1000 characters",
        ),
        (
            json!({"personalisation": {"name": "x".repeat(10_001), "ref": "R1"}}),
            "personalisation.name must be at most 10000 characters",
        ),
        (
            json!({"one_click_unsubscribe_url": "javascript:alert(1)"}),
            "one_click_unsubscribe_url is not a valid https url",
        ),
        (
            json!({"one_click_unsubscribe_url": format!("https://example.gov.au/{}", "u".repeat(2048))}),
            "one_click_unsubscribe_url is not a valid https url",
        ),
        (
            json!({"email_reply_to_id": "x".repeat(1 << 20)}),
            "email_reply_to_id is not a valid UUID",
        ),
    ] {
        let reply = send(extra);
        assert_eq!(assert_notify_error(&reply, 400, "ValidationError"), message);
    }
    let reply =
        send(json!({"one_click_unsubscribe_url": "https://example.gov.au/unsubscribe?u=1"}));
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[test]
fn a_services_callback_token_is_one_bounded_line() {
    let host = &app().host;
    let service = |url: &str, token: &str| {
        crm_tests::app::admin(host, "admin-bounds").post_json(
            "/api/notifications/services",
            &json!({"name": "Bounds", "callback_url": url, "callback_bearer_token": token}),
        )
    };
    let url = "http://127.0.0.1:9/callbacks";
    for (url, token, field) in [
        (
            url,
            "secret-token\r\nX-Injected: 1",
            "callback_bearer_token",
        ),
        (url, &*"t".repeat(1001), "callback_bearer_token"),
        (url, "short", "callback_bearer_token"),
        (
            &*format!("{url}/{}", "p".repeat(2048)),
            "secret-token-1",
            "callback_url",
        ),
        (
            "http://127.0.0.1:9/a\u{0}b",
            "secret-token-1",
            "callback_url",
        ),
    ] {
        let reply = service(url, token);
        assert_eq!(
            error_fields(&assert_problem(&reply, 400, "validation")),
            [field],
            "{token:?}"
        );
    }
    assert_eq!(service(url, "secret-token-1").status, 201);
}
