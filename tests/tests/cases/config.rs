//! What administrators configure, and who may read it.

use crm_tests::app::{assert_problem, error_fields};
use crm_tests::auth::token;
use serde_json::json;

use super::*;

#[test]
fn administrators_configure_calendars_types_policies_and_transitions() {
    let put = |path: &str, body: serde_json::Value| admin().request("PUT", path, Some(&body));
    // A calendar in Perth with a split shift and a state holiday.
    let nine_to_five =
        json!([{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]);
    let week = json!([
        nine_to_five,
        nine_to_five,
        nine_to_five,
        nine_to_five,
        nine_to_five,
        [],
        []
    ]);
    let reply = put(
        "/api/cases/calendars/western-australia",
        json!({"zone": "Australia/Perth", "week": week, "holidays": ["2026-06-01"]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let problem = assert_problem(
        &put(
            "/api/cases/calendars/nowhere",
            json!({"zone": "Mars/Olympus", "week": week}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["zone"]);
    let problem = assert_problem(
        &put(
            "/api/cases/calendars/backwards",
            json!({"zone": "Australia/Perth", "week": [[{"start": "17:00", "end": "09:00"}], [], [], [], [], [], []]}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["week"]);
    // A case type on it, with a timeline, and its service levels.
    let reply = put(
        "/api/cases/types/grant-application",
        json!({
            "title": "Grant application",
            "activity_kinds": ["note", "email", "letter", "task", "citizen-message"],
            "timeline": [
                {"kind": "letter", "subject": "Acknowledge", "offset_days": 0},
                {"kind": "task", "subject": "Assess", "offset_days": 14, "from": "letter"}
            ],
            "participant_roles": ["applicant"],
            "statuses": ["new", "in-progress", "awaiting-citizen", "resolved", "closed", "withdrawn"],
            "closure_policy": "block-while-child-open",
            "calendar_id": "western-australia",
            "reopen_within_days": 5
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = put(
        "/api/cases/sla-policies/grant-application/normal",
        json!({"first_response_minutes": 120, "resolution_minutes": 2400, "next_update_minutes": 600, "warn_before_minutes": 30}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let by = worker("worker-config");
    let case = open(
        &by,
        &json!({"case_type": "grant-application", "subject": "Community garden"}),
    );
    let id = case["id"].as_str().unwrap();
    let activities = by.get(&format!("/api/cases/{id}/activities")).json();
    let scheduled: Vec<_> = activities["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["subject"].as_str().unwrap(),
                a["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        scheduled,
        [("Assess", "scheduled"), ("Acknowledge", "scheduled")]
    );
    // The type's statuses bound its workflow: `assigned` is not one of them.
    let problem = assert_problem(
        &transition(&by, id, "assigned"),
        409,
        "transition-not-allowed",
    );
    assert_eq!(problem["allowed"], json!(["in-progress", "withdrawn"]));
    // A new transition for this type only.
    let reply = admin().post_json(
        "/api/cases/transitions",
        &json!({"role": "case-worker", "case_type": "grant-application", "from": "new", "to": "resolved"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(transition(&by, id, "resolved").status, 200);
    let reply = admin().request(
        "DELETE",
        "/api/cases/transitions?role=case-worker&case_type=grant-application&from=new&to=resolved",
        None,
    );
    assert_eq!(reply.status, 204, "{}", reply.body);
    let workflow = by.get("/api/cases/workflow").json();
    assert!(
        workflow["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["case_type"] != "grant-application"),
        "{workflow}"
    );
    // Only administrators configure; staff and citizens may read.
    assert_eq!(
        by.request(
            "PUT",
            "/api/cases/statuses/on-hold",
            Some(&json!({"label": "On hold", "category": "open"}))
        )
        .status,
        403
    );
    assert_eq!(
        host()
            .as_caller(&token("citizen-x", &["citizen"]))
            .get("/api/cases/types")
            .status,
        200
    );
    let types = by.get("/api/cases/types").json();
    assert!(
        types["case_types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["key"] == "grant-application")
    );
    let policies = by.get("/api/cases/sla-policies").json();
    assert!(
        policies["policies"].as_array().unwrap().len() >= 9,
        "{policies}"
    );
}

/// A service level no case could ever meet (its due time past any date
/// there is on the type's calendar) is refused when it is set, naming the
/// target, instead of breaking every case later opened at that priority.
#[test]
fn a_service_level_beyond_any_calendar_is_refused_when_set() {
    let put = |path: &str, body: serde_json::Value| admin().request("PUT", path, Some(&body));
    let reply = put(
        "/api/cases/types/distant-deadline",
        json!({
            "title": "Distant deadline",
            "activity_kinds": ["note"],
            "statuses": ["new", "in-progress", "resolved", "closed"],
            "closure_policy": "block-while-child-open",
            "calendar_id": "default",
            "reopen_within_days": 0
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let problem = assert_problem(
        &put(
            "/api/cases/sla-policies/distant-deadline/normal",
            json!({"first_response_minutes": 60, "resolution_minutes": u32::MAX, "next_update_minutes": u32::MAX, "warn_before_minutes": 0}),
        ),
        400,
        "validation",
    );
    assert_eq!(
        error_fields(&problem),
        ["resolution_minutes", "next_update_minutes"]
    );
    // Cases of the type still open, on no service level.
    let case = open(
        &worker("worker-distant"),
        &json!({"case_type": "distant-deadline", "subject": "Far off", "priority": "normal"}),
    );
    assert_eq!(case["due_at"], serde_json::Value::Null, "{case}");
}

/// A calendar whose holidays leave more than a year without working time
/// is refused when it is put, naming `holidays`, instead of failing every
/// case whose clocks later run into that year.
#[test]
fn a_calendar_whose_holidays_take_a_whole_year_is_refused() {
    // Every day of 2027 and January 2028 a holiday: 396 days without work.
    let month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut holidays: Vec<String> = (1..=12)
        .flat_map(|month| {
            (1..=month_days[month - 1]).map(move |day| format!("2027-{month:02}-{day:02}"))
        })
        .collect();
    holidays.extend((1..=31).map(|day| format!("2028-01-{day:02}")));
    let weekday = json!([{"start": "09:00", "end": "17:00"}]);
    let reply = admin().request(
        "PUT",
        "/api/cases/calendars/year-off",
        Some(&json!({
            "zone": "Australia/Sydney",
            "week": [weekday, weekday, weekday, weekday, weekday, [], []],
            "holidays": holidays,
            "includes_national": false
        })),
    );
    let problem = assert_problem(&reply, 400, "validation");
    assert_eq!(error_fields(&problem), ["holidays"]);
    assert_eq!(
        admin().get("/api/cases/calendars/year-off").status,
        404,
        "nothing was written"
    );
}

/// A calendar change that would leave a case type's service levels out of
/// reach is refused, whether the type moves to another calendar or its
/// calendar's working time shrinks; cases keep opening on the old one.
#[test]
fn a_calendar_change_that_strands_a_service_level_is_refused() {
    let put = |path: &str, body: serde_json::Value| admin().request("PUT", path, Some(&body));
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let weekdays = json!([day, day, day, day, day, [], []]);
    // One minute a week: 9,600 business minutes would take 184 years.
    let minute = json!([{"start": "09:00", "end": "09:01"}]);
    let sparse = json!([minute, [], [], [], [], [], []]);
    for (id, week) in [("shrinking", &weekdays), ("one-minute-a-week", &sparse)] {
        let reply = put(
            &format!("/api/cases/calendars/{id}"),
            json!({"zone": "Australia/Sydney", "week": week}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let kind = |calendar: &str| {
        json!({
            "title": "Stranded",
            "activity_kinds": ["note"],
            "statuses": ["new", "in-progress", "resolved", "closed"],
            "closure_policy": "block-while-child-open",
            "calendar_id": calendar,
            "reopen_within_days": 0
        })
    };
    assert_eq!(
        put("/api/cases/types/stranded", kind("shrinking")).status,
        200
    );
    let policy = put(
        "/api/cases/sla-policies/stranded/normal",
        json!({"first_response_minutes": 60, "resolution_minutes": 9600, "warn_before_minutes": 30}),
    );
    assert_eq!(policy.status, 200, "{}", policy.body);
    let problem = assert_problem(
        &put("/api/cases/types/stranded", kind("one-minute-a-week")),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["calendar_id"], "{problem}");
    let problem = assert_problem(
        &put(
            "/api/cases/calendars/shrinking",
            json!({"zone": "Australia/Sydney", "week": sparse}),
        ),
        400,
        "validation",
    );
    assert_eq!(error_fields(&problem), ["week"], "{problem}");
    let case = open(
        &worker("worker-stranded"),
        &json!({"case_type": "stranded", "subject": "Still served", "priority": "normal"}),
    );
    assert!(case["due_at"].is_string(), "{case}");
}
