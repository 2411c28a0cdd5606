//! Cases: opening, references, validation, transitions, activities, first
//! responses, touchpoints, restricted cases, citizens, parents and children.

use crm_tests::app::{assert_problem, error_fields, new_contact};
use crm_tests::auth::{link_citizen, token};
use serde_json::json;

use super::*;

#[test]
fn a_case_opens_new_with_a_gapless_reference_its_clocks_and_an_audit_entry() {
    let contact = new_contact(host(), "Case Opener");
    let by = worker("worker-open");
    let first = open(&by, &enquiry("Fence dispute", Some(&contact), None));
    assert_eq!(first["status"], "new");
    assert_eq!(first["status_category"], "open");
    assert_eq!(first["contact_id"], contact);
    assert_eq!(first["created_by"], "staff:worker-open");
    let reference = first["reference"].as_str().unwrap();
    let (prefix, number) = reference.rsplit_once('-').unwrap();
    assert!(prefix.starts_with("CAS-20"), "{reference}");
    assert_eq!(number.len(), 6, "{reference}");
    // A refused open takes no number: the next case has the next one.
    let refused = by.post_json(
        "/api/cases",
        &json!({"case_type": "no-such-type", "subject": "x"}),
    );
    assert_eq!(
        error_fields(&assert_problem(&refused, 400, "validation")),
        ["case_type"]
    );
    let second = open(&by, &enquiry("Second", None, None));
    let next: u32 = second["reference"]
        .as_str()
        .unwrap()
        .rsplit_once('-')
        .unwrap()
        .1
        .parse()
        .unwrap();
    // Other tests open cases at the same time, so only order is certain here;
    // gaplessness is checked over the whole table below.
    assert!(next > number.parse::<u32>().unwrap());

    let id = first["id"].as_str().unwrap();
    let got = by.get(&format!("/api/cases/{id}"));
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.header("etag"), Some("\"v1\""));
    let got = got.json();
    let clocks = got["clocks"].as_array().unwrap();
    let targets: Vec<_> = clocks
        .iter()
        .map(|c| c["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets.len(), 2, "{got}");
    assert!(
        targets.contains(&"first-response") && targets.contains(&"resolution"),
        "{got}"
    );
    assert!(clocks.iter().all(|c| c["state"] == "in-progress"), "{got}");
    assert!(got["due_at"].is_string(), "{got}");

    let entries = app().audit_entries("action, outcome", "resource", &format!("case/{id}"), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    });
    assert!(
        entries.contains(&("case.open".into(), "allowed".into())),
        "{entries:?}"
    );
    assert!(
        entries.contains(&("case.read".into(), "allowed".into())),
        "{entries:?}"
    );

    // Gapless per year: the numbers handed out are 1..=n.
    let db = app().db();
    let mut numbers: Vec<u32> = db
        .prepare("SELECT reference FROM cases")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| r.unwrap().rsplit_once('-').unwrap().1.parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=numbers.len() as u32).collect::<Vec<_>>());
}

#[test]
fn bad_case_bodies_name_their_fields_and_write_nothing() {
    let by = worker("worker-bad");
    assert_eq!(
        by.get("/api/cases/types").status,
        200,
        "the schema is in place"
    );
    let before: i64 = app()
        .db()
        .query_row(WRITTEN_BY_WORKER_BAD, [], |r| r.get(0))
        .unwrap();
    let problem = assert_problem(
        &by.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "a\u{0007}b", "priority": "soon",
                    "confidentiality": "secret"}),
        ),
        400,
        "invalid-json",
    );
    // A value of the wrong shape stops the reading at its field.
    assert_eq!(error_fields(&problem), ["confidentiality"], "{problem}");
    let problem = assert_problem(
        &by.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "a\u{0007}b"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["subject"]);
    let problem = assert_problem(
        &by.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "ok", "contact_id": "con_nobody"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["contact_id"]);
    let problem = assert_problem(
        &by.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "ok", "colour": 1}),
        ),
        400,
        "invalid-json",
    );
    assert!(problem.to_string().contains("colour"), "{problem}");
    let reply = by.send_as("POST", "/api/cases", "text/plain", "{}");
    assert_eq!(reply.status, 415, "{}", reply.body);
    let after: i64 = app()
        .db()
        .query_row(WRITTEN_BY_WORKER_BAD, [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, after);
}

/// The cases `worker-bad` opened: only its own, as the binary's other tests
/// open cases on the same host meanwhile.
const WRITTEN_BY_WORKER_BAD: &str =
    "SELECT COUNT(*) FROM cases WHERE created_by = 'staff:worker-bad'";

#[test]
fn the_transition_table_decides_and_a_refusal_names_the_allowed_targets() {
    let by = worker("worker-flow");
    let case = open(&by, &enquiry("Flow", None, None));
    let id = case["id"].as_str().unwrap();
    let problem = assert_problem(
        &transition(&by, id, "closed"),
        409,
        "transition-not-allowed",
    );
    let allowed: Vec<_> = problem["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        allowed,
        [
            "assigned",
            "in-progress",
            "withdrawn",
            "rejected",
            "duplicate"
        ]
    );
    // The case itself names the same targets, with their labels, before
    // anyone tries one.
    let read = by.get(&format!("/api/cases/{id}"));
    assert_eq!(read.status, 200, "{}", read.body);
    let offered: Vec<_> = read.json()["allowed_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(offered, allowed);
    assert_eq!(
        read.json()["allowed_transitions"][1],
        json!({"to": "in-progress", "label": "In progress"})
    );
    let moved = transition(&by, id, "in-progress");
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.header("etag"), Some("\"v2\""));
    assert_eq!(moved.json()["status"], "in-progress");
    // A stale If-Match is a 412; the status stays.
    let stale = worker("worker-flow")
        .header("if-match", "\"v1\"")
        .post_json(
            &format!("/api/cases/{id}/transitions"),
            &json!({"to": "resolved"}),
        );
    assert_problem(&stale, 412, "stale-version");
    // An unknown status is the caller's 400; an intake officer may only triage.
    assert_eq!(
        error_fields(&assert_problem(
            &transition(&by, id, "Not A Status!"),
            400,
            "invalid-json"
        )),
        ["to"]
    );
    let intake = host()
        .as_caller(&token("intake-flow", &["intake-officer"]))
        .purpose("case-management");
    assert_problem(
        &transition(&intake, id, "resolved"),
        409,
        "transition-not-allowed",
    );
    assert_eq!(transition(&by, id, "resolved").json()["status"], "resolved");
    // Reopening within the window works; past it, it is refused.
    assert_eq!(transition(&by, id, "in-progress").status, 200);
    assert_eq!(transition(&by, id, "resolved").status, 200);
    let db = app().db();
    db.execute(
        "UPDATE cases SET resolved_at = resolved_at - 11 * 86400000 WHERE id = ?1",
        [id],
    )
    .unwrap();
    assert_problem(
        &transition(&by, id, "in-progress"),
        409,
        "reopen-window-passed",
    );
}

#[test]
fn waiting_on_the_citizen_pauses_the_clocks_and_their_message_resumes_them() {
    let contact = new_contact(host(), "Waiting Citizen");
    link_citizen(&app().db_path(), "citizen-wait", &contact);
    let citizen = host().as_caller(&token("citizen-wait", &["citizen"]));
    let by = worker("worker-wait");
    let case = open(&by, &enquiry("Need documents", Some(&contact), None));
    let id = case["id"].as_str().unwrap();
    assert_eq!(transition(&by, id, "in-progress").status, 200);
    assert_eq!(transition(&by, id, "awaiting-citizen").status, 200);
    let got = by.get(&format!("/api/cases/{id}")).json();
    assert!(
        got["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] == "paused"),
        "{got}"
    );
    assert!(got["due_at"].is_null(), "no clock runs: {got}");
    // The citizen answers through the portal: the case moves on by itself.
    let reply = citizen.post_json(
        &format!("/api/cases/{id}/activities"),
        &json!({"kind": "citizen-message", "subject": "Here they are", "body": "Attached.\nThanks"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["from"], "you");
    let got = by.get(&format!("/api/cases/{id}")).json();
    assert_eq!(got["status"], "in-progress", "{got}");
    assert!(
        got["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] != "paused"),
        "{got}"
    );
    // Their message is a touchpoint in the interaction log, once.
    let log = worker("worker-wait").get(&format!("/api/interactions?contact_id={contact}"));
    assert_eq!(log.status, 200, "{}", log.body);
    let log = log.json();
    let entries: Vec<_> = log["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["case_reference"] == case["reference"])
        .collect();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["channel"], "portal");
    assert_eq!(entries[0]["direction"], "inbound");
    // A citizen may not write staff activities, nor touch another's case.
    let problem = assert_problem(
        &citizen.post_json(
            &format!("/api/cases/{id}/activities"),
            &json!({"kind": "note", "subject": "x"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["kind"]);
    let other = open(
        &by,
        &enquiry(
            "Someone else's",
            Some(&new_contact(host(), "Other Person")),
            None,
        ),
    );
    let reply = citizen.get(&format!("/api/cases/{}", other["id"].as_str().unwrap()));
    assert_eq!(reply.status, 404, "{}", reply.body);
}

#[test]
fn only_a_staff_citizen_visible_outbound_activity_is_the_first_response() {
    let contact = new_contact(host(), "First Response");
    let by = worker("worker-first");
    let case = open(&by, &enquiry("First response", Some(&contact), None));
    let id = case["id"].as_str().unwrap();
    let add = |body: serde_json::Value| {
        let reply = by.post_json(&format!("/api/cases/{id}/activities"), &body);
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()
    };
    add(
        json!({"kind": "note", "subject": "Internal note", "citizen_visible": true, "direction": "outbound"}),
    );
    add(json!({"kind": "email", "subject": "Not shown", "direction": "outbound"}));
    let got = by.get(&format!("/api/cases/{id}")).json();
    assert!(got["first_response_at"].is_null(), "{got}");
    let email = add(
        json!({"kind": "email", "subject": "We are on it", "direction": "outbound", "citizen_visible": true}),
    );
    let got = by.get(&format!("/api/cases/{id}")).json();
    assert_eq!(got["first_response_at"], email["completed_at"], "{got}");
    let first = got["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["target"] == "first-response")
        .unwrap()
        .clone();
    assert_eq!(first["state"], "succeeded", "{got}");
    // Both emails reached the log (a touchpoint need not be visible on the
    // portal to have happened); the note did not.
    let log = by
        .get(&format!("/api/interactions?contact_id={contact}"))
        .json();
    let channels: Vec<_> = log["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["case_reference"] == case["reference"])
        .map(|e| e["channel"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(channels, ["email", "email"], "{log}");

    // A touchpoint whose logging was lost (the case component died between
    // the log's append and noting it) is logged by the next sweep, once.
    let db = app().db();
    let forgotten = db
        .execute(
            "UPDATE case_activities SET interaction_id = NULL WHERE id = ?1",
            [email["id"].as_str().unwrap()],
        )
        .unwrap();
    assert_eq!(forgotten, 1);
    let swept = admin().post_json("/api/cases/sla/sweep", &json!({}));
    assert_eq!(swept.status, 200, "{}", swept.body);
    assert!(
        swept.json()["touchpoints_retried"].as_u64().unwrap() >= 1,
        "{}",
        swept.body
    );
    let relogged: Option<String> = db
        .query_row(
            "SELECT interaction_id FROM case_activities WHERE id = ?1",
            [email["id"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        relogged.as_deref(),
        email["interaction_id"].as_str(),
        "the first entry's id"
    );
    let log = by
        .get(&format!("/api/interactions?contact_id={contact}"))
        .json();
    let again = log["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["case_reference"] == case["reference"])
        .count();
    assert_eq!(again, 2, "{log}");
}

#[test]
fn a_restricted_case_is_seen_only_by_its_assignee_queue_members_and_administrators() {
    queue("restricted-q", &["member-r"], 5);
    let by = worker("member-r");
    let mut body = enquiry("Sensitive", None, Some("restricted-q"));
    body["confidentiality"] = json!("restricted");
    let case = open(&by, &body);
    let id = case["id"].as_str().unwrap();
    assert_eq!(by.get(&format!("/api/cases/{id}")).status, 200);
    assert_eq!(admin().get(&format!("/api/cases/{id}")).status, 200);
    let outsider = worker("outsider-r");
    let reply = outsider.get(&format!("/api/cases/{id}"));
    assert_eq!(reply.status, 404, "{}", reply.body);
    let listed = outsider.get("/api/cases?queue_id=restricted-q").json();
    assert!(
        listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != id),
        "{listed}"
    );
    let entries = app().audit_entries(
        "actor_id, outcome, detail",
        "resource",
        &format!("case/{id}"),
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        },
    );
    assert!(
        entries.contains(&(
            "staff:outsider-r".into(),
            "denied".into(),
            Some("restricted".into())
        )),
        "{entries:?}"
    );
}

#[test]
fn a_citizen_opens_and_follows_their_own_cases_and_sees_only_what_is_for_them() {
    let contact = new_contact(host(), "Portal Citizen");
    link_citizen(&app().db_path(), "citizen-own", &contact);
    let citizen = host().as_caller(&token("citizen-own", &["citizen"]));
    let opened = open(
        &citizen,
        &json!({"case_type": "correction-request", "subject": "My address is wrong", "details": "It is 1 Main St"}),
    );
    assert!(opened.get("assignee").is_none(), "{opened}");
    let id = opened["id"].as_str().unwrap();
    let by = worker("worker-own");
    let note = by.post_json(
        &format!("/api/cases/{id}/activities"),
        &json!({"kind": "note", "subject": "Check records"}),
    );
    assert_eq!(note.status, 201, "{}", note.body);
    let letter = by.post_json(
        &format!("/api/cases/{id}/activities"),
        &json!({"kind": "letter", "subject": "We have corrected it", "direction": "outbound", "citizen_visible": true}),
    );
    assert_eq!(letter.status, 201, "{}", letter.body);
    let mine = citizen.get("/api/cases/mine");
    assert_eq!(mine.status, 200, "{}", mine.body);
    let mine = mine.json();
    let case = mine["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(case["status_label"], "New");
    let subjects: Vec<_> = case["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["We have corrected it"], "{case}");
    assert_eq!(case["activities"][0]["from"], "agency");
    // A citizen may not name another contact, nor list others' cases.
    let problem = assert_problem(
        &citizen.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "x", "contact_id": "con_other"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["contact_id"]);
    // Their list is their own cases, whatever they filter by.
    let listed = citizen.get("/api/cases?queue_id=restricted-q").json();
    let ids: Vec<_> = listed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id], "{listed}");
    // A case about no one is no citizen's.
    let nobodys = open(&by, &enquiry("About no one", None, None));
    assert_eq!(
        citizen
            .get(&format!("/api/cases/{}", nobodys["id"].as_str().unwrap()))
            .status,
        404
    );
    // A citizen may withdraw their own open case.
    assert_eq!(
        transition(&citizen, id, "withdrawn").json()["status"],
        "withdrawn"
    );
}

#[test]
fn citizens_open_only_kinds_open_to_them_naming_nothing_staff_decide() {
    let contact = new_contact(host(), "Portal Opener");
    link_citizen(&app().db_path(), "citizen-opener", &contact);
    let citizen = host().as_caller(&token("citizen-opener", &["citizen"]));
    // A kind of case staff alone open.
    let put = |body: serde_json::Value| {
        admin().request("PUT", "/api/cases/types/staff-review", Some(&body))
    };
    let kind = json!({"title": "Staff review", "activity_kinds": ["note"],
                      "statuses": ["new", "in-progress", "resolved", "closed"],
                      "closure_policy": "block-while-child-open", "calendar_id": "default",
                      "reopen_within_days": 0});
    let staff_only = put(kind.clone());
    assert_eq!(staff_only.status, 200, "{}", staff_only.body);
    assert_eq!(staff_only.json()["citizen_openable"], false);
    assert_eq!(
        staff_only.json()["citizen_queue_id"],
        serde_json::Value::Null
    );
    let problem = assert_problem(
        &citizen.post_json(
            "/api/cases",
            &json!({"case_type": "staff-review", "subject": "Let me in"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["case_type"]);
    // What staff decide is refused, each field named.
    let problem = assert_problem(
        &citizen.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "Urgent!", "priority": "urgent",
                    "confidentiality": "restricted",
                    "participants": [{"kind": "contact", "party_id": "con_someone", "role": "applicant"}]}),
        ),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        ["priority", "confidentiality", "participants"]
    );
    // A correction request joins the corrections queue, about the citizen.
    let opened = open(
        &citizen,
        &json!({"case_type": "correction-request", "subject": "My name is misspelt"}),
    );
    let id = opened["id"].as_str().unwrap();
    let seen = worker("worker-opener")
        .get(&format!("/api/cases/{id}"))
        .json();
    assert_eq!(seen["queue_id"], "records-corrections", "{seen}");
    assert_eq!(seen["contact_id"], contact.as_str());
    assert_eq!(seen["priority"], "normal");
    // An administrator opens the kind to citizens, into a queue that exists.
    let mut open_kind = kind.clone();
    open_kind["citizen_openable"] = json!(true);
    open_kind["citizen_queue_id"] = json!("no-such-queue");
    assert_eq!(
        error_fields(&assert_problem(&put(open_kind.clone()), 400, "validation")),
        ["citizen_queue_id"]
    );
    open_kind["citizen_queue_id"] = json!("records-corrections");
    assert_eq!(put(open_kind).status, 200);
    let opened = open(
        &citizen,
        &json!({"case_type": "staff-review", "subject": "Now I may"}),
    );
    let id = opened["id"].as_str().unwrap();
    let seen = worker("worker-opener")
        .get(&format!("/api/cases/{id}"))
        .json();
    assert_eq!(seen["queue_id"], "records-corrections", "{seen}");
    // Staff still name their own queue, or none.
    let by_staff = open(
        &worker("worker-opener"),
        &json!({"case_type": "correction-request", "subject": "Taken at the counter", "contact_id": contact}),
    );
    assert_eq!(by_staff["queue_id"], serde_json::Value::Null, "{by_staff}");
}

#[test]
fn a_merged_contacts_cases_show_on_the_survivor() {
    let survivor = new_contact(host(), "Merge Survivor");
    let duplicate = new_contact(host(), "Merge Duplicate");
    let by = worker("worker-merge");
    let case = open(
        &by,
        &enquiry("Filed on the duplicate", Some(&duplicate), None),
    );
    let merged = by.post_json(
        &format!("/api/contacts/{survivor}/merge"),
        &json!({"duplicate_id": duplicate, "reason": "same person"}),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);
    let listed = by.get(&format!("/api/cases?contact_id={survivor}")).json();
    assert!(
        listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == case["id"]),
        "{listed}"
    );
}

#[test]
fn a_parent_closes_by_its_types_policy() {
    let by = worker("worker-parent");
    // general-enquiry: the parent cannot close while a child is open.
    let parent = open(&by, &enquiry("Parent", None, None));
    let pid = parent["id"].as_str().unwrap();
    let mut child = enquiry("Child", None, None);
    child["parent_id"] = json!(pid);
    let child = open(&by, &child);
    assert_eq!(transition(&by, pid, "in-progress").status, 200);
    let problem = assert_problem(&transition(&by, pid, "resolved"), 409, "children-open");
    assert!(
        problem["detail"].as_str().unwrap().contains('1'),
        "{problem}"
    );
    assert_eq!(
        transition(&by, child["id"].as_str().unwrap(), "withdrawn").status,
        200
    );
    assert_eq!(transition(&by, pid, "resolved").status, 200);
    // correction-request: closing the parent closes its open children.
    let parent = open(
        &by,
        &json!({"case_type": "correction-request", "subject": "Parent"}),
    );
    let pid = parent["id"].as_str().unwrap();
    let kids: Vec<String> = (0..2)
        .map(|i| {
            open(&by, &json!({"case_type": "correction-request", "subject": format!("Child {i}"), "parent_id": pid}))["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(transition(&by, pid, "rejected").status, 200);
    for kid in &kids {
        let got = by.get(&format!("/api/cases/{kid}")).json();
        assert_eq!(got["status"], "rejected", "{got}");
        assert!(
            got["clocks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["state"] == "cancelled"),
            "{got}"
        );
    }
}

#[test]
fn who_may_do_what_with_cases() {
    let by = worker("worker-roles");
    let case = open(
        &by,
        &enquiry("Roles", Some(&new_contact(host(), "Roles Person")), None),
    );
    let id = case["id"].as_str().unwrap();
    let comms = host()
        .as_caller(&token("comms-roles", &["communications-officer"]))
        .purpose("case-management");
    assert_eq!(comms.get(&format!("/api/cases/{id}")).status, 403);
    let auditor = host()
        .as_caller(&token("auditor-roles", &["auditor"]))
        .purpose("audit");
    assert_eq!(auditor.get(&format!("/api/cases/{id}")).status, 200);
    assert_eq!(transition(&auditor, id, "in-progress").status, 403);
    let no_purpose = host().as_caller(&token("worker-roles", &["case-worker"]));
    assert_problem(
        &no_purpose.get(&format!("/api/cases/{id}")),
        400,
        "purpose-of-use",
    );
    assert_eq!(host().get(&format!("/api/cases/{id}")).status, 401);
    assert_eq!(by.get("/api/cases/cas_nosuchcase").status, 404);
}

#[test]
fn cases_cannot_nest_in_a_circle() {
    let by = worker("worker-circle");
    let a = open(&by, &enquiry("A", None, None));
    let a_id = a["id"].as_str().unwrap();
    let mut b = enquiry("B", None, None);
    b["parent_id"] = json!(a_id);
    let b = open(&by, &b);
    let b_id = b["id"].as_str().unwrap();
    let patch = |id: &str, parent: &str| {
        worker("worker-circle")
            .header("if-match", "\"v1\"")
            .request(
                "PATCH",
                &format!("/api/cases/{id}"),
                Some(&json!({"parent_id": parent})),
            )
    };
    for (id, parent) in [(a_id, b_id), (a_id, a_id)] {
        let problem = assert_problem(&patch(id, parent), 400, "validation");
        assert_eq!(error_fields(&problem), ["parent_id"], "{problem}");
    }
    let c = open(&by, &enquiry("C", None, None));
    assert_eq!(patch(c["id"].as_str().unwrap(), b_id).status, 200);
}
