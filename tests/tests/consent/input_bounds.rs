//! Bodies not labelled JSON, JSON of the wrong type at a nested path, and
//! control characters (issue 15, items 6 and 7).

use crm_tests::app::{assert_problem, error_fields};
use crm_tests::consent::decision;
use crm_tests::{Caller, json};

use crate::host;

fn officer() -> Caller<'static> {
    crm_tests::app::officer(host(), "officer-bounds")
}

#[test]
fn a_consent_body_must_be_json_of_the_right_types() {
    let contact = crm_tests::app::new_contact(host(), "Bounds Consent");
    let body = decision(&contact, "newsletters", "email", "given", "officer-bounds");
    let reply = officer().send_as("POST", "/api/consents", "text/plain", &body.to_string());
    assert_problem(&reply, 415, "unsupported-media-type");
    let reply = officer().send_as("POST", "/api/consents/withdrawals", "text/plain", "{}");
    assert_problem(&reply, 415, "unsupported-media-type");

    let mut typed = body.clone();
    typed["collection"]["call_reference"] = json!(["CALL-1"]);
    let problem = assert_problem(
        &officer().post_json("/api/consents", &typed),
        400,
        "invalid-json",
    );
    assert_eq!(
        error_fields(&problem),
        ["collection.call_reference"],
        "{problem}"
    );
    let mut typed = body.clone();
    typed["data_categories"] = json!(["contact-details", {"x": 1}]);
    let problem = assert_problem(
        &officer().post_json("/api/consents", &typed),
        400,
        "invalid-json",
    );
    assert_eq!(error_fields(&problem), ["data_categories[1]"], "{problem}");

    let mut control = body;
    control["collection"]["call_reference"] = json!("CALL\u{0}1");
    let problem = assert_problem(
        &officer().post_json("/api/consents", &control),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        ["collection.call_reference"],
        "{problem}"
    );
}
