//! The store against real SQLite files with the app's migrations.

use std::collections::BTreeSet;
use std::time::Duration;

use cases_rules::{
    ActivityKind, CaseReference, CaseTypeKey, ClosurePolicy, Confidentiality, Direction, Priority,
    Status, StatusCategory, StatusKey, Transition, Workflow,
};
use cases_sla::{Clock, ClockState, Date, Target, Time, Timestamp, WorkingHours};
use crm_auth::policy::Role;
use crm_domain::{CalendarDate, Channel, ContactId, OfficerId};
use crm_sql::{Sql, Value, transaction};
use tempfile::TempDir;

use super::*;

const T0: i64 = 1_780_300_800_000; // 2026-06-01T08:00:00Z

/// A fresh database file with every migration applied (the directory goes
/// when the test ends).
fn db() -> (TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    crm_migrations::migrate(&db).unwrap();
    (dir, db)
}

/// Another connection to the same file, waiting for the write lock.
fn open(dir: &TempDir) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(dir.path().join("crm.db")).unwrap();
    db.busy_timeout(Duration::from_secs(30)).unwrap();
    db
}

fn status(key: &str) -> StatusKey {
    StatusKey::parse(key).unwrap()
}

fn type_key(key: &str) -> CaseTypeKey {
    CaseTypeKey::parse(key).unwrap()
}

fn officer(id: &str) -> OfficerId {
    OfficerId::parse(id).unwrap()
}

fn contact(id: &str) -> ContactId {
    ContactId::parse(id).unwrap()
}

fn count(db: &impl Sql, sql: &str) -> i64 {
    match db.run(sql, &[]).unwrap()[0][0] {
        Value::Integer(n) => n,
        ref other => panic!("{other:?}"),
    }
}

/// An open, unassigned case `id` of the rates queue, numbered `number`.
fn case(id: &str, number: u32) -> CaseRecord {
    CaseRecord {
        id: id.into(),
        reference: CaseReference::new(2026, number).unwrap(),
        case_type: type_key("general-enquiry"),
        subject: "Rates notice".into(),
        details: "Asked why the notice doubled.".into(),
        priority: Priority::Normal,
        channel: Some(Channel::Phone),
        contact: Some(contact("con_a")),
        queue: Some("rates".into()),
        assignee: None,
        parent: None,
        confidentiality: Confidentiality::Standard,
        status: status("new"),
        status_category: StatusCategory::Open,
        version: 1,
        opened_at: T0,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        resolution_code: None,
        resolution_summary: None,
        due_at: None,
        created_by: "staff:intake@agency.gov.au".into(),
        updated_at: T0,
    }
}

fn rates_queue(db: &impl Sql) {
    put_queue(
        db,
        &Queue {
            id: "rates".into(),
            name: "Rates enquiries".into(),
            ordering: vec![QueueOrder::Due, QueueOrder::Priority],
        },
        T0,
    )
    .unwrap();
}

#[test]
fn the_seeded_workflow_is_the_rules_default() {
    let (_dir, db) = db();
    assert_eq!(workflow(&db, 10).unwrap(), Workflow::defaults(10));
    assert_ne!(workflow(&db, 10).unwrap(), Workflow::defaults(11));
}

#[test]
fn statuses_and_transitions_are_configured_in_place() {
    let (_dir, db) = db();
    rates_queue(&db);
    insert_case(
        &db,
        &CaseRecord {
            status: status("awaiting-third-party"),
            ..case("cas_1", 1)
        },
    )
    .unwrap();
    let on_hold = Status {
        key: status("on-hold"),
        label: "On hold".into(),
        category: StatusCategory::Open,
        pauses_sla: true,
    };
    put_status(&db, &on_hold).unwrap();
    let flow = workflow(&db, 10).unwrap();
    assert_eq!(flow.statuses().last(), Some(&on_hold), "added at the end");
    // A status moved to the other category takes its cases with it.
    put_status(
        &db,
        &Status {
            key: status("awaiting-third-party"),
            label: "Referred elsewhere".into(),
            category: StatusCategory::Closed,
            pauses_sla: false,
        },
    )
    .unwrap();
    let flow = workflow(&db, 10).unwrap();
    let moved = flow.status(&status("awaiting-third-party")).unwrap();
    assert_eq!(
        (moved.label.as_str(), moved.category, moved.pauses_sla),
        ("Referred elsewhere", StatusCategory::Closed, false)
    );
    assert_eq!(flow.statuses().len(), 11, "changed in place, not added");
    assert_eq!(
        case_by_id(&db, "cas_1").unwrap().unwrap().status_category,
        StatusCategory::Closed
    );

    let hold = Transition {
        role: Role::CaseWorker,
        case_type: Some(type_key("correction-request")),
        from: status("in-progress"),
        to: status("on-hold"),
    };
    assert!(add_transition(&db, &hold).unwrap());
    assert!(!add_transition(&db, &hold).unwrap(), "once");
    let any_type = Transition {
        case_type: None,
        ..hold.clone()
    };
    assert!(add_transition(&db, &any_type).unwrap(), "another rule");
    let flow = workflow(&db, 10).unwrap();
    let targets = |case_type: &str| -> Vec<String> {
        flow.allowed_targets(
            &[Role::CaseWorker],
            &type_key(case_type),
            &status("in-progress"),
        )
        .iter()
        .map(|k| k.as_str().to_string())
        .collect()
    };
    assert_eq!(targets("correction-request").last().unwrap(), "on-hold");
    assert!(remove_transition(&db, &any_type).unwrap());
    assert!(!remove_transition(&db, &any_type).unwrap());
    let flow = workflow(&db, 10).unwrap();
    let general: Vec<&str> = flow
        .allowed_targets(
            &[Role::CaseWorker],
            &type_key("general-enquiry"),
            &status("in-progress"),
        )
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert!(!general.contains(&"on-hold"));
    assert!(remove_transition(&db, &hold).unwrap());
    // The rest of the table is untouched.
    db.run("DELETE FROM case_statuses WHERE key = 'on-hold'", &[])
        .unwrap();
    let mut expected = Workflow::defaults(10).statuses().to_vec();
    expected[4] = moved.clone();
    assert_eq!(workflow(&db, 10).unwrap().statuses(), &expected[..]);
}

#[test]
fn a_transition_naming_an_unknown_status_reads_as_corrupt() {
    let (_dir, db) = db();
    // A database whose foreign keys are not enforced (SQLite's default).
    db.run("PRAGMA foreign_keys = OFF", &[]).unwrap();
    db.run(
        "INSERT INTO case_transitions (role, from_status, to_status) VALUES ('case-worker', 'new', 'limbo')",
        &[],
    )
    .unwrap();
    assert!(matches!(
        workflow(&db, 10),
        Err(StoreError::Corrupt {
            table: "case_transitions",
            ..
        })
    ));
}

#[test]
fn case_types_round_trip_and_the_seeds_are_there() {
    let (_dir, db) = db();
    let general = case_type(&db, &type_key("general-enquiry"))
        .unwrap()
        .unwrap();
    assert_eq!(general.activity_kinds, ActivityKind::ALL.to_vec());
    assert_eq!(
        general.statuses,
        Workflow::defaults(10)
            .statuses()
            .iter()
            .map(|s| s.key.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(general.closure_policy, ClosurePolicy::BlockWhileChildOpen);
    assert_eq!(
        (general.calendar_id.as_str(), general.reopen_within_days),
        ("default", 10)
    );
    let correction = case_type(&db, &type_key("correction-request"))
        .unwrap()
        .unwrap();
    assert_eq!(correction.closure_policy, ClosurePolicy::CloseChildren);
    assert_eq!(correction.timeline[1].offset_days, 30);
    assert_eq!(correction.timeline[1].from, TimelineAnchor::Opened);
    // Citizens open both seeded kinds; their corrections reach a queue.
    assert!(general.citizen_openable && correction.citizen_openable);
    assert_eq!(general.citizen_queue_id, None);
    assert_eq!(
        correction.citizen_queue_id.as_deref(),
        Some("records-corrections")
    );

    let repair = CaseType {
        key: type_key("housing-repair"),
        title: "Housing repair".into(),
        activity_kinds: vec![ActivityKind::Call, ActivityKind::Task],
        timeline: vec![
            TimelineStep {
                kind: ActivityKind::Call,
                subject: "Book the inspection".into(),
                offset_days: 1,
                from: TimelineAnchor::Opened,
            },
            TimelineStep {
                kind: ActivityKind::Task,
                subject: "Follow up the repair".into(),
                offset_days: 14,
                from: TimelineAnchor::Activity(ActivityKind::Call),
            },
        ],
        participant_roles: vec!["tenant".into(), "contractor".into()],
        statuses: vec![status("new"), status("closed")],
        closure_policy: ClosurePolicy::CloseChildren,
        calendar_id: "default".into(),
        reopen_within_days: 5,
        citizen_openable: true,
        citizen_queue_id: Some("records-corrections".into()),
    };
    put_case_type(&db, &repair, T0).unwrap();
    assert_eq!(case_type(&db, &repair.key).unwrap().as_ref(), Some(&repair));
    let renamed = CaseType {
        title: "Repairs".into(),
        citizen_openable: false,
        citizen_queue_id: None,
        ..repair.clone()
    };
    put_case_type(&db, &renamed, T0 + 1000).unwrap();
    assert_eq!(case_type(&db, &repair.key).unwrap(), Some(renamed));
    assert_eq!(
        count(
            &db,
            "SELECT created_at FROM case_types WHERE key = 'housing-repair'"
        ),
        T0,
        "created once"
    );
    let keys: Vec<String> = case_types(&db)
        .unwrap()
        .iter()
        .map(|t| t.key.as_str().to_string())
        .collect();
    assert_eq!(
        keys,
        ["correction-request", "general-enquiry", "housing-repair"]
    );
    assert_eq!(case_type(&db, &type_key("nothing")).unwrap(), None);

    db.run(
        "UPDATE case_types SET activity_kinds = '[\"call\", \"smoke-signal\"]' WHERE key = 'housing-repair'",
        &[],
    )
    .unwrap();
    assert!(matches!(
        case_type(&db, &repair.key),
        Err(StoreError::Corrupt {
            column: "activity_kinds",
            ..
        })
    ));
}

#[test]
fn sla_policies_are_seeded_for_every_type_and_priority_and_replaced() {
    let (_dir, db) = db();
    for key in ["general-enquiry", "correction-request"] {
        for priority in Priority::ALL {
            assert!(
                sla_policy(&db, &type_key(key), *priority)
                    .unwrap()
                    .is_some()
            );
        }
    }
    let urgent = sla_policy(&db, &type_key("general-enquiry"), Priority::Urgent)
        .unwrap()
        .unwrap();
    assert_eq!(
        urgent.target(ClockTarget::FirstResponse),
        Some(Target {
            minutes: 60,
            warn_before_minutes: 60
        })
    );
    assert_eq!(urgent.target(ClockTarget::Resolution).unwrap().minutes, 480);
    assert_eq!(urgent.target(ClockTarget::NextUpdate), None);
    let changed = SlaPolicy {
        next_update_minutes: Some(2400),
        warn_before_minutes: 30,
        ..urgent
    };
    put_sla_policy(&db, &changed).unwrap();
    assert_eq!(
        sla_policy(&db, &type_key("general-enquiry"), Priority::Urgent).unwrap(),
        Some(changed)
    );
    assert_eq!(
        sla_policy(&db, &type_key("housing-repair"), Priority::Low).unwrap(),
        None
    );
}

#[test]
fn calendars_round_trip_and_close_on_national_and_extra_days() {
    let (_dir, db) = db();
    let stored = calendar(&db, "default").unwrap().unwrap();
    let office = WorkingHours {
        start: Time::constant(8, 30, 0, 0),
        end: Time::constant(17, 0, 0, 0),
    };
    assert_eq!(stored.zone, "Australia/Sydney");
    assert!(stored.includes_national);
    assert!(stored.week[..5].iter().all(|day| day == &vec![office]));
    assert!(stored.week[5..].iter().all(Vec::is_empty));
    let working = stored.calendar().unwrap();
    let at = |text: &str| text.parse::<Timestamp>().unwrap();
    assert!(working.is_working(at("2026-06-08T00:00:00Z")), "a Monday");
    assert!(
        !working.is_working(at("2026-04-03T00:00:00Z")),
        "Good Friday"
    );

    let nsw = StoredCalendar {
        id: "nsw".into(),
        extra_holidays: vec![Date::constant(2026, 6, 8)],
        ..stored.clone()
    };
    put_calendar(&db, &nsw).unwrap();
    assert_eq!(calendar(&db, "nsw").unwrap().as_ref(), Some(&nsw));
    assert!(
        !nsw.calendar()
            .unwrap()
            .is_working(at("2026-06-08T00:00:00Z")),
        "the King's Birthday in NSW"
    );
    let agency_only = StoredCalendar {
        includes_national: false,
        ..nsw.clone()
    };
    put_calendar(&db, &agency_only).unwrap();
    assert!(
        calendar(&db, "nsw")
            .unwrap()
            .unwrap()
            .calendar()
            .unwrap()
            .is_working(at("2026-04-03T00:00:00Z")),
        "national days no longer apply"
    );
    let ids: Vec<String> = calendars(&db).unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["default", "nsw"]);
    assert_eq!(calendar(&db, "mars").unwrap(), None);
}

#[test]
fn references_are_gapless_per_year_when_a_case_insert_rolls_back() {
    let (_dir, db) = db();
    let take = |year| {
        transaction(&db, || next_reference(&db, year))
            .unwrap()
            .to_string()
    };
    assert_eq!(take(2026), "CAS-2026-000001");
    assert_eq!(take(2026), "CAS-2026-000002");
    // A case whose insert fails gives its number back.
    let failed: Result<(), StoreError> = transaction(&db, || {
        let reference = next_reference(&db, 2026)?;
        assert_eq!(reference.number(), 3);
        insert_case(
            &db,
            &CaseRecord {
                reference,
                ..case("cas_dup", 3)
            },
        )?;
        // The same id again: the insert fails and everything rolls back.
        insert_case(&db, &case("cas_dup", 4))
    });
    assert!(failed.is_err());
    assert_eq!(count(&db, "SELECT COUNT(*) FROM cases"), 0);
    assert_eq!(take(2026), "CAS-2026-000003");
    assert_eq!(take(2027), "CAS-2027-000001", "each year from 1");
    assert!(matches!(
        next_reference(&db, 1999),
        Err(StoreError::Unrepresentable(_))
    ));
}

#[test]
fn a_case_round_trips_and_a_stale_version_changes_nothing() {
    let (_dir, db) = db();
    rates_queue(&db);
    insert_case(&db, &case("cas_parent", 7)).unwrap();
    let opened = CaseRecord {
        parent: Some("cas_parent".into()),
        confidentiality: Confidentiality::Restricted,
        priority: Priority::Urgent,
        ..case("cas_1", 1)
    };
    insert_case(&db, &opened).unwrap();
    assert_eq!(case_by_id(&db, "cas_1").unwrap().as_ref(), Some(&opened));
    assert_eq!(
        case_by_reference(&db, &opened.reference).unwrap().as_ref(),
        Some(&opened)
    );
    assert_eq!(case_by_id(&db, "cas_none").unwrap(), None);

    let worked = CaseRecord {
        assignee: Some(officer("staff:worker@agency.gov.au")),
        status: status("resolved"),
        status_category: StatusCategory::Closed,
        first_response_at: Some(T0 + 60_000),
        resolved_at: Some(T0 + 120_000),
        resolution_code: Some("answered".into()),
        resolution_summary: Some("Explained the valuation.".into()),
        channel: None,
        contact: None,
        due_at: Some(T0 + 1),
        updated_at: T0 + 120_000,
        ..opened.clone()
    };
    assert!(update_case(&db, &worked, 1).unwrap());
    let stored = case_by_id(&db, "cas_1").unwrap().unwrap();
    assert_eq!(
        stored,
        CaseRecord {
            version: 2,
            ..worked.clone()
        }
    );
    // Someone else changed it first: the caller answers 412.
    let stale = CaseRecord {
        subject: "Lost update".into(),
        ..opened.clone()
    };
    assert!(!update_case(&db, &stale, 1).unwrap());
    assert_eq!(case_by_id(&db, "cas_1").unwrap().unwrap(), stored);
    assert!(!update_case(&db, &case("cas_none", 9), 1).unwrap());

    let refused = db.run("DELETE FROM cases WHERE id = 'cas_1'", &[]);
    assert!(refused.unwrap_err().0.contains("never delete"));
    // A value the table takes but the parser refuses.
    db.run(
        "UPDATE cases SET channel = 'carrier-pigeon' WHERE id = 'cas_1'",
        &[],
    )
    .unwrap();
    assert!(matches!(
        case_by_id(&db, "cas_1"),
        Err(StoreError::Corrupt {
            column: "channel",
            ..
        })
    ));
}

/// 24 cases of the rates queue with ties in every order, some closed, some
/// without a due time, two in another queue.
fn many_cases(db: &impl Sql) -> Vec<CaseRecord> {
    rates_queue(db);
    let priorities = [
        Priority::Low,
        Priority::Urgent,
        Priority::Normal,
        Priority::High,
    ];
    let cases: Vec<CaseRecord> = (1..=26u32)
        .map(|n| {
            let mut c = case(&format!("cas_{:02}", (n * 7) % 26), n);
            c.priority = priorities[(n % 4) as usize];
            c.opened_at = T0 + i64::from(n % 5) * 1000;
            c.due_at = (n % 6 != 0).then(|| T0 + i64::from(n % 3) * 60_000);
            if n % 9 == 0 {
                c.status = status("closed");
                c.status_category = StatusCategory::Closed;
            }
            if n > 24 {
                c.queue = None;
            }
            c
        })
        .collect();
    for c in &cases {
        insert_case(db, c).unwrap();
    }
    cases
}

fn rank(priority: Priority) -> i64 {
    match priority {
        Priority::Urgent => 0,
        Priority::High => 1,
        Priority::Normal => 2,
        Priority::Low => 3,
    }
}

fn sorted(mut cases: Vec<CaseRecord>, order: QueueOrder) -> Vec<String> {
    cases.sort_by_key(|c| match order {
        QueueOrder::Due => (c.due_at.unwrap_or(i64::MAX), 0, c.id.clone()),
        QueueOrder::Priority => (rank(c.priority), c.opened_at, c.id.clone()),
        QueueOrder::Fifo => (c.opened_at, 0, c.id.clone()),
    });
    cases.into_iter().map(|c| c.id).collect()
}

fn ids(cases: &[CaseRecord]) -> Vec<String> {
    cases.iter().map(|c| c.id.clone()).collect()
}

#[test]
fn keyset_pages_stitched_together_are_the_whole_ordered_list() {
    let (_dir, db) = db();
    let all = many_cases(&db);
    let open_in_rates: Vec<CaseRecord> = all
        .iter()
        .filter(|c| c.queue.is_some() && c.status_category == StatusCategory::Open)
        .cloned()
        .collect();
    for order in QueueOrder::ALL.iter().copied() {
        let page = |after: Option<CaseCursor>, limit| {
            queue_page(
                &db,
                &QueuePage {
                    queue: Some("rates"),
                    assignee: None,
                    statuses: &[],
                    category: Some(StatusCategory::Open),
                    priorities: &[],
                    sla_states: &[],
                    order,
                    after,
                    limit,
                },
            )
            .unwrap()
        };
        let whole = page(None, 1000);
        assert_eq!(ids(&whole), sorted(open_in_rates.clone(), order), "{order}");
        for size in [1, 4, 7] {
            let mut stitched = Vec::new();
            let mut after = None;
            loop {
                let next = page(after, size);
                let Some(last) = next.last() else { break };
                // Through the opaque form, as a client sends it back.
                let cursor = CaseCursor::after(order, last).encode();
                after = Some(CaseCursor::decode(&cursor, order).unwrap());
                stitched.extend(next);
            }
            assert_eq!(ids(&stitched), ids(&whole), "{order} in pages of {size}");
        }
    }
}

#[test]
fn a_cursor_resumes_only_the_order_it_was_made_in() {
    let c = case("cas_1.with.dots", 1);
    let due = CaseCursor::after(QueueOrder::Due, &c).encode();
    assert_eq!(
        CaseCursor::decode(&due, QueueOrder::Due).unwrap(),
        CaseCursor::after(QueueOrder::Due, &c)
    );
    assert_eq!(CaseCursor::decode(&due, QueueOrder::Fifo), Err(CursorError));
    for bad in ["", "!!", "ZHVl", "ZHVlLjEy", "ZHVlLng.Y2Fz"] {
        assert_eq!(
            CaseCursor::decode(bad, QueueOrder::Due),
            Err(CursorError),
            "{bad}"
        );
    }
    let (_dir, db) = db();
    let fifo = CaseCursor::after(QueueOrder::Fifo, &c);
    let wrong = queue_page(
        &db,
        &QueuePage {
            queue: None,
            assignee: None,
            statuses: &[],
            category: None,
            priorities: &[],
            sla_states: &[],
            order: QueueOrder::Due,
            after: Some(fifo),
            limit: 10,
        },
    );
    assert!(matches!(wrong, Err(StoreError::Unrepresentable(_))));
}

#[test]
fn queue_pages_filter_by_assignee_status_and_category() {
    let (_dir, db) = db();
    let all = many_cases(&db);
    let worker = officer("staff:worker@agency.gov.au");
    let mut mine = all[3].clone();
    mine.assignee = Some(worker.clone());
    mine.status = status("in-progress");
    assert!(update_case(&db, &mine, 1).unwrap());
    let page = |assignee, statuses: &[StatusKey], category| {
        ids(&queue_page(
            &db,
            &QueuePage {
                queue: None,
                assignee,
                statuses,
                category,
                priorities: &[],
                sla_states: &[],
                order: QueueOrder::Fifo,
                after: None,
                limit: 100,
            },
        )
        .unwrap())
    };
    assert_eq!(page(Some(&worker), &[], None), vec![mine.id.clone()]);
    assert_eq!(
        page(None, &[status("in-progress")], None),
        vec![mine.id.clone()]
    );
    let closed = all
        .iter()
        .filter(|c| c.status_category == StatusCategory::Closed)
        .cloned()
        .collect();
    assert_eq!(
        page(None, &[], Some(StatusCategory::Closed)),
        sorted(closed, QueueOrder::Fifo)
    );
    assert_eq!(page(None, &[], None).len(), all.len());
}

/// A connection that keeps the statements run on it, with their parameters.
struct Recorded<'a> {
    db: &'a rusqlite::Connection,
    statements: std::cell::RefCell<Vec<(String, Vec<Value>)>>,
}

impl<'a> Recorded<'a> {
    fn new(db: &'a rusqlite::Connection) -> Self {
        Self {
            db,
            statements: Default::default(),
        }
    }

    fn count(&self) -> usize {
        self.statements.borrow().len()
    }
}

impl Sql for Recorded<'_> {
    fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<crm_sql::Row>, crm_sql::SqlError> {
        self.statements
            .borrow_mut()
            .push((sql.to_string(), params.to_vec()));
        self.db.run(sql, params)
    }
}

/// Take-next runs under the write lock, with every officer of the queue
/// waiting: it reads the queue's unassigned open cases from an index of
/// their own in the order of the queue's first rule, instead of walking
/// past every case already taken (each a row read) to find the first that
/// is not.
#[test]
fn take_next_reads_the_unassigned_cases_from_their_own_index() {
    let (_dir, db) = db();
    rates_queue(&db);
    let worker = officer("staff:worker@agency.gov.au");
    use QueueOrder::{Due, Fifo, Priority as ByPriority};
    for (rules, index) in [
        (&[Due, ByPriority, Fifo][..], "cases_unassigned_by_due"),
        (&[ByPriority, Due][..], "cases_unassigned_by_priority"),
        (&[Fifo][..], "cases_unassigned_by_fifo"),
    ] {
        for (workable, restricted_ok) in [(vec![], true), (vec![status("new")], false)] {
            let recorded = Recorded::new(&db);
            let taken = take_next(
                &recorded,
                "rates",
                &worker,
                &workable,
                rules,
                T0,
                restricted_ok,
            );
            assert_eq!(taken.unwrap(), None, "the queue is empty");
            let (sql, params) = recorded.statements.borrow()[0].clone();
            let choice: Vec<String> = db
                .run(&format!("EXPLAIN QUERY PLAN {sql}"), &params)
                .unwrap()
                .iter()
                .map(|row| format!("{:?}", row.last().unwrap()))
                .collect();
            assert!(
                choice.iter().any(|step| step.contains(index)),
                "{rules:?}: {choice:?}"
            );
        }
    }
}

#[test]
fn the_queue_page_and_the_sweep_read_their_indexes_without_sorting() {
    let (_dir, db) = db();
    let plan = |sql: &str| -> String {
        db.run(&format!("EXPLAIN QUERY PLAN {sql}"), &[])
            .unwrap()
            .iter()
            .map(|row| format!("{:?}", row.last().unwrap()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (order, index) in [
        (QueueOrder::Due, "cases_queue_by_due"),
        (QueueOrder::Priority, "cases_queue_by_priority"),
        (QueueOrder::Fifo, "cases_queue_by_fifo"),
    ] {
        let keys = order.order_by();
        let marks = vec!["1"; order.keys().len()].join(", ");
        let page = plan(&format!(
            "SELECT id FROM cases WHERE queue_id = 'q' AND status_category = 'open' \
             AND ({keys}) > ({marks}) ORDER BY {keys} LIMIT 50"
        ));
        assert!(page.contains(index), "{order}: {page}");
        assert!(!page.contains("TEMP B-TREE"), "{order}: {page}");
    }
    let one_status = plan(
        "SELECT id FROM cases WHERE queue_id = 'q' AND status IN ('new') \
         AND (IFNULL(due_at, 9223372036854775807), id) > (1, 1) \
         ORDER BY IFNULL(due_at, 9223372036854775807), id LIMIT 50",
    );
    assert!(one_status.contains("cases_queue_by_status"), "{one_status}");
    assert!(!one_status.contains("TEMP B-TREE"), "{one_status}");
    let last_fifty = plan(
        "SELECT id FROM case_activities WHERE case_id = 'c' AND seq < 99 ORDER BY seq DESC LIMIT 50",
    );
    assert!(last_fifty.contains("USING INDEX"), "{last_fifty}");
    assert!(!last_fifty.contains("TEMP B-TREE"), "{last_fifty}");
    let sweep = plan(
        "SELECT case_id FROM case_clocks WHERE state = 'in-progress' AND stopped IS NULL \
         AND paused_since IS NULL AND warn_at <= 1 UNION ALL SELECT case_id FROM case_clocks \
         WHERE state IN ('in-progress', 'warning') AND stopped IS NULL AND paused_since IS NULL \
         AND due_at <= 1 AND state = 'warning'",
    );
    assert!(sweep.contains("case_clocks_to_warn"), "{sweep}");
    assert!(sweep.contains("case_clocks_to_breach"), "{sweep}");
    let touchpoints = plan(
        "SELECT id FROM case_activities WHERE status = 'done' AND interaction_id IS NULL \
         AND direction IN ('inbound', 'outbound') AND kind NOT IN ('note', 'task', 'assignment') \
         ORDER BY created_at, id LIMIT 10",
    );
    assert!(
        touchpoints.contains("case_activities_unlogged"),
        "{touchpoints}"
    );
}

#[test]
fn a_merge_familys_cases_list_together_and_page() {
    let (_dir, db) = db();
    rates_queue(&db);
    let mut family = Vec::new();
    for (n, owner) in ["con_a", "con_b", "con_c", "con_b", "con_a"]
        .iter()
        .enumerate()
    {
        let c = CaseRecord {
            contact: Some(contact(owner)),
            opened_at: T0 + 1000 * (5 - n as i64),
            ..case(&format!("cas_{n}"), n as u32 + 1)
        };
        insert_case(&db, &c).unwrap();
        if *owner != "con_c" {
            family.push(c);
        }
    }
    let survivor_and_merged = [contact("con_a"), contact("con_b")];
    let listed = cases_of_contacts(&db, &survivor_and_merged, None, 100).unwrap();
    assert_eq!(ids(&listed), sorted(family, QueueOrder::Fifo));
    let first = cases_of_contacts(&db, &survivor_and_merged, None, 2).unwrap();
    let rest = cases_of_contacts(
        &db,
        &survivor_and_merged,
        Some(&CaseCursor::after(QueueOrder::Fifo, first.last().unwrap())),
        100,
    )
    .unwrap();
    assert_eq!([ids(&first), ids(&rest)].concat(), ids(&listed));
    assert!(cases_of_contacts(&db, &[], None, 10).unwrap().is_empty());
}

#[test]
fn children_and_participants() {
    let (_dir, db) = db();
    rates_queue(&db);
    insert_case(&db, &case("cas_parent", 1)).unwrap();
    let child = |id: &str, n, category| CaseRecord {
        parent: Some("cas_parent".into()),
        status_category: category,
        opened_at: T0 + i64::from(n),
        ..case(id, n)
    };
    insert_case(&db, &child("cas_c1", 2, StatusCategory::Open)).unwrap();
    insert_case(&db, &child("cas_c2", 3, StatusCategory::Closed)).unwrap();
    insert_case(&db, &child("cas_c3", 4, StatusCategory::Open)).unwrap();
    assert_eq!(
        ids(&open_children(&db, "cas_parent").unwrap()),
        ["cas_c1", "cas_c3"]
    );
    assert_eq!(
        ids(&children(&db, "cas_parent").unwrap()),
        ["cas_c1", "cas_c2", "cas_c3"]
    );
    assert!(children(&db, "cas_c1").unwrap().is_empty());

    let applicant = Participant {
        kind: PartyKind::Contact,
        party_id: "con_a".into(),
        role: "applicant".into(),
        from: Some(CalendarDate::parse("2026-06-01").unwrap()),
        to: None,
    };
    let officer = Participant {
        kind: PartyKind::Staff,
        party_id: "staff:worker@agency.gov.au".into(),
        role: "case-officer".into(),
        from: None,
        to: Some(CalendarDate::parse("2026-12-31").unwrap()),
    };
    add_participant(&db, "cas_parent", &applicant).unwrap();
    add_participant(&db, "cas_parent", &officer).unwrap();
    assert_eq!(
        participants(&db, "cas_parent").unwrap(),
        vec![applicant, officer]
    );
    assert!(participants(&db, "cas_c1").unwrap().is_empty());
}

fn activity_of(case_id: &str, id: &str, kind: ActivityKind, direction: Direction) -> NewActivity {
    NewActivity {
        id: id.into(),
        case_id: case_id.into(),
        kind,
        status: ActivityStatus::Done,
        subject: format!("{kind} {id}"),
        body: Some("Spoke about the notice.".into()),
        direction,
        citizen_visible: direction == Direction::Outbound,
        actor: "staff:worker@agency.gov.au".into(),
        actor_kind: ActorKind::Staff,
        due_at: None,
        completed_at: Some(T0),
        created_at: T0,
    }
}

#[test]
fn activities_are_numbered_per_case_and_read_newest_first() {
    let (_dir, db) = db();
    rates_queue(&db);
    insert_case(&db, &case("cas_1", 1)).unwrap();
    insert_case(&db, &case("cas_2", 2)).unwrap();
    let mut added = Vec::new();
    for n in 1..=6 {
        let direction = if n % 2 == 0 {
            Direction::Outbound
        } else {
            Direction::Internal
        };
        added.push(
            insert_activity(
                &db,
                &activity_of("cas_1", &format!("act_{n}"), ActivityKind::Note, direction),
            )
            .unwrap(),
        );
    }
    let other = insert_activity(
        &db,
        &activity_of("cas_2", "act_x", ActivityKind::Call, Direction::Inbound),
    )
    .unwrap();
    assert_eq!(
        added.iter().map(|a| a.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(other.seq, 1, "numbered per case");
    assert_eq!(added[0].interaction_id, None);

    let seqs = |before, limit, visible| -> Vec<i64> {
        activities(&db, "cas_1", before, limit, visible)
            .unwrap()
            .iter()
            .map(|a| a.seq)
            .collect()
    };
    assert_eq!(seqs(None, 50, false), [6, 5, 4, 3, 2, 1]);
    assert_eq!(seqs(None, 2, false), [6, 5]);
    assert_eq!(seqs(Some(5), 2, false), [4, 3]);
    assert_eq!(seqs(None, 50, true), [6, 4, 2]);
    assert_eq!(
        activities(&db, "cas_1", None, 1, false).unwrap()[0],
        added[5]
    );

    let mut cancelled = activity(&db, "cas_1", "act_3").unwrap().unwrap();
    assert_eq!(cancelled, added[2]);
    cancelled.status = ActivityStatus::Cancelled;
    cancelled.completed_at = None;
    cancelled.subject = "not written".into();
    assert!(update_activity(&db, &cancelled).unwrap());
    let stored = activity(&db, "cas_1", "act_3").unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.completed_at, stored.subject.as_str()),
        (ActivityStatus::Cancelled, None, added[2].subject.as_str()),
        "only the status and completion change"
    );
    assert_eq!(
        activity(&db, "cas_2", "act_3").unwrap(),
        None,
        "another case's"
    );
    assert!(
        db.run("DELETE FROM case_activities WHERE id = 'act_1'", &[])
            .unwrap_err()
            .0
            .contains("never delete")
    );
}

#[test]
fn touchpoints_are_logged_once() {
    let (_dir, db) = db();
    rates_queue(&db);
    insert_case(&db, &case("cas_1", 1)).unwrap();
    let add = |id: &str, kind, direction, status, created_at| {
        insert_activity(
            &db,
            &NewActivity {
                status,
                created_at,
                ..activity_of("cas_1", id, kind, direction)
            },
        )
        .unwrap()
    };
    use ActivityStatus::{Done, Scheduled};
    add(
        "act_call",
        ActivityKind::Call,
        Direction::Inbound,
        Done,
        T0 + 2,
    );
    add(
        "act_letter",
        ActivityKind::Letter,
        Direction::Outbound,
        Done,
        T0 + 1,
    );
    add(
        "act_note",
        ActivityKind::Note,
        Direction::Internal,
        Done,
        T0,
    );
    add(
        "act_task",
        ActivityKind::Task,
        Direction::Outbound,
        Done,
        T0,
    );
    add(
        "act_assign",
        ActivityKind::Assignment,
        Direction::Outbound,
        Done,
        T0,
    );
    add(
        "act_later",
        ActivityKind::Email,
        Direction::Outbound,
        Scheduled,
        T0,
    );
    add(
        "act_internal_call",
        ActivityKind::Call,
        Direction::Internal,
        Done,
        T0,
    );
    let unlogged = |limit| -> Vec<String> {
        unlogged_touchpoints(&db, limit)
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect()
    };
    assert_eq!(unlogged(10), ["act_letter", "act_call"], "oldest first");
    assert_eq!(unlogged(1), ["act_letter"]);
    assert!(mark_logged(&db, "act_letter", "int_1").unwrap());
    assert!(
        !mark_logged(&db, "act_letter", "int_2").unwrap(),
        "a retry logs once"
    );
    assert_eq!(
        activity(&db, "cas_1", "act_letter")
            .unwrap()
            .unwrap()
            .interaction_id
            .as_deref(),
        Some("int_1")
    );
    assert_eq!(unlogged(10), ["act_call"]);
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap()
}

const HOUR: Target = Target {
    minutes: 60,
    warn_before_minutes: 15,
};

/// A clock record with the given times and state, as the sweep finds it.
fn clock_row(
    case_id: &str,
    target: ClockTarget,
    clock: Clock,
    due: i64,
    warn: i64,
    state: ClockState,
) -> ClockRecord {
    ClockRecord {
        case_id: case_id.into(),
        target,
        clock,
        due_at: due,
        warn_at: warn,
        state,
    }
}

#[test]
fn clocks_round_trip_and_set_the_cases_due_time() {
    let (_dir, db) = db();
    rates_queue(&db);
    insert_case(&db, &case("cas_1", 1)).unwrap();
    let calendar = calendar(&db, "default")
        .unwrap()
        .unwrap()
        .calendar()
        .unwrap();
    // Monday 1 June 2026, 09:00 in Sydney.
    let start = "2026-05-31T23:00:00Z".parse::<Timestamp>().unwrap();
    let first = ClockRecord::new(
        "cas_1",
        ClockTarget::FirstResponse,
        Clock::start(start, HOUR),
        &calendar,
        start,
    )
    .unwrap();
    assert_eq!(
        first.due_at,
        "2026-06-01T00:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond()
    );
    assert_eq!(
        first.warn_at,
        "2026-05-31T23:45:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond()
    );
    assert_eq!(first.state, ClockState::InProgress);
    let mut resolution_clock = Clock::start(
        start,
        Target {
            minutes: 480,
            warn_before_minutes: 60,
        },
    );
    resolution_clock.pause(plus_minutes(start, 10)).unwrap();
    let resolution = ClockRecord::new(
        "cas_1",
        ClockTarget::Resolution,
        resolution_clock,
        &calendar,
        plus_minutes(start, 10),
    )
    .unwrap();
    save_clock(&db, &first).unwrap();
    save_clock(&db, &resolution).unwrap();
    assert_eq!(
        clocks(&db, "cas_1").unwrap(),
        vec![first.clone(), resolution.clone()]
    );
    set_case_due(&db, "cas_1").unwrap();
    assert_eq!(
        case_by_id(&db, "cas_1").unwrap().unwrap().due_at,
        Some(first.due_at),
        "the paused clock does not count"
    );

    // The first response is met: the clock stops, and nothing runs.
    let mut met = first.clock.clone();
    met.complete(plus_minutes(start, 30), &calendar).unwrap();
    let met = ClockRecord::new(
        "cas_1",
        ClockTarget::FirstResponse,
        met,
        &calendar,
        plus_minutes(start, 30),
    )
    .unwrap();
    assert_eq!(met.state, ClockState::Succeeded);
    save_clock(&db, &met).unwrap();
    assert_eq!(clocks(&db, "cas_1").unwrap(), vec![met, resolution]);
    set_case_due(&db, "cas_1").unwrap();
    assert_eq!(case_by_id(&db, "cas_1").unwrap().unwrap().due_at, None);

    db.run(
        "UPDATE case_clocks SET stopped_at = NULL WHERE target = 'first-response'",
        &[],
    )
    .unwrap_err();
    db.run(
        "UPDATE case_clocks SET last_change = started_at - 1 WHERE target = 'resolution'",
        &[],
    )
    .unwrap();
    assert!(matches!(
        clocks(&db, "cas_1"),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(
        db.run("DELETE FROM case_clocks", &[])
            .unwrap_err()
            .0
            .contains("never delete")
    );
}

fn plus_minutes(start: Timestamp, minutes: i64) -> Timestamp {
    at(start.as_millisecond() + minutes * 60_000)
}

#[test]
fn the_sweep_selects_exactly_the_running_clocks_that_moved_and_the_summary_and_queue_pages_see_them()
 {
    let (_dir, db) = db();
    rates_queue(&db);
    let now = T0 + 10_000;
    let calendar = calendar(&db, "default")
        .unwrap()
        .unwrap()
        .calendar()
        .unwrap();
    let running = Clock::start(at(T0), HOUR);
    let mut paused = running.clone();
    paused.pause(at(T0 + 1)).unwrap();
    let mut met = running.clone();
    met.complete(at(T0 + 2), &calendar).unwrap();
    use ClockState::*;
    let rows = [
        // (case, target, clock, due, warn, state, selected)
        (
            "cas_a",
            ClockTarget::FirstResponse,
            &running,
            now + 5,
            now,
            InProgress,
            true,
        ),
        (
            "cas_a",
            ClockTarget::Resolution,
            &running,
            now + 9,
            now + 1,
            InProgress,
            false,
        ),
        (
            "cas_b",
            ClockTarget::FirstResponse,
            &running,
            now,
            now - 9,
            Warning,
            true,
        ),
        (
            "cas_b",
            ClockTarget::Resolution,
            &running,
            now + 1,
            now - 9,
            Warning,
            false,
        ),
        (
            "cas_c",
            ClockTarget::FirstResponse,
            &running,
            now - 5,
            now - 9,
            Breached,
            false,
        ),
        (
            "cas_c",
            ClockTarget::Resolution,
            &paused,
            now - 5,
            now - 9,
            Paused,
            false,
        ),
        (
            "cas_c",
            ClockTarget::NextUpdate,
            &met,
            now - 5,
            now - 9,
            Succeeded,
            false,
        ),
        (
            "cas_d",
            ClockTarget::FirstResponse,
            &running,
            now - 1,
            now - 9,
            InProgress,
            true,
        ),
    ];
    for (n, case_id) in ["cas_a", "cas_b", "cas_c", "cas_d"].iter().enumerate() {
        let queue = (n != 3).then(|| "rates".to_string());
        insert_case(
            &db,
            &CaseRecord {
                queue,
                ..case(case_id, n as u32 + 1)
            },
        )
        .unwrap();
    }
    for (case_id, target, clock, due, warn, state, _) in &rows {
        save_clock(
            &db,
            &clock_row(case_id, *target, (*clock).clone(), *due, *warn, *state),
        )
        .unwrap();
    }
    let swept: Vec<(String, ClockTarget)> = clocks_to_sweep(&db, now, 100)
        .unwrap()
        .into_iter()
        .map(|due| (due.record.case_id, due.record.target))
        .collect();
    assert_eq!(
        swept,
        [
            ("cas_d".to_string(), ClockTarget::FirstResponse),
            ("cas_b".to_string(), ClockTarget::FirstResponse),
            ("cas_a".to_string(), ClockTarget::FirstResponse),
        ],
        "soonest due first, each once"
    );
    assert_eq!(clocks_to_sweep(&db, now, 1).unwrap().len(), 1);
    let selected = rows.iter().filter(|r| r.6).count();
    assert_eq!(selected, swept.len());

    let summary = |db: &rusqlite::Connection| -> BTreeSet<(Option<String>, &'static str, u64)> {
        sla_summary(db)
            .unwrap()
            .into_iter()
            .map(|(queue, state, n)| (queue, state.as_str(), n))
            .collect()
    };
    let rates = || Some("rates".to_string());
    assert_eq!(
        summary(&db),
        BTreeSet::from([
            (rates(), "in-progress", 2),
            (rates(), "warning", 2),
            (rates(), "breached", 1),
            (rates(), "paused", 1),
            (rates(), "succeeded", 1),
            (None, "in-progress", 1),
        ])
    );

    // Each case's SLA state is its most urgent clock's (a stopped one
    // counts for nothing), and a queue page finds cases by it.
    let states = sla_states(&db, &["cas_a", "cas_b", "cas_c", "cas_d", "cas_none"]).unwrap();
    let mut states: Vec<(&str, ClockState)> =
        states.iter().map(|(id, s)| (id.as_str(), *s)).collect();
    states.sort_by_key(|(id, _)| *id);
    assert_eq!(
        states,
        [
            ("cas_a", InProgress),
            ("cas_b", Warning),
            ("cas_c", Breached),
            ("cas_d", InProgress)
        ]
    );
    let late = |sla_states: &[ClockState], priorities: &[Priority]| {
        ids(&queue_page(
            &db,
            &QueuePage {
                queue: None,
                assignee: None,
                statuses: &[],
                category: None,
                priorities,
                sla_states,
                order: QueueOrder::Fifo,
                after: None,
                limit: 100,
            },
        )
        .unwrap())
    };
    assert_eq!(late(&[Breached, Warning], &[]), ["cas_b", "cas_c"]);
    assert_eq!(late(&[InProgress], &[]), ["cas_a", "cas_d"]);
    assert_eq!(late(&[Paused], &[]), Vec::<String>::new());
    assert_eq!(late(&[InProgress], &[Priority::Normal]).len(), 2);
    assert!(late(&[InProgress], &[Priority::Urgent]).is_empty());

    // The sweep moves them by their stored times (past due: breached;
    // past the warning: warning); none is selected again.
    let due = clocks_to_sweep(&db, now, 100).unwrap();
    let moves: Vec<SweptClock> = due
        .iter()
        .map(|due| SweptClock {
            case_id: &due.record.case_id,
            target: due.record.target,
            state: if due.record.due_at <= now {
                Breached
            } else {
                Warning
            },
        })
        .collect();
    let events: Vec<OutboxEvent> = moves
        .iter()
        .map(|moved| OutboxEvent {
            topic: format!("case.sla.{}", moved.state.as_str()),
            aggregate_id: moved.case_id,
            payload: serde_json::json!({"target": moved.target.as_str()}),
            occurred_at: now,
            request_id: Some("req_sweep"),
        })
        .collect();
    assert_eq!(
        moves
            .iter()
            .map(|m| (m.case_id, m.state))
            .collect::<Vec<_>>(),
        [("cas_d", Breached), ("cas_b", Breached), ("cas_a", Warning)]
    );
    assert_eq!(set_clock_states(&db, &moves).unwrap(), 3);
    insert_outbox_events(&db, &events).unwrap();
    let nobody = SweptClock {
        case_id: "cas_none",
        target: ClockTarget::Resolution,
        state: Breached,
    };
    assert_eq!(set_clock_states(&db, &[nobody]).unwrap(), 0);
    assert!(clocks_to_sweep(&db, now, 100).unwrap().is_empty());
    let stored: Vec<ClockState> = clocks(&db, "cas_b")
        .unwrap()
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(stored, [Breached, Warning], "first response, resolution");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM outbox_events WHERE topic LIKE 'case.sla.%' AND request_id = 'req_sweep'"
        ),
        3
    );
}

#[test]
fn a_queues_rules_order_take_next_first_rule_first() {
    let (_dir, db) = db();
    rates_queue(&db);
    let worker = officer("staff:worker@agency.gov.au");
    // (id, priority, opened, due): a and b are normal, c is low and due soonest.
    for (id, priority, opened, due) in [
        ("cas_a", Priority::Normal, 1, 30),
        ("cas_b", Priority::Normal, 2, 10),
        ("cas_c", Priority::Low, 3, 5),
    ] {
        let c = CaseRecord {
            priority,
            opened_at: T0 + opened,
            due_at: Some(T0 + due),
            ..case(id, opened as u32)
        };
        insert_case(&db, &c).unwrap();
    }
    let first = |rules: &[QueueOrder]| {
        db.run("SAVEPOINT probe", &[]).unwrap();
        let taken = take_next(&db, "rates", &worker, &[], rules, T0, true)
            .unwrap()
            .map(|c| c.id);
        db.run("ROLLBACK TO probe", &[]).unwrap();
        db.run("RELEASE probe", &[]).unwrap();
        taken
    };
    use QueueOrder::{Due, Fifo, Priority as ByPriority};
    assert_eq!(first(&[ByPriority, Due]).as_deref(), Some("cas_b"));
    assert_eq!(first(&[ByPriority, Fifo]).as_deref(), Some("cas_a"));
    assert_eq!(first(&[Due]).as_deref(), Some("cas_c"));
    assert_eq!(first(&[Fifo, ByPriority]).as_deref(), Some("cas_a"));
}

/// The sweep moves up to 50,000 clocks in one request: what each event
/// names (reference, queue, the calendar its type counts on) comes with
/// the clocks in one statement, and the moves and events are written a
/// batch at a time, not a statement (each a call into the host) per clock.
#[test]
fn a_sweep_of_thousands_of_clocks_reads_in_one_statement_and_writes_in_batches() {
    let (_dir, db) = db();
    rates_queue(&db);
    let calendar = calendar(&db, "default")
        .unwrap()
        .unwrap()
        .calendar()
        .unwrap();
    let now = T0 + 100 * 86_400_000;
    let clocks = 1_200;
    for n in 0..clocks {
        let id = format!("cas_{n:05}");
        let queue = (n % 2 == 0).then(|| "rates".to_string());
        insert_case(
            &db,
            &CaseRecord {
                queue,
                ..case(&id, n + 1)
            },
        )
        .unwrap();
        let clock = Clock::start(at(T0 + i64::from(n)), HOUR);
        let record =
            ClockRecord::new(&id, ClockTarget::Resolution, clock, &calendar, at(T0)).unwrap();
        save_clock(&db, &record).unwrap();
    }
    let counted = Recorded::new(&db);
    let due = clocks_to_sweep(&counted, now, 50_000).unwrap();
    assert_eq!(counted.count(), 1, "one statement reads them all");
    assert_eq!(due.len(), clocks as usize);
    let first = &due[0];
    assert_eq!(first.record.case_id, "cas_00000");
    assert_eq!(first.reference, CaseReference::new(2026, 1).unwrap());
    assert_eq!(first.queue.as_deref(), Some("rates"));
    assert_eq!(first.calendar_id, "default");
    assert_eq!(due[1].queue, None);

    let moves: Vec<SweptClock> = due
        .iter()
        .map(|due| SweptClock {
            case_id: &due.record.case_id,
            target: due.record.target,
            state: ClockState::Breached,
        })
        .collect();
    let events: Vec<OutboxEvent> = moves
        .iter()
        .map(|moved| OutboxEvent {
            topic: "case.sla-breached".into(),
            aggregate_id: moved.case_id,
            payload: serde_json::json!({"case_id": moved.case_id}),
            occurred_at: now,
            request_id: Some("req_sweep"),
        })
        .collect();
    counted.statements.borrow_mut().clear();
    assert_eq!(set_clock_states(&counted, &moves).unwrap(), clocks as usize);
    insert_outbox_events(&counted, &events).unwrap();
    assert!(
        counted.count() <= 10,
        "{} statements for {clocks} clocks",
        counted.count()
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM case_clocks WHERE state = 'breached'"
        ),
        i64::from(clocks)
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT aggregate_id) FROM outbox_events WHERE topic = 'case.sla-breached' \
             AND request_id = 'req_sweep' AND json_extract(payload, '$.case_id') = aggregate_id"
        ),
        i64::from(clocks)
    );
    assert!(clocks_to_sweep(&db, now, 50_000).unwrap().is_empty());
}

fn open_cases_in_rates(db: &impl Sql, n: u32) -> Vec<CaseRecord> {
    rates_queue(db);
    (1..=n)
        .map(|i| {
            let c = CaseRecord {
                opened_at: T0 + i64::from(i),
                due_at: Some(T0 + i64::from(n - i)),
                ..case(&format!("cas_{i:03}"), i)
            };
            insert_case(db, &c).unwrap();
            c
        })
        .collect()
}

#[test]
fn take_next_gives_the_first_workable_case_in_the_queues_order() {
    let (_dir, db) = db();
    let cases = open_cases_in_rates(&db, 5);
    let worker = officer("staff:worker@agency.gov.au");
    set_members(
        &db,
        "rates",
        &[QueueMember {
            officer: worker.clone(),
            capacity: 10,
            last_assigned_at: None,
        }],
    )
    .unwrap();
    // The soonest due is the last opened: cas_005.
    let mut restricted = cases[4].clone();
    restricted.confidentiality = Confidentiality::Restricted;
    assert!(update_case(&db, &restricted, 1).unwrap());
    let mut waiting = cases[3].clone();
    waiting.status = status("awaiting-citizen");
    assert!(update_case(&db, &waiting, 1).unwrap());
    let workable = [status("new"), status("assigned"), status("in-progress")];
    let take = |order, restricted_ok| {
        take_next(
            &db,
            "rates",
            &worker,
            &workable,
            &[order],
            T0 + 99,
            restricted_ok,
        )
        .unwrap()
        .map(|c| c.id)
    };
    assert_eq!(take(QueueOrder::Due, false).as_deref(), Some("cas_003"));
    assert_eq!(take(QueueOrder::Due, true).as_deref(), Some("cas_005"));
    assert_eq!(take(QueueOrder::Fifo, false).as_deref(), Some("cas_001"));
    let taken = case_by_id(&db, "cas_001").unwrap().unwrap();
    assert_eq!(
        (taken.assignee.as_ref(), taken.version, taken.updated_at),
        (Some(&worker), 2, T0 + 99)
    );
    assert_eq!(
        members(&db, "rates").unwrap()[0].last_assigned_at,
        Some(T0 + 99)
    );
    assert_eq!(
        take(QueueOrder::Priority, false).as_deref(),
        Some("cas_002")
    );
    assert_eq!(
        take(QueueOrder::Fifo, false),
        None,
        "cas_004 is not workable"
    );
    assert_eq!(
        take_next(&db, "rates", &worker, &[], &[QueueOrder::Fifo], T0, false)
            .unwrap()
            .map(|c| c.id)
            .as_deref(),
        Some("cas_004"),
        "no list: any open status"
    );
    assert_eq!(open_assigned_count(&db, &worker).unwrap(), 5);
}

#[test]
fn sixteen_officers_taking_at_once_never_get_the_same_case() {
    let (dir, db) = db();
    db.run("PRAGMA journal_mode = WAL", &[]).unwrap();
    let cases = open_cases_in_rates(&db, 40);
    let taken: Vec<(String, String)> = std::thread::scope(|scope| {
        let takers: Vec<_> = (0..16)
            .map(|n| {
                let dir = &dir;
                scope.spawn(move || {
                    let db = open(dir);
                    let me = officer(&format!("staff:officer-{n:02}@agency.gov.au"));
                    let mut mine = Vec::new();
                    while let Some(case) = transaction(&db, || {
                        take_next(&db, "rates", &me, &[], &[QueueOrder::Due], T0, true)
                    })
                    .unwrap()
                    {
                        assert_eq!(case.assignee.as_ref(), Some(&me));
                        mine.push((case.id, me.as_str().to_string()));
                    }
                    mine
                })
            })
            .collect();
        takers.into_iter().flat_map(|t| t.join().unwrap()).collect()
    });
    let distinct: BTreeSet<&String> = taken.iter().map(|(id, _)| id).collect();
    assert_eq!(taken.len(), cases.len(), "every case taken once");
    assert_eq!(distinct.len(), cases.len(), "no case taken twice");
    for (id, taker) in &taken {
        let stored = case_by_id(&db, id).unwrap().unwrap();
        assert_eq!(stored.assignee.unwrap().as_str(), taker);
        assert_eq!(stored.version, 2, "assigned once");
    }
}

#[test]
fn round_robin_goes_to_the_least_recently_assigned_with_capacity_left() {
    let (_dir, db) = db();
    rates_queue(&db);
    let (ann, bob, cat) = (
        officer("staff:ann@agency.gov.au"),
        officer("staff:bob@agency.gov.au"),
        officer("staff:cat@agency.gov.au"),
    );
    let member = |officer: &OfficerId, capacity| QueueMember {
        officer: officer.clone(),
        capacity,
        last_assigned_at: None,
    };
    set_members(
        &db,
        "rates",
        &[member(&bob, 2), member(&ann, 1), member(&cat, 0)],
    )
    .unwrap();
    assert!(is_member(&db, "rates", &ann).unwrap());
    assert!(!is_member(&db, "other", &ann).unwrap());
    let mut number = 0;
    let mut assign = |db: &rusqlite::Connection, now| {
        let next = next_assignee(db, "rates").unwrap()?;
        number += 1;
        insert_case(
            db,
            &CaseRecord {
                assignee: Some(next.clone()),
                ..case(&format!("cas_{number}"), number)
            },
        )
        .unwrap();
        record_assignment(db, "rates", &next, now).unwrap();
        Some(next)
    };
    // Never assigned first (ties by id), then the least recently assigned;
    // ann holds her one, cat has no capacity at all.
    assert_eq!(assign(&db, T0 + 1), Some(ann.clone()));
    assert_eq!(assign(&db, T0 + 2), Some(bob.clone()));
    assert_eq!(assign(&db, T0 + 3), Some(bob.clone()));
    assert_eq!(assign(&db, T0 + 4), None, "everyone is full");
    assert_eq!(open_assigned_count(&db, &bob).unwrap(), 2);
    // Ann closes hers: she has room again.
    let mut closed = case_by_id(&db, "cas_1").unwrap().unwrap();
    closed.status = status("closed");
    closed.status_category = StatusCategory::Closed;
    assert!(update_case(&db, &closed, 1).unwrap());
    assert_eq!(open_assigned_count(&db, &ann).unwrap(), 0);
    assert_eq!(next_assignee(&db, "rates").unwrap(), Some(ann.clone()));

    // New capacities keep everyone's place; a member who leaves is gone.
    set_members(&db, "rates", &[member(&ann, 5), member(&bob, 5)]).unwrap();
    let kept = members(&db, "rates").unwrap();
    assert_eq!(
        kept,
        vec![
            QueueMember {
                officer: ann.clone(),
                capacity: 5,
                last_assigned_at: Some(T0 + 1),
            },
            QueueMember {
                officer: bob.clone(),
                capacity: 5,
                last_assigned_at: Some(T0 + 3),
            },
        ]
    );
    assert!(!is_member(&db, "rates", &cat).unwrap());
    assert_eq!(next_assignee(&db, "rates").unwrap(), Some(ann));
    set_members(&db, "rates", &[]).unwrap();
    assert_eq!(next_assignee(&db, "rates").unwrap(), None);
}

#[test]
fn queues_round_trip() {
    let (_dir, db) = db();
    rates_queue(&db);
    let rates = queue(&db, "rates").unwrap().unwrap();
    assert_eq!(rates.ordering, [QueueOrder::Due, QueueOrder::Priority]);
    let renamed = Queue {
        name: "Rates".into(),
        ordering: vec![QueueOrder::Fifo],
        ..rates
    };
    put_queue(&db, &renamed, T0 + 5).unwrap();
    put_queue(
        &db,
        &Queue {
            id: "animals".into(),
            name: "Animal management".into(),
            ordering: vec![],
        },
        T0,
    )
    .unwrap();
    assert_eq!(queue(&db, "rates").unwrap().as_ref(), Some(&renamed));
    let ids: Vec<String> = queues(&db).unwrap().into_iter().map(|q| q.id).collect();
    // With the queue migration 0019 seeds for correction requests.
    assert_eq!(ids, ["animals", "rates", "records-corrections"]);
    assert_eq!(queue(&db, "none").unwrap(), None);
    db.run(
        "UPDATE case_queues SET ordering = '[\"random\"]' WHERE id = 'animals'",
        &[],
    )
    .unwrap();
    assert!(matches!(
        queues(&db),
        Err(StoreError::Corrupt {
            column: "ordering",
            ..
        })
    ));
}
