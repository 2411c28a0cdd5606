//! `POST /api/contacts/match` discloses no field its caller may not read:
//! matching on a hidden field is refused as searching on it is, and no
//! reason names a hidden field (issue 15, item 4).

use crm_tests::app::assert_problem;
use crm_tests::auth::api_key;
use crm_tests::{Caller, Value, json};

use crate::contacts::{comms, create, officer, unique};
use crate::{app, host};

/// A service key that may search contacts but not read their identifiers.
fn search_only_service() -> Caller<'static> {
    let key = api_key(&app().db_path(), "match-service", &["contact.search"]);
    // `host()` lives for the binary; the key is leaked with the caller.
    host()
        .as_caller(Box::leak(key.into_boxed_str()))
        .purpose("service-delivery")
}

fn rules(candidates: &Value) -> Vec<String> {
    candidates
        .as_array()
        .unwrap_or_else(|| panic!("no candidates in {candidates}"))
        .iter()
        .flat_map(|c| c["reasons"].as_array().expect("reasons").clone())
        .map(|r| r["rule"].as_str().expect("rule").to_string())
        .collect()
}

/// Reasons that reveal `identifiers` or `date_of_birth`.
fn names_hidden_field(rule: &str) -> bool {
    rule.contains("date-of-birth") || matches!(rule, "same-identifier" | "same-abn" | "same-acn")
}

#[test]
fn matching_on_a_field_the_caller_may_not_read_is_refused() {
    let family = unique("Oracle");
    let (held, _, _) = create(&json!({
        "archetype": "individual", "given_name": "Imogen", "family_name": family,
        "date_of_birth": "1984-03-02",
        "identifiers": [{"scheme": "crn", "value": "301999222X"}],
    }));
    let by_identifier = json!({
        "archetype": "individual", "given_name": "Someone", "family_name": unique("Else"),
        "identifiers": [{"scheme": "crn", "value": "301999222X"}],
    });
    let by_birth = json!({
        "archetype": "individual", "given_name": "Imogen", "family_name": family,
        "date_of_birth": "1984-03-02",
    });
    for caller in [comms(), search_only_service()] {
        for body in [&by_identifier, &by_birth] {
            let reply = caller.post_json("/api/contacts/match", body);
            let problem = assert_problem(&reply, 403, "forbidden");
            assert!(!reply.body.contains(&held), "{problem}");
        }
    }

    // A caller who may read identifiers still learns why.
    let reply = officer().post_json("/api/contacts/match", &by_identifier);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let candidates = &reply.json()["candidates"];
    assert_eq!(candidates[0]["contact_id"], held.as_str(), "{candidates}");
    assert_eq!(
        candidates[0]["reasons"][0],
        json!({"rule": "same-identifier", "scheme": "crn"})
    );
    let reply = officer().post_json("/api/contacts/match", &by_birth);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        rules(&reply.json()["candidates"]).contains(&"same-date-of-birth".to_string()),
        "{}",
        reply.body
    );
}

#[test]
fn match_reasons_never_name_a_field_hidden_from_the_caller() {
    let family = unique("Hidden");
    let (held, _, _) = create(&json!({
        "archetype": "individual", "given_name": "Theodora", "family_name": family,
        "date_of_birth": "1979-11-12", "phones": ["0413 777 802"],
        "postal_address": {"lines": ["1 Test St"], "locality": "Canberra", "state": "ACT", "postcode": "2600"},
        "identifiers": [{"scheme": "crn", "value": "302999333X"}],
    }));
    // Matched by phone and by name with postcode: fields every caller may send.
    let bodies = [
        json!({"archetype": "individual", "given_name": "Other", "family_name": unique("Person"),
               "phones": ["+61 413 777 802"]}),
        json!({"archetype": "individual", "given_name": "Theodora", "family_name": family,
               "postal_address": {"lines": ["9 Else St"], "locality": "Canberra", "state": "ACT", "postcode": "2600"}}),
    ];
    for caller in [comms(), search_only_service()] {
        for body in &bodies {
            let reply = caller.post_json("/api/contacts/match", body);
            assert_eq!(reply.status, 200, "{}", reply.body);
            let candidates = &reply.json()["candidates"];
            assert!(reply.body.contains(&held), "{candidates}");
            let hidden: Vec<String> = rules(candidates)
                .into_iter()
                .filter(|rule| names_hidden_field(rule))
                .collect();
            assert!(hidden.is_empty(), "{hidden:?} in {candidates}");
        }
    }
}

#[test]
fn intake_candidates_name_no_field_hidden_from_the_caller() {
    let (held, _, _) = create(&json!({
        "archetype": "individual", "given_name": "Ottilie", "family_name": unique("Intaken"),
        "identifiers": [{"scheme": "crn", "value": "303999444X"}],
    }));
    // A web form's key may take contacts in, identifiers and all, but not read them.
    let key = api_key(
        &app().db_path(),
        "intake-form",
        &["contact.create", "contact.search"],
    );
    let reply = host().as_caller(&key).post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "given_name": "Ottilie", "family_name": unique("Again"),
                "identifiers": [{"scheme": "crn", "value": "303999444X"}]}),
    );
    let problem = assert_problem(&reply, 409, "possible-duplicate");
    assert_eq!(problem["candidates"][0]["contact_id"], held.as_str());
    let hidden: Vec<String> = rules(&problem["candidates"])
        .into_iter()
        .filter(|rule| names_hidden_field(rule))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?} in {problem}");
}
