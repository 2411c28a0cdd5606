use crm_tests::app::{App, assert_problem};
use crm_tests::auth::{api_key, link_citizen, token};
use crm_tests::{Caller, Reply, Value, json};

use crate::{app, host};

fn officer() -> Caller<'static> {
    crm_tests::app::officer(host(), "officer-1")
}

/// An administrator, who reads legal holds for legal obligations.
fn admin() -> Caller<'static> {
    crm_tests::app::admin(host(), "admin-1").purpose("legal-obligation")
}

fn auditor() -> Caller<'static> {
    host().as_caller(&token("auditor-1", &["auditor"]))
}

/// A minimal valid interaction of `contact` that occurred at `occurred_at`.
fn interaction(contact: &str, occurred_at: &str, subject: &str) -> Value {
    json!({
        "contact_id": contact, "channel": "phone", "direction": "inbound",
        "category": "enquiry", "occurred_at": occurred_at, "subject": subject,
    })
}

fn append_as(caller: &Caller, body: &Value) -> Value {
    let reply = caller.post_json("/api/interactions", body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()
}

fn append(body: &Value) -> Value {
    append_as(&officer(), body)
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_string()
}

/// A new contact, whose id interactions can name.
fn new_contact(name: &str) -> String {
    crm_tests::app::new_contact(host(), name)
}

/// Merges `duplicate` into `survivor`, as an officer would.
fn merge(survivor: &str, duplicate: &str) {
    let read = officer().get(&format!("/api/contacts/{survivor}"));
    assert_eq!(read.status, 200, "{}", read.body);
    let etag = read.header("etag").expect("etag").to_string();
    let merged = officer().header("if-match", &etag).post_json(
        &format!("/api/contacts/{survivor}/merge"),
        &json!({"duplicate_id": duplicate, "reason": "same person"}),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);
}

fn timeline(caller: &Caller, query: &str) -> Value {
    let reply = caller.get(&format!("/api/interactions?{query}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn subjects(page: &Value) -> Vec<String> {
    page["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject"].as_str().unwrap_or("<disposed>").to_string())
        .collect()
}

fn verify(contact: &str) -> Value {
    let reply = auditor().get(&format!("/api/interactions/verify?contact_id={contact}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

#[test]
fn an_interaction_keeps_every_part_of_the_model() {
    let contact = &new_contact("Model Person");
    let created = officer().post_json(
        "/api/interactions",
        &json!({
            "contact_id": contact, "channel": "field-visit", "direction": "inbound",
            "occurred_at": "2026-03-02T09:15:00+11:00", "officer_id": "staff:jo@agency.gov.au",
            "category": "Hardship", "tags": ["rent", "Arrears", "rent"],
            "case_reference": "case-2026-000123", "subject": "  Home visit about arrears ",
            "notes": "Discussed a payment plan.\nFollow up in two weeks.",
            "outcome": "follow-up-required", "notification_id": "ntf_42",
            "documents": [
                {"id": "D26-1234", "content_hash": format!("sha256:{}", "0F".repeat(32))},
                {"uri": "https://records.example.gov.au/d/7", "content_hash": format!("sha256:{}", "ab".repeat(32))},
            ],
        }),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let body = created.json();
    let location = created.header("location").unwrap().to_string();
    assert_eq!(location, format!("/api/interactions/{}", id_of(&body)));
    let read = officer().get(&location);
    assert_eq!(read.status, 200, "{}", read.body);
    let read = read.json();
    assert_eq!(read, body);
    assert_eq!(read["channel"], "field-visit");
    assert_eq!(read["occurred_at"], "2026-03-01T22:15:00.000Z");
    assert!(read["recorded_at"].as_str().unwrap() > "2026-03-02");
    assert_eq!(read["officer_id"], "staff:jo@agency.gov.au");
    assert_eq!(read["recorded_by"], "staff:officer-1");
    assert_eq!(read["category"], "hardship");
    assert_eq!(read["tags"], json!(["arrears", "rent"]));
    assert_eq!(read["case_reference"], "CASE-2026-000123");
    assert_eq!(read["subject"], "Home visit about arrears");
    assert_eq!(read["outcome"], "follow-up-required");
    assert_eq!(read["notification_id"], "ntf_42");
    assert_eq!(
        read["documents"][0],
        json!({"id": "D26-1234", "content_hash": format!("sha256:{}", "0f".repeat(32))})
    );
    assert_eq!(
        read["documents"][1]["uri"],
        "https://records.example.gov.au/d/7"
    );
    assert_eq!(read["sequence"], 1);
    assert!(read["hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(read["original"]["subject"], "Home visit about arrears");
    assert_eq!(read["amendments"], json!([]));
    assert_eq!(read["disposal"], Value::Null);

    // Every refused field at once; malformed or unknown JSON is its own problem.
    let refused = officer().post_json(
        "/api/interactions",
        &json!({"contact_id": contact, "channel": "fax", "direction": "sideways",
            "occurred_at": "2999-01-01T00:00:00Z", "category": "Not A Slug", "subject": " ",
            "documents": [{"id": "D1", "uri": "https://x.gov.au/1", "content_hash": "md5:00"}]}),
    );
    let problem = assert_problem(&refused, 400, "validation");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "channel",
            "direction",
            "occurred_at",
            "category",
            "subject",
            "documents[0]",
            "documents[0].content_hash"
        ]
    );
    assert_problem(
        &officer().post_json(
            "/api/interactions",
            &json!({"contact_id": contact, "colour": "red"}),
        ),
        400,
        "invalid-json",
    );
    let huge = json!({"contact_id": contact, "channel": "phone", "direction": "inbound",
        "category": "enquiry", "subject": "Big", "notes": "x".repeat(1 << 20)});
    assert_problem(
        &officer().post_json("/api/interactions", &huge),
        400,
        "validation",
    );
    assert_eq!(
        verify(contact)["entries"],
        1,
        "refused appends write nothing"
    );
}

/// A touchpoint belongs to a contact record: one the directory does not
/// know is a 400 naming `contact_id`, with nothing written; one merged into
/// another is recorded against the survivor, where its history now is.
#[test]
fn interactions_name_contacts_that_exist_and_a_merged_ones_go_to_its_survivor() {
    let unknown = officer().post_json(
        "/api/interactions",
        &interaction("con_nobody_knows", "2026-05-01T10:00:00Z", "Lost call"),
    );
    let problem = assert_problem(&unknown, 400, "validation");
    assert_eq!(problem["errors"][0]["field"], "contact_id", "{problem}");
    let stored: i64 = rusqlite::Connection::open(app().db_path())
        .unwrap()
        .query_row(
            "SELECT count(*) FROM interaction_chains WHERE contact_id = 'con_nobody_knows'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);

    let survivor = new_contact("Merge Survivor");
    let duplicate = new_contact("Merge Duplicate");
    merge(&survivor, &duplicate);
    let recorded = append(&interaction(
        &duplicate,
        "2026-05-02T10:00:00Z",
        "Called back",
    ));
    assert_eq!(recorded["contact_id"], survivor.as_str(), "{recorded}");
    assert_eq!(
        subjects(&timeline(&officer(), &format!("contact_id={survivor}"))),
        ["Called back"]
    );
}

/// Tell us once: after a merge, and again after the survivor is merged
/// in its turn, one timeline shows every interaction of the three records,
/// newest first, each still on its own chain; asking by any of their ids
/// shows it, and paging through it repeats and skips nothing.
#[test]
fn a_survivors_timeline_shows_the_interactions_of_the_contacts_merged_into_it() {
    let [first, second, third] = ["Family First", "Family Second", "Family Third"].map(new_contact);
    for (contact, day, subject) in [
        (&first, 1, "First's call"),
        (&second, 2, "Second's call"),
        (&third, 3, "Third's call"),
        (&first, 4, "First again"),
        (&second, 5, "Second again"),
    ] {
        append(&interaction(
            contact,
            &format!("2026-04-0{day}T10:00:00Z"),
            subject,
        ));
    }
    merge(&second, &first);
    merge(&third, &second);
    let everything = [
        "Second again",
        "First again",
        "Third's call",
        "Second's call",
        "First's call",
    ];
    for asked in [&third, &second, &first] {
        let page = timeline(&officer(), &format!("contact_id={asked}"));
        assert_eq!(subjects(&page), everything, "asked by {asked}");
    }
    let page = timeline(&officer(), &format!("contact_id={third}"));
    let recorded_against: Vec<&str> = page["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["contact_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        recorded_against,
        [&second, &first, &third, &second, &first].map(String::as_str)
    );
    let (mut paged, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let after = cursor.map_or(String::new(), |c| format!("&cursor={c}"));
        let page = timeline(
            &officer(),
            &format!("contact_id={third}&page_size=2{after}"),
        );
        paged.extend(subjects(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, everything);
}

#[test]
fn appends_to_one_contact_serialise_into_one_chain() {
    let contact = &new_contact("Concurrent Person");
    let mut sequences: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                scope.spawn(move || {
                    (0..8)
                        .map(|n| {
                            let subject = format!("Call {t}.{n}");
                            let body = interaction(contact, "2026-05-01T10:00:00Z", &subject);
                            append(&body)["sequence"].as_u64().unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=32).collect::<Vec<_>>());
    let verdict = verify(contact);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["entries"], 32);
}

/// Verification walks the chain up to the tip it read first, so appends
/// landing while it walks never look like entries removed from its end.
#[test]
fn verification_while_appends_continue_never_reports_a_broken_chain() {
    // Without the bound, 1 to 7 in 200 verifications failed (4 runs of 4).
    const VERIFICATIONS: usize = 200;
    let contact = &new_contact("Racing Verify");
    append(&interaction(contact, "2026-05-01T10:00:00Z", "First"));
    let appending = std::sync::atomic::AtomicBool::new(true);
    let verdicts: Vec<Value> = std::thread::scope(|scope| {
        for t in 0..2 {
            let appending = &appending;
            scope.spawn(move || {
                let mut n = 0;
                while appending.load(std::sync::atomic::Ordering::Relaxed) {
                    let subject = format!("Call {t}.{n}");
                    append(&interaction(contact, "2026-05-01T10:00:00Z", &subject));
                    n += 1;
                }
            });
        }
        let verdicts = (0..VERIFICATIONS).map(|_| verify(contact)).collect();
        appending.store(false, std::sync::atomic::Ordering::Relaxed);
        verdicts
    });
    let broken: Vec<&Value> = verdicts.iter().filter(|v| v["valid"] != true).collect();
    assert!(
        broken.is_empty(),
        "{} of {VERIFICATIONS} broken: {broken:?}",
        broken.len()
    );
    let entries = |v: &Value| v["entries"].as_u64().unwrap();
    assert!(
        entries(&verdicts[VERIFICATIONS - 1]) > entries(&verdicts[0]),
        "the appends overlapped the verifications"
    );
    assert_eq!(verify(contact)["valid"], true);
}

/// Entries of `contact` in the log's table, read from the database file.
fn entries_in_db(contact: &str) -> i64 {
    let db = rusqlite::Connection::open(app().db_path()).unwrap();
    db.query_row(
        "SELECT count(*) FROM interaction_entries JOIN interaction_chains USING (contact_key) WHERE contact_id = ?1",
        [contact],
        |r| r.get(0),
    )
    .unwrap()
}

fn append_with_key(caller: Caller<'static>, key: &str, body: &Value) -> Reply {
    caller
        .header("idempotency-key", key)
        .post_json("/api/interactions", body)
}

#[test]
fn a_retried_append_with_an_idempotency_key_records_the_interaction_once() {
    let contact = &new_contact("Idempotent Person");
    let body = interaction(contact, "2026-06-01T10:00:00Z", "Portal enquiry");
    let first = append_with_key(officer(), "portal-append-1", &body);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = append_with_key(officer(), "portal-append-1", &body);
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert_eq!(retry.header("location"), first.header("location"));
    let page = timeline(&officer(), &format!("contact_id={contact}"));
    assert_eq!(subjects(&page), ["Portal enquiry"]);
    assert_eq!(page["interactions"][0]["id"], first.json()["id"]);
    assert_eq!(entries_in_db(contact), 1);
    // The replay is audited as the first request was: allowed.
    let appends: Vec<_> = audited(&format!("contact/{contact}/interactions"))
        .into_iter()
        .filter(|(action, _, _)| action == "interaction.append")
        .map(|(_, outcome, _)| outcome)
        .collect();
    assert_eq!(appends, ["allowed", "allowed"]);

    // The same key for a different request: 422, and nothing appended.
    let other = interaction(contact, "2026-06-01T10:00:00Z", "Another enquiry");
    let reused = append_with_key(officer(), "portal-append-1", &other);
    assert_problem(&reused, 422, "idempotency-key-reused");
    assert_eq!(entries_in_db(contact), 1);

    // Another caller's key of the same text is their own.
    let theirs = append_with_key(
        host()
            .as_caller(&token("officer-2", &["intake-officer", "case-worker"]))
            .purpose("case-management"),
        "portal-append-1",
        &body,
    );
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    assert_eq!(entries_in_db(contact), 2);
    let verdict = verify(contact);
    assert_eq!(verdict["valid"], true, "{verdict}");
}

#[test]
fn an_idempotency_key_must_be_1_to_255_printable_ascii_characters() {
    let contact = &new_contact("Bad Key Person");
    let body = interaction(contact, "2026-06-01T10:00:00Z", "Bad key");
    for key in ["not a key", &"k".repeat(256)] {
        let reply = append_with_key(officer(), key, &body);
        let problem = assert_problem(&reply, 400, "validation");
        assert_eq!(
            problem["errors"][0]["field"], "Idempotency-Key",
            "{problem}"
        );
    }
    assert_eq!(entries_in_db(contact), 0);
    let longest = append_with_key(officer(), &"k".repeat(255), &body);
    assert_eq!(longest.status, 201, "{}", longest.body);
    assert_eq!(entries_in_db(contact), 1);
}

#[test]
fn concurrent_appends_with_one_idempotency_key_record_one_entry() {
    let contact = &new_contact("Idempotent Race");
    let body = interaction(contact, "2026-06-02T10:00:00Z", "Raced enquiry");
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| append_with_key(officer(), "portal-race-1", &body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    assert_eq!(replies[0].json(), replies[1].json());
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 1);
    assert_eq!(entries_in_db(contact), 1);
    let page = timeline(&officer(), &format!("contact_id={contact}"));
    assert_eq!(subjects(&page), ["Raced enquiry"]);
}

#[test]
fn a_notification_appends_through_the_leaf_onto_the_same_chain() {
    let contact = officer().post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "Notified"}),
    );
    assert_eq!(contact.status, 201, "{}", contact.body);
    let contact = id_of(&contact.json());
    append(&interaction(
        &contact,
        "2026-05-01T10:00:00Z",
        "Asked for updates",
    ));
    let comms = host()
        .as_caller(&token("comms-1", &["communications-officer"]))
        .purpose("communications");
    let template = comms.post_json(
        "/api/templates",
        &json!({"name": "Claim moved", "type": "portal", "subject": "Your claim", "body": "Your claim moved", "purpose": "status-updates"}),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let consent =
        crm_tests::consent::decision(&contact, "status-updates", "portal", "given", "officer-1");
    let recorded = officer().post_json("/api/consents", &consent);
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    let sent = comms.post_json(
        "/api/notifications",
        &json!({"contact_id": contact, "template_id": template.json()["id"]}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let notification_id = sent.json()["id"].as_str().unwrap().to_string();
    let read = comms
        .get(&format!("/api/notifications/{notification_id}"))
        .json();
    assert_eq!(read["status"], "delivered", "{read}");
    let from_leaf = officer()
        .get(&format!(
            "/api/interactions/{}",
            read["interaction_id"].as_str().unwrap()
        ))
        .json();
    assert_eq!(from_leaf["direction"], "outbound");
    assert_eq!(from_leaf["channel"], "portal");
    assert_eq!(from_leaf["category"], "notification");
    assert_eq!(from_leaf["notification_id"], notification_id.as_str());
    assert_eq!(from_leaf["recorded_by"], "staff:comms-1");
    assert_eq!(
        from_leaf["sequence"], 2,
        "after the HTTP append, on one chain"
    );
    append(&interaction(
        &contact,
        "2026-05-02T10:00:00Z",
        "Called back",
    ));
    let verdict = verify(&contact);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["entries"], 3);
}

#[test]
fn amendments_of_amendments_show_the_corrected_view_with_the_original_reachable() {
    let contact = &new_contact("Amend Person");
    let original = append(&json!({
        "contact_id": contact, "channel": "phone", "direction": "inbound",
        "occurred_at": "2026-04-01T09:00:00+11:00", "category": "enquiry",
        "subject": "Rent call", "notes": "Wrong notes", "case_reference": "CASE-2026-5",
    }));
    let id = id_of(&original);
    let first = officer().post_json(
        &format!("/api/interactions/{id}/amendments"),
        &json!({"reason": "Wrong subject and day", "subject": "Rent arrears call",
            "occurred_at": "2026-04-02T09:00:00+11:00", "notes": null}),
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let amendment = first
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let view = first.json();
    assert_eq!(view["subject"], "Rent arrears call");
    assert_eq!(view["notes"], Value::Null);
    assert_eq!(view["occurred_at"], "2026-04-01T22:00:00.000Z");
    assert_eq!(view["sources"]["subject"], amendment.as_str());

    // Correct the correction: its patch is restated in full (the day stays).
    let second = officer().post_json(
        &format!("/api/interactions/{amendment}/amendments"),
        &json!({"reason": "Restated", "subject": "Rent arrears phone call",
            "occurred_at": "2026-04-02T09:00:00+11:00"}),
    );
    assert_eq!(second.status, 201, "{}", second.body);
    let view = officer().get(&format!("/api/interactions/{id}")).json();
    assert_eq!(view["subject"], "Rent arrears phone call");
    assert_eq!(
        view["notes"], "Wrong notes",
        "the restated patch no longer clears notes"
    );
    assert_eq!(view["original"]["subject"], "Rent call");
    assert_eq!(view["original"]["occurred_at"], "2026-03-31T22:00:00.000Z");
    assert_eq!(view["amendment_count"], 2);
    let trail = view["amendments"].as_array().unwrap();
    assert_eq!(trail[0]["id"], amendment.as_str());
    assert_eq!(trail[0]["superseded_by"], trail[1]["id"]);
    assert_eq!(trail[0]["patch"]["notes"], Value::Null);
    assert_eq!(trail[1]["amends"], amendment.as_str());
    // The amendment's own id reaches the interaction it belongs to.
    let via_amendment = officer()
        .get(&format!("/api/interactions/{amendment}"))
        .json();
    assert_eq!(via_amendment["id"], id.as_str());

    let empty = officer().post_json(
        &format!("/api/interactions/{id}/amendments"),
        &json!({"reason": "Nothing"}),
    );
    assert_problem(&empty, 400, "validation");
    assert_problem(
        &officer().post_json(
            "/api/interactions/int_nope/amendments",
            &json!({"reason": "x", "subject": "y"}),
        ),
        404,
        "not-found",
    );
    let comms = host()
        .as_caller(&token("comms-1", &["communications-officer"]))
        .post_json(
            &format!("/api/interactions/{id}/amendments"),
            &json!({"reason": "x", "subject": "y"}),
        );
    assert_problem(&comms, 403, "forbidden");
    let verdict = verify(contact);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["entries"], 3);
}

fn place_hold(body: &Value) -> String {
    let reply = admin().post_json("/api/interactions/legal-holds", body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let hold = reply.json();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/interactions/legal-holds/{}", id_of(&hold)).as_str())
    );
    assert_eq!(hold["active"], true);
    id_of(&hold)
}

fn lift(hold: &str) -> Reply {
    admin().post_json(
        &format!("/api/interactions/legal-holds/{hold}/lift"),
        &json!({"reason": "Matter closed"}),
    )
}

fn audited(resource: &str) -> Vec<(String, String, Option<String>)> {
    app().audit_entries("action, outcome, detail", "resource", resource, |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

#[test]
fn disposal_is_refused_under_a_legal_hold_and_leaves_a_verifiable_tombstone() {
    let contact = &new_contact("Dispose Person");
    let kept = append(&interaction(contact, "2026-02-01T09:00:00Z", "Kept"));
    let doomed = append(&json!({
        "contact_id": contact, "channel": "counter", "direction": "inbound",
        "occurred_at": "2026-02-02T09:00:00Z", "category": "complaint",
        "subject": "Counter complaint", "notes": "Personal details here",
    }));
    let id = id_of(&doomed);
    let moved = officer().post_json(
        &format!("/api/interactions/{id}/amendments"),
        &json!({"reason": "Linked to the tribunal case", "case_reference": "TRIB-2026-9"}),
    );
    assert_eq!(moved.status, 201, "{}", moved.body);
    let dispose = |caller: &Caller| {
        caller.post_json(
            &format!("/api/interactions/{id}/dispose"),
            &json!({"authority_class": "RDA 2018/00123456 class 1234", "reason": "Retention period ended"}),
        )
    };

    assert_problem(&dispose(&officer()), 403, "forbidden");
    assert_problem(
        &officer().post_json(
            "/api/interactions/legal-holds",
            &json!({"contact_id": contact, "reason": "Litigation"}),
        ),
        403,
        "forbidden",
    );
    let bad = admin().post_json(
        &format!("/api/interactions/{id}/dispose"),
        &json!({"authority_class": "shred it", "reason": ""}),
    );
    let errors = assert_problem(&bad, 400, "validation")["errors"].clone();
    assert_eq!(errors.as_array().unwrap().len(), 2, "{errors}");

    // A hold on the case the amendment moved it to freezes it, as does one
    // on the contact.
    let on_case =
        place_hold(&json!({"case_reference": "trib-2026-9", "reason": "Tribunal appeal"}));
    let on_contact = place_hold(&json!({"contact_id": contact, "reason": "Litigation notice"}));
    let refused = assert_problem(&dispose(&admin()), 409, "legal-hold");
    assert!(refused["detail"].as_str().unwrap().contains("legal hold"));
    assert_eq!(lift(&on_contact).status, 200);
    assert_problem(&dispose(&admin()), 409, "legal-hold");
    let lifted = lift(&on_case);
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(lifted.json()["active"], false);
    assert_problem(&lift(&on_case), 409, "already-lifted");
    let holds = admin()
        .get(&format!(
            "/api/interactions/legal-holds?contact_id={contact}"
        ))
        .json();
    assert_eq!(holds["legal_holds"].as_array().unwrap().len(), 1);
    assert_eq!(
        admin()
            .get(&format!("/api/interactions/legal-holds/{on_case}"))
            .json()["lift_reason"],
        "Matter closed"
    );

    let disposed = dispose(&admin());
    assert_eq!(disposed.status, 201, "{}", disposed.body);
    let tombstone = disposed.json();
    assert_eq!(tombstone["id"], id.as_str());
    assert_eq!(tombstone["subject"], Value::Null);
    assert_eq!(tombstone["notes"], Value::Null);
    assert_eq!(tombstone["original"], Value::Null);
    assert_eq!(tombstone["channel"], "counter", "facts stay");
    assert_eq!(
        tombstone["case_reference"],
        Value::Null,
        "amended facts were content"
    );
    assert_eq!(
        tombstone["disposal"]["authority_class"],
        "RDA 2018/00123456 class 1234"
    );
    assert_eq!(tombstone["amendments"][0]["patch"], Value::Null);
    assert_eq!(
        tombstone["hash"], doomed["hash"],
        "hashes are never rewritten"
    );
    assert_eq!(officer().get(&format!("/api/interactions/{id}")).json(), {
        let mut read = tombstone.clone();
        read["amendments"] = tombstone["amendments"].clone();
        read
    });

    // Nothing of the content is left in the file.
    let db = rusqlite::Connection::open(app().db_path()).unwrap();
    let left: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM interaction_entries WHERE subject LIKE '%complaint%' OR notes LIKE '%Personal%' OR patch LIKE '%tribunal%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);

    assert_problem(&dispose(&admin()), 409, "already-disposed");
    assert_problem(
        &officer().post_json(
            &format!("/api/interactions/{id}/amendments"),
            &json!({"reason": "x", "subject": "y"}),
        ),
        409,
        "disposed",
    );
    let page = timeline(&officer(), &format!("contact_id={contact}"));
    assert_eq!(subjects(&page), ["<disposed>", "Kept"]);
    assert_eq!(page["interactions"][1]["id"], kept["id"]);
    let verdict = verify(contact);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["entries"], 4);

    let trail = audited(&format!("interaction/{id}"));
    assert!(
        trail
            .iter()
            .any(|(action, outcome, detail)| action == "interaction.dispose"
                && outcome == "failed"
                && detail.as_deref() == Some("legal-hold")),
        "{trail:?}"
    );
    assert!(
        trail
            .iter()
            .any(|(action, _, detail)| action == "interaction.dispose"
                && detail
                    .as_deref()
                    .is_some_and(|d| d.contains("RDA 2018/00123456 class 1234"))),
        "{trail:?}"
    );
    let hold_trail = audited(&format!("legal-hold/{on_case}"));
    assert!(
        hold_trail
            .iter()
            .any(|(_, _, detail)| detail.as_deref() == Some("lifted from case TRIB-2026-9")),
        "{hold_trail:?}"
    );
}

#[test]
fn the_timeline_is_newest_first_filtered_and_paged_stably_while_appends_continue() {
    let contact = &new_contact("Timeline Person");
    for day in 1..=9 {
        append(&interaction(
            contact,
            &format!("2026-01-0{day}T09:00:00+11:00"),
            &format!("Day {day}"),
        ));
    }
    // Recorded now, occurred before all but the first: out of order.
    append(&interaction(
        contact,
        "2026-01-01T12:00:00+11:00",
        "Late entry",
    ));
    append(&json!({
        "contact_id": contact, "channel": "email", "direction": "outbound", "category": "letter-sent",
        "occurred_at": "2026-01-05T12:00:00+11:00", "subject": "Email out", "case_reference": "CASE-2026-3",
    }));
    let page = timeline(&officer(), &format!("contact_id={contact}&page_size=4"));
    assert_eq!(subjects(&page), ["Day 9", "Day 8", "Day 7", "Day 6"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();

    // Appends while paging: newer than everything, between pages, older.
    append(&interaction(contact, "2026-01-10T09:00:00+11:00", "Newest"));
    append(&interaction(contact, "2026-01-03T12:00:00+11:00", "Middle"));
    append(&interaction(contact, "2025-12-31T09:00:00+11:00", "Oldest"));
    let mut rest = Vec::new();
    let mut next = Some(cursor);
    while let Some(cursor) = next {
        let page = timeline(
            &officer(),
            &format!("contact_id={contact}&page_size=4&cursor={cursor}"),
        );
        rest.extend(subjects(&page));
        next = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(
        rest,
        [
            "Email out",
            "Day 5",
            "Day 4",
            "Middle",
            "Day 3",
            "Day 2",
            "Late entry",
            "Day 1",
            "Oldest"
        ],
        "nothing shown twice, nothing skipped"
    );

    let filtered = |query: &str| {
        subjects(&timeline(
            &officer(),
            &format!("contact_id={contact}&{query}"),
        ))
    };
    assert_eq!(filtered("channel=email"), ["Email out"]);
    assert_eq!(filtered("direction=outbound"), ["Email out"]);
    assert_eq!(filtered("category=letter-sent"), ["Email out"]);
    assert_eq!(filtered("case_reference=case-2026-3"), ["Email out"]);
    assert_eq!(
        filtered("from=2026-01-02T00:00:00%2B11:00&to=2026-01-04T00:00:00%2B11:00"),
        ["Middle", "Day 3", "Day 2"]
    );

    // A cursor is only good for its own filters, and cannot be forged.
    let first = timeline(&officer(), &format!("contact_id={contact}&page_size=2"));
    let cursor = first["next_cursor"].as_str().unwrap();
    let other = officer().get(&format!(
        "/api/interactions?contact_id={contact}&channel=phone&cursor={cursor}"
    ));
    let problem = assert_problem(&other, 400, "validation");
    assert_eq!(problem["errors"][0]["field"], "cursor");
    let mut forged = cursor.to_string();
    forged.replace_range(5..6, if &forged[5..6] == "A" { "B" } else { "A" });
    assert_problem(
        &officer().get(&format!(
            "/api/interactions?contact_id={contact}&cursor={forged}"
        )),
        400,
        "validation",
    );
    for bad in [
        "channel=fax",
        "page_size=500",
        "chanel=email",
        "contact_id=x",
    ] {
        assert_problem(
            &officer().get(&format!("/api/interactions?contact_id={contact}&{bad}")),
            400,
            "validation",
        );
    }
}

#[test]
fn reads_follow_the_matrix_state_a_purpose_and_citizens_see_only_their_own() {
    let mine = &new_contact("Citizen Mine");
    let theirs = &new_contact("Citizen Neighbour");
    let own = append(&interaction(mine, "2026-06-01T09:00:00Z", "My call"));
    let other = append(&interaction(theirs, "2026-06-01T09:00:00Z", "Their call"));
    link_citizen(&app().db_path(), "citizen-7", mine);
    let citizen = host().as_caller(&token("citizen-7", &["citizen"]));
    assert_eq!(subjects(&timeline(&citizen, "")), ["My call"]);
    assert_eq!(
        subjects(&timeline(&citizen, &format!("contact_id={mine}"))),
        ["My call"]
    );
    assert_problem(
        &citizen.get(&format!("/api/interactions?contact_id={theirs}")),
        404,
        "not-found",
    );
    assert_eq!(
        citizen
            .get(&format!("/api/interactions/{}", id_of(&own)))
            .status,
        200
    );
    assert_problem(
        &citizen.get(&format!("/api/interactions/{}", id_of(&other))),
        404,
        "not-found",
    );
    assert_problem(
        &citizen.post_json(
            "/api/interactions",
            &interaction(mine, "2026-06-01T09:00:00Z", "x"),
        ),
        403,
        "forbidden",
    );

    // Staff state why they read; communications officers may append, not read.
    let no_purpose = host().as_caller(&token("officer-1", &["case-worker"]));
    assert_problem(
        &no_purpose.get(&format!("/api/interactions?contact_id={mine}")),
        400,
        "purpose-of-use",
    );
    assert_problem(
        &no_purpose.get(&format!("/api/interactions/{}", id_of(&own))),
        400,
        "purpose-of-use",
    );
    let comms = host()
        .as_caller(&token("comms-1", &["communications-officer"]))
        .purpose("communications");
    append_as(
        &comms,
        &interaction(mine, "2026-06-02T09:00:00Z", "Newsletter query"),
    );
    assert_problem(
        &comms.get(&format!("/api/interactions?contact_id={mine}")),
        403,
        "forbidden",
    );

    // A service with the read scope reads; without it, it does not.
    let reader = api_key(&app().db_path(), "portal", &["interaction.read"]);
    let service = host().as_caller(&reader).purpose("service-delivery");
    assert_eq!(
        subjects(&timeline(&service, &format!("contact_id={mine}"))).len(),
        2
    );
    assert_problem(
        &service.post_json(
            "/api/interactions",
            &interaction(mine, "2026-06-01T09:00:00Z", "x"),
        ),
        403,
        "forbidden",
    );
}

fn stats(caller: &Caller, query: &str) -> Reply {
    caller.get(&format!("/api/interactions/stats?{query}"))
}

fn cell(table: &Value, row: &str, column: usize) -> Value {
    let row = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == row)
        .unwrap_or_else(|| panic!("no row {row} in {table}"));
    row["cells"][column].clone()
}

#[test]
fn trends_count_by_channel_category_and_bucket_and_suppress_small_cells() {
    // March 2001 is this test's alone: only its interactions are counted.
    // Week 10: 7 calls. Week 11: 6 calls and 2 emails.
    let (trends_a, trends_b) = (new_contact("Trends A"), new_contact("Trends B"));
    for n in 0..7 {
        append(&interaction(
            &trends_a,
            &format!("2001-03-0{}T10:00:00+10:00", 5 + n % 2),
            "Call",
        ));
    }
    for n in 0..6 {
        append(&interaction(
            &trends_a,
            &format!("2001-03-1{}T10:00:00+10:00", 2 + n % 2),
            "Call",
        ));
    }
    for n in 0..2 {
        append(&json!({
            "contact_id": trends_b, "channel": "email", "direction": "outbound",
            "category": "complaint", "occurred_at": format!("2001-03-1{}T10:00:00+10:00", 4 + n), "subject": "Email",
        }));
    }
    let range = "from=2001-03-05T00:00:00%2B10:00&to=2001-03-19T00:00:00%2B10:00";
    let weeks = stats(&auditor(), &format!("{range}&granularity=week&by=channel"));
    assert_eq!(weeks.status, 200, "{}", weeks.body);
    let weeks = weeks.json();
    assert_eq!(weeks["columns"], json!(["2001-W10", "2001-W11"]));
    assert_eq!(weeks["buckets"][0]["start"], "2001-03-04T14:00:00.000Z");
    assert_eq!(weeks["min_cell"], 5);
    assert_eq!(
        cell(&weeks, "phone", 0),
        json!({"count": 7, "suppressed": false}),
        "{weeks}"
    );
    assert_eq!(
        cell(&weeks, "sms", 0),
        json!({"count": 0, "suppressed": false})
    );
    let suppressed = json!({"count": null, "suppressed": true});
    assert_eq!(cell(&weeks, "email", 1), suppressed);
    let email = weeks["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == "email")
        .unwrap();
    assert_eq!(email["total"], suppressed);
    // Week 11's total is shown, so another of its cells hides the 2.
    assert_eq!(
        weeks["column_totals"][1],
        json!({"count": 8, "suppressed": false})
    );
    assert_eq!(cell(&weeks, "phone", 1), suppressed);
    assert_eq!(
        weeks["grand_total"],
        json!({"count": 15, "suppressed": false})
    );

    let days = stats(&officer(), &format!("{range}&by=category")).json();
    assert_eq!(days["columns"].as_array().unwrap().len(), 14);
    let labels: Vec<&str> = days["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["complaint", "enquiry"]);
    assert_eq!(
        cell(&days, "enquiry", 0)["suppressed"],
        true,
        "4 calls on the 5th"
    );
    let months = stats(
        &auditor(),
        "from=2001-01-01T00:00:00Z&to=2001-12-31T00:00:00Z&granularity=month&offset=Z",
    )
    .json();
    assert_eq!(months["columns"].as_array().unwrap().len(), 12);
    assert_eq!(months["grand_total"]["count"], 15);

    let refused = stats(
        &auditor(),
        "from=2001-03-19T00:00:00Z&to=2001-03-05T00:00:00Z&granularity=fortnight",
    );
    let problem = assert_problem(&refused, 400, "validation");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    assert_problem(
        &stats(
            &host().as_caller(&token("intake-1", &["intake-officer"])),
            range,
        ),
        403,
        "forbidden",
    );
}

#[test]
fn legal_holds_are_administrators_and_name_one_scope() {
    let both = admin().post_json(
        "/api/interactions/legal-holds",
        &json!({"contact_id": "con_x", "case_reference": "CASE-2026-1", "reason": "x"}),
    );
    assert_problem(&both, 400, "validation");
    assert_problem(
        &admin().get("/api/interactions/legal-holds/hold_nope"),
        404,
        "not-found",
    );
    assert_problem(&lift("hold_nope"), 404, "not-found");
    assert_problem(
        &auditor().get("/api/interactions/legal-holds"),
        403,
        "forbidden",
    );
    let hold = place_hold(&json!({"case_reference": "CASE-2026-404", "reason": "FOI"}));
    let listed = admin()
        .get("/api/interactions/legal-holds?case_reference=case-2026-404")
        .json();
    assert_eq!(listed["legal_holds"][0]["id"], hold.as_str());
    assert_eq!(listed["legal_holds"][0]["placed_by"], "staff:admin-1");
}

/// Editing the database file behind the application's back is caught.
#[test]
fn a_broken_chain_is_detected_after_the_file_is_edited() {
    let key = format!(
        "interaction_cursor_key={}",
        "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0zMi1ieXRlcyE="
    );
    let own = App::start(&[
        "--variable",
        &key,
        "--variable",
        "interaction_stats_min_cell=2",
    ]);
    let host = &own.host;
    let officer = host
        .as_caller(&token("officer-2", &["case-worker"]))
        .purpose("case-management");
    let auditor = host.as_caller(&token("auditor-2", &["auditor"]));
    let edited = crm_tests::app::new_contact(host, "Edited Chain");
    let verify = |contact: &str| {
        auditor
            .get(&format!("/api/interactions/verify?contact_id={contact}"))
            .json()
    };
    for n in 1..=4 {
        let reply = officer.post_json(
            "/api/interactions",
            &interaction(
                &edited,
                &format!("2002-01-0{n}T10:00:00Z"),
                &format!("Call {n}"),
            ),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    assert_eq!(verify(&edited)["valid"], true);
    assert_eq!(verify("con_nobody")["entries"], 0);
    // The configured minimum applies: a count of 4 is shown, as are 2s.
    let stats = officer
        .get("/api/interactions/stats?from=2002-01-01T00:00:00Z&to=2002-01-03T00:00:00Z&offset=Z")
        .json();
    assert_eq!(stats["min_cell"], 2);
    assert_eq!(stats["grand_total"]["count"], 2);
    // A cursor made under the configured key works here.
    let page = officer
        .get(&format!(
            "/api/interactions?contact_id={edited}&page_size=2"
        ))
        .json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = officer.get(&format!(
        "/api/interactions?contact_id={edited}&page_size=2&cursor={cursor}"
    ));
    assert_eq!(subjects(&next.json()), ["Call 2", "Call 1"]);

    let db = rusqlite::Connection::open(own.db_path()).unwrap();
    let edit = db.execute(
        "UPDATE interaction_entries SET subject = 'Nothing happened' WHERE sequence = 2",
        [],
    );
    assert!(
        edit.is_err(),
        "the application's own tables refuse the edit"
    );
    db.execute_batch(
        "DROP TRIGGER interaction_entries_only_tombstoned; DROP TRIGGER interaction_entries_no_delete;",
    )
    .unwrap();
    db.execute(
        "UPDATE interaction_entries SET subject = 'Nothing happened' WHERE sequence = 2",
        [],
    )
    .unwrap();
    let verdict = verify(&edited);
    assert_eq!(verdict["valid"], false, "{verdict}");
    assert_eq!(verdict["first_broken_sequence"], 2);
    assert_eq!(verdict["entries"], 1);
    assert!(
        verdict["reason"].as_str().unwrap().contains("content"),
        "{verdict}"
    );
    db.execute(
        "UPDATE interaction_entries SET subject = 'Call 2' WHERE sequence = 2",
        [],
    )
    .unwrap();
    assert_eq!(
        verify(&edited)["valid"],
        true,
        "restored content verifies again"
    );

    // Removing the newest entry: every link holds, the stored tip does not.
    db.execute("DELETE FROM interaction_entries WHERE sequence = 4", [])
        .unwrap();
    let verdict = verify(&edited);
    assert_eq!(verdict["valid"], false, "{verdict}");
    assert_eq!(verdict["tip_matches"], false);
    assert!(
        verdict["reason"].as_str().unwrap().contains("removed"),
        "{verdict}"
    );

    // Removing one in the middle breaks the sequence.
    db.execute("DELETE FROM interaction_entries WHERE sequence = 2", [])
        .unwrap();
    let verdict = verify(&edited);
    assert_eq!(verdict["first_broken_sequence"], 3, "{verdict}");
    assert_problem(
        &officer.get(&format!("/api/interactions/verify?contact_id={edited}")),
        403,
        "forbidden",
    );
    assert!(own.host.stop().success());
}

// An append at a glance: its times normalised, and a bad one refused per field.

#[test]
fn interactions_are_appended_and_validated() {
    let contact = new_contact("Caller");
    let reply = officer().post_json(
        "/api/interactions",
        &json!({"contact_id": contact, "channel": "phone", "direction": "inbound", "category": "enquiry",
            "subject": "Asked about a form", "occurred_at": "2023-11-15T09:13:20+11:00"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let interaction = reply.json();
    assert_eq!(interaction["occurred_at"], "2023-11-14T22:13:20.000Z");
    assert!(interaction["recorded_at"].as_str().unwrap() > "2023-11-14T22:13:20.000Z");
    let bad = officer().post_json(
        "/api/interactions",
        &json!({"contact_id": contact, "channel": "fax", "direction": "sideways", "category": "enquiry",
            "subject": " ", "occurred_at": "2999-01-01T00:00:00Z"}),
    );
    assert_problem(&bad, 400, "validation");
    assert_eq!(bad.json()["errors"].as_array().unwrap().len(), 4);
}
