use serde_json::json;

use super::*;

fn fields(err: InvalidConsent) -> Vec<String> {
    err.errors.into_iter().map(|e| e.field).collect()
}

fn parse(req: &ConsentRequest) -> Result<NewConsent, InvalidConsent> {
    req.parse(&catalogue(), T0 + DAY)
}

#[test]
fn a_valid_request_parses_into_typed_fields() {
    let mut req = request();
    req.valid_until = Some(T0 + 365 * DAY);
    req.data_categories = vec!["contact-details".into(), "health".into()];
    let consent = parse(&req).unwrap();
    assert_eq!(consent.subject, contact("c1"));
    assert_eq!(consent.purpose, pid("newsletters"));
    assert_eq!(consent.lawful_basis, LawfulBasis::Consent);
    assert_eq!(consent.channel, Channel::Email);
    assert_eq!(consent.decision, ConsentDecision::Given);
    assert_eq!(consent.notice.id.as_str(), "general");
    assert_eq!(consent.notice.version.get(), 1);
    assert_eq!(consent.validity.given_at_ms(), T0);
    assert_eq!(consent.validity.valid_until_ms(), Some(T0 + 365 * DAY));
    assert_eq!(consent.validity.duration_ms(), Some(365 * DAY));
    assert_eq!(
        consent.collection,
        Collection::PortalForm {
            form_version: Reference::parse("consent-form/3").unwrap()
        }
    );
    assert_eq!(consent.collection.method().via(), Via::Portal);
    assert!(consent.data_categories[1].is_sensitive());
    assert_eq!(consent.grantor, None);
}

#[test]
fn unknown_fields_are_refused_at_deserialisation() {
    let mut body = serde_json::to_value(json!({
        "contact_id": "c1", "purpose": "newsletters", "data_categories": ["a"],
        "channel": "email", "decision": "given", "notice_id": "general",
        "notice_version": 1, "collection": {"method": "counter", "officer_id": "s1"},
        "given_at": T0,
    }))
    .unwrap();
    assert!(serde_json::from_value::<ConsentRequest>(body.clone()).is_ok());
    body["status"] = json!("given");
    assert!(serde_json::from_value::<ConsentRequest>(body.clone()).is_err());
    body.as_object_mut().unwrap().remove("status");
    body["collection"]["witness"] = json!("x");
    assert!(serde_json::from_value::<ConsentRequest>(body).is_err());
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let req: ConsentRequest = serde_json::from_value(json!({
        "contact_id": " ",
        "grantor": {"contact_id": "g1", "relationship": "friend"},
        "purpose": "Newsletters",
        "data_categories": ["ok", "Not OK", "ok"],
        "channel": "fax",
        "decision": "maybe",
        "notice_id": "General!",
        "notice_version": 0,
        "collection": {"method": "carrier-pigeon"},
        "given_at": T0,
    }))
    .unwrap();
    assert_eq!(
        fields(parse(&req).unwrap_err()),
        [
            "contact_id",
            "grantor.relationship",
            "purpose",
            "data_categories[1]",
            "data_categories[2]",
            "channel",
            "decision",
            "notice_id",
            "notice_version",
            "collection.method",
        ]
    );
}

#[test]
fn each_collection_method_requires_its_evidence_and_nothing_else() {
    let cases = [
        ("portal-form", vec!["form_version"]),
        (
            "paper-form",
            vec!["form_version", "document_reference", "officer_id"],
        ),
        ("phone-call", vec!["call_reference", "officer_id"]),
        ("counter", vec!["officer_id"]),
        ("email", vec!["message_id", "officer_id"]),
    ];
    let all = [
        "form_version",
        "document_reference",
        "officer_id",
        "call_reference",
        "message_id",
    ];
    for (method, required) in cases {
        let method_enum = CollectionMethod::parse(method).unwrap();
        assert_eq!(method_enum.required_evidence(), required.as_slice());
        let with = |names: &[&str]| {
            let mut collection = json!({"method": method});
            for name in names {
                collection[*name] = json!(format!("ref-{name}"));
            }
            let mut req = request();
            req.collection = serde_json::from_value(collection).unwrap();
            parse(&req)
        };
        let consent = with(&required).unwrap();
        assert_eq!(consent.collection.method(), method_enum);
        // Each required field, left out, is reported by name.
        for missing in &required {
            let rest: Vec<&str> = required.iter().copied().filter(|n| n != missing).collect();
            let err = with(&rest).unwrap_err();
            assert_eq!(fields(err.clone()), [format!("collection.{missing}")]);
            assert!(err.errors[0].reason.contains("required"), "{err}");
        }
        // Each field the method does not use is refused.
        for extra in all.iter().filter(|n| !required.contains(n)) {
            let mut names = required.clone();
            names.push(extra);
            let err = with(&names).unwrap_err();
            assert_eq!(fields(err.clone()), [format!("collection.{extra}")]);
            assert!(err.errors[0].reason.contains("not used"), "{err}");
        }
    }
}

#[test]
fn a_phone_call_needs_the_call_reference_and_the_officer() {
    let mut req = request();
    req.collection = serde_json::from_value(json!({
        "method": "phone-call", "call_reference": "CALL-2026-0042", "officer_id": "staff-42"
    }))
    .unwrap();
    assert_eq!(
        parse(&req).unwrap().collection,
        Collection::PhoneCall {
            call_reference: Reference::parse("CALL-2026-0042").unwrap(),
            officer_id: OfficerId::parse("staff-42").unwrap(),
        }
    );
    req.collection.officer_id = Some("staff 42".into());
    assert_eq!(fields(parse(&req).unwrap_err()), ["collection.officer_id"]);
}

#[test]
fn valid_until_must_be_after_given_at() {
    let mut req = request();
    for until in [T0 - 1, T0] {
        req.valid_until = Some(until);
        assert_eq!(fields(parse(&req).unwrap_err()), ["valid_until"], "{until}");
    }
    req.valid_until = Some(T0 + 1);
    assert_eq!(parse(&req).unwrap().validity.duration_ms(), Some(1));
}

#[test]
fn given_at_cannot_be_after_the_recording() {
    let mut req = request();
    req.given_at = T0 + DAY;
    assert!(parse(&req).is_ok());
    req.given_at = T0 + DAY + 1;
    assert_eq!(fields(parse(&req).unwrap_err()), ["given_at"]);
    req.given_at = -1;
    assert_eq!(fields(parse(&req).unwrap_err()), ["given_at"]);
}

#[test]
fn a_refusal_has_no_validity_period() {
    let mut req = request();
    req.decision = "refused".into();
    assert_eq!(parse(&req).unwrap().decision, ConsentDecision::Refused);
    req.valid_until = Some(T0 + DAY);
    assert_eq!(fields(parse(&req).unwrap_err()), ["valid_until"]);
}

#[test]
fn the_purpose_must_be_catalogued_and_rest_on_consent() {
    let mut req = request();
    req.purpose = "sharing:ato".into();
    let err = parse(&req).unwrap_err();
    assert_eq!(fields(err.clone()), ["purpose"]);
    assert!(
        err.to_string().contains("required-or-authorised-by-law"),
        "{err}"
    );
    req.purpose = "service-delivery".into();
    assert_eq!(fields(parse(&req).unwrap_err()), ["purpose"]);
    req.purpose = "sharing:nowhere".into();
    assert_eq!(fields(parse(&req).unwrap_err()), ["purpose"]);
    req.purpose = "sharing:health-dept".into();
    assert_eq!(parse(&req).unwrap().purpose, pid("sharing:health-dept"));
}

#[test]
fn data_categories_are_one_to_thirty_two_distinct_slugs() {
    let mut req = request();
    req.data_categories = vec![];
    assert_eq!(fields(parse(&req).unwrap_err()), ["data_categories"]);
    req.data_categories = (0..33).map(|i| format!("c{i}")).collect();
    assert_eq!(fields(parse(&req).unwrap_err()), ["data_categories"]);
    req.data_categories.pop();
    assert_eq!(parse(&req).unwrap().data_categories.len(), 32);
    req.data_categories = vec!["health".into(), "health".into()];
    assert_eq!(fields(parse(&req).unwrap_err()), ["data_categories[1]"]);
}

#[test]
fn a_grantor_acts_for_someone_else_in_a_named_relationship() {
    let mut req = request();
    req.grantor = Some(GrantorRequest {
        contact_id: "parent-7".into(),
        relationship: "parent-or-guardian".into(),
    });
    assert_eq!(
        parse(&req).unwrap().grantor,
        Some(Grantor {
            contact_id: contact("parent-7"),
            relationship: Relationship::ParentOrGuardian,
        })
    );
    req.grantor = Some(GrantorRequest {
        contact_id: "c1".into(),
        relationship: "nominee".into(),
    });
    assert_eq!(fields(parse(&req).unwrap_err()), ["grantor.contact_id"]);
}

#[test]
fn errors_display_every_field() {
    let mut req = request();
    req.channel = "fax".into();
    req.decision = "perhaps".into();
    let text = parse(&req).unwrap_err().to_string();
    assert!(
        text.starts_with(
            "invalid consent: channel: must be one of email, sms, letter, portal, phone; decision:"
        ),
        "{text}"
    );
}
