//! Input that must be refused with the field that failed (issue 15, items
//! 6 and 7): control characters, document URIs that are not `https`,
//! bodies not labelled JSON, and JSON of the wrong type at a nested path.

use crm_tests::app::{assert_problem, error_fields};
use crm_tests::{Caller, Value, json};

use crate::host;

fn officer() -> Caller<'static> {
    crm_tests::app::officer(host(), "officer-bounds")
}

fn valid(contact: &str) -> Value {
    json!({"contact_id": contact, "channel": "phone", "direction": "inbound",
           "category": "enquiry", "subject": "Bounds"})
}

fn with(contact: &str, member: &str, value: Value) -> Value {
    let mut body = valid(contact);
    body[member] = value;
    body
}

fn document(uri: &str) -> Value {
    json!([{"uri": uri, "content_hash": format!("sha256:{}", "ab".repeat(32))}])
}

#[test]
fn control_characters_are_refused_but_notes_keep_their_lines() {
    let contact = &crm_tests::app::new_contact(host(), "Bounds Control");
    for (member, text) in [
        ("subject", "Call\u{0} back"),
        ("notes", "Line one\u{0}"),
        ("notes", "Bell \u{7}"),
        ("notes", "C1 \u{9b}31m"),
        ("outcome", "done\u{7f}"),
    ] {
        let reply = officer().post_json("/api/interactions", &with(contact, member, json!(text)));
        assert_eq!(
            error_fields(&assert_problem(&reply, 400, "validation")),
            [member],
            "{text:?}"
        );
    }
    let notes = "First line.\n\tIndented second line.\r\nThird.";
    let reply = officer().post_json("/api/interactions", &with(contact, "notes", json!(notes)));
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["notes"], notes);
}

#[test]
fn document_uris_must_be_absolute_https_urls() {
    let contact = &crm_tests::app::new_contact(host(), "Bounds Uri");
    for uri in [
        "javascript:alert(1)",
        "http://records.example.gov.au/d/1",
        "/d/1",
        "records.example.gov.au/d/1",
        "data:text/html,<script>alert(1)</script>",
        "https://",
        "urn:isbn:0451450523",
    ] {
        let reply = officer().post_json(
            "/api/interactions",
            &with(contact, "documents", document(uri)),
        );
        assert_eq!(
            error_fields(&assert_problem(&reply, 400, "validation")),
            ["documents[0].uri"],
            "{uri}"
        );
    }
    let reply = officer().post_json(
        "/api/interactions",
        &with(
            contact,
            "documents",
            document("https://records.example.gov.au/d/1?v=2#p3"),
        ),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[test]
fn a_body_not_labelled_json_is_refused_and_type_errors_name_their_path() {
    let contact = &crm_tests::app::new_contact(host(), "Bounds Media");
    let body = valid(contact).to_string();
    let reply = officer().send_as("POST", "/api/interactions", "text/plain", &body);
    assert_problem(&reply, 415, "unsupported-media-type");
    let reply = officer().send_as("POST", "/api/interactions/legal-holds", "text/plain", "{}");
    assert_problem(&reply, 415, "unsupported-media-type");

    let mut bad = valid(contact);
    bad["documents"] = json!([{"uri": {"href": "https://x.gov.au"}, "content_hash": "sha256:00"}]);
    let reply = officer().post_json("/api/interactions", &bad);
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(error_fields(&problem), ["documents[0].uri"], "{problem}");
    let reply = officer().post_json("/api/interactions", &with(contact, "tags", json!(["a", 2])));
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(error_fields(&problem), ["tags[1]"], "{problem}");
}
