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

/// Numbers are read as Notify reads them (a national number is a UK one,
/// any other country's needs its code) and compared normalised: a guest
/// list's `+447700900123` is the `07700 900123` a team key sends to, and a
/// consent recorded for one is the other's.
#[test]
fn phone_numbers_are_read_and_compared_as_notify_does() {
    let host = &app().host;
    let sms = template(host, "sms", None, "Code ((code))", "claim-updates");
    for number in ["+447700900123", "+447700900456", "+61412345678"] {
        consent(
            host,
            &pseudo_contact("sms", number),
            "claim-updates",
            "sms",
            "given",
        );
    }
    let send = |key: &str, number: &str| {
        notify_client(host, key, 0).post_json(
            "/v2/notifications/sms",
            &json!({"phone_number": number, "template_id": sms, "personalisation": {"code": "1"}}),
        )
    };
    let (_, team) = notify_service(host, json!({"guest_list": ["+447700900123"]}), "team");
    for number in [
        "07700900123",
        "07700 900 123",
        "+44 (0)7700 900123",
        "0044 7700 900123",
    ] {
        let reply = send(&team, number);
        assert_eq!(reply.status, 201, "{number}: {}", reply.body);
    }
    assert_eq!(
        assert_notify_error(&send(&team, "07700900456"), 400, "BadRequestError"),
        "Can\u{2019}t send to this recipient using a team-only API key"
    );
    let (_, live) = notify_service(host, json!({}), "live");
    for number in ["07700900456", "+61 412 345 678"] {
        let reply = send(&live, number);
        assert_eq!(reply.status, 201, "{number}: {}", reply.body);
    }
    for (number, message) in [
        ("07700 90", "Not enough digits"),
        ("07700 900 123 456 789", "Too many digits"),
        ("07700 9001a3", "Must not contain letters or symbols"),
        ("020 7946 0958", "Not a UK mobile number"),
        (
            "06700 900123",
            "Number is not valid \u{2013} double check the phone number you entered",
        ),
    ] {
        assert_eq!(
            assert_notify_error(&send(&live, number), 400, "InvalidPhoneError"),
            message,
            "{number}"
        );
    }
    // A guest list takes numbers as Notify reads them too, normalised.
    let admin = crm_tests::app::admin(host, "admin-1");
    let reply = admin.post_json(
        "/api/notifications/services",
        &json!({"name": "Guests", "guest_list": ["07700 900123", "Ann@Example.gov.au"]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.json()["guest_list"],
        json!(["+447700900123", "ann@example.gov.au"])
    );
    let reply = admin.post_json(
        "/api/notifications/services",
        &json!({"name": "Guests", "guest_list": ["12"]}),
    );
    crm_tests::app::assert_problem(&reply, 400, "validation");
}
