//! Input that must be refused with the field that failed (issue 15, items
//! 6 and 7): control characters in text, bodies that are not labelled
//! JSON, and JSON of the wrong type at a nested path.

use crm_tests::app::{assert_problem, error_fields};
use crm_tests::json;

use crate::contacts::{officer, unique};

#[test]
fn control_characters_are_refused_naming_the_field() {
    let family = unique("Nul");
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "family_name": family, "emails": ["a\u{0}@example.com"]}),
    );
    assert_eq!(
        error_fields(&assert_problem(&reply, 400, "validation")),
        ["emails[0]"]
    );
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "given_name": "An\u{0}na", "family_name": family}),
    );
    assert_eq!(
        error_fields(&assert_problem(&reply, 400, "validation")),
        ["given_name"]
    );
    // C1 controls too, in a phone and a display name.
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "Bo\u{85}b", "family_name": family}),
    );
    assert_eq!(
        error_fields(&assert_problem(&reply, 400, "validation")),
        ["display_name"]
    );
}

#[test]
fn a_json_route_refuses_a_body_not_labelled_json() {
    let body = json!({"archetype": "individual", "family_name": unique("Plain")}).to_string();
    for path in ["/api/contacts", "/api/contacts/match"] {
        for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
            let reply = officer().send_as("POST", path, content_type, &body);
            assert_problem(&reply, 415, "unsupported-media-type");
        }
    }
    // Parameters and the structured-syntax suffix are JSON still.
    for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
        let reply = officer().send_as("POST", "/api/contacts/match", content_type, &body);
        assert_eq!(reply.status, 200, "{content_type}: {}", reply.body);
    }
}

#[test]
fn a_json_type_error_names_its_path() {
    let family = unique("Typed");
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "family_name": family, "emails": ["a@example.com", {"x": 1}]}),
    );
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(error_fields(&problem), ["emails[1]"], "{problem}");
    let reply = officer().post_json(
        "/api/contacts/match",
        &json!({"archetype": "individual", "family_name": family,
                "postal_address": {"lines": ["1 A St"], "locality": "Canberra", "state": "ACT", "postcode": 2600}}),
    );
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(
        error_fields(&problem),
        ["postal_address.postcode"],
        "{problem}"
    );
    // A member taken out of the body first keeps its name.
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "family_name": family, "collection": {"channel": 7}}),
    );
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(error_fields(&problem), ["collection.channel"], "{problem}");
    // An unknown member is named too.
    let reply = officer().post_json(
        "/api/contacts/match",
        &json!({"archetype": "individual", "family_name": family, "shoe_size": 9}),
    );
    let problem = assert_problem(&reply, 400, "invalid-json");
    assert_eq!(error_fields(&problem), ["shoe_size"], "{problem}");
}
