use crm_domain::ShortText;
use serde_json::{Value, json};

use super::*;

fn text(raw: &str) -> ShortText {
    ShortText::parse(raw, 500).unwrap()
}

fn controller() -> Controller {
    Controller {
        name: text("Department of Citizen Services"),
        contact: text("privacy@citizen-services.gov.au"),
        jurisdiction: text("AU"),
        withdrawal_method: text(
            "Portal > Consents, call 13 00 00, or the unsubscribe link in each message",
        ),
    }
}

fn notice(content: NoticeContent) -> PrivacyNotice {
    PrivacyNotice {
        id: NoticeId::parse("general").unwrap(),
        version: NoticeVersion::FIRST,
        language: LanguageTag::parse("en-AU").unwrap(),
        title: text("How we handle your personal information"),
        content,
        published_at_ms: T0 - 30 * DAY,
    }
}

fn url_notice() -> PrivacyNotice {
    notice(NoticeContent::Url(
        "https://citizen-services.gov.au/privacy/general/v1".into(),
    ))
}

/// c1 gave consent to newsletters by email for 30 days, renewed it for a
/// year the next day, then withdrew it.
fn history() -> Ledger {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, Some(T0 + 30 * DAY));
    ledger.give("r2", T0 + DAY, Some(T0 + 366 * DAY));
    ledger.withdraw(T0 + 2 * DAY).unwrap();
    ledger
}

fn receipt_of(ledger: &Ledger, id: &str) -> Value {
    build_receipt(
        ledger.get(id),
        &purpose("newsletters"),
        &url_notice(),
        &controller(),
    )
    .unwrap()
}

#[test]
fn a_receipt_carries_27560_fields() {
    let ledger = history();
    let receipt = receipt_of(&ledger, "r2");
    let digest = receipt["digest"]["value"].as_str().unwrap().to_owned();
    assert_eq!(digest.len(), 64);
    assert_eq!(
        receipt,
        json!({
            "schema_version": SCHEMA_VERSION,
            "record_id": "r2",
            "pii_principal_id": "c1",
            "language": "en-AU",
            "privacy_notice": {
                "notice_id": "general",
                "version": 1,
                "title": "How we handle your personal information",
                "published_at": "2026-10-02T00:00:00.000Z",
                "url": "https://citizen-services.gov.au/privacy/general/v1",
            },
            "purposes": [{
                "purpose": "newsletters",
                "purpose_category": "direct-communication",
                "purpose_description": "Our newsletter",
                "lawful_basis": "consent",
            }],
            "channel": "email",
            "pii_information": [{"pii_type": "contact-details", "sensitive": false}],
            "pii_controllers": [{
                "party_name": "Department of Citizen Services",
                "party_role": "controller",
                "party_contact": "privacy@citizen-services.gov.au",
            }],
            "jurisdiction": "AU",
            "collection_method": {"method": "portal-form", "form_version": "consent-form/3"},
            "withdrawal_method": "Portal > Consents, call 13 00 00, or the unsubscribe link in each message",
            "recorded_at": "2026-11-02T00:00:00.000Z",
            "supersedes": "r1",
            "event": [
                {
                    "event_time": "2026-11-02T00:00:00.000Z",
                    "event_type": "renewed",
                    "event_state": "RenewedGiven",
                    "event_actor": {"kind": "citizen", "id": "c1"},
                    "event_via": "portal",
                    "validity_duration": "P365D",
                },
                {
                    "event_time": "2026-11-03T00:00:00.000Z",
                    "event_type": "withdrawn",
                    "event_state": "Withdrawn",
                    "event_actor": {"kind": "citizen", "id": "c1"},
                    "event_via": "portal",
                },
            ],
            "digest": {"algorithm": "sha-256", "canonicalization": "RFC 8785", "value": digest},
        })
    );
    assert_eq!(verify_receipt(&receipt), Ok(()));
}

#[test]
fn a_superseded_record_shows_what_replaced_it() {
    let ledger = history();
    let events = receipt_of(&ledger, "r1")["event"].clone();
    assert_eq!(events[0]["event_state"], "Given");
    assert_eq!(events[0]["validity_duration"], "P30D");
    assert_eq!(events[1]["event_type"], "superseded");
    assert_eq!(events[1]["event_state"], "Terminated");
    assert_eq!(events[1]["superseded_by"], "r2");
}

#[test]
fn a_receipt_issued_after_expiry_shows_the_expired_state() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, Some(T0 + 90 * 60_000 + 1_500));
    for at in [T0 + DAY, T0 + 1] {
        ledger.append(Appended {
            record_id: rid("r1"),
            event: ConsentEvent::receipt_issued(officer(), Via::Counter, at),
        });
    }
    let events = receipt_of(&ledger, "r1")["event"].clone();
    assert_eq!(events[0]["validity_duration"], "PT5401.500S");
    assert_eq!(events[1]["event_type"], "receipt-issued");
    assert_eq!(events[1]["event_state"], "Expired");
    assert_eq!(
        events[1]["event_actor"],
        json!({"kind": "officer", "id": "staff-42"})
    );
    assert_eq!(events[2]["event_state"], "Given");
}

#[test]
fn a_notice_given_as_text_is_cited_by_its_hash() {
    let ledger = history();
    let receipt = build_receipt(
        ledger.get("r1"),
        &purpose("newsletters"),
        &notice(NoticeContent::Text("abc".into())),
        &controller(),
    )
    .unwrap();
    // SHA-256("abc"), FIPS 180-2 test vector.
    assert_eq!(
        receipt["privacy_notice"]["text_sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(receipt["privacy_notice"].get("url").is_none());
}

#[test]
fn grantor_sensitive_categories_and_recipient_agencies_appear() {
    let mut ledger = Ledger::default();
    let mut req = request();
    req.purpose = "sharing:health-dept".into();
    req.data_categories = vec!["health".into(), "contact-details".into()];
    req.grantor = Some(GrantorRequest {
        contact_id: "parent-7".into(),
        relationship: "parent-or-guardian".into(),
    });
    req.collection = serde_json::from_value(json!({
        "method": "paper-form", "form_version": "F-12/2", "document_reference": "scan-99",
        "officer_id": "staff-42"
    }))
    .unwrap();
    ledger.try_record("r1", req, T0, T0).unwrap();
    let receipt = build_receipt(
        ledger.get("r1"),
        &purpose("sharing:health-dept"),
        &url_notice(),
        &controller(),
    )
    .unwrap();
    assert_eq!(
        receipt["grantor"],
        json!({"party_id": "parent-7", "party_role": "parent-or-guardian"})
    );
    assert_eq!(
        receipt["pii_information"],
        json!([
            {"pii_type": "health", "sensitive": true},
            {"pii_type": "contact-details", "sensitive": false},
        ])
    );
    assert_eq!(receipt["recipient_third_parties"], json!(["health-dept"]));
    assert_eq!(
        receipt["collection_method"],
        json!({"method": "paper-form", "form_version": "F-12/2",
               "document_reference": "scan-99", "officer_id": "staff-42"})
    );
    assert_eq!(receipt["event"][0]["event_via"], "paper");
    assert!(receipt.get("supersedes").is_none());
    assert_eq!(verify_receipt(&receipt), Ok(()));
}

#[test]
fn the_catalogue_entries_must_be_the_ones_the_record_cites() {
    let ledger = history();
    let record = ledger.get("r1");
    assert!(matches!(
        build_receipt(record, &purpose("research"), &url_notice(), &controller()),
        Err(ReceiptError::PurposeMismatch { .. })
    ));
    let mut v2 = url_notice();
    v2.version = NoticeVersion::parse(2).unwrap();
    let err = build_receipt(record, &purpose("newsletters"), &v2, &controller()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "record r1 cites notice general/1, not general/2"
    );
}

#[test]
fn the_digest_is_stable_and_covers_everything_but_itself() {
    let ledger = history();
    let receipt = receipt_of(&ledger, "r2");
    // The same record gives the same receipt, digest included.
    assert_eq!(receipt_of(&ledger, "r2"), receipt);
    let digest = receipt_digest(&receipt).unwrap();
    assert_eq!(receipt["digest"]["value"], digest);
    // The digest member itself is left out of what it covers.
    let mut without = receipt.clone();
    without.as_object_mut().unwrap().remove(DIGEST_FIELD);
    assert_eq!(receipt_digest(&without).unwrap(), digest);
    assert_eq!(digest, hex_sha256(&canonicalize(&without).unwrap()));
    // Changing anything else breaks it.
    for (path, value) in [
        ("/pii_principal_id", json!("c2")),
        ("/event/1/event_type", json!("renewed")),
        ("/purposes/0/lawful_basis", json!("primary-purpose")),
    ] {
        let mut edited = receipt.clone();
        *edited.pointer_mut(path).unwrap() = value;
        assert_eq!(
            verify_receipt(&edited),
            Err(ReceiptError::DigestMismatch),
            "{path}"
        );
    }
    let mut unsealed = receipt.clone();
    unsealed["digest"]["algorithm"] = json!("md5");
    assert_eq!(verify_receipt(&unsealed), Err(ReceiptError::NoDigest));
}

fn hex_sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// JSON text of `value` with every object's members in reverse name order
/// (serde_json writes them sorted).
fn reversed_text(value: &Value) -> String {
    match value {
        Value::Object(members) => {
            let inner: Vec<String> = members
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed_text(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(reversed_text).collect();
            format!("[{}]", inner.join(","))
        }
        leaf => leaf.to_string(),
    }
}

#[test]
fn the_digest_does_not_depend_on_member_order() {
    let ledger = history();
    let receipt = receipt_of(&ledger, "r2");
    let sorted = serde_json::to_string(&receipt).unwrap();
    let reversed = reversed_text(&receipt);
    assert_ne!(sorted, reversed);
    // A verifier that reads the members in another order still agrees.
    let reread: Value = serde_json::from_str(&reversed).unwrap();
    assert_eq!(verify_receipt(&reread), Ok(()));
    assert_eq!(receipt_digest(&reread), receipt_digest(&receipt));
}
