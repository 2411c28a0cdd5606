use std::sync::atomic::{AtomicUsize, Ordering};

use crm_tests::app::{assert_problem, error_fields, request_id};
use crm_tests::auth::{link_citizen, token};
use crm_tests::{AppDir, Caller, Reply, Value, json};

use crate::{app, host};

fn count(sql: &str, param: &str) -> i64 {
    app().db().query_row(sql, [param], |r| r.get(0)).unwrap()
}

/// Contacts whose display name contains `text` (tests run in parallel, so
/// each counts only its own).
fn contacts_named(text: &str) -> i64 {
    count(
        "SELECT COUNT(*) FROM contacts WHERE display_name LIKE '%' || ?1 || '%'",
        text,
    )
}

/// An intake officer who also works cases (may read identifiers and merge).
pub(crate) fn officer() -> Caller<'static> {
    crm_tests::app::officer(host(), "officer-7")
}

pub(crate) fn comms() -> Caller<'static> {
    crm_tests::app::comms(host(), "comms-7")
}

/// A name part no other test uses (letters only, as names are).
pub(crate) fn unique(stem: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let mut n = NEXT.fetch_add(1, Ordering::SeqCst) + 26 * 26;
    let mut suffix = String::new();
    while n > 0 {
        suffix.insert(0, (b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    format!("{stem}{suffix}")
}

/// Creates a contact; returns (id, ETag, body).
pub(crate) fn create(body: &Value) -> (String, String, Value) {
    let reply = officer().post_json("/api/contacts", body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let etag = reply.header("etag").expect("etag").to_string();
    let body = reply.json();
    (body["id"].as_str().unwrap().to_string(), etag, body)
}

fn patch(caller: Caller<'_>, id: &str, etag: &str, body: &Value) -> Reply {
    caller
        .header("if-match", etag)
        .request("PATCH", &format!("/api/contacts/{id}"), Some(body))
}

fn outbox(id: &str) -> Vec<(String, Value)> {
    let db = app().db();
    let mut statement = db
        .prepare("SELECT topic, payload FROM outbox_events WHERE aggregate_id = ?1 ORDER BY id")
        .unwrap();
    statement
        .query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap()
        .map(|row| {
            let (topic, payload) = row.unwrap();
            (topic, serde_json::from_str(&payload).unwrap())
        })
        .collect()
}

/// Audit rows of a request: (action, outcome, subject, detail).
fn audited(reply: &Reply) -> Vec<(String, String, Option<String>, Option<String>)> {
    let columns = "action, outcome, subject_contact_id, detail";
    app().audit_entries(columns, "request_id", &request_id(reply), |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
}

#[test]
fn a_full_record_is_normalised_and_each_field_records_its_collection() {
    let family = unique("Nguyễn");
    let reply = officer().post_json(
        "/api/contacts",
        &json!({
            "archetype": "individual",
            "given_name": " Zoë ", "family_name": family, "preferred_name": "Zo",
            "date_of_birth": "1991-02-03",
            "email": "Zoe.Full@Example.GOV.au",
            "phones": ["0412 000 111", "(02) 6123 4567"],
            "postal_address": {"lines": ["PO Box 7"], "locality": "Canberra", "state": "act", "postcode": "2601"},
            "residential_address": {"lines": ["1 Main St"], "locality": "Canberra", "state": "ACT", "postcode": "2600"},
            "preferred_channel": "sms", "language": "VI-vn",
            "identifiers": [{"scheme": "medicare", "value": "2123 45670 1 1"}],
            "tags": ["Housing-Support"], "categories": ["priority"],
            "collection": {"source": "phone", "purpose": "service-delivery", "notice_id": "general", "notice_version": 1, "channel": "phone"}
        }),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.header("etag"), Some("\"v1\""));
    let created = reply.json();
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/contacts/{id}").as_str())
    );
    assert_eq!(created["display_name"], format!("Zo {family}"));
    assert_eq!(created["given_name"], "Zoë");
    assert_eq!(created["emails"], json!(["Zoe.Full@example.gov.au"]));
    assert_eq!(created["phones"], json!(["+61412000111", "+61261234567"]));
    assert_eq!(created["postal_address"]["state"], "ACT");
    assert_eq!(created["postal_address"]["country"], "AU");
    assert_eq!(created["language"], "vi-VN");
    assert_eq!(
        created["identifiers"],
        json!([{"scheme": "medicare", "value": "21234567011"}])
    );
    assert_eq!(created["tags"], json!(["housing-support"]));
    assert_eq!(created["version"], 1);
    // Every field holding a value says how, why and under which notice it
    // was collected.
    let provenance = created["provenance"].as_object().unwrap();
    for field in [
        "given_name",
        "family_name",
        "date_of_birth",
        "emails",
        "phones",
        "postal_address",
        "identifiers",
        "tags",
    ] {
        let p = &provenance[field];
        assert_eq!(
            (
                &p["source"],
                &p["purpose"],
                &p["notice_id"],
                &p["notice_version"],
                &p["channel"]
            ),
            (
                &json!("phone"),
                &json!("service-delivery"),
                &json!("general"),
                &json!(1),
                &json!("phone")
            ),
            "{field}"
        );
        assert_eq!(p["request_id"], request_id(&reply));
    }
    assert!(!provenance.contains_key("accessibility_needs"));
    // Read back as created.
    let read = officer().get(&format!("/api/contacts/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.header("etag"), Some("\"v1\""));
    assert_eq!(read.json(), created);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contact_versions WHERE contact_id = ?1",
            id
        ),
        1
    );
}

#[test]
fn bad_input_is_refused_per_field_and_nothing_is_written() {
    let cases = [
        (
            json!({"archetype": "business", "organisation_name": "Checks Pty Ltd",
                   "identifiers": [{"scheme": "abn", "value": "51 824 753 557"}, {"scheme": "acn", "value": "000 000 018"}]}),
            vec!["identifiers[0].value", "identifiers[1].value"],
        ),
        (
            json!({"archetype": "individual", "family_name": "Postcode",
                   "postal_address": {"lines": ["1 Main St"], "locality": "Sydney", "state": "VIC", "postcode": "2000"},
                   "residential_address": {"lines": ["PO Box 1"], "locality": "Sydney", "state": "NSW", "postcode": "1100"}}),
            vec![
                "postal_address.postcode",
                "residential_address.lines[0]",
                "residential_address.postcode",
            ],
        ),
        (
            json!({"archetype": "individual", "family_name": "R2D2", "date_of_birth": "1899-13-01",
                   "phones": ["1300 123 456"], "emails": ["nope"], "preferred_channel": "fax",
                   "identifiers": [{"scheme": "tfn", "value": "123 456 782"}], "tags": ["not a slug"]}),
            vec![
                "family_name",
                "date_of_birth",
                "emails[0]",
                "phones[0]",
                "preferred_channel",
                "identifiers[0].scheme",
                "tags[0]",
            ],
        ),
        (
            json!({"archetype": "government", "given_name": "Ann"}),
            vec!["family_name", "given_name", "organisation_name"],
        ),
        (
            json!({"archetype": "individual", "family_name": "Coll", "collection": {"notice_version": 0, "channel": "fax"}}),
            vec!["collection.notice_version", "collection.channel"],
        ),
    ];
    for (body, fields) in cases {
        let reply = officer().post_json("/api/contacts", &body);
        let problem = assert_problem(&reply, 400, "validation");
        assert_eq!(error_fields(&problem), fields, "{problem}");
    }
    // The ABN check digit: one changed digit fails, the real one passes.
    let (_, _, good) = create(
        &json!({"archetype": "business", "organisation_name": unique("Checkdigit"),
        "identifiers": [{"scheme": "ABN", "value": "53 004 085 616"}]}),
    );
    assert_eq!(
        good["identifiers"],
        json!([{"scheme": "abn", "value": "53004085616"}])
    );
    // Malformed JSON, unknown members and wrong types.
    assert_problem(
        &officer().send("POST", "/api/contacts", Some("{not json")),
        400,
        "invalid-json",
    );
    assert_problem(
        &officer().post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "family_name": "X", "shoe_size": 9}),
        ),
        400,
        "invalid-json",
    );
    assert_problem(
        &officer().post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "family_name": "X", "emails": "a@b.au"}),
        ),
        400,
        "invalid-json",
    );
    // A 1 MiB body is refused whole, not a trap.
    let huge = json!({"archetype": "individual", "family_name": "x".repeat(1 << 20)}).to_string();
    assert_problem(
        &officer().send("POST", "/api/contacts", Some(&huge)),
        413,
        "payload-too-large",
    );
    let big_name = json!({"archetype": "individual", "family_name": "é".repeat(101)});
    assert_eq!(
        error_fields(&assert_problem(
            &officer().post_json("/api/contacts", &big_name),
            400,
            "validation"
        )),
        ["family_name"]
    );
    // None of the refused contacts was written.
    for name in ["Checks Pty Ltd", "Postcode", "Coll", "R2D2"] {
        assert_eq!(contacts_named(name), 0, "{name}");
    }
    assert_eq!(contacts_named(&"x".repeat(64)), 0);

    // Names in any script are kept as written.
    for (given, family) in [
        ("小龙", unique("李")),
        ("محمد", unique("علي")),
        ("Seán", unique("O'Brien-Nguyễn")),
    ] {
        let (_, _, body) =
            create(&json!({"archetype": "individual", "given_name": given, "family_name": family}));
        assert_eq!(body["display_name"], format!("{given} {family}"));
    }
}

/// Records consent through the consent component's API.
fn give_consent(contact: &str, purpose: &str, channel: &str) {
    let consent = crm_tests::consent::decision(contact, purpose, channel, "given", "officer-7");
    let reply = officer().post_json("/api/consents", &consent);
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[test]
fn optional_fields_need_consent_for_their_purpose() {
    let purpose = json!({"id": "research-survey", "category": "research", "lawful_basis": "consent", "description": "A survey of service users"});
    let admin = host().as_caller(&token("admin-7", &["administrator"]));
    let added = admin.post_json("/api/consents/purposes", &purpose);
    assert_eq!(added.status, 201, "{}", added.body);
    let research = json!({"source": "portal", "purpose": "research-survey", "channel": "portal"});
    // At intake a new contact has no consent to the purpose yet.
    let refused = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "family_name": unique("Consenting"), "date_of_birth": "1970-07-07",
                "accessibility_needs": {"large_print": true}, "collection": research}),
    );
    let problem = assert_problem(&refused, 400, "consent-required");
    assert_eq!(
        error_fields(&problem),
        ["date_of_birth", "accessibility_needs"]
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("research-survey"),
        "{problem}"
    );
    // Fields necessary for every purpose need no consent.
    let (id, etag, _) = create(
        &json!({"archetype": "individual", "family_name": unique("Consenting"),
        "emails": ["consenting@example.com"], "collection": research}),
    );
    let add = json!({"changes": {"accessibility_needs": {"interpreter": "vi", "tty": true}},
        "reason": "asked for an interpreter", "collection": research});
    assert_problem(&patch(officer(), &id, &etag, &add), 400, "consent-required");
    // Once the contact consents to the purpose, the field is collected.
    give_consent(&id, "research-survey", "portal");
    let accepted = patch(officer(), &id, &etag, &add);
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let body = accepted.json();
    assert_eq!(body["accessibility_needs"]["interpreter"], "vi");
    assert_eq!(
        body["provenance"]["accessibility_needs"]["purpose"],
        "research-survey"
    );
}

#[test]
fn intake_matches_before_writing_and_answers_the_candidates() {
    let family = unique("Smith");
    let email = format!("{}@example.com", family.to_lowercase());
    let (first, _, _) = create(
        &json!({"archetype": "individual", "given_name": "John", "family_name": family,
        "date_of_birth": "1980-05-17", "emails": [email],
        "postal_address": {"lines": ["2 High St"], "locality": "Ainslie", "state": "ACT", "postcode": "2602"}}),
    );
    let contacts = || contacts_named(&family);

    // Deterministic: the same email, however it is capitalised.
    let before = contacts();
    let same_email = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "family_name": unique("Other"), "email": email.to_uppercase()}),
    );
    let problem = assert_problem(&same_email, 409, "possible-duplicate");
    let candidate = &problem["candidates"][0];
    assert_eq!(candidate["contact_id"], first.as_str());
    assert_eq!(candidate["score"], 1.0);
    assert_eq!(candidate["reasons"][0]["rule"], "same-email");
    assert_eq!(candidate["display_name"], format!("John {family}"));
    // Fuzzy: a similar spelling with the day and month swapped.
    let fuzzy_body = json!({"archetype": "individual", "given_name": "Jon", "family_name": family.to_uppercase(),
        "date_of_birth": "1980-05-17"});
    let fuzzy = officer().post_json("/api/contacts", &fuzzy_body);
    let problem = assert_problem(&fuzzy, 409, "possible-duplicate");
    let candidate = &problem["candidates"][0];
    assert_eq!(candidate["contact_id"], first.as_str());
    let score = candidate["score"].as_f64().unwrap();
    assert!((0.6..1.0).contains(&score), "{candidate}");
    let rules: Vec<&str> = candidate["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"similar-name") && rules.contains(&"same-date-of-birth"),
        "{rules:?}"
    );
    assert_eq!(
        contacts(),
        before,
        "nothing is written while candidates stand"
    );
    // The refusal and each candidate shown are audited.
    let entries = audited(&fuzzy);
    assert!(
        entries.iter().any(|e| e.0 == "contact.create"
            && e.1 == "failed"
            && e.3.as_deref() == Some("possible-duplicate")),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e.0 == "contact.search" && e.2.as_deref() == Some(first.as_str())),
        "{entries:?}"
    );

    // Checking without writing.
    let matched = officer().post_json("/api/contacts/match", &fuzzy_body);
    assert_eq!(matched.status, 200, "{}", matched.body);
    assert_eq!(
        matched.json()["candidates"][0]["contact_id"],
        first.as_str()
    );
    assert_eq!(contacts(), before);

    // `link` answers with the existing record instead.
    let mut link = fuzzy_body.clone();
    link["on_duplicate"] = json!("link");
    let linked = officer().post_json("/api/contacts", &link);
    assert_eq!(linked.status, 200, "{}", linked.body);
    assert_eq!(linked.json()["id"], first.as_str());
    assert_eq!(
        linked.header("location"),
        Some(format!("/api/contacts/{first}").as_str())
    );
    assert!(linked.json()["match"]["score"].as_f64().unwrap() >= 0.6);
    // `create` needs a reason, which the first version keeps.
    let mut create_anyway = fuzzy_body.clone();
    create_anyway["on_duplicate"] = json!("create");
    assert_eq!(
        error_fields(&assert_problem(
            &officer().post_json("/api/contacts", &create_anyway),
            400,
            "validation"
        )),
        ["duplicate_reason"]
    );
    create_anyway["duplicate_reason"] = json!("father and son, same name");
    let (second, _, _) = create(&create_anyway);
    assert_eq!(contacts(), before + 1);
    let reason: String = app()
        .db()
        .query_row(
            "SELECT reason FROM contact_versions WHERE contact_id = ?1",
            [&second],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        reason.contains("father and son") && reason.contains(&first),
        "{reason}"
    );

    // Organisations match on ABN and on name without legal form.
    let org = unique("Quokka");
    let (business, _, _) = create(
        &json!({"archetype": "business", "organisation_name": format!("{org} Pty Ltd"),
        "identifiers": [{"scheme": "abn", "value": "33 102 417 032"}]}),
    );
    let by_abn = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "business", "organisation_name": unique("Other"),
        "identifiers": [{"scheme": "abn", "value": "33102417032"}]}),
    );
    let problem = assert_problem(&by_abn, 409, "possible-duplicate");
    assert_eq!(problem["candidates"][0]["contact_id"], business.as_str());
    assert_eq!(problem["candidates"][0]["reasons"][0]["rule"], "same-abn");
    let by_name = officer().post_json("/api/contacts/match", &json!({"archetype": "business", "organisation_name": format!("{org} Proprietary Limited")}));
    assert_eq!(
        by_name.json()["candidates"][0]["contact_id"],
        business.as_str()
    );
}

#[test]
fn corrections_are_new_versions_guarded_by_etags() {
    let family = unique("Corrected");
    let old_email = format!("{}@old.example.com", family.to_lowercase());
    let (id, etag, _) = create(
        &json!({"archetype": "individual", "given_name": "Mary", "family_name": family,
        "emails": [old_email], "tags": ["before"]}),
    );
    let path = format!("/api/contacts/{id}");
    let new_email = format!("{}@new.example.com", family.to_lowercase());
    let change = json!({"changes": {"emails": [new_email], "preferred_name": "Molly", "tags": null}, "reason": "new address from the client"});

    // If-Match is required, and must be current.
    let missing = officer().request("PATCH", &path, Some(&change));
    assert_problem(&missing, 428, "if-match-required");
    assert_problem(
        &patch(officer(), &id, "\"v7\"", &change),
        412,
        "stale-version",
    );
    // A bad change is refused per field, with nothing written.
    let bad = patch(
        officer(),
        &id,
        &etag,
        &json!({"changes": {"phones": ["12"]}, "reason": "typo"}),
    );
    assert_eq!(
        error_fields(&assert_problem(&bad, 400, "validation")),
        ["phones[0]"]
    );
    let no_reason = patch(
        officer(),
        &id,
        &etag,
        &json!({"changes": {"preferred_name": "M"}}),
    );
    assert_eq!(
        error_fields(&assert_problem(&no_reason, 400, "validation")),
        ["reason"]
    );
    let unknown = patch(
        officer(),
        &id,
        &etag,
        &json!({"changes": {"shoe_size": 9}, "reason": "x"}),
    );
    assert_eq!(
        error_fields(&assert_problem(&unknown, 400, "validation")),
        ["changes"]
    );

    let corrected = patch(officer(), &id, &etag, &change);
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    assert_eq!(corrected.header("etag"), Some("\"v2\""));
    let body = corrected.json();
    assert_eq!(body["version"], 2);
    assert_eq!(body["emails"], json!([new_email]));
    assert_eq!(
        body["display_name"],
        format!("Molly {family}"),
        "a derived display name follows the names"
    );
    assert_eq!(body["tags"], json!([]));
    assert!(body["provenance"]["emails"]["request_id"] == request_id(&corrected));
    assert!(body["provenance"].get("tags").is_none());
    // The old ETag is now stale.
    assert_problem(&patch(officer(), &id, &etag, &change), 412, "stale-version");

    // The history keeps both versions, with who, when and why.
    let history = officer().get(&format!("{path}/history"));
    assert_eq!(history.status, 200, "{}", history.body);
    let history = history.json();
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        (
            versions[0]["version"].as_i64(),
            versions[0]["change"].as_str()
        ),
        (Some(1), Some("created"))
    );
    assert_eq!(versions[0]["record"]["emails"], json!([old_email]));
    assert_eq!(versions[1]["change"], "corrected");
    assert_eq!(versions[1]["reason"], "new address from the client");
    assert_eq!(versions[1]["actor"]["id"], "staff:officer-7");
    assert_eq!(versions[1]["actor"]["role"], "intake-officer");
    // Versions cannot be altered, even by hand.
    assert!(
        app()
            .db()
            .execute(
                "UPDATE contact_versions SET reason = 'x' WHERE contact_id = ?1",
                [&id]
            )
            .is_err()
    );

    // The match keys moved with the email.
    let find = |email: &str| {
        officer()
            .get(&format!("/api/contacts?email={email}"))
            .json()["items"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(find(&old_email), 0);
    assert_eq!(find(&new_email), 1);
    // One outbox event per write, naming the changed fields.
    let events = outbox(&id);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].0, "contact.corrected");
    assert_eq!(
        events[1].1["fields"],
        json!(["display_name", "preferred_name", "emails", "tags"])
    );
    // A correction that changes nothing writes nothing.
    let same = patch(
        officer(),
        &id,
        "\"v2\"",
        &json!({"changes": {"preferred_name": "Molly"}, "reason": "again"}),
    );
    assert_eq!(same.status, 200);
    assert_eq!(same.header("etag"), Some("\"v2\""));
}

#[test]
fn a_merge_folds_the_duplicate_in_and_leaves_a_pointer() {
    let family = unique("Merged");
    let lower = family.to_lowercase();
    let (survivor, etag, _) = create(
        &json!({"archetype": "individual", "given_name": "Ann", "family_name": family,
        "emails": [format!("{lower}@a.example.com")], "phones": ["0400 111 222"], "tags": ["kept"]}),
    );
    let (duplicate, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Anne", "family_name": family,
        "date_of_birth": "1975-04-04", "emails": [format!("{lower}@b.example.com")], "tags": ["folded"],
        "on_duplicate": "create", "duplicate_reason": "not sure yet"}),
    );
    let merge = |survivor: &str, body: &Value| {
        officer().post_json(&format!("/api/contacts/{survivor}/merge"), body)
    };
    // Refusals first.
    assert_eq!(
        error_fields(&assert_problem(
            &merge(&survivor, &json!({"duplicate_id": duplicate})),
            400,
            "validation"
        )),
        ["reason"]
    );
    assert_problem(
        &merge(&survivor, &json!({"duplicate_id": survivor, "reason": "x"})),
        400,
        "validation",
    );
    assert_problem(
        &merge(
            &survivor,
            &json!({"duplicate_id": "con_missing", "reason": "x"}),
        ),
        404,
        "not-found",
    );
    let (business, _, _) =
        create(&json!({"archetype": "business", "organisation_name": unique("Mergeco")}));
    assert_eq!(
        error_fields(&assert_problem(
            &merge(&survivor, &json!({"duplicate_id": business, "reason": "x"})),
            400,
            "validation"
        )),
        ["archetype"]
    );
    // Intake officers may not merge; case workers may.
    let intake_only = host()
        .as_caller(&token("officer-8", &["intake-officer"]))
        .post_json(
            &format!("/api/contacts/{survivor}/merge"),
            &json!({"duplicate_id": duplicate, "reason": "x"}),
        );
    assert_problem(&intake_only, 403, "forbidden");

    let merged = officer()
        .header("if-match", &etag)
        .post_json(
            &format!("/api/contacts/{survivor}/merge"),
            &json!({"duplicate_id": duplicate, "reason": "same person, two intakes", "prefer": {"given_name": "duplicate"}}),
        );
    assert_eq!(merged.status, 200, "{}", merged.body);
    let body = merged.json();
    assert_eq!(body["id"], survivor.as_str());
    assert_eq!(body["version"], 2);
    assert_eq!(body["given_name"], "Anne", "prefer took the duplicate's");
    assert_eq!(
        body["date_of_birth"], "1975-04-04",
        "a gap was filled from the duplicate"
    );
    assert_eq!(
        body["emails"],
        json!([
            format!("{lower}@a.example.com"),
            format!("{lower}@b.example.com")
        ])
    );
    assert_eq!(body["tags"], json!(["kept", "folded"]));
    assert_eq!(body["phones"], json!(["+61400111222"]));
    // The filled gap keeps the duplicate's provenance.
    let dup_history = officer()
        .get(&format!("/api/contacts/{duplicate}/history"))
        .json();
    assert_eq!(
        body["provenance"]["date_of_birth"]["request_id"],
        dup_history["versions"][0]["provenance"]["date_of_birth"]["request_id"]
    );

    // The duplicate's id resolves to the survivor.
    let (status, location, pointer) = get_without_following(&format!("/api/contacts/{duplicate}"));
    assert_eq!(status, 308, "{pointer}");
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/contacts/{survivor}").as_str())
    );
    assert_eq!(pointer["merged_into"], survivor.as_str());
    // A client that follows it (with its credential) reads the survivor.
    let followed = officer().get(location.as_deref().unwrap());
    assert_eq!(followed.json()["id"], survivor.as_str());
    // Both histories are kept.
    assert_eq!(dup_history["merged_into"], survivor.as_str());
    let dup_versions = dup_history["versions"].as_array().unwrap();
    assert_eq!(dup_versions.last().unwrap()["change"], "merged-into");
    assert_eq!(
        dup_versions.last().unwrap()["related_contact"],
        survivor.as_str()
    );
    let history = officer()
        .get(&format!("/api/contacts/{survivor}/history"))
        .json();
    let last = history["versions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["change"].as_str(), last["related_contact"].as_str()),
        (Some("merged"), Some(duplicate.as_str()))
    );
    // The duplicate takes no more writes and leaves every index.
    let stale = patch(
        officer(),
        &duplicate,
        "\"v2\"",
        &json!({"changes": {"family_name": "X"}, "reason": "x"}),
    );
    let problem = assert_problem(&stale, 409, "contact-merged");
    assert_eq!(problem["merged_into"], survivor.as_str());
    let by_email = officer()
        .get(&format!("/api/contacts?email={lower}@b.example.com"))
        .json();
    let ids: Vec<&str> = by_email["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [survivor.as_str()]);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contact_match_keys WHERE contact_id = ?1",
            &duplicate
        ),
        0
    );
    assert_problem(
        &merge(
            &survivor,
            &json!({"duplicate_id": duplicate, "reason": "again"}),
        ),
        409,
        "contact-merged",
    );
    // Both writes have outbox events.
    assert_eq!(outbox(&survivor).last().unwrap().0, "contact.merged");
    let dup_event = outbox(&duplicate).last().unwrap().clone();
    assert_eq!(
        (dup_event.0.as_str(), &dup_event.1["merged_into"]),
        ("contact.merged", &json!(survivor))
    );
}

#[test]
fn search_finds_by_name_email_phone_identifier_archetype_tag_and_change() {
    let tag = unique("search").to_lowercase();
    let family = unique("Searchable");
    let mut ids = Vec::new();
    for (given, extra) in [
        (
            "Catherine",
            json!({"emails": [format!("{}@s.example.com", family.to_lowercase())]}),
        ),
        (
            "Katherine",
            json!({"phones": ["0499 123 987"], "categories": ["vip"]}),
        ),
        (
            "Bob",
            json!({"identifiers": [{"scheme": "crn", "value": "204 999 111X"}]}),
        ),
    ] {
        let mut body = json!({"archetype": "individual", "given_name": given, "family_name": family, "tags": [tag]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ids.push(create(&body).0);
    }
    let (org, _, _) = create(
        &json!({"archetype": "partner", "organisation_name": format!("{family} Partners"), "tags": [tag]}),
    );
    let found = |query: &str| -> Vec<String> {
        let reply = officer().get(&format!("/api/contacts?{query}"));
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let prefix: String = family.chars().take(7).collect();
    // Newest first.
    assert_eq!(
        found(&format!("tag={tag}")),
        [org.clone(), ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(found(&format!("name={prefix}&tag={tag}")).len(), 4);
    assert_eq!(
        found(&format!("name=cath%20{prefix}&tag={tag}")),
        [ids[0].clone()]
    );
    // Fuzzy: Katherine sounds like Catherine.
    assert_eq!(
        found(&format!("name=catherine&tag={tag}")),
        [ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(
        found(&format!("email={}@S.EXAMPLE.COM", family.to_lowercase())),
        [ids[0].clone()]
    );
    assert_eq!(found("phone=%2B61499123987"), [ids[1].clone()]);
    assert_eq!(found("identifier=crn:204999111x"), [ids[2].clone()]);
    assert_eq!(found(&format!("archetype=partner&tag={tag}")), [org]);
    assert_eq!(found(&format!("category=vip&tag={tag}")), [ids[1].clone()]);
    // Changes since a time, oldest first.
    assert_eq!(
        found(&format!("updated_since=2020-01-01&tag={tag}")).first(),
        Some(&ids[0])
    );
    assert!(found(&format!("updated_since=2999-01-01&tag={tag}")).is_empty());

    // Cursor paging: every contact once, in the same order.
    let mut paged = Vec::new();
    let mut next = Some(format!("/api/contacts?tag={tag}&limit=3"));
    while let Some(path) = next {
        let page = officer().get(&path).json();
        paged.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string()),
        );
        next = page["next"].as_str().map(str::to_string);
    }
    assert_eq!(paged, found(&format!("tag={tag}")));

    // Bad filters, per field; identifiers need the right to see them.
    let bad = officer().get("/api/contacts?email=nope&limit=0&shoe=9");
    assert_eq!(
        error_fields(&assert_problem(&bad, 400, "validation")),
        ["shoe"]
    );
    let bad = officer().get("/api/contacts?email=nope&limit=0");
    assert_eq!(
        error_fields(&assert_problem(&bad, 400, "validation")),
        ["email", "limit"]
    );
    assert_problem(
        &comms().get("/api/contacts?identifier=crn:204999111X"),
        403,
        "forbidden",
    );
    // Each record a search returns is audited for its contact.
    let reply = officer().get(&format!("/api/contacts?tag={tag}"));
    let subjects: Vec<String> = audited(&reply).into_iter().filter_map(|e| e.2).collect();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
}

fn import(caller_token: &str, query: &str, csv: &str) -> Reply {
    host().request(
        "POST",
        &format!("/api/contacts/import{query}"),
        &[
            ("authorization", &format!("Bearer {caller_token}")),
            ("content-type", "text/csv"),
        ],
        Some(csv.as_bytes()),
    )
}

#[test]
fn import_validates_every_row_dedupes_and_is_all_or_nothing() {
    let officer_token = token("importer-1", &["intake-officer"]);
    let stem = unique("Importer");
    let stored_email = format!("{}@stored.example.com", stem.to_lowercase());
    let (existing, _, _) = create(
        &json!({"archetype": "individual", "family_name": unique("Stored"), "emails": [stored_email]}),
    );
    let contacts = || contacts_named(&stem);
    let before = contacts();

    // One bad row: nothing is imported, every row is reported.
    let bad = format!(
        "archetype,given_name,family_name,emails,postal_lines,postal_locality,postal_state,postal_postcode\r\n\
         individual,Ann,{stem}a,ann@{stem}.example.com,1 Main St,Canberra,ACT,2600\r\n\
         individual,Bob,{stem}b,bob@{stem}.example.com,1 Main St,Sydney,VIC,2000\r\n"
    );
    let reply = import(&officer_token, "", &bad);
    let problem = assert_problem(&reply, 400, "import-invalid");
    assert_eq!(problem["rows"][0]["status"], "valid");
    assert_eq!(problem["rows"][1]["status"], "invalid");
    assert_eq!(problem["rows"][1]["line"], 3);
    assert_eq!(
        problem["rows"][1]["errors"][0]["field"],
        "postal_address.postcode"
    );
    assert_eq!(contacts(), before);

    // Broken quoting is a clear problem with the line and column.
    let broken = "archetype,family_name\nindividual,\"Unclosed\nindividual,Fine\n";
    let problem = assert_problem(&import(&officer_token, "", broken), 400, "invalid-csv");
    assert_eq!(
        (problem["line"].as_i64(), problem["column"].as_i64()),
        (Some(2), Some(12))
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("never closed"),
        "{problem}"
    );
    let stray = "archetype,family_name\nindividual,O\"Brien\n";
    let problem = assert_problem(&import(&officer_token, "", stray), 400, "invalid-csv");
    assert_eq!(problem["line"], 2);
    assert_problem(
        &import(&officer_token, "", "archetype,shoe_size\nindividual,9\n"),
        400,
        "invalid-csv",
    );
    assert_problem(
        &import(&officer_token, "", "archetype,family_name\nindividual\n"),
        400,
        "import-invalid",
    );
    let json_body = host().request(
        "POST",
        "/api/contacts/import",
        &[
            ("authorization", &format!("Bearer {officer_token}")),
            ("content-type", "application/json"),
        ],
        Some(b"{}"),
    );
    assert_problem(&json_body, 415, "unsupported-media-type");
    let huge = format!(
        "archetype,family_name\n{}",
        "individual,Big\n".repeat(400_000)
    );
    assert_problem(&import(&officer_token, "", &huge), 413, "payload-too-large");

    // Duplicates within the file and against the store are reported, not created.
    let good = format!(
        "archetype,given_name,family_name,display_name,date_of_birth,emails,tags\r\n\
         individual,Ann,{stem}a,,1960-01-01,ann@{stem}.example.com,imported\r\n\
         individual,Anne,{stem}a,,1960-01-01,,imported\r\n\
         individual,Carl,{stem}c,,,\"{stored_email}\",imported\r\n\
         individual,Dee,{stem}d,\"Dee {stem}d, Jr\",,dee@{stem}.example.com,imported\r\n"
    );
    let dry = import(&officer_token, "?dry_run=true", &good);
    assert_eq!(dry.status, 200, "{}", dry.body);
    let report = dry.json();
    assert_eq!(
        (report["created"].as_i64(), report["duplicates"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(report["rows"][0]["status"], "would-create");
    assert_eq!(contacts(), before, "a dry run writes nothing");

    let done = import(&officer_token, "?source=legacy-system", &good);
    assert_eq!(done.status, 200, "{}", done.body);
    let report = done.json();
    assert_eq!(report["rows"][0]["status"], "created");
    assert_eq!(report["rows"][1]["status"], "duplicate");
    assert_eq!(report["rows"][1]["duplicate_of_row"], 1);
    assert_eq!(report["rows"][2]["status"], "duplicate");
    assert_eq!(
        report["rows"][2]["candidates"][0]["contact_id"],
        existing.as_str()
    );
    assert_eq!(report["rows"][3]["status"], "created");
    assert_eq!(contacts(), before + 2);
    let created = report["rows"][3]["contact_id"].as_str().unwrap();
    let read = officer().get(&format!("/api/contacts/{created}")).json();
    assert_eq!(read["display_name"], format!("Dee {stem}d, Jr"));
    assert_eq!(read["provenance"]["family_name"]["source"], "legacy-system");
    assert_eq!(outbox(created)[0].0, "contact.created");

    // Importing the same file again finds every row already there.
    let again = import(&officer_token, "", &good).json();
    assert_eq!(again["created"], 0);
    assert_eq!(contacts(), before + 2);
}

#[test]
fn export_carries_only_the_callers_permitted_fields() {
    let tag = unique("export").to_lowercase();
    for (given, crn) in [
        ("Eve", "111222333A"),
        ("Eli", "111222334A"),
        ("Ede", "111222335A"),
    ] {
        create(
            &json!({"archetype": "individual", "given_name": given, "family_name": unique("Exported"),
            "date_of_birth": "1988-08-08", "identifiers": [{"scheme": "crn", "value": crn}], "tags": [tag]}),
        );
    }
    let as_csv = |caller: Caller<'_>, query: &str| {
        caller.get(&format!("/api/contacts/export?tag={tag}{query}"))
    };
    let full = as_csv(officer(), "");
    assert_eq!(full.status, 200, "{}", full.body);
    assert_eq!(full.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = full.body.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0].starts_with("id,version,created_at,updated_at,archetype,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("date_of_birth") && lines[0].contains("identifiers"));
    assert!(
        lines[1].contains("1988-08-08") && lines[1].contains("crn:11122233"),
        "{}",
        lines[1]
    );

    let limited = as_csv(comms(), "");
    assert_eq!(limited.status, 200, "{}", limited.body);
    assert!(!limited.body.contains("date_of_birth") && !limited.body.contains("1988-08-08"));
    assert!(!limited.body.contains("identifiers") && !limited.body.contains("11122233"));
    assert!(!limited.body.contains(",abn,"));

    let ndjson = as_csv(comms(), "&format=ndjson&limit=2");
    assert_eq!(ndjson.header("content-type"), Some("application/x-ndjson"));
    let records: Vec<Value> = ndjson
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    for record in &records {
        assert!(record.get("date_of_birth").is_none() && record.get("identifiers").is_none());
        assert!(record["provenance"].get("date_of_birth").is_none());
        assert!(record.get("given_name").is_some());
    }
    // `limit` bounds the whole export; there are no pages to follow.
    assert_eq!(ndjson.header("link"), None);
    // Intake officers may not export.
    let intake = host()
        .as_caller(&token("officer-9", &["intake-officer"]))
        .purpose("case-management");
    assert_problem(&as_csv(intake, ""), 403, "forbidden");
    assert_problem(&as_csv(officer(), "&format=xml"), 400, "validation");
}

/// `n` distinct letter strings (names hold letters only).
fn letters(n: usize) -> Vec<String> {
    (0..n)
        .map(|mut i| {
            let mut s = String::new();
            for _ in 0..3 {
                s.insert(0, (b'a' + (i % 26) as u8) as char);
                i /= 26;
            }
            s
        })
        .collect()
}

#[test]
fn an_export_streams_every_match_page_by_page_with_the_callers_fields() {
    let tag = unique("streamed").to_lowercase();
    let stem = unique("Bulk");
    let rows = 1200;
    let mut csv = String::from("archetype,given_name,family_name,date_of_birth,tags\r\n");
    for suffix in letters(rows) {
        csv.push_str(&format!(
            "individual,Pat,{stem}{suffix},1971-07-17,{tag}\r\n"
        ));
    }
    let officer_token = token("importer-stream", &["intake-officer"]);
    let imported = import(
        &officer_token,
        "?on_duplicate=create&duplicate_reason=bulk+test",
        &csv,
    );
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert_eq!(imported.json()["created"], rows);

    // More than two pages (500 each) in one response, written as read.
    let full = officer().get(&format!("/api/contacts/export?tag={tag}"));
    assert_eq!(full.status, 200, "{}", full.body);
    assert_eq!(full.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(full.header("content-length"), None, "{:?}", full.headers);
    assert_eq!(full.header("transfer-encoding"), Some("chunked"));
    assert!(full.header("x-request-id").is_some());
    assert_eq!(full.header("link"), None);
    let lines: Vec<&str> = full.body.lines().collect();
    assert_eq!(lines.len(), rows + 1, "a header and every contact");
    assert!(
        lines[0].starts_with("id,version,created_at,updated_at,archetype,")
            && lines[0].contains("date_of_birth"),
        "{}",
        lines[0]
    );
    let ids: std::collections::BTreeSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids.len(), rows, "no contact twice");
    assert!(lines[1..].iter().all(|l| l.contains("1971-07-17")));
    // Each contact exported is audited, besides the export itself.
    let entries = audited(&full);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.0 == "contact.export" && e.1 == "allowed" && e.2.is_some())
            .count(),
        rows
    );
    assert!(
        entries
            .iter()
            .any(|e| e.0 == "contact.export" && e.2.is_none())
    );

    // Field filtering applies to every page.
    let limited = comms().get(&format!("/api/contacts/export?tag={tag}"));
    assert_eq!(limited.status, 200, "{}", limited.body);
    assert_eq!(limited.header("content-length"), None);
    let lines: Vec<&str> = limited.body.lines().collect();
    assert_eq!(lines.len(), rows + 1);
    assert!(!lines[0].contains("date_of_birth") && !lines[0].contains("identifiers"));
    assert!(!limited.body.contains("1971-07-17"));
    let ndjson = comms().get(&format!("/api/contacts/export?tag={tag}&format=ndjson"));
    assert_eq!(ndjson.status, 200, "{}", ndjson.body);
    assert_eq!(ndjson.header("content-type"), Some("application/x-ndjson"));
    let records: Vec<Value> = ndjson
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), rows);
    for record in &records {
        assert!(record.get("date_of_birth").is_none(), "{record}");
        assert!(record["provenance"].get("date_of_birth").is_none());
        assert_eq!(record["given_name"], "Pat");
    }

    // `limit` bounds the whole export, across pages; the old filters work.
    let bounded = officer().get(&format!("/api/contacts/export?tag={tag}&limit=700"));
    assert_eq!(bounded.status, 200, "{}", bounded.body);
    assert_eq!(bounded.body.lines().count(), 701);
    let by_change = officer().get(&format!(
        "/api/contacts/export?tag={tag}&updated_since=2000-01-01&format=ndjson"
    ));
    assert_eq!(by_change.body.lines().count(), rows);
    // Problems found before the first byte are problems.
    assert_problem(
        &officer().get(&format!("/api/contacts/export?tag={tag}&limit=0")),
        400,
        "validation",
    );
    let no_purpose = host()
        .as_caller(&token("comms-7", &["communications-officer"]))
        .get(&format!("/api/contacts/export?tag={tag}"));
    assert_problem(&no_purpose, 400, "purpose-of-use");
}

#[test]
fn csv_exports_write_formulas_as_text() {
    let tag = unique("formula").to_lowercase();
    let name = format!("=1+2+cmd|' /C calc'!A0 {}", unique("Org"));
    let (id, _, _) = create(&json!({"archetype": "business", "organisation_name": name,
        "phones": ["0455 019 283"], "tags": [tag]}));
    let csv = officer().get(&format!("/api/contacts/export?tag={tag}"));
    assert_eq!(csv.status, 200, "{}", csv.body);
    let line = csv
        .body
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} not in {}", csv.body));
    // The organisation name and the display name taken from it.
    assert_eq!(line.matches(&format!(",'{name},")).count(), 2, "{line}");
    assert!(!line.contains(&format!(",{name},")), "{line}");
    // A normalised phone number is a value, not a formula.
    assert!(line.contains(",+61455019283,"), "{line}");
    // NDJSON is not for spreadsheets: the value is as stored.
    let ndjson = officer().get(&format!("/api/contacts/export?tag={tag}&format=ndjson"));
    let record: Value = serde_json::from_str(ndjson.body.lines().next().unwrap()).unwrap();
    assert_eq!(record["organisation_name"], name.as_str());
}

#[test]
fn an_intake_retry_is_answered_with_its_first_answer_before_any_check() {
    // A purpose resting on a related secondary use: a birth date collected
    // for it needs no consent at intake...
    let purpose = unique("replayed").to_lowercase();
    let admin = || host().as_caller(&token("admin-7", &["administrator"]));
    let added = admin().post_json(
        "/api/consents/purposes",
        &json!({"id": purpose, "category": "research", "lawful_basis": "related-secondary-purpose", "description": "Follow-up research"}),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let body = json!({"archetype": "individual", "family_name": unique("Replayed"), "date_of_birth": "1966-06-06",
        "collection": {"source": "portal", "purpose": purpose, "channel": "portal"}});
    let send = |key: Option<&str>| {
        let caller = officer();
        match key {
            Some(key) => caller.header("idempotency-key", key),
            None => caller,
        }
        .post_json("/api/contacts", &body)
    };
    let first = send(Some("replay-after-withdrawal"));
    assert_eq!(first.status, 201, "{}", first.body);
    // ...until the purpose is revised to rest on consent, which the contact
    // has not given: the same intake is now refused...
    let revised = admin().request(
        "PUT",
        &format!("/api/consents/purposes/{purpose}"),
        Some(&json!({"category": "research", "lawful_basis": "consent", "description": "Follow-up research"})),
    );
    assert_eq!(revised.status, 200, "{}", revised.body);
    assert_problem(&send(None), 400, "consent-required");
    // ...but its retry is answered with the stored answer.
    let retry = send(Some("replay-after-withdrawal"));
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    let id = first.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        audited(&retry),
        [
            ("contact.create".into(), "allowed".into(), None, None),
            (
                "contact.create".into(),
                "allowed".into(),
                Some(id.clone()),
                Some("replayed".into())
            ),
        ]
    );
    assert_eq!(count("SELECT COUNT(*) FROM contacts WHERE id = ?1", &id), 1);
}

fn contact_exists(id: &str) -> bool {
    count("SELECT COUNT(*) FROM contacts WHERE id = ?1", id) == 1
}

#[test]
fn intake_audit_entries_name_only_contacts_that_exist() {
    let family = unique("Phantom");
    let email = format!("{}@example.com", family.to_lowercase());
    let body = json!({"archetype": "individual", "given_name": "Phil", "family_name": family,
        "date_of_birth": "1981-01-01", "emails": [email]});
    let created = officer().post_json("/api/contacts", &body);
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    // The attempt is recorded before the write, against the collection; the
    // contact it created once it exists.
    assert_eq!(
        audited(&created),
        [
            ("contact.create".into(), "allowed".into(), None, None),
            (
                "contact.create".into(),
                "allowed".into(),
                Some(id.clone()),
                Some("created".into())
            ),
        ]
    );

    // A refused duplicate names no contact it did not create.
    let refused = officer().post_json("/api/contacts", &body);
    assert_problem(&refused, 409, "possible-duplicate");
    let entries = audited(&refused);
    assert!(
        entries
            .iter()
            .any(|e| e.0 == "contact.create" && e.1 == "failed" && e.2.is_none()),
        "{entries:?}"
    );
    for entry in &entries {
        if let Some(subject) = &entry.2 {
            assert!(contact_exists(subject), "{entry:?} names no contact");
            assert_eq!(subject, &id, "{entry:?}");
            assert_ne!(entry.0, "contact.create", "{entry:?}");
        }
    }

    // Linking names the contact linked to.
    let mut link = body.clone();
    link["on_duplicate"] = json!("link");
    let linked = officer().post_json("/api/contacts", &link);
    assert_eq!(linked.status, 200, "{}", linked.body);
    let entries = audited(&linked);
    assert!(
        entries.contains(&(
            "contact.create".into(),
            "allowed".into(),
            Some(id.clone()),
            Some("linked".into())
        )),
        "{entries:?}"
    );
    for entry in &entries {
        if let Some(subject) = &entry.2 {
            assert!(contact_exists(subject), "{entry:?} names no contact");
        }
    }
}

#[test]
fn idempotency_keys_answer_retries_and_concurrent_duplicates_write_once() {
    let body = json!({"archetype": "individual", "family_name": unique("Retried"), "emails": ["retried@example.com"]});
    let send = |key: &str, body: &Value| {
        officer()
            .header("idempotency-key", key)
            .post_json("/api/contacts", body)
    };
    let first = send("key-1", &body);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = send("key-1", &body);
    assert_eq!(retry.status, 201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert_eq!(retry.header("location"), first.header("location"));
    let mut other = body.clone();
    other["given_name"] = json!("Different");
    assert_problem(&send("key-1", &other), 422, "idempotency-key-reused");
    assert_problem(&send("not a key", &body), 400, "validation");
    // Another caller's key is their own.
    let someone = host()
        .as_caller(&token("officer-other", &["intake-officer"]))
        .header("idempotency-key", "key-1")
        .post_json("/api/contacts", &body);
    assert_problem(&someone, 409, "possible-duplicate");

    // Concurrent retries with one key: one record, the same answer for all.
    let body = json!({"archetype": "individual", "family_name": unique("Concurrent"), "emails": ["concurrent@example.com"]});
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| send("key-race", &body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contact_match_keys WHERE key = ?1",
            "em:concurrent@example.com"
        ),
        1
    );
    // Concurrent intakes of one person without keys: matching runs inside
    // the write, so one is created and the rest see it.
    let body = json!({"archetype": "individual", "family_name": unique("Racing"), "emails": ["racing@example.com"]});
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| officer().post_json("/api/contacts", &body).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{statuses:?}"
    );

    // Merges and imports take keys too.
    let (a, _, _) = create(&json!({"archetype": "individual", "family_name": unique("Keyed")}));
    let (b, _, _) = create(&json!({"archetype": "individual", "family_name": unique("Keyed")}));
    let merge = || {
        officer().header("idempotency-key", "merge-1").post_json(
            &format!("/api/contacts/{a}/merge"),
            &json!({"duplicate_id": b, "reason": "same"}),
        )
    };
    assert_eq!(merge().status, 200);
    let again = merge();
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

#[test]
fn fields_are_filtered_by_role_and_citizens_see_and_correct_only_their_own() {
    let family = unique("Citizen");
    let (mine, etag, _) = create(
        &json!({"archetype": "individual", "given_name": "Cit", "family_name": family,
        "date_of_birth": "1990-09-09", "identifiers": [{"scheme": "crn", "value": "555666777C"}], "tags": ["staff-note"]}),
    );
    let (other, _, _) = create(
        &json!({"archetype": "individual", "family_name": unique("Stranger"), "date_of_birth": "1950-01-01",
        "relationships": [{"kind": "household-member", "contact_id": mine}]}),
    );
    assert_eq!(
        officer().get(&format!("/api/contacts/{other}")).json()["relationships"][0]["contact_id"],
        mine.as_str()
    );

    // Communications officers do not see birth dates, identifiers or
    // relationships: not in records, provenance, search results or history.
    let read = comms().get(&format!("/api/contacts/{other}"));
    assert_eq!(read.status, 200, "{}", read.body);
    let record = read.json();
    for hidden in ["date_of_birth", "identifiers", "relationships"] {
        assert!(record.get(hidden).is_none(), "{hidden} in {record}");
        assert!(
            record["provenance"].get(hidden).is_none(),
            "{hidden} provenance"
        );
    }
    let listed = comms().get(&format!("/api/contacts?name={family}")).json();
    assert!(
        listed["items"][0].get("date_of_birth").is_none()
            && listed["items"][0].get("given_name").is_some()
    );
    let history = comms().get(&format!("/api/contacts/{mine}/history")).body;
    assert!(!history.contains("1990-09-09") && !history.contains("555666777C"));
    assert!(
        officer()
            .get(&format!("/api/contacts/{mine}"))
            .json()
            .get("date_of_birth")
            .is_some()
    );

    // A citizen linked to their record reads and corrects it...
    link_citizen(&app().db_path(), "citizen-contacts-1", &mine);
    let citizen = || host().as_caller(&token("citizen-contacts-1", &["citizen"]));
    let own = citizen().get(&format!("/api/contacts/{mine}"));
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["date_of_birth"], "1990-09-09");
    let fixed = patch(
        citizen(),
        &mine,
        &etag,
        &json!({"changes": {"preferred_name": "Citty", "phones": ["0411 222 333"]}, "reason": "my details"}),
    );
    assert_eq!(fixed.status, 200, "{}", fixed.body);
    assert_eq!(
        fixed.json()["provenance"]["phones"]["source"],
        "self-service"
    );
    // ...but not how the agency classifies them...
    let tags = patch(
        citizen(),
        &mine,
        "\"v2\"",
        &json!({"changes": {"tags": []}, "reason": "remove"}),
    );
    assert_eq!(
        error_fields(&assert_problem(&tags, 400, "validation")),
        ["changes.tags"]
    );
    // ...sees only the role that changed it in the history...
    let history = citizen()
        .get(&format!("/api/contacts/{mine}/history"))
        .json();
    assert!(history["versions"][1]["actor"].get("id").is_none());
    assert_eq!(history["versions"][1]["actor"]["role"], "citizen");
    // ...and cannot tell whether anyone else's record exists.
    assert_problem(
        &citizen().get(&format!("/api/contacts/{other}")),
        404,
        "not-found",
    );
    assert_problem(&citizen().get("/api/contacts/con_nobody"), 404, "not-found");
    let other_patch = patch(
        citizen(),
        &other,
        "\"v1\"",
        &json!({"changes": {"family_name": "X"}, "reason": "x"}),
    );
    assert_problem(&other_patch, 404, "not-found");
    assert_problem(&citizen().get("/api/contacts?name=a"), 403, "forbidden");
}

#[test]
fn every_action_is_audited() {
    let (id, etag, _) =
        create(&json!({"archetype": "individual", "family_name": unique("Audited")}));
    let read = officer().get(&format!("/api/contacts/{id}"));
    assert_eq!(
        audited(&read),
        [(
            "contact.read".into(),
            "allowed".into(),
            Some(id.clone()),
            None
        )]
    );
    let corrected = patch(
        officer(),
        &id,
        &etag,
        &json!({"changes": {"given_name": "Aud"}, "reason": "spelling"}),
    );
    assert_eq!(audited(&corrected)[0].0, "contact.update");
    let denied = comms().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "family_name": "Nope"}),
    );
    assert_problem(&denied, 403, "forbidden");
    assert_eq!(audited(&denied)[0].1, "denied");
    let stale = patch(
        officer(),
        &id,
        &etag,
        &json!({"changes": {"given_name": "Aud"}, "reason": "again"}),
    );
    let entries = audited(&stale);
    assert_eq!(
        (entries[1].1.as_str(), entries[1].3.as_deref()),
        ("failed", Some("stale-version"))
    );
}

#[test]
fn the_contacts_core_leaf_answers_how_to_reach_a_contact() {
    let (id, etag, _) = create(
        &json!({"archetype": "individual", "given_name": "Reach", "family_name": unique("Able"),
        "emails": ["reach@example.com"], "phones": ["(02) 6123 0000", "0412 999 888"],
        "postal_address": {"lines": ["3 Low St"], "locality": "Braddon", "state": "ACT", "postcode": "2612"},
        "preferred_channel": "email", "language": "en-AU"}),
    );
    let (dup, _, _) = create(&json!({"archetype": "individual", "family_name": unique("Folded")}));
    let merged = officer().header("if-match", &etag).post_json(
        &format!("/api/contacts/{id}/merge"),
        &json!({"duplicate_id": dup, "reason": "same"}),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);

    // A second host serves a guest that imports crm:contacts/directory,
    // plugged with the leaf, on the same database.
    let app = AppDir::new(
        r#"spin_manifest_version = 2

[application]
name = "directory-test"

[[trigger.http]]
route = "/directory/..."
component = "client"

[component.client]
source = "{wasm:guest_directory_client}"
sqlite_databases = ["default"]
[component.client.dependencies]
"crm:contacts/directory@0.1.0" = { path = "{wasm:contacts_leaf}", inherit_configuration = ["sqlite_databases"] }
"#,
    );
    let state = app_state_dir();
    let directory = app.start(&["--state-dir", &state]);
    let reach = directory.get(&format!("/directory/{id}"));
    assert_eq!(reach.status, 200, "{}", reach.body);
    let reach = reach.json();
    assert_eq!(reach["contact_id"], id.as_str());
    assert_eq!(reach["emails"], json!(["reach@example.com"]));
    assert_eq!(
        reach["phones"],
        json!(["+61412999888", "+61261230000"]),
        "mobiles first"
    );
    assert_eq!(
        reach["postal_address"],
        json!(["3 Low St", "BRADDON ACT 2612"])
    );
    assert_eq!(reach["preferred_channel"], "email");
    assert_eq!(reach["language"], "en-AU");
    // A merged id answers as its survivor; an unknown one with none.
    assert_eq!(
        directory.get(&format!("/directory/{dup}")).json()["contact_id"],
        id.as_str()
    );
    assert_eq!(directory.get("/directory/con_nobody").status, 404);
}

/// GET as the officer without following redirects (the harness's client
/// follows them, dropping the credential): status, `Location`, body.
fn get_without_following(path: &str) -> (u16, Option<String>, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut response = agent
        .get(host().url(path))
        .header(
            "authorization",
            format!(
                "Bearer {}",
                token("officer-7", &["intake-officer", "case-worker"])
            ),
        )
        .header("purpose-of-use", "case-management")
        .call()
        .expect("request");
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.body_mut().read_to_string().unwrap();
    (
        response.status().as_u16(),
        location,
        serde_json::from_str(&body).unwrap(),
    )
}

fn app_state_dir() -> String {
    app().state_dir().to_str().expect("utf-8").to_string()
}

fn import_with_key(caller_token: &str, key: &str, query: &str, csv: &str) -> Reply {
    host().request(
        "POST",
        &format!("/api/contacts/import{query}"),
        &[
            ("authorization", &format!("Bearer {caller_token}")),
            ("content-type", "text/csv"),
            ("idempotency-key", key),
        ],
        Some(csv.as_bytes()),
    )
}

/// SHA-256 over length-prefixed parts, hex: how `contact-intake` names a
/// caller's key for an operation (`idempotency.rs`).
fn idempotency_key_hash(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Outbox events written by a request.
fn outbox_of(reply: &Reply) -> Vec<(String, String, Value)> {
    let db = app().db();
    let mut statement = db
        .prepare("SELECT topic, aggregate_id, payload FROM outbox_events WHERE request_id = ?1 ORDER BY id")
        .unwrap();
    statement
        .query_map([request_id(reply)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
        .map(|row| {
            let (topic, aggregate, payload) = row.unwrap();
            (topic, aggregate, serde_json::from_str(&payload).unwrap())
        })
        .collect()
}

#[test]
fn an_import_retried_with_its_idempotency_key_imports_nothing_more() {
    let sub = "importer-idem";
    let officer_token = token(sub, &["intake-officer"]);
    let stem = unique("Reimported");
    let lower = stem.to_lowercase();
    let csv = format!(
        "archetype,given_name,family_name,emails\r\n\
         individual,Ann,{stem}a,ann@{lower}.example.com\r\n\
         individual,Bob,{stem}b,bob@{lower}.example.com\r\n"
    );
    let created_events = || {
        count(
            "SELECT COUNT(*) FROM outbox_events WHERE topic = 'contact.created' AND aggregate_id IN (SELECT id FROM contacts WHERE display_name LIKE '%' || ?1 || '%')",
            &stem,
        )
    };
    let first = import_with_key(&officer_token, "import-1", "", &csv);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(first.json()["created"], 2, "{}", first.body);
    assert_eq!(contacts_named(&stem), 2);
    assert_eq!(created_events(), 2);

    // The retry answers the same report and writes nothing.
    let retry = import_with_key(&officer_token, "import-1", "", &csv);
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert_eq!(contacts_named(&stem), 2);
    assert_eq!(created_events(), 2);
    assert!(outbox_of(&retry).is_empty());

    // The answer was kept in the import's own transaction, not only in the
    // key-value cache: with the cached copy gone, the retry still replays.
    let actor = format!("staff:{sub}");
    let key_hash = idempotency_key_hash(&[actor.as_str(), "importContacts", "import-1"]);
    let kept: (i64, String) = app()
        .db()
        .query_row(
            "SELECT status, body FROM contact_idempotency WHERE key_hash = ?1",
            [&key_hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the import's answer is kept in the database");
    assert_eq!(kept.0, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&kept.1).unwrap(),
        first.json()
    );
    let kv = rusqlite::Connection::open(app().state_dir().join("sqlite_key_value.db")).unwrap();
    kv.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(
        kv.execute(
            "DELETE FROM spin_key_value WHERE key = ?1",
            [format!("contacts:idempotency:{key_hash}")],
        )
        .unwrap(),
        1,
        "the answer was cached under the key"
    );
    let from_db = import_with_key(&officer_token, "import-1", "", &csv);
    assert_eq!(from_db.status, 200, "{}", from_db.body);
    assert_eq!(from_db.header("idempotent-replayed"), Some("true"));
    assert_eq!(from_db.json(), first.json());
    assert_eq!(contacts_named(&stem), 2);

    // The same key for another file (or other options) is refused, and
    // imports nothing.
    let more = format!("{csv}individual,Cat,{stem}c,cat@{lower}.example.com\r\n");
    let reused = import_with_key(&officer_token, "import-1", "", &more);
    assert_problem(&reused, 422, "idempotency-key-reused");
    assert_problem(
        &import_with_key(&officer_token, "import-1", "?source=legacy-system", &csv),
        422,
        "idempotency-key-reused",
    );
    assert_eq!(contacts_named(&stem), 2);
    assert_eq!(contacts_named(&format!("{stem}c")), 0);
    assert!(outbox_of(&reused).is_empty());

    // Without the key the same file is a new import: every row is now a
    // duplicate, so the replay above came from the key.
    let again = import(&officer_token, "", &csv);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_eq!(
        (
            again.json()["created"].as_i64(),
            again.json()["duplicates"].as_i64()
        ),
        (Some(0), Some(2))
    );
    assert_eq!(contacts_named(&stem), 2);
}

/// As for intake, an import's retry is answered with its first report even
/// when a check on its rows would answer otherwise now (here: the purpose
/// it collected a birth date for has since come to rest on consent).
#[test]
fn an_import_retry_is_answered_with_its_first_report_before_any_check() {
    let purpose = unique("reimport").to_lowercase();
    let admin = || host().as_caller(&token("admin-7", &["administrator"]));
    let added = admin().post_json(
        "/api/consents/purposes",
        &json!({"id": purpose, "category": "research", "lawful_basis": "related-secondary-purpose", "description": "Follow-up research"}),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let officer_token = token("importer-replay", &["intake-officer"]);
    let stem = unique("Replayimport");
    let csv = format!(
        "archetype,given_name,family_name,date_of_birth\r\nindividual,Ann,{stem},1966-06-06\r\n"
    );
    let query = format!("?purpose={purpose}&channel=portal");
    let first = import_with_key(&officer_token, "import-replay", &query, &csv);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["created"], 1);
    let revised = admin().request(
        "PUT",
        &format!("/api/consents/purposes/{purpose}"),
        Some(&json!({"category": "research", "lawful_basis": "consent", "description": "Follow-up research"})),
    );
    assert_eq!(revised.status, 200, "{}", revised.body);
    // A new import of the row is refused now...
    assert_problem(&import(&officer_token, &query, &csv), 400, "import-invalid");
    // ...but the retry of the first gets the first report.
    let retry = import_with_key(&officer_token, "import-replay", &query, &csv);
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert_eq!(contacts_named(&stem), 1);
}

/// The state of a contact a failed write must not touch: its current
/// version and name, whether it is merged, its versions and outbox events.
fn written_state(id: &str) -> (i64, String, Option<String>, i64, i64) {
    let db = app().db();
    let (version, name, merged) = db
        .query_row(
            "SELECT version, display_name, merged_into FROM contacts WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let versions = db
        .query_row(
            "SELECT COUNT(*) FROM contact_versions WHERE contact_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    let events = db
        .query_row(
            "SELECT COUNT(*) FROM outbox_events WHERE aggregate_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    (version, name, merged, versions, events)
}

/// Nothing a refused request could have written: versions or outbox events
/// under its request id.
fn assert_wrote_nothing(reply: &Reply) {
    let id = request_id(reply);
    assert!(outbox_of(reply).is_empty(), "{}", reply.body);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contact_versions WHERE request_id = ?1",
            &id
        ),
        0,
        "{}",
        reply.body
    );
}

#[test]
fn refused_corrections_and_merges_leave_no_version_and_no_outbox_event() {
    // A create writes exactly one outbox event, with the contact.
    let created = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "given_name": "Olive", "family_name": unique("Outboxed")}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let a = created.json()["id"].as_str().unwrap().to_string();
    let events = outbox_of(&created);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].0.as_str(), events[0].1.as_str()),
        ("contact.created", a.as_str())
    );
    assert_eq!(events[0].2["version"], 1);
    assert_eq!(events[0].2["change"], "created");
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contact_versions WHERE request_id = ?1",
            &request_id(&created)
        ),
        1
    );
    let (b, _, _) = create(&json!({"archetype": "individual", "family_name": unique("Folding")}));
    let (c, c_etag, _) =
        create(&json!({"archetype": "individual", "family_name": unique("Keeping")}));
    let (a_before, b_before) = (written_state(&a), written_state(&b));
    assert_eq!((a_before.0, a_before.3, a_before.4), (1, 1, 1));

    // A correction against a stale version.
    let stale = patch(
        officer(),
        &a,
        "\"v9\"",
        &json!({"changes": {"given_name": "Stale"}, "reason": "stale"}),
    );
    assert_problem(&stale, 412, "stale-version");
    assert_wrote_nothing(&stale);
    // A correction that does not validate.
    let invalid = patch(
        officer(),
        &a,
        "\"v1\"",
        &json!({"changes": {"given_name": "Fine", "phones": ["12"]}, "reason": "typo"}),
    );
    assert_problem(&invalid, 400, "validation");
    assert_wrote_nothing(&invalid);
    // A merge against a stale version of the survivor.
    let stale_merge = officer().header("if-match", "\"v5\"").post_json(
        &format!("/api/contacts/{a}/merge"),
        &json!({"duplicate_id": b, "reason": "same person"}),
    );
    assert_problem(&stale_merge, 412, "stale-version");
    assert_wrote_nothing(&stale_merge);
    assert_eq!(written_state(&a), a_before);
    assert_eq!(written_state(&b), b_before);

    // Once b is merged into c, merging it again, or correcting it, conflicts.
    let merged = officer().header("if-match", &c_etag).post_json(
        &format!("/api/contacts/{c}/merge"),
        &json!({"duplicate_id": b, "reason": "same person"}),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(outbox_of(&merged).len(), 2, "one event for each record");
    let (b_merged, c_merged) = (written_state(&b), written_state(&c));
    let again = officer().post_json(
        &format!("/api/contacts/{a}/merge"),
        &json!({"duplicate_id": b, "reason": "again"}),
    );
    assert_problem(&again, 409, "contact-merged");
    assert_wrote_nothing(&again);
    let correct_merged = patch(
        officer(),
        &b,
        "\"v2\"",
        &json!({"changes": {"given_name": "Late"}, "reason": "late"}),
    );
    assert_problem(&correct_merged, 409, "contact-merged");
    assert_wrote_nothing(&correct_merged);
    assert_eq!(written_state(&a), a_before);
    assert_eq!(written_state(&b), b_merged);
    assert_eq!(written_state(&c), c_merged);
    assert_eq!(
        officer().get(&format!("/api/contacts/{a}")).json()["version"],
        1
    );
}

/// A trigger, in the shared database, that refuses outbox events about
/// contacts whose display name contains `marker` (so no other test's
/// writes are touched); dropped when the guard goes.
struct FailingOutbox {
    name: String,
}

impl FailingOutbox {
    fn install(marker: &str) -> Self {
        let name = format!("test_refuse_outbox_{}", marker.to_lowercase());
        app()
            .db()
            .execute_batch(&format!(
                "CREATE TRIGGER {name} BEFORE INSERT ON outbox_events
             WHEN (SELECT display_name FROM contacts WHERE id = NEW.aggregate_id) LIKE '%{marker}%'
             BEGIN SELECT RAISE(ABORT, 'test: outbox refused'); END;"
            ))
            .unwrap();
        Self { name }
    }
}

impl Drop for FailingOutbox {
    fn drop(&mut self) {
        let _ = app()
            .db()
            .execute_batch(&format!("DROP TRIGGER IF EXISTS {}", self.name));
    }
}

/// A write that fails at its last statement (the outbox event) leaves
/// nothing behind: the record, its version, match keys and the other
/// record of a merge are all rolled back with it.
#[test]
fn a_write_that_fails_part_way_leaves_nothing_behind() {
    let marker = unique("Atomic");
    let lower = marker.to_lowercase();
    // Fixtures first, while outbox events are still accepted.
    let (kept, kept_etag, _) = create(
        &json!({"archetype": "individual", "given_name": "Kim", "family_name": unique("Unchanged")}),
    );
    let (survivor, survivor_etag, _) = create(
        &json!({"archetype": "individual", "given_name": "Sam", "family_name": unique("Surviving")}),
    );
    let (doomed, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Sam", "family_name": format!("{marker}x")}),
    );
    let before = (
        written_state(&kept),
        written_state(&survivor),
        written_state(&doomed),
    );
    let keys_of = |id: &str| {
        count(
            "SELECT COUNT(*) FROM contact_match_keys WHERE contact_id = ?1",
            id,
        )
    };
    let survivor_keys = keys_of(&survivor);
    let guard = FailingOutbox::install(&marker);

    // A create.
    let email = format!("{lower}@example.com");
    let body = json!({"archetype": "individual", "given_name": "Ada", "family_name": marker, "emails": [email]});
    let failed = officer()
        .header("idempotency-key", "atomic-create")
        .post_json("/api/contacts", &body);
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(contacts_named(&marker), 1, "only the fixture");
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contact_match_keys WHERE key = ?1",
            &format!("em:{email}")
        ),
        0
    );
    assert_wrote_nothing(&failed);
    assert!(
        audited(&failed)
            .iter()
            .any(|e| e.0 == "contact.create" && e.1 == "failed"),
        "{:?}",
        audited(&failed)
    );

    // A correction to a name the outbox refuses.
    let corrected = patch(
        officer(),
        &kept,
        &kept_etag,
        &json!({"changes": {"family_name": format!("{marker}y")}, "reason": "renamed"}),
    );
    assert_eq!(corrected.status, 500, "{}", corrected.body);
    assert_wrote_nothing(&corrected);

    // A merge whose second record's event is refused: the survivor's
    // update, written first, is rolled back too.
    let merge = officer().header("if-match", &survivor_etag).post_json(
        &format!("/api/contacts/{survivor}/merge"),
        &json!({"duplicate_id": doomed, "reason": "same person"}),
    );
    assert_eq!(merge.status, 500, "{}", merge.body);
    assert_wrote_nothing(&merge);
    assert_eq!(keys_of(&survivor), survivor_keys);

    // An import whose second row's event is refused: the first row goes too.
    let first_row = unique("Importedfirst");
    let csv = format!(
        "archetype,given_name,family_name\r\nindividual,Ann,{first_row}\r\nindividual,Bea,{marker}z\r\n"
    );
    let imported = import(&token("importer-atomic", &["intake-officer"]), "", &csv);
    assert_eq!(imported.status, 500, "{}", imported.body);
    assert_eq!(contacts_named(&first_row), 0);
    assert_wrote_nothing(&imported);

    assert_eq!(
        (
            written_state(&kept),
            written_state(&survivor),
            written_state(&doomed),
        ),
        before
    );
    assert_eq!(contacts_named(&marker), 1);
    drop(guard);

    // The failed create kept no answer under its key: the retry writes.
    let retried = officer()
        .header("idempotency-key", "atomic-create")
        .post_json("/api/contacts", &body);
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert_eq!(retried.header("idempotent-replayed"), None);
    assert_eq!(outbox_of(&retried).len(), 1);
    assert_eq!(contacts_named(&marker), 2);
}

#[test]
fn match_finds_a_contact_by_phone_acn_agency_identifier_and_name_with_postcode() {
    let best = |body: &Value| -> Value {
        let reply = officer().post_json("/api/contacts/match", body);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["candidates"].clone()
    };
    let rules = |candidate: &Value| -> Vec<String> {
        candidate["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rule"].as_str().unwrap().to_string())
            .collect()
    };

    // Phone, however it is written.
    let (by_phone, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Phoebe", "family_name": unique("Phoned"), "phones": ["0413 246 801"]}),
    );
    let before = contacts_named("Phoned");
    let reply = officer().post_json(
        "/api/contacts/match",
        &json!({"archetype": "individual", "given_name": "Quentin", "family_name": unique("Caller"), "phones": ["+61 413 246 801"]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let candidates = reply.json()["candidates"].clone();
    assert_eq!(candidates.as_array().unwrap().len(), 1, "{candidates}");
    assert_eq!(candidates[0]["contact_id"], by_phone.as_str());
    assert_eq!(candidates[0]["score"], 1.0);
    assert_eq!(candidates[0]["reasons"][0], json!({"rule": "same-phone"}));
    assert_eq!(contacts_named("Phoned"), before, "matching writes nothing");
    assert!(
        audited(&reply).contains(&(
            "contact.search".into(),
            "allowed".into(),
            Some(by_phone.clone()),
            Some("match-candidate".into())
        )),
        "{:?}",
        audited(&reply)
    );

    // ACN (ASIC's example 010 499 966 passes the check digit).
    let (by_acn, _, _) = create(
        &json!({"archetype": "business", "organisation_name": format!("{} Pty Ltd", unique("Wombat")),
        "identifiers": [{"scheme": "acn", "value": "010 499 966"}]}),
    );
    let candidates = best(
        &json!({"archetype": "business", "organisation_name": unique("Echidna"),
        "identifiers": [{"scheme": "ACN", "value": "010499966"}]}),
    );
    assert_eq!(candidates.as_array().unwrap().len(), 1, "{candidates}");
    assert_eq!(candidates[0]["contact_id"], by_acn.as_str());
    assert_eq!(candidates[0]["score"], 1.0);
    assert_eq!(candidates[0]["reasons"][0], json!({"rule": "same-acn"}));

    // An agency identifier, named by its scheme.
    let (by_crn, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Ida", "family_name": unique("Identified"),
        "identifiers": [{"scheme": "crn", "value": "908 765 432K"}]}),
    );
    let candidates = best(
        &json!({"archetype": "individual", "given_name": "Ivo", "family_name": unique("Other"),
        "identifiers": [{"scheme": "crn", "value": "908765432k"}]}),
    );
    assert_eq!(candidates.as_array().unwrap().len(), 1, "{candidates}");
    assert_eq!(candidates[0]["contact_id"], by_crn.as_str());
    assert_eq!(
        candidates[0]["reasons"][0],
        json!({"rule": "same-identifier", "scheme": "crn"})
    );
    // Another scheme with the same value is another identifier.
    assert_eq!(
        best(
            &json!({"archetype": "individual", "family_name": unique("Other"),
            "identifiers": [{"scheme": "dva", "value": "908765432K"}]})
        ),
        json!([])
    );

    // Name and postcode: a similar spelling at the same postcode (fuzzy).
    let family = unique("Postcoded");
    let (by_name, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Jonathan", "family_name": family,
        "postal_address": {"lines": ["5 Low St"], "locality": "Braddon", "state": "ACT", "postcode": "2612"}}),
    );
    let similar = |postcode: &str| {
        json!({"archetype": "individual", "given_name": "Jonathon", "family_name": family.to_uppercase(),
        "residential_address": {"lines": ["9 High St"], "locality": "Canberra", "state": "ACT", "postcode": postcode}})
    };
    let candidates = best(&similar("2612"));
    assert_eq!(candidates.as_array().unwrap().len(), 1, "{candidates}");
    assert_eq!(candidates[0]["contact_id"], by_name.as_str());
    let score = candidates[0]["score"].as_f64().unwrap();
    assert!((0.6..1.0).contains(&score), "{candidates}");
    let found = rules(&candidates[0]);
    assert!(
        found.iter().any(|r| r == "similar-name") && found.iter().any(|r| r == "same-postcode"),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|r| r.starts_with("same-") && r != "same-postcode"),
        "no shared identifier: {found:?}"
    );
    // The same name at another postcode is not enough.
    assert_eq!(best(&similar("2600")), json!([]));
}

#[test]
fn relationships_of_every_kind_are_kept_and_unknown_contacts_refused_per_field() {
    let (person, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Rita", "family_name": unique("Represented")}),
    );
    let (partner, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Pat", "family_name": unique("Partnered")}),
    );
    let (firm, _, _) =
        create(&json!({"archetype": "business", "organisation_name": unique("Directorship")}));
    let (ally, _, _) =
        create(&json!({"archetype": "partner", "organisation_name": unique("Alliance")}));
    let relationships = json!([
        {"kind": "representative-of", "contact_id": person},
        {"kind": "official-of", "contact_id": firm},
        {"kind": "partner-of", "contact_id": partner},
        {"kind": "household-member", "contact_id": person},
    ]);
    let (subject, etag, created) = create(
        &json!({"archetype": "individual", "given_name": "Rex", "family_name": unique("Relating"), "relationships": relationships}),
    );
    assert_eq!(created["relationships"], relationships);
    let read = officer().get(&format!("/api/contacts/{subject}"));
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()["relationships"], relationships);
    assert!(read.json()["provenance"].get("relationships").is_some());
    let stored: String = app()
        .db()
        .query_row(
            "SELECT record FROM contacts WHERE id = ?1",
            [&subject],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap()["relationships"],
        relationships
    );
    // Organisations relate too: representing a person, partnering another.
    let org_relationships = json!([
        {"kind": "representative-of", "contact_id": person},
        {"kind": "partner-of", "contact_id": ally},
    ]);
    let (org, _, org_body) = create(
        &json!({"archetype": "business", "organisation_name": unique("Advocacy"), "relationships": org_relationships}),
    );
    assert_eq!(org_body["relationships"], org_relationships);
    assert_eq!(
        officer().get(&format!("/api/contacts/{org}")).json()["relationships"],
        org_relationships
    );

    // A relationship to a contact that does not exist is refused, naming
    // the relationship; nothing is written.
    let family = unique("Dangling");
    let refused = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "family_name": family, "relationships": [
            {"kind": "household-member", "contact_id": person},
            {"kind": "partner-of", "contact_id": "con_nobody"},
            {"kind": "representative-of", "contact_id": "con_gone"},
        ]}),
    );
    let problem = assert_problem(&refused, 400, "validation");
    assert_eq!(
        error_fields(&problem),
        ["relationships[1].contact_id", "relationships[2].contact_id"]
    );
    assert_eq!(contacts_named(&family), 0);
    // A kind the two contacts cannot stand in is refused on its kind.
    let problem = assert_problem(
        &officer().post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "family_name": family, "relationships": [
                {"kind": "official-of", "contact_id": person},
                {"kind": "household-member", "contact_id": firm},
                {"kind": "cousin-of", "contact_id": person},
            ]}),
        ),
        400,
        "validation",
    );
    assert!(
        error_fields(&problem)
            .iter()
            .any(|f| f == "relationships[2].kind"),
        "{problem}"
    );
    assert_eq!(contacts_named(&family), 0);
    let problem = assert_problem(
        &officer().post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "family_name": family, "relationships": [
                {"kind": "official-of", "contact_id": person},
                {"kind": "household-member", "contact_id": firm},
            ]}),
        ),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        ["relationships[0].kind", "relationships[1].kind"]
    );
    assert_eq!(contacts_named(&family), 0);

    // A correction adding one to a missing contact, or to itself, is refused
    // the same way, and the record stays as it was.
    let mut more = relationships.as_array().unwrap().clone();
    more.push(json!({"kind": "partner-of", "contact_id": "con_nobody"}));
    more.push(json!({"kind": "representative-of", "contact_id": subject}));
    let problem = assert_problem(
        &patch(
            officer(),
            &subject,
            &etag,
            &json!({"changes": {"relationships": more}, "reason": "more family"}),
        ),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        ["relationships[4].contact_id", "relationships[5].contact_id"]
    );
    let unchanged = officer().get(&format!("/api/contacts/{subject}")).json();
    assert_eq!(unchanged["version"], 1);
    assert_eq!(unchanged["relationships"], relationships);

    // A merged contact is recorded as its survivor.
    let (merged_away, _, _) = create(
        &json!({"archetype": "individual", "given_name": "Pat", "family_name": unique("Mergedaway")}),
    );
    let merged = officer().post_json(
        &format!("/api/contacts/{partner}/merge"),
        &json!({"duplicate_id": merged_away, "reason": "same person"}),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);
    let (_, _, via_merged) = create(
        &json!({"archetype": "individual", "given_name": "Hal", "family_name": unique("Householder"),
        "relationships": [{"kind": "household-member", "contact_id": merged_away}]}),
    );
    assert_eq!(
        via_merged["relationships"],
        json!([{"kind": "household-member", "contact_id": partner}])
    );
}

// Intake at a glance: a contact created and read back, refusals per field,
// and unknown routes and methods as problems.

#[test]
fn contacts_are_validated_created_and_read_back() {
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "  Zoë Ngô ", "email": "Zoe@Example.GOV.au"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let created = reply.json();
    let location = reply.header("location").expect("location").to_string();
    assert_eq!(
        location,
        format!("/api/contacts/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["display_name"], "Zoë Ngô");
    assert_eq!(created["emails"], json!(["Zoe@example.gov.au"]));
    let read = officer().get(&location);
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), created);
}

#[test]
fn bad_contacts_are_refused_per_field_and_nothing_is_written() {
    // A good intake first, so the schema exists whatever order tests run in.
    crm_tests::app::new_contact(host(), "Schema Maker");
    let reply = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "person", "display_name": "", "email": "nope"}),
    );
    assert_problem(&reply, 400, "validation");
    let fields: Vec<String> = reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["archetype", "display_name", "email"]);
    assert_problem(
        &officer().send("POST", "/api/contacts", Some("{not json")),
        400,
        "invalid-json",
    );
    assert_problem(
        &officer().post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": "A", "shoe_size": 9}),
        ),
        400,
        "invalid-json",
    );
    let db = app().db();
    let written: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM contacts WHERE email = 'nope' OR display_name IN ('', 'A')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(written, 0, "refused intakes must not write contacts");
}

#[test]
fn unknown_routes_and_methods_are_problems() {
    assert_problem(
        &officer().get("/api/contacts/does-not-exist"),
        404,
        "not-found",
    );
    let reply = officer().request("DELETE", "/api/contacts/x", None);
    assert_problem(&reply, 405, "method-not-allowed");
    assert_eq!(reply.header("allow"), Some("GET, PATCH"));
    // Outside the API the web portal answers: a page, not a problem.
    let outside = host().get("/nowhere");
    assert_eq!(outside.status, 404);
    assert!(
        outside
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        outside.header("content-type")
    );
}

/// An import at the 5,000-row cap commits every contact together with its
/// audit entry (more entries than one SQLite statement binds), on an intact
/// chain; one row more is refused and writes nothing. Its own host: the
/// chain is verified from its first entry.
#[test]
fn an_import_at_the_row_cap_is_audited_whole_and_one_row_more_writes_nothing() {
    let app = crm_tests::app::App::start(&[]);
    let stem = unique("Capped");
    let csv = |rows: usize| {
        let mut csv = String::from("archetype,given_name,family_name\r\n");
        for suffix in letters(rows) {
            csv.push_str(&format!("individual,Cap,{stem}{suffix}\r\n"));
        }
        csv
    };
    let importer = token("importer-cap", &["intake-officer"]);
    let import = |csv: &str| {
        app.host.request(
            "POST",
            "/api/contacts/import?on_duplicate=create&duplicate_reason=cap+test",
            &[
                ("authorization", &format!("Bearer {importer}")),
                ("content-type", "text/csv"),
            ],
            Some(csv.as_bytes()),
        )
    };
    let db = app.db();
    let count =
        |sql: &str, param: &str| -> i64 { db.query_row(sql, [param], |r| r.get(0)).unwrap() };
    let contacts = "SELECT COUNT(*) FROM contacts WHERE display_name LIKE '%' || ?1 || '%'";
    let created_entries = "SELECT COUNT(*) FROM audit_entries \
                           WHERE request_id = ?1 AND action = 'contact.create' AND outcome = 'allowed'";

    let over = import(&csv(5_001));
    let problem = assert_problem(&over, 400, "invalid-csv");
    assert!(
        problem["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("5000"),
        "{problem}"
    );
    assert_eq!(count(contacts, &stem), 0);
    assert_eq!(count(created_entries, &request_id(&over)), 0);

    let at_cap = import(&csv(5_000));
    assert_eq!(at_cap.status, 200, "{}", at_cap.body);
    assert_eq!(at_cap.json()["created"], 5_000);
    assert_eq!(count(contacts, &stem), 5_000);
    assert_eq!(count(created_entries, &request_id(&at_cap)), 5_000);
    let unaudited = "SELECT COUNT(*) FROM contacts c WHERE display_name LIKE '%' || ?1 || '%' \
                     AND NOT EXISTS (SELECT 1 FROM audit_entries a \
                     WHERE a.subject_contact_id = c.id AND a.action = 'contact.create')";
    assert_eq!(count(unaudited, &stem), 0);
    let verdict = app
        .host
        .as_caller(&token("auditor-cap", &["auditor"]))
        .purpose("audit")
        .get("/api/audit/verify");
    assert_eq!(verdict.status, 200, "{}", verdict.body);
    assert_eq!(verdict.json()["valid"], true, "{}", verdict.body);
}

/// When an import's audit entries cannot be written, none of its contacts
/// is either: the entries are written in the import's transaction. Its own
/// host, since a trigger makes the trail refuse them.
#[test]
fn an_import_whose_audit_entries_fail_leaves_no_contact() {
    let app = crm_tests::app::App::start(&[]);
    let stem = unique("Unaudited");
    // The first request migrates the database the trigger goes into.
    crm_tests::app::new_contact(&app.host, "Migrated");
    app.db()
        .execute_batch(
            "CREATE TRIGGER refuse_import_entries BEFORE INSERT ON audit_entries \
             WHEN NEW.detail = 'import' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        .unwrap();
    let csv = format!(
        "archetype,given_name,family_name\r\nindividual,Una,{stem}a\r\nindividual,Una,{stem}b\r\n"
    );
    let reply = app.host.request(
        "POST",
        "/api/contacts/import",
        &[
            (
                "authorization",
                &format!(
                    "Bearer {}",
                    token("importer-unaudited", &["intake-officer"])
                ),
            ),
            ("content-type", "text/csv"),
        ],
        Some(csv.as_bytes()),
    );
    assert!(reply.status >= 500, "{} {}", reply.status, reply.body);
    let written: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM contacts WHERE display_name LIKE '%' || ?1 || '%'",
            [&stem],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(written, 0, "contacts committed without their audit entries");
}

/// Two processes of the app over one database and one key-value store on a
/// real Redis server: a retry sent to the other replica is answered from the
/// first one's idempotency record, and concurrent duplicates sent to both
/// write one contact.
#[test]
fn idempotency_keys_hold_across_replicas_on_redis() {
    let redis = crm_tests::redis::RedisServer::start();
    let config = redis.runtime_config();
    let config = config.to_str().unwrap();
    let one = crm_tests::app::App::start(&["--runtime-config-file", config]);
    let state_dir = one.state_dir().to_str().unwrap().to_string();
    let args = crm_tests::cache_args(&["--state-dir", &state_dir, "--runtime-config-file", config]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let two = crm_tests::Host::start(&crm_tests::workspace().join("spin.toml"), &args, &[]);
    let officer = |host| crm_tests::app::officer(host, "intake-replicas");
    let body = json!({"archetype": "individual", "family_name": "Replicated", "emails": ["replicated@example.com"]});

    let first = officer(&one.host)
        .header("idempotency-key", "replica-key")
        .post_json("/api/contacts", &body);
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = officer(&two)
        .header("idempotency-key", "replica-key")
        .post_json("/api/contacts", &body);
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert!(
        redis.command("DBSIZE").is_some_and(|n| n != ":0"),
        "the record is on Redis"
    );

    // Eight racing sends of one new key, half to each replica: one contact.
    let racing =
        json!({"archetype": "individual", "family_name": "Raced", "emails": ["raced@example.com"]});
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let sends: Vec<_> = (0..8)
            .map(|i| {
                let host = if i % 2 == 0 { &one.host } else { &two };
                let (officer, racing) = (&officer, &racing);
                scope.spawn(move || {
                    let reply = officer(host)
                        .header("idempotency-key", "racing-key")
                        .post_json("/api/contacts", racing);
                    assert!(matches!(reply.status, 201 | 409), "{}", reply.body);
                    reply.json()
                })
            })
            .collect();
        sends.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let ids: std::collections::BTreeSet<_> = answers
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let contacts: i64 = one
        .db()
        .query_row(
            "SELECT count(*) FROM contacts WHERE display_name LIKE '%Raced%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(contacts, 1);
}

#[test]
fn a_citizen_reads_their_own_record_at_me_without_knowing_its_id() {
    let mine = crm_tests::app::new_contact(host(), "Mei Own-Record");
    link_citizen(&app().db_path(), "citizen-me-1", &mine);
    let citizen = host().as_caller(&token("citizen-me-1", &["citizen"]));
    let own = citizen.get("/api/contacts/me");
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["id"], mine.as_str());
    assert_eq!(own.json()["display_name"], "Mei Own-Record");

    // Staff have no record of their own: `me` is not a contact id to them.
    let staff = officer().get("/api/contacts/me");
    assert_problem(&staff, 403, "forbidden");
    // A citizen token without a link has no record: it is answered as one
    // that does not exist.
    let unlinked = host().as_caller(&token("citizen-me-unlinked", &["citizen"]));
    assert_problem(&unlinked.get("/api/contacts/me"), 404, "not-found");
}
