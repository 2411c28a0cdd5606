//! Queues: take-next under contention, round robin with capacity, manual
//! and bulk assignment, membership.

use std::collections::HashSet;

use crm_tests::app::{assert_problem, error_fields};
use serde_json::json;

use super::*;

#[test]
fn sixteen_officers_taking_at_once_never_get_the_same_case() {
    let officers: Vec<String> = (0..16).map(|i| format!("taker-{i}")).collect();
    let names: Vec<&str> = officers.iter().map(String::as_str).collect();
    queue("take-q", &names, 10);
    let by = worker("taker-0");
    let mut opened = HashSet::new();
    for i in 0..10 {
        let mut body = enquiry(&format!("Take {i}"), None, Some("take-q"));
        body["priority"] = json!(if i % 3 == 0 { "urgent" } else { "normal" });
        opened.insert(open(&by, &body)["id"].as_str().unwrap().to_string());
    }
    let replies: Vec<(String, u16, serde_json::Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = officers
            .iter()
            .map(|officer| {
                scope.spawn(move || {
                    let reply =
                        worker(officer).post_json("/api/queues/take-q/take-next", &json!({}));
                    let body = if reply.status == 200 {
                        reply.json()
                    } else {
                        serde_json::Value::Null
                    };
                    (officer.clone(), reply.status, body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let taken: Vec<_> = replies
        .iter()
        .filter(|(_, status, _)| *status == 200)
        .collect();
    let empty = replies
        .iter()
        .filter(|(_, status, _)| *status == 204)
        .count();
    assert_eq!(taken.len(), 10, "{replies:?}");
    assert_eq!(empty, 6, "{replies:?}");
    let ids: HashSet<_> = taken
        .iter()
        .map(|(_, _, c)| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, opened, "each case taken exactly once");
    for (officer, _, case) in &taken {
        assert_eq!(case["assignee"], format!("staff:{officer}"));
    }
    // Urgent cases went first: the first taker's case... any urgent case was
    // taken before any normal one in the queue's order, so every urgent case
    // is among the taken (all are here); the database agrees on assignees.
    let db = app().db();
    let unassigned: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM cases WHERE queue_id = 'take-q' AND assignee IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unassigned, 0);
    // Not a member: refused.
    let reply = worker("not-a-taker").post_json("/api/queues/take-q/take-next", &json!({}));
    assert_problem(&reply, 403, "forbidden");
}

#[test]
fn take_next_follows_the_queues_order() {
    queue("order-q", &["orderly"], 10);
    let by = worker("orderly");
    let low = open(&by, &{
        let mut b = enquiry("Low", None, Some("order-q"));
        b["priority"] = json!("low");
        b
    });
    let urgent = open(&by, &{
        let mut b = enquiry("Urgent", None, Some("order-q"));
        b["priority"] = json!("urgent");
        b
    });
    let first = by
        .post_json("/api/queues/order-q/take-next", &json!({}))
        .json();
    assert_eq!(first["id"], urgent["id"]);
    let second = by
        .post_json("/api/queues/order-q/take-next", &json!({}))
        .json();
    assert_eq!(second["id"], low["id"]);
    assert_eq!(
        by.post_json("/api/queues/order-q/take-next", &json!({}))
            .status,
        204
    );
}

#[test]
fn round_robin_gives_the_least_recently_assigned_member_with_capacity_left() {
    queue("robin-q", &["robin-a", "robin-b", "robin-c"], 1);
    let by = worker("robin-a");
    let mut assignees = Vec::new();
    for i in 0..3 {
        let mut body = enquiry(&format!("Robin {i}"), None, Some("robin-q"));
        body["assignee"] = json!("auto");
        assignees.push(open(&by, &body)["assignee"].as_str().unwrap().to_string());
    }
    assignees.sort();
    assert_eq!(
        assignees,
        ["staff:robin-a", "staff:robin-b", "staff:robin-c"]
    );
    // Everyone is at capacity: the next automatic assignment is refused.
    let case = open(&by, &enquiry("Robin 4", None, Some("robin-q")));
    let id = case["id"].as_str().unwrap();
    let reply = by.post_json(
        &format!("/api/cases/{id}/assignment"),
        &json!({"assignee": "auto"}),
    );
    assert_problem(&reply, 409, "no-capacity");
    // Manual assignment still works, and is on the case's timeline.
    let reply = by.post_json(
        &format!("/api/cases/{id}/assignment"),
        &json!({"assignee": "staff:robin-b"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["assignee"], "staff:robin-b");
    let activities = by.get(&format!("/api/cases/{id}/activities")).json();
    assert_eq!(
        activities["activities"][0]["kind"], "assignment",
        "{activities}"
    );
}

#[test]
fn bulk_assignment_is_all_or_nothing() {
    queue("bulk-q", &["bulk-a"], 50);
    let by = worker("bulk-a");
    let ids: Vec<String> = (0..3)
        .map(|i| {
            open(&by, &enquiry(&format!("Bulk {i}"), None, Some("bulk-q")))["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let closed = open(&by, &enquiry("Closed one", None, Some("bulk-q")));
    let closed_id = closed["id"].as_str().unwrap();
    assert_eq!(transition(&by, closed_id, "rejected").status, 200);
    let mut with_closed = ids.clone();
    with_closed.push(closed_id.to_string());
    let reply = by.post_json(
        "/api/cases/assignments",
        &json!({"case_ids": with_closed, "assignee": "staff:bulk-a"}),
    );
    assert_problem(&reply, 409, "case-closed");
    let db = app().db();
    let assigned: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM cases WHERE queue_id = 'bulk-q' AND assignee IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(assigned, 0, "nothing was assigned");
    let reply = by.post_json(
        "/api/cases/assignments",
        &json!({"case_ids": ids, "assignee": "staff:bulk-a"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["cases"].as_array().unwrap().len(), 3);
    let problem = assert_problem(
        &by.post_json(
            "/api/cases/assignments",
            &json!({"case_ids": [], "assignee": "staff:bulk-a"}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["case_ids"]);
}

#[test]
fn a_queue_page_is_keyset_paginated_in_due_order() {
    queue("page-q", &["pager"], 100);
    let by = worker("pager");
    for i in 0..7 {
        let mut body = enquiry(&format!("Page {i}"), None, Some("page-q"));
        body["priority"] = json!(["low", "normal", "high", "urgent"][i % 4]);
        open(&by, &body);
    }
    let mut seen = Vec::new();
    let mut path = "/api/cases?queue_id=page-q&category=open&order=due&limit=3".to_string();
    loop {
        let page = by.get(&path);
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        let cases = page["cases"].as_array().unwrap();
        assert!(cases.len() <= 3);
        seen.extend(cases.iter().map(|c| {
            (
                c["due_at"].as_str().unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
            )
        }));
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/api/cases?queue_id=page-q&category=open&order=due&limit=3&cursor={cursor}"
                )
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "due order, ties by id");
    let problem = assert_problem(
        &by.get("/api/cases?queue_id=page-q&cursor=forged"),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["cursor"]);
}

#[test]
fn a_queue_page_filters_by_priority_and_sla_state_and_shows_each_cases_sla_state() {
    queue("filter-q", &["filterer"], 100);
    let by = worker("filterer");
    let mut opened = Vec::new();
    for priority in ["low", "high", "urgent"] {
        let mut body = enquiry(&format!("Filter {priority}"), None, Some("filter-q"));
        body["priority"] = json!(priority);
        opened.push(open(&by, &body)["id"].as_str().unwrap().to_string());
    }
    // The urgent case is a year old: the sweep finds its clocks breached.
    let year_ms: i64 = 366 * 86_400_000;
    app()
        .db()
        .execute(
            "UPDATE case_clocks SET started_at = started_at - ?2, last_change = last_change - ?2,
                 due_at = due_at - ?2, warn_at = warn_at - ?2 WHERE case_id = ?1",
            rusqlite::params![opened[2], year_ms],
        )
        .unwrap();
    let swept = admin().post_json("/api/cases/sla/sweep", &json!({}));
    assert_eq!(swept.status, 200, "{}", swept.body);
    let page = |filter: &str| {
        let reply = by.get(&format!("/api/cases?queue_id=filter-q&order=fifo&{filter}"));
        assert_eq!(reply.status, 200, "{filter}: {}", reply.body);
        reply.json()["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["sla_state"].as_str().unwrap_or("none").to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let state = |i: usize, s: &str| (opened[i].clone(), s.to_string());
    assert_eq!(
        page("priority=high,urgent"),
        [state(1, "in-progress"), state(2, "breached")]
    );
    assert_eq!(page("sla_state=breached,warning"), [state(2, "breached")]);
    assert_eq!(
        page("sla_state=in-progress&priority=low"),
        [state(0, "in-progress")]
    );
    for (filter, field) in [
        ("priority=soon", "priority"),
        ("sla_state=succeeded", "sla_state"),
    ] {
        let problem = assert_problem(
            &by.get(&format!("/api/cases?queue_id=filter-q&{filter}")),
            400,
            "validation",
        );
        assert_eq!(error_fields(&problem), [field], "{filter}");
    }
}
