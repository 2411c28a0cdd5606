//! GOV.UK Notify compatibility (issue 18): what the official clients'
//! integration suites check, each against a real host: `sanitised_content`,
//! phone numbers compared and stored as Notify does, templates scoped to
//! services, reply-to addresses and SMS senders, and the shapes of
//! Notify's answers.

use crm_tests::{Host, json};

use crate::notification::{
    app, assert_notify_error, consent, notify_client, notify_service, pseudo_contact, template,
};

/// An email template `address` has consented to be sent.
fn consented_email(host: &Host, address: &str, body: &str) -> String {
    let id = template(host, "email", Some("Subject"), body, "claim-updates");
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    id
}

/// `sanitise_content_for` escapes the named values as Notify does (links
/// removed, Markdown characters escaped) and every email send answers
/// with `sanitised_content`: what changed, before and after.
#[test]
fn email_sends_answer_sanitised_content() {
    let host = &app().host;
    let address = "sanitised@example.gov.au";
    let email = consented_email(host, address, "Hi ((name)), see ((link))");
    let (_, key) = notify_service(host, json!({}), "test");
    let send = |body: serde_json::Value| {
        notify_client(host, &key, 0).post_json("/v2/notifications/email", &body)
    };
    let plain = send(json!({"email_address": address, "template_id": email,
        "personalisation": {"name": "Ann", "link": "[x](https://evil.example)"}}));
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(
        plain.json()["sanitised_content"],
        json!({}),
        "{}",
        plain.body
    );

    let sanitised = send(json!({"email_address": address, "template_id": email,
        "personalisation": {"name": "a-b", "LINK": "please [click](https://evil.example) or www.gov.uk"},
        "sanitise_content_for": ["Name", "link"]}));
    assert_eq!(sanitised.status, 201, "{}", sanitised.body);
    let answer = sanitised.json();
    assert_eq!(
        answer["sanitised_content"],
        json!({
            "name": {"unsanitised": "a-b", "sanitised": "a\\-b"},
            "LINK": {"unsanitised": "please [click](https://evil.example) or www.gov.uk",
                     "sanitised": "please \\[click\\]\\(\\) or www\\. gov\\. uk"},
        }),
        "{answer}"
    );
    assert_eq!(
        answer["content"]["body"], "Hi a\\-b, see please \\[click\\]\\(\\) or www\\. gov\\. uk",
        "{answer}"
    );

    let refused = send(json!({"email_address": address, "template_id": email,
        "personalisation": {"name": "a", "link": "b"}, "sanitise_content_for": "name"}));
    assert_eq!(
        assert_notify_error(&refused, 400, "ValidationError"),
        "sanitise_content_for is not of type array, null"
    );
}
