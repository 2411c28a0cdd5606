use std::sync::atomic::{AtomicU32, Ordering};

use consent_rules::{
    Channel, ContactId, LinkKeyring, Nonce, PurposeId, UnsubscribeClaims, verify_receipt,
};
use crm_tests::app::{App, assert_problem, error_fields, request_id};
use crm_tests::auth::{link_citizen, token};
use crm_tests::consent::now_ms;
use crm_tests::{Caller, Reply, Value, json};

use crate::{app, host, link_keys, with_probe};

/// A contact id no other test uses.
fn contact(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "con_{tag}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// An intake officer and case worker whose staff id is `officer-1`.
fn officer() -> Caller<'static> {
    crm_tests::app::officer(host(), "officer-1")
}

fn comms() -> Caller<'static> {
    crm_tests::app::comms(host(), "comms-1")
}

fn admin() -> Caller<'static> {
    crm_tests::app::admin(host(), "admin-1")
}

/// A decision taken by phone by `officer-1`, now.
fn decision(contact: &str, purpose: &str, channel: &str, decision: &str) -> Value {
    crm_tests::consent::decision(contact, purpose, channel, decision, "officer-1")
}

fn record(body: &Value) -> Value {
    let reply = officer().post_json("/api/consents", body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/consents/{}", reply.json()["id"].as_str().unwrap()).as_str())
    );
    reply.json()
}

fn give(contact: &str, purpose: &str, channel: &str) -> Value {
    record(&decision(contact, purpose, channel, "given"))
}

/// The decision another component gets from `crm:consent/decisions`.
fn check_at(contact: &str, purpose: &str, channel: &str, at: Option<i64>) -> Value {
    let at = at.map_or(String::new(), |at| format!("&at={at}"));
    let reply = host().get(&format!(
        "/probe/check?contact={contact}&purpose={purpose}&channel={channel}{at}"
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn check(contact: &str, purpose: &str, channel: &str) -> Value {
    check_at(contact, purpose, channel, None)
}

fn assert_check(decision: &Value, permitted: bool, reason: &str, consent_id: Option<&Value>) {
    assert_eq!(decision["permitted"], permitted, "{decision}");
    assert_eq!(decision["reason"], reason, "{decision}");
    if let Some(id) = consent_id {
        assert_eq!(&decision["consent_id"], id, "{decision}");
    }
}

/// `consent.withdrawn` outbox payloads about `contact`, oldest first.
fn withdrawn_events(contact: &str) -> Vec<Value> {
    let db = app().db();
    let mut statement = db
        .prepare("SELECT aggregate_id, payload FROM outbox_events WHERE topic = 'consent.withdrawn' ORDER BY id")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .map(|(aggregate, payload)| {
            let payload: Value = serde_json::from_str(&payload).unwrap();
            assert_eq!(payload["consent_id"], aggregate.as_str());
            payload
        })
        .filter(|p| p["contact_id"] == contact)
        .collect()
}

/// Audit rows for the request that answered `reply`: (actor, action, outcome, detail).
fn audited(reply: &Reply) -> Vec<(String, String, String, Option<String>)> {
    let columns = "actor_id, action, outcome, detail";
    app().audit_entries(columns, "request_id", &request_id(reply), |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
}

fn history(contact: &str) -> Value {
    let reply = officer().get(&format!("/api/consents?contact_id={contact}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn statuses(records: &Value) -> Vec<String> {
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

fn event_kinds(record: &Value) -> Vec<String> {
    record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn grant_refuse_regrant_renew_and_withdraw_each_take_effect_at_the_next_check() {
    let c = contact("life");
    assert_check(
        &check(&c, "status-updates", "email"),
        false,
        "no-consent",
        None,
    );

    let first = give(&c, "status-updates", "email");
    assert_eq!(first["status"], "given");
    assert_eq!(first["collection"]["method"], "phone-call");
    assert_eq!(
        first["events"][0]["actor"],
        json!({"kind": "officer", "id": "staff:officer-1"})
    );
    assert_check(
        &check(&c, "status-updates", "email"),
        true,
        "consent-given",
        Some(&first["id"]),
    );
    // Consent is per channel.
    assert_check(
        &check(&c, "status-updates", "sms"),
        false,
        "no-consent",
        None,
    );

    // A refusal is a new record that supersedes the consent, and ends it.
    let refusal = record(&decision(&c, "status-updates", "email", "refused"));
    assert_eq!(refusal["supersedes"], first["id"]);
    assert_check(
        &check(&c, "status-updates", "email"),
        false,
        "refused",
        Some(&refusal["id"]),
    );
    let events = withdrawn_events(&c);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["consent_id"], first["id"]);
    assert_eq!(events[0]["via"], "phone");

    let regrant = give(&c, "status-updates", "email");
    assert_eq!(event_kinds(&regrant), ["given"]);
    assert_check(
        &check(&c, "status-updates", "email"),
        true,
        "consent-given",
        Some(&regrant["id"]),
    );
    // Giving again while given is a renewal.
    let renewal = give(&c, "status-updates", "email");
    assert_eq!(event_kinds(&renewal), ["renewed"]);

    let reply = officer().post_json(
        "/api/consents/withdrawals",
        &json!({"contact_id": c, "purpose": "status-updates", "channel": "email", "via": "phone"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let withdrawn = reply.json();
    assert_eq!(withdrawn["id"], renewal["id"]);
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(event_kinds(&withdrawn), ["renewed", "withdrawn"]);
    // The very next check sees it: nothing is cached.
    assert_check(
        &check(&c, "status-updates", "email"),
        false,
        "withdrawn",
        Some(&renewal["id"]),
    );
    // The withdrawal is audited and announced in the same transaction.
    assert!(
        audited(&reply).contains(&(
            "staff:officer-1".into(),
            "consent.withdraw".into(),
            "allowed".into(),
            None
        )),
        "{:?}",
        audited(&reply)
    );
    let events = withdrawn_events(&c);
    assert_eq!(events.len(), 2, "{events:?}");
    let at = events[1]["at"].as_i64().unwrap();
    assert_eq!(
        events[1],
        json!({"contact_id": c, "purpose": "status-updates", "channel": "email",
               "consent_id": renewal["id"], "at": at, "via": "phone"})
    );
    assert!((now_ms() - at).abs() < 60_000);

    assert_problem(
        &officer().post_json(
            "/api/consents/withdrawals",
            &json!({"contact_id": c, "purpose": "status-updates", "channel": "email", "via": "phone"}),
        ),
        409,
        "nothing-to-withdraw",
    );

    // Nothing was overwritten: four records, newest first, one current.
    let listed = history(&c);
    assert_eq!(
        statuses(&listed["history"]),
        ["withdrawn", "superseded", "superseded", "superseded"]
    );
    assert_eq!(statuses(&listed["current"]), ["withdrawn"]);
    let first_now = &listed["history"][3];
    assert_eq!(event_kinds(first_now), ["given", "superseded"]);
    assert_eq!(first_now["superseded_by"], refusal["id"]);
    let one = officer().get(&format!("/api/consents/{}", first["id"].as_str().unwrap()));
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["status"], "superseded");
    // The database refuses to change a record or an event.
    let db = app().db();
    assert!(
        db.execute("UPDATE consent_records SET decision = 'given'", [])
            .is_err()
    );
    assert!(db.execute("DELETE FROM consent_events", []).is_err());
}

#[test]
fn consent_expires_exactly_at_the_end_of_its_validity_period() {
    let c = contact("expiry");
    let now = now_ms();
    let mut body = decision(&c, "newsletters", "sms", "given");
    body["given_at"] = json!(now - 1_000);
    body["valid_until"] = json!(now + 1_500);
    let given = record(&body);
    let until = now + 1_500;
    let id = Some(&given["id"]);
    assert_check(
        &check_at(&c, "newsletters", "sms", Some(now - 1_001)),
        false,
        "not-yet-valid",
        id,
    );
    assert_check(
        &check_at(&c, "newsletters", "sms", Some(now - 1_000)),
        true,
        "consent-given",
        id,
    );
    assert_check(
        &check_at(&c, "newsletters", "sms", Some(until - 1)),
        true,
        "consent-given",
        id,
    );
    assert_check(
        &check_at(&c, "newsletters", "sms", Some(until)),
        false,
        "expired",
        id,
    );

    std::thread::sleep(std::time::Duration::from_millis(
        (until - now_ms() + 50).max(0) as u64,
    ));
    assert_check(&check(&c, "newsletters", "sms"), false, "expired", id);
    // Looking notes the expiry on the record, once.
    let listed = history(&c);
    assert_eq!(statuses(&listed["current"]), ["expired"]);
    assert_eq!(
        event_kinds(&listed["current"][0]),
        ["given", "expired-noted"]
    );
    assert_eq!(
        event_kinds(&history(&c)["current"][0]),
        ["given", "expired-noted"]
    );
    assert_problem(
        &officer().post_json(
            "/api/consents/withdrawals",
            &json!({"contact_id": c, "purpose": "newsletters", "channel": "sms", "via": "counter"}),
        ),
        409,
        "nothing-to-withdraw",
    );
}

#[test]
fn a_citizen_records_lists_and_withdraws_only_their_own_consents() {
    let mine = contact("citizen");
    let theirs = contact("other");
    link_citizen(&app().db_path(), "citizen-consent", &mine);
    let citizen = || host().as_caller(&token("citizen-consent", &["citizen"]));
    let portal = |contact: &str| {
        let mut body = decision(contact, "newsletters", "email", "given");
        body["collection"] = json!({"method": "portal-form", "form_version": "consent-form/3"});
        body
    };
    let reply = citizen().post_json("/api/consents", &portal(&mine));
    assert_eq!(reply.status, 201, "{}", reply.body);
    let given = reply.json();
    assert_eq!(
        given["events"][0]["actor"],
        json!({"kind": "citizen", "id": mine})
    );
    assert_eq!(given["events"][0]["via"], "portal");
    // Another contact's record looks missing.
    assert_problem(
        &citizen().post_json("/api/consents", &portal(&theirs)),
        404,
        "not-found",
    );
    // A citizen cannot vouch for a phone call.
    let problem = assert_problem(
        &citizen().post_json(
            "/api/consents",
            &decision(&mine, "research", "email", "given"),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["collection.method"]);

    let listed = citizen().get("/api/consents");
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()["contact_id"], mine.as_str());
    assert_eq!(statuses(&listed.json()["current"]), ["given"]);
    assert_problem(
        &citizen().get(&format!("/api/consents?contact_id={theirs}")),
        404,
        "not-found",
    );

    let reply = citizen().post_json(
        "/api/consents/withdrawals",
        &json!({"purpose": "newsletters", "channel": "email"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["events"][1]["via"], "portal");
    assert_check(
        &check(&mine, "newsletters", "email"),
        false,
        "withdrawn",
        Some(&given["id"]),
    );
    assert_eq!(withdrawn_events(&mine).len(), 1);
    let problem = assert_problem(
        &citizen().post_json(
            "/api/consents/withdrawals",
            &json!({"purpose": "newsletters", "channel": "email", "via": "phone"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["via"]);

    let receipt = citizen().get(&format!(
        "/api/consents/{}/receipt",
        given["id"].as_str().unwrap()
    ));
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    verify_receipt(&receipt.json()).expect("the digest verifies");
}

#[test]
fn receipts_carry_27560_fields_and_a_digest_that_catches_changes() {
    let c = contact("receipt");
    let mut body = decision(&c, "sharing:services-australia", "letter", "given");
    let given_at = body["given_at"].as_i64().unwrap();
    body["grantor"] =
        json!({"contact_id": contact("parent"), "relationship": "parent-or-guardian"});
    body["data_categories"] = json!(["contact-details", "health"]);
    body["valid_until"] = json!(given_at + 86_400_000);
    let given = record(&body);
    let path = format!("/api/consents/{}/receipt", given["id"].as_str().unwrap());
    let receipt = officer().get(&path);
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    let receipt = receipt.json();
    assert!(
        receipt["schema_version"]
            .as_str()
            .unwrap()
            .starts_with("ISO/IEC TS 27560")
    );
    assert_eq!(receipt["record_id"], given["id"]);
    assert_eq!(receipt["pii_principal_id"], c.as_str());
    assert_eq!(receipt["grantor"]["party_role"], "parent-or-guardian");
    assert_eq!(
        receipt["privacy_notice"]["url"],
        "https://crm.gov.au/privacy/general/v1"
    );
    assert_eq!(
        receipt["purposes"][0]["purpose"],
        "sharing:services-australia"
    );
    assert_eq!(receipt["purposes"][0]["lawful_basis"], "consent");
    assert_eq!(
        receipt["recipient_third_parties"],
        json!(["services-australia"])
    );
    assert_eq!(
        receipt["pii_information"][1],
        json!({"pii_type": "health", "sensitive": true})
    );
    assert_eq!(receipt["jurisdiction"], "AU");
    assert_eq!(receipt["event"][0]["event_state"], "Given");
    assert_eq!(receipt["event"][0]["validity_duration"], "P1D");
    assert_eq!(receipt["event"][1]["event_type"], "receipt-issued");
    assert_eq!(receipt["digest"]["canonicalization"], "RFC 8785");
    verify_receipt(&receipt).expect("the digest verifies");
    let mut changed = receipt.clone();
    changed["pii_principal_id"] = json!("someone-else");
    assert!(verify_receipt(&changed).is_err());
    // Issuing is an event on the record.
    let again = officer().get(&path).json();
    assert_eq!(again["event"].as_array().unwrap().len(), 3);
    // Another contact's officer-free reader: a communications officer may
    // read consents; a missing record is a 404 problem.
    assert_eq!(comms().get(&path).status, 200);
    assert_problem(
        &officer().get("/api/consents/cns_missing/receipt"),
        404,
        "not-found",
    );
}

#[test]
fn the_check_seen_from_another_component_names_what_it_cannot_answer() {
    let c = contact("wit");
    assert_check(
        &check(&c, "not-a-purpose", "email"),
        false,
        "unknown-purpose",
        None,
    );
    assert_check(
        &check(&c, "Bad_Purpose", "email"),
        false,
        "unknown-purpose",
        None,
    );
    for channel in ["counter", "video", "social", "field-visit"] {
        assert_check(
            &check(&c, "newsletters", channel),
            false,
            "unsupported-channel",
            None,
        );
    }
    // A purpose resting on another basis needs no consent record.
    assert_check(
        &check(&c, "service-delivery", "letter"),
        true,
        "lawful-basis:primary-purpose",
        Some(&Value::Null),
    );
    let error = host()
        .get("/probe/check?contact=&purpose=newsletters&channel=email")
        .json();
    assert!(
        error["error"].as_str().unwrap().contains("contact"),
        "{error}"
    );
}

/// A sender asks `GET /api/consents/decision` before sending: it answers
/// what `crm:consent/decisions` answers the send, as each decision is taken.
#[test]
fn the_decision_route_answers_what_the_send_will_be_told() {
    let c = contact("decision");
    let decided = |purpose: &str, channel: &str| {
        let reply = officer().get(&format!(
            "/api/consents/decision?contact_id={c}&purpose={purpose}&channel={channel}"
        ));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let answer = reply.json();
        assert_eq!(answer["contact_id"], c.as_str());
        assert_eq!(answer["channel"], channel);
        let interface = check(&c, purpose, channel);
        for member in ["permitted", "reason", "consent_id"] {
            assert_eq!(answer[member], interface[member], "{member}: {answer}");
        }
        answer
    };
    assert_check(
        &decided("status-updates", "email"),
        false,
        "no-consent",
        None,
    );
    let given = give(&c, "status-updates", "email");
    assert_check(
        &decided("status-updates", "email"),
        true,
        "consent-given",
        Some(&given["id"]),
    );
    assert_check(&decided("status-updates", "sms"), false, "no-consent", None);
    assert_check(
        &decided("service-delivery", "letter"),
        true,
        "lawful-basis:primary-purpose",
        Some(&Value::Null),
    );
    let withdrawn = officer().post_json(
        "/api/consents/withdrawals",
        &json!({"contact_id": c, "purpose": "status-updates", "channel": "email", "via": "phone"}),
    );
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    assert_check(
        &decided("status-updates", "email"),
        false,
        "withdrawn",
        None,
    );

    // It reads the contact's consents: a purpose of use, and the fields.
    let unstated = host()
        .as_caller(&token("officer-1", &["intake-officer"]))
        .get(&format!(
            "/api/consents/decision?contact_id={c}&purpose=status-updates&channel=email"
        ));
    assert_problem(&unstated, 400, "purpose-of-use");
    let bad = officer().get(&format!(
        "/api/consents/decision?contact_id={c}&purpose=Not_A_Purpose&channel=video"
    ));
    assert_eq!(
        error_fields(&assert_problem(&bad, 400, "validation")),
        ["purpose", "channel"]
    );
}

#[test]
fn do_not_contact_entries_block_every_purpose_that_contacts_the_person() {
    let c = contact("dnc");
    give(&c, "status-updates", "email");
    give(&c, "research", "email");
    let reply = comms().post_json(
        "/api/consents/suppressions",
        &json!({"contact_id": c, "channel": "email", "reason": "complaint", "note": "Marked our message as spam"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let entry = reply.json();
    assert_eq!(entry["active"], true);
    assert_check(
        &check(&c, "status-updates", "email"),
        false,
        "suppressed",
        Some(&Value::Null),
    );
    assert_check(
        &check(&c, "service-delivery", "email"),
        false,
        "suppressed",
        None,
    );
    // Research contacts nobody; other channels are untouched.
    assert_check(&check(&c, "research", "email"), true, "consent-given", None);
    assert_check(
        &check(&c, "service-delivery", "sms"),
        true,
        "lawful-basis:primary-purpose",
        None,
    );

    let listed = officer().get(&format!("/api/consents/suppressions?contact_id={c}"));
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()["suppressions"][0]["id"], entry["id"]);
    // Intake officers do not manage do-not-contact entries.
    let intake = host()
        .as_caller(&token("intake-2", &["intake-officer"]))
        .post_json(
            "/api/consents/suppressions",
            &json!({"contact_id": c, "channel": "sms", "reason": "complaint"}),
        );
    assert_problem(&intake, 403, "forbidden");

    let lift = format!(
        "/api/consents/suppressions/{}/lift",
        entry["id"].as_str().unwrap()
    );
    let lifted = comms().post_json(&lift, &json!({"reason": "Complaint withdrawn by phone"}));
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(lifted.json()["active"], false);
    assert_eq!(lifted.json()["lifted"]["by"], "staff:comms-1");
    assert_check(
        &check(&c, "status-updates", "email"),
        true,
        "consent-given",
        None,
    );
    assert_problem(
        &comms().post_json(&lift, &json!({"reason": "again"})),
        409,
        "suppression-already-lifted",
    );
    assert_problem(
        &comms().post_json(
            "/api/consents/suppressions/dnc_missing/lift",
            &json!({"reason": "x"}),
        ),
        404,
        "not-found",
    );

    // A bounded entry applies within [since, until) only.
    let now = now_ms();
    let bounded = comms().post_json(
        "/api/consents/suppressions",
        &json!({"contact_id": c, "channel": "email", "reason": "undeliverable", "since": now + 60_000, "until": now + 120_000}),
    );
    assert_eq!(bounded.status, 201, "{}", bounded.body);
    assert_eq!(bounded.json()["active"], false);
    assert_check(
        &check_at(&c, "status-updates", "email", Some(now + 60_000)),
        false,
        "suppressed",
        None,
    );
    assert_check(
        &check_at(&c, "status-updates", "email", Some(now + 120_000)),
        true,
        "consent-given",
        None,
    );

    let problem = assert_problem(
        &comms().post_json(
            "/api/consents/suppressions",
            &json!({"contact_id": c, "channel": "counter", "reason": "bored", "since": 10, "until": 5}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["channel", "reason"]);
    let problem = assert_problem(
        &comms().post_json(
            "/api/consents/suppressions",
            &json!({"contact_id": c, "channel": "sms", "reason": "complaint", "since": 10, "until": 5}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["until"]);

    // A citizen may ask not to be contacted, and lift only that.
    link_citizen(&app().db_path(), "citizen-dnc", &c);
    let citizen = || host().as_caller(&token("citizen-dnc", &["citizen"]));
    let own = citizen().post_json(
        "/api/consents/suppressions",
        &json!({"channel": "sms", "reason": "requested-by-person"}),
    );
    assert_eq!(own.status, 201, "{}", own.body);
    let problem = assert_problem(
        &citizen().post_json(
            "/api/consents/suppressions",
            &json!({"channel": "sms", "reason": "safety-risk"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["reason"]);
    let staff_entry = format!(
        "/api/consents/suppressions/{}/lift",
        bounded.json()["id"].as_str().unwrap()
    );
    assert_problem(
        &citizen().post_json(&staff_entry, &json!({"reason": "mine"})),
        403,
        "forbidden",
    );
    let own_lift = format!(
        "/api/consents/suppressions/{}/lift",
        own.json()["id"].as_str().unwrap()
    );
    assert_eq!(
        citizen()
            .post_json(&own_lift, &json!({"reason": "changed my mind"}))
            .status,
        200
    );
}

fn mint(contact: &str, purpose: &str, channel: &str) -> Value {
    let reply = comms().post_json(
        "/api/consents/unsubscribe-links",
        &json!({"contact_id": contact, "purpose": purpose, "channel": channel}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn one_click(token: &str) -> Reply {
    host().request(
        "POST",
        &format!("/api/consents/unsubscribe?token={token}"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(b"List-Unsubscribe=One-Click"),
    )
}

#[test]
fn a_one_click_link_withdraws_once_without_login_and_refuses_tampering_expiry_and_replay() {
    let c = contact("link");
    let given = give(&c, "newsletters", "email");
    let link = mint(&c, "newsletters", "email");
    let token = link["token"].as_str().unwrap();
    assert!(token.starts_with("u1.k-test."), "{token}");
    assert_eq!(
        link["url"],
        format!("http://127.0.0.1:3000/api/consents/unsubscribe?token={token}")
    );
    assert_eq!(
        link["headers"]["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    // Minting is for those who send messages, for purposes resting on consent.
    assert_problem(
        &host()
            .as_caller(&crm_tests::auth::token("intake-3", &["intake-officer"]))
            .post_json(
                "/api/consents/unsubscribe-links",
                &json!({"contact_id": c, "purpose": "newsletters", "channel": "email"}),
            ),
        403,
        "forbidden",
    );
    let problem = assert_problem(
        &comms().post_json(
            "/api/consents/unsubscribe-links",
            &json!({"contact_id": c, "purpose": "service-delivery", "channel": "fax", "valid_for_days": 7}),
        ),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        ["channel", "purpose", "valid_for_days"]
    );

    // The confirmation page changes nothing (mail scanners follow links).
    let page = host().get(&format!("/api/consents/unsubscribe?token={token}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(
        page.body
            .contains("name=\"List-Unsubscribe\" value=\"One-Click\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Newsletters and news"), "{}", page.body);
    assert_check(
        &check(&c, "newsletters", "email"),
        true,
        "consent-given",
        None,
    );

    // Tampered: one character of the claims changed.
    let mut bytes = token.as_bytes().to_vec();
    let i = "u1.k-test.".len() + 3;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = one_click(std::str::from_utf8(&bytes).unwrap());
    assert_problem(&tampered, 400, "unsubscribe-link-invalid");
    let entries = audited(&tampered);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (entries[0].1.as_str(), entries[0].2.as_str()),
        ("consent.withdraw", "denied")
    );
    assert!(
        entries[0].3.as_deref().unwrap().contains("signature"),
        "{entries:?}"
    );
    assert_problem(
        &one_click("u1.k-test.garbage"),
        400,
        "unsubscribe-link-invalid",
    );
    assert_problem(&one_click(""), 400, "validation");

    // Expired: signed with the same key, a moment in the past.
    let claims = UnsubscribeClaims {
        contact_id: ContactId::parse(&c).unwrap(),
        purpose: PurposeId::parse("newsletters").unwrap(),
        channel: Channel::Email,
        nonce: Nonce::parse("expired-nonce-0123456789").unwrap(),
        expires_at_ms: now_ms() - 1,
    };
    let expired = LinkKeyring::parse(&link_keys()).unwrap().sign(&claims);
    assert_problem(&one_click(&expired), 410, "unsubscribe-link-expired");

    // RFC 8058: a POST without the one-click body does nothing.
    let bare = host().request(
        "POST",
        &format!("/api/consents/unsubscribe?token={token}"),
        &[],
        None,
    );
    assert_problem(&bare, 400, "validation");
    assert_check(
        &check(&c, "newsletters", "email"),
        true,
        "consent-given",
        None,
    );

    let done = one_click(token);
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["outcome"], "withdrawn");
    assert_eq!(done.json()["consent_id"], given["id"]);
    assert_check(
        &check(&c, "newsletters", "email"),
        false,
        "withdrawn",
        Some(&given["id"]),
    );
    let events = withdrawn_events(&c);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["via"], "one-click-link");
    let entries = audited(&done);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].0.starts_with("unsubscribe-link:"), "{entries:?}");
    assert_eq!(entries[0].2, "allowed");
    let record = history(&c)["current"][0].clone();
    assert_eq!(record["events"][1]["actor"]["kind"], "unsubscribe-link");
    assert_eq!(record["events"][1]["via"], "one-click-link");

    // Replayed: refused, on the page too; and nothing more is written.
    assert_problem(&one_click(token), 409, "unsubscribe-link-used");
    assert_problem(
        &host().get(&format!("/api/consents/unsubscribe?token={token}")),
        409,
        "unsubscribe-link-used",
    );
    assert_eq!(withdrawn_events(&c).len(), 1);

    // A fresh link when nothing is in force is used up without a change; a
    // person clicking gets a page.
    let second = mint(&c, "newsletters", "email");
    let reply = host().request(
        "POST",
        &format!(
            "/api/consents/unsubscribe?token={}",
            second["token"].as_str().unwrap()
        ),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "text/html"),
        ],
        Some(b"List-Unsubscribe=One-Click"),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("unsubscribed"), "{}", reply.body);
    assert_problem(
        &one_click(second["token"].as_str().unwrap()),
        409,
        "unsubscribe-link-used",
    );
    assert_eq!(withdrawn_events(&c).len(), 1);
}

#[test]
fn two_officers_recording_at_once_are_both_recorded_one_superseding_the_other() {
    let c = contact("race");
    let given_at = now_ms();
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let c = c.clone();
                scope.spawn(move || {
                    let officer = format!("officer-{i}");
                    let mut body = decision(
                        &c,
                        "newsletters",
                        "letter",
                        if i % 2 == 0 { "given" } else { "refused" },
                    );
                    body["given_at"] = json!(given_at);
                    body["collection"]["officer_id"] = json!(officer);
                    host()
                        .as_caller(&token(&officer, &["case-worker"]))
                        .post_json("/api/consents", &body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    // Every decision is stored; they form one chain, each superseding the
    // one stored before it, so exactly one rules.
    let listed = history(&c);
    let records = listed["history"].as_array().unwrap();
    assert_eq!(records.len(), 8);
    assert_eq!(listed["current"].as_array().unwrap().len(), 1);
    let ruling = &listed["current"][0];
    assert_eq!(ruling["id"], records[0]["id"], "the last stored rules");
    for pair in records.windows(2) {
        assert_eq!(pair[0]["supersedes"], pair[1]["id"]);
        assert_eq!(pair[1]["superseded_by"], pair[0]["id"]);
    }
    assert_eq!(records[7]["supersedes"], Value::Null);
    let reason = if ruling["decision"] == "given" {
        "consent-given"
    } else {
        "refused"
    };
    assert_check(
        &check(&c, "newsletters", "letter"),
        ruling["decision"] == "given",
        reason,
        Some(&ruling["id"]),
    );

    // Two withdrawals at once: one withdraws, the other finds nothing left.
    let c = contact("race-withdraw");
    give(&c, "newsletters", "letter");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                scope.spawn(move || {
                    officer()
                        .post_json(
                            "/api/consents/withdrawals",
                            &json!({"contact_id": c, "purpose": "newsletters", "channel": "letter", "via": "paper"}),
                        )
                        .status
                })
            })
            .collect();
        let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        statuses.sort();
        statuses
    });
    assert_eq!(statuses, [200, 409]);
    assert_eq!(withdrawn_events(&c).len(), 1);

    // Two clicks on one link at once: one withdraws, the other is a replay.
    let c = contact("race-link");
    give(&c, "newsletters", "email");
    let link = mint(&c, "newsletters", "email");
    let token = link["token"].as_str().unwrap();
    let mut statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| one_click(token).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(withdrawn_events(&c).len(), 1);
}

#[test]
fn the_catalogues_are_seeded_and_changed_only_by_administrators_as_new_versions() {
    let purposes = officer().get("/api/consents/purposes");
    assert_eq!(purposes.status, 200, "{}", purposes.body);
    let seeded: Vec<(String, String, String)> = purposes.json()["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["category"].as_str().unwrap().to_string(),
                p["lawful_basis"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(id, ..)| !id.starts_with("test-"))
        .collect();
    let expected = [
        ("case-updates", "service", "consent"),
        ("newsletters", "direct-communication", "consent"),
        ("research", "research", "consent"),
        ("service-delivery", "service", "primary-purpose"),
        ("sharing:services-australia", "service", "consent"),
        ("status-updates", "service", "consent"),
    ];
    assert_eq!(
        seeded,
        expected.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );

    let new = json!({"id": "test-surveys", "category": "direct-communication", "lawful_basis": "consent", "description": "Short surveys"});
    assert_problem(
        &officer().post_json("/api/consents/purposes", &new),
        403,
        "forbidden",
    );
    let created = admin().post_json("/api/consents/purposes", &new);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["revision"], 1);
    assert_problem(
        &admin().post_json("/api/consents/purposes", &new),
        409,
        "purpose-exists",
    );
    let revised = admin().request(
        "PUT",
        "/api/consents/purposes/test-surveys",
        Some(&json!({"category": "direct-communication", "lawful_basis": "consent", "description": "Short surveys, twice a year"})),
    );
    assert_eq!(revised.status, 200, "{}", revised.body);
    assert_eq!(revised.json()["revision"], 2);
    assert_problem(
        &admin().request(
            "PUT",
            "/api/consents/purposes/test-none",
            Some(&json!({"category": "research", "lawful_basis": "consent", "description": "x"})),
        ),
        404,
        "not-found",
    );
    let problem = assert_problem(
        &admin().post_json(
            "/api/consents/purposes",
            &json!({"id": "test-push", "category": "direct-communication", "lawful_basis": "primary-purpose", "description": "Pushy"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["lawful_basis"]);
    let problem = assert_problem(
        &admin().post_json(
            "/api/consents/purposes",
            &json!({"id": "Test Bad", "category": "marketing", "lawful_basis": "vibes", "description": ""}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["id", "category", "lawful_basis"]);

    // Privacy notices: immutable, consecutive versions, text or URL.
    let notices = officer().get("/api/privacy-notices").json();
    assert_eq!(notices["privacy_notices"][0]["id"], "general");
    assert_eq!(
        notices["privacy_notices"][0]["url"],
        "https://crm.gov.au/privacy/general/v1"
    );
    let v2 = json!({"id": "test-notice", "version": 1, "language": "en-au", "title": "Research notice", "text": "We use survey answers for research."});
    assert_problem(
        &officer().post_json("/api/privacy-notices", &v2),
        403,
        "forbidden",
    );
    let published = admin().post_json("/api/privacy-notices", &v2);
    assert_eq!(published.status, 201, "{}", published.body);
    assert_eq!(
        published.header("location"),
        Some("/api/privacy-notices/test-notice/versions/1")
    );
    assert_eq!(published.json()["language"], "en-AU");
    assert_problem(
        &admin().post_json("/api/privacy-notices", &v2),
        409,
        "notice-version-exists",
    );
    let mut v3 = v2.clone();
    v3["version"] = json!(3);
    assert_problem(
        &admin().post_json("/api/privacy-notices", &v3),
        409,
        "notice-version-out-of-sequence",
    );
    let problem = assert_problem(
        &admin().post_json(
            "/api/privacy-notices",
            &json!({"id": "test-notice", "version": 0, "language": "en_AU", "title": " ", "text": "t", "url": "https://a.au"}),
        ),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        ["version", "language", "title", "text"]
    );
    let read = officer().get("/api/privacy-notices/test-notice/versions/1");
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["text"], "We use survey answers for research.");
    assert_problem(
        &officer().get("/api/privacy-notices/test-notice/versions/9"),
        404,
        "not-found",
    );
    assert!(
        app()
            .db()
            .execute("UPDATE privacy_notices SET title = 'x'", [])
            .is_err()
    );

    // A notice published after the person decided cannot be the one they saw.
    let c = contact("notice");
    let mut body = decision(&c, "research", "email", "given");
    body["notice_id"] = json!("test-notice");
    body["given_at"] = json!(now_ms() - 3_600_000);
    let problem = assert_problem(
        &officer().post_json("/api/consents", &body),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["notice_version"]);
}

#[test]
fn every_rejection_is_a_problem_that_names_its_fields_and_writes_nothing() {
    let c = contact("reject");
    let count = || -> i64 {
        app()
            .db()
            .query_row(
                "SELECT COUNT(*) FROM consent_records WHERE contact_id = ?1",
                [&c],
                |r| r.get(0),
            )
            .unwrap()
    };
    let mut bad = decision(&c, "marketing", "pigeon", "maybe");
    bad["data_categories"] = json!([]);
    bad["notice_id"] = json!("nope");
    bad["given_at"] = json!(now_ms() + 3_600_000);
    bad["collection"] = json!({"method": "phone-call", "officer_id": "someone-else"});
    let problem = assert_problem(
        &officer().post_json("/api/consents", &bad),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        [
            "purpose",
            "data_categories",
            "channel",
            "decision",
            "collection.call_reference",
            "given_at",
            "collection.officer_id",
            "notice_id"
        ]
    );
    // The purpose must rest on consent to be consented to.
    let problem = assert_problem(
        &officer().post_json(
            "/api/consents",
            &decision(&c, "service-delivery", "email", "given"),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["purpose"]);
    let mut portal = decision(&c, "newsletters", "email", "given");
    portal["collection"] = json!({"method": "portal-form", "form_version": "f/1"});
    let problem = assert_problem(
        &officer().post_json("/api/consents", &portal),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["collection.method"]);
    let mut extra = decision(&c, "newsletters", "email", "given");
    extra["shoe_size"] = json!(9);
    assert_problem(
        &officer().post_json("/api/consents", &extra),
        400,
        "invalid-json",
    );
    assert_problem(
        &officer().send("POST", "/api/consents", Some("{not json")),
        400,
        "invalid-json",
    );
    let huge = format!("{{\"contact_id\": \"{}\"}}", "x".repeat(1_500_000));
    assert_problem(
        &officer().send("POST", "/api/consents", Some(&huge)),
        400,
        "invalid-json",
    );
    assert_eq!(count(), 0, "refusals write nothing");

    // A decision dated before the one in force is stale: the later stands.
    give(&c, "newsletters", "email");
    let mut stale = decision(&c, "newsletters", "email", "refused");
    stale["given_at"] = json!(now_ms() - 86_400_000);
    assert_problem(
        &officer().post_json("/api/consents", &stale),
        409,
        "stale-decision",
    );
    assert_eq!(count(), 1);

    let problem = assert_problem(
        &officer().post_json(
            "/api/consents/withdrawals",
            &json!({"contact_id": c, "purpose": "News", "channel": "fax"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["purpose", "channel", "via"]);
    assert_problem(&officer().get("/api/consents"), 400, "validation");
    assert_problem(
        &officer().get("/api/consents/cns_missing"),
        404,
        "not-found",
    );
    assert_problem(
        &officer().request("DELETE", "/api/consents/purposes", None),
        405,
        "method-not-allowed",
    );
    // Reads of consents state a purpose of use.
    let no_purpose = host()
        .as_caller(&token("officer-1", &["case-worker"]))
        .get(&format!("/api/consents?contact_id={c}"));
    assert_problem(&no_purpose, 400, "purpose-of-use");
    assert_problem(
        &host().get(&format!("/api/consents?contact_id={c}")),
        401,
        "unauthorized",
    );
}

#[test]
fn on_a_fresh_database_the_leaf_migrates_and_without_a_link_key_links_are_off() {
    let own = App::start_in(with_probe(), &[]);
    let host = &own.host;
    // The leaf answers even when it is the first to touch the database.
    let first = host.get("/probe/check?contact=con_1&purpose=newsletters&channel=email");
    assert_eq!(first.json()["reason"], "no-consent", "{}", first.body);

    let reply = host
        .as_caller(&token("comms-1", &["communications-officer"]))
        .post_json(
            "/api/consents/unsubscribe-links",
            &json!({"contact_id": "con_1", "purpose": "newsletters", "channel": "email"}),
        );
    let problem = assert_problem(&reply, 503, "unsubscribe-links-unavailable");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("consent_link_keys"),
        "{problem}"
    );
    let claims = UnsubscribeClaims {
        contact_id: ContactId::parse("con_1").unwrap(),
        purpose: PurposeId::parse("newsletters").unwrap(),
        channel: Channel::Email,
        nonce: Nonce::parse("no-key-nonce-0123456789").unwrap(),
        expires_at_ms: now_ms() + 60_000,
    };
    let token = LinkKeyring::parse(&link_keys()).unwrap().sign(&claims);
    let reply = host.request(
        "POST",
        &format!("/api/consents/unsubscribe?token={token}"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(b"List-Unsubscribe=One-Click"),
    );
    assert_problem(&reply, 503, "unsubscribe-links-unavailable");
}

// A consent record at a glance: refused per field, and the privacy notices served.

#[test]
fn consent_records_are_validated() {
    let reply = officer().post_json(
        "/api/consents",
        &json!({"contact_id": "", "purpose": "x", "channel": "pigeon", "decision": "maybe",
            "notice_id": "general", "notice_version": 9, "data_categories": ["contact-details"],
            "collection": {"method": "counter", "officer_id": "officer-1"}, "given_at": 0}),
    );
    assert_problem(&reply, 400, "validation");
    let fields: Vec<String> = reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        ["contact_id", "purpose", "channel", "decision", "notice_id"]
    );
    assert_problem(&officer().get("/api/consents"), 400, "validation");
    let notices = officer().get("/api/privacy-notices").json();
    assert_eq!(notices["privacy_notices"][0]["id"], "general");
}
