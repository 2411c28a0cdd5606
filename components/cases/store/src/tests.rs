//! The store against real SQLite files with the app's migrations.

use std::collections::BTreeSet;
use std::time::Duration;

use cases_rules::{
    CaseReference, CaseTypeKey, Confidentiality, Priority, StatusCategory, StatusKey,
};
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
    let sweep = plan(
        "SELECT case_id FROM case_clocks WHERE state = 'in-progress' AND stopped IS NULL \
         AND paused_since IS NULL AND warn_at <= 1 UNION SELECT case_id FROM case_clocks \
         WHERE state IN ('in-progress', 'warning') AND stopped IS NULL AND paused_since IS NULL \
         AND due_at <= 1",
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
            order,
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
        take_next(&db, "rates", &worker, &[], QueueOrder::Fifo, T0, false)
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
                        take_next(&db, "rates", &me, &[], QueueOrder::Due, T0, true)
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
    assert_eq!(ids, ["animals", "rates"]);
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
