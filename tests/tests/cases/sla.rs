//! The SLA sweep and summary, and priority changes that keep pauses.

use crm_tests::app::assert_problem;
use serde_json::json;

use super::*;

#[test]
fn the_sweep_moves_late_clocks_to_breached_once_with_an_outbox_event() {
    queue("sweep-q", &["sweeper"], 100);
    let by = worker("sweeper");
    let case = open(&by, &enquiry("Late", None, Some("sweep-q")));
    let id = case["id"].as_str().unwrap();
    // Make the case a year old: its clocks are long due.
    let year_ms: i64 = 366 * 86_400_000;
    app()
        .db()
        .execute(
            "UPDATE case_clocks SET started_at = started_at - ?2, last_change = last_change - ?2,
                 due_at = due_at - ?2, warn_at = warn_at - ?2 WHERE case_id = ?1",
            rusqlite::params![id, year_ms],
        )
        .unwrap();
    let sweep =
        |caller: &crm_tests::Caller<'_>| caller.post_json("/api/cases/sla/sweep", &json!({}));
    assert_eq!(sweep(&by).status, 403, "case workers do not run the sweep");
    let first = sweep(&admin());
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.json()["breached"].as_u64().unwrap() >= 2,
        "{}",
        first.body
    );
    let db = app().db();
    let events: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM outbox_events WHERE topic = 'case.sla-breached' AND aggregate_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 2);
    // Running it again changes nothing more.
    sweep(&admin());
    let again: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM outbox_events WHERE topic = 'case.sla-breached' AND aggregate_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(again, 2);
    let summary = by.get("/api/cases/sla/summary");
    assert_eq!(summary.status, 200, "{}", summary.body);
    let summary = summary.json();
    let breached = summary["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["queue_id"] == "sweep-q" && c["state"] == "breached")
        .cloned();
    assert_eq!(
        breached.map(|c| c["count"].clone()),
        Some(json!(2)),
        "{summary}"
    );
    assert_problem(
        &admin().post_json("/api/cases/sla/sweep?limit=0", &json!({})),
        400,
        "validation",
    );
}

#[test]
fn a_priority_change_retargets_the_clocks_and_keeps_their_pauses() {
    let by = worker("worker-priority");
    let case = open(&by, &enquiry("Priority", None, None));
    let id = case["id"].as_str().unwrap();
    let resolution = |case: &serde_json::Value| {
        case["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["target"] == "resolution")
            .unwrap()
            .clone()
    };
    let before = resolution(&by.get(&format!("/api/cases/{id}")).json());
    // Without If-Match the change is refused (428); with it, it applies.
    let reply = by.request(
        "PATCH",
        &format!("/api/cases/{id}"),
        Some(&json!({"priority": "urgent"})),
    );
    assert_problem(&reply, 428, "if-match-required");
    let reply = worker("worker-priority")
        .header("if-match", "\"v1\"")
        .request(
            "PATCH",
            &format!("/api/cases/{id}"),
            Some(&json!({"priority": "urgent"})),
        );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["priority"], "urgent");
    let after = resolution(&by.get(&format!("/api/cases/{id}")).json());
    assert!(
        after["target_minutes"].as_u64() < before["target_minutes"].as_u64(),
        "{before} {after}"
    );
    assert!(
        after["due_at"].as_str() < before["due_at"].as_str(),
        "{before} {after}"
    );
    assert_eq!(after["started_at"], before["started_at"]);
}

#[test]
fn a_reply_on_a_closed_or_waiting_case_starts_no_next_update_clock() {
    let put = |path: &str, body: serde_json::Value| admin().request("PUT", path, Some(&body));
    let reply = put(
        "/api/cases/types/kept-informed",
        json!({
            "title": "Kept informed",
            "activity_kinds": ["note", "email"],
            "statuses": ["new", "in-progress", "awaiting-citizen", "resolved", "closed"],
            "closure_policy": "block-while-child-open",
            "calendar_id": "default",
            "reopen_within_days": 10
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = put(
        "/api/cases/sla-policies/kept-informed/normal",
        json!({"first_response_minutes": 120, "resolution_minutes": 2400, "next_update_minutes": 600, "warn_before_minutes": 30}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let by = worker("worker-informed");
    let email = |id: &str| {
        let reply = by.post_json(
            &format!("/api/cases/{id}/activities"),
            &json!({"kind": "email", "subject": "An update", "direction": "outbound", "citizen_visible": true}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    };
    let next_update = |id: &str| {
        by.get(&format!("/api/cases/{id}")).json()["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["target"] == "next-update")
            .map(|c| c["state"].as_str().unwrap().to_string())
    };
    let case = open(
        &by,
        &json!({"case_type": "kept-informed", "subject": "Informed"}),
    );
    let id = case["id"].as_str().unwrap();
    assert_eq!(transition(&by, id, "in-progress").status, 200);
    email(id);
    assert_eq!(
        next_update(id).as_deref(),
        Some("in-progress"),
        "worked: the next update is due"
    );
    assert_eq!(transition(&by, id, "awaiting-citizen").status, 200);
    email(id);
    assert_eq!(
        next_update(id).as_deref(),
        Some("succeeded"),
        "waiting: met, not restarted"
    );
    assert_eq!(transition(&by, id, "in-progress").status, 200);
    assert_eq!(transition(&by, id, "resolved").status, 200);
    email(id);
    assert_ne!(
        next_update(id).as_deref(),
        Some("in-progress"),
        "resolved: no update is owed"
    );
}
