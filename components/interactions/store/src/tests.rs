//! The store against a real SQLite database with the app's migrations.

use interactions_rules::values::{ContactId, EntryId, HoldId, OfficerId};
use interactions_rules::{
    Breakdown, CursorCodec, DisposalRefused, DisposalRequest, Granularity, NewAmendment,
    NewInteraction, NewLegalHold, RawAmendment, RawDisposal, RawDocumentRef, RawInteraction,
    RawLegalHold, RawTimelineQuery, RawTrendQuery, Retained, TimelineQuery, TrendQuery,
};

use super::*;
use crm_http::IdempotencyKey;
use crm_sql::{Row, Sql, SqlError, Value};

const T0: i64 = 1_795_416_000_000; // 2026-11-23T06:40:00Z

fn db() -> rusqlite::Connection {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    crm_migrations::migrate(&db).unwrap();
    db
}

fn id(text: &str) -> EntryId {
    EntryId::parse(text).unwrap()
}

fn clerk() -> OfficerId {
    OfficerId::parse("staff:clerk@agency.gov.au").unwrap()
}

fn raw(contact: &str, occurred_at: &str, subject: &str) -> RawInteraction {
    RawInteraction {
        contact_id: Some(contact.into()),
        channel: Some("phone".into()),
        direction: Some("inbound".into()),
        occurred_at: Some(occurred_at.into()),
        officer_id: Some("officer-7".into()),
        category: Some("enquiry".into()),
        tags: vec!["rent".into(), "arrears".into()],
        case_reference: Some("CASE-2026-1".into()),
        subject: Some(subject.into()),
        notes: Some("Called back.\nAll good.".into()),
        outcome: Some("resolved".into()),
        notification_id: None,
        documents: vec![RawDocumentRef {
            uri: Some("https://records.example.gov.au/d/1".into()),
            id: None,
            content_hash: Some(format!("sha256:{}", "ab".repeat(32))),
        }],
    }
}

fn append(db: &rusqlite::Connection, entry_id: &str, raw: RawInteraction) -> Entry {
    let new = NewInteraction::parse(&raw, T0).unwrap();
    append_interaction(db, id(entry_id), clerk(), new).unwrap()
}

fn amendment(reason: &str) -> RawAmendment {
    RawAmendment {
        reason: Some(reason.into()),
        ..RawAmendment::default()
    }
}

fn amend_with(
    db: &rusqlite::Connection,
    entry_id: &str,
    target: &str,
    raw: RawAmendment,
) -> Record {
    let new = NewAmendment::parse(&raw, T0 + 1000).unwrap();
    amend(db, &id(target), id(entry_id), clerk(), new)
        .unwrap()
        .1
}

fn disposal_request() -> DisposalRequest {
    DisposalRequest::parse(
        &RawDisposal {
            authority_class: Some("GRA 31 class 21284".into()),
            reason: Some("Retention period ended".into()),
        },
        OfficerId::parse("staff:admin-1").unwrap(),
        "administrator",
    )
    .unwrap()
}

fn present(record: &Record) -> &CorrectedView {
    match &record.state {
        RecordState::Present(view) => view,
        RecordState::Disposed(_) => panic!("{} is disposed of", record.entry.id),
    }
}

fn contact(text: &str) -> ContactId {
    ContactId::parse(text).unwrap()
}

use interactions_rules::{CorrectedView, Entry};

#[test]
fn appended_interactions_chain_per_contact_and_read_back_as_written() {
    let db = db();
    let first = append(
        &db,
        "int_1",
        raw("con_a", "2026-11-20T09:00:00+10:00", "First"),
    );
    let other = append(
        &db,
        "int_2",
        raw("con_b", "2026-11-20T09:00:00+10:00", "Other"),
    );
    let second = append(
        &db,
        "int_3",
        raw("con_a", "2026-11-21T09:00:00+10:00", "Second"),
    );
    assert_eq!((first.sequence, other.sequence, second.sequence), (1, 1, 2));
    assert_eq!(second.prev_hash, first.hash);

    let record = read::record(&db, &id("int_3")).unwrap().unwrap();
    assert_eq!(record.entry, second);
    let view = present(&record);
    assert_eq!(view.content.subject.as_str(), "Second");
    assert_eq!(view.content.documents.len(), 1);
    assert_eq!(view.content.tags.iter().count(), 2);
    assert!(record.amendments.is_empty());
    assert!(read::record(&db, &id("int_9")).unwrap().is_none());
    assert_eq!(
        contact_of(&db, &id("int_2")).unwrap(),
        Some(contact("con_b"))
    );

    let verdict = verify(&db, &contact("con_a")).unwrap().unwrap();
    assert!(verdict.is_valid(), "{verdict:?}");
    assert_eq!(verdict.entries, 2);
    assert!(verify(&db, &contact("con_z")).unwrap().is_none());
}

#[test]
fn amendments_of_amendments_correct_the_view_and_move_the_timeline_row() {
    let db = db();
    append(
        &db,
        "int_1",
        raw("con_a", "2026-11-20T09:00:00+10:00", "Phone call"),
    );
    append(
        &db,
        "int_2",
        raw("con_a", "2026-11-21T09:00:00+10:00", "Counter visit"),
    );
    amend_with(
        &db,
        "amd_1",
        "int_1",
        RawAmendment {
            subject: Some("Phone call about rent".into()),
            occurred_at: Some("2026-11-22T09:00:00+10:00".into()),
            notes: Some(None),
            ..amendment("Wrong day")
        },
    );
    let record = amend_with(
        &db,
        "amd_2",
        "amd_1",
        RawAmendment {
            subject: Some("Phone call about rent arrears".into()),
            ..amendment("Restated")
        },
    );
    let view = present(&record);
    // amd_2 replaces amd_1's patch in full: the day and the notes revert.
    assert_eq!(
        view.content.subject.as_str(),
        "Phone call about rent arrears"
    );
    assert_eq!(view.original.content.subject.as_str(), "Phone call");
    assert_eq!(view.amendments.len(), 2);
    assert_eq!(view.amendments[0].superseded_by, Some(id("amd_2")));
    assert_eq!(
        read::record(&db, &id("amd_2")).unwrap().unwrap().entry.id,
        id("int_1")
    );

    // amd_1 alone moved the interaction to the 22nd: newest first then.
    let db2 = self::db();
    append(
        &db2,
        "int_1",
        raw("con_a", "2026-11-20T09:00:00+10:00", "Phone call"),
    );
    append(
        &db2,
        "int_2",
        raw("con_a", "2026-11-21T09:00:00+10:00", "Counter visit"),
    );
    amend_with(
        &db2,
        "amd_1",
        "int_1",
        RawAmendment {
            occurred_at: Some("2026-11-22T09:00:00+10:00".into()),
            category: Some("complaint".into()),
            ..amendment("Wrong day")
        },
    );
    let page = first_page(&db2, RawTimelineQuery::default());
    let order: Vec<&str> = page.iter().map(|r| r.entry.id.as_str()).collect();
    assert_eq!(order, ["int_1", "int_2"]);
    let complaints = first_page(
        &db2,
        RawTimelineQuery {
            category: Some("complaint".into()),
            ..RawTimelineQuery::default()
        },
    );
    assert_eq!(complaints.len(), 1);
    assert!(verify(&db2, &contact("con_a")).unwrap().unwrap().is_valid());
}

fn codec() -> CursorCodec {
    CursorCodec::new(&[9; 32]).unwrap()
}

fn query(raw: RawTimelineQuery) -> TimelineQuery {
    TimelineQuery::parse(
        &RawTimelineQuery {
            contact_id: Some("con_a".into()),
            ..raw
        },
        &codec(),
    )
    .unwrap()
}

fn first_page(db: &rusqlite::Connection, raw: RawTimelineQuery) -> Vec<Record> {
    timeline(db, &query(raw), &[]).unwrap().items
}

#[test]
fn timeline_pages_are_stable_while_appends_continue() {
    let db = db();
    for day in 1..=9 {
        append(
            &db,
            &format!("int_{day}"),
            raw("con_a", &format!("2026-11-0{day}T09:00:00+10:00"), "Call"),
        );
    }
    let page_size = || RawTimelineQuery {
        page_size: Some("4".into()),
        ..RawTimelineQuery::default()
    };
    let page = timeline(&db, &query(page_size()), &[]).unwrap();
    let seen: Vec<String> = page.items.iter().map(|r| r.entry.id.to_string()).collect();
    assert_eq!(seen, ["int_9", "int_8", "int_7", "int_6"]);
    // Appends while paging: one newer than everything, one in the middle of
    // what is still to come, one older than everything.
    append(
        &db,
        "int_new",
        raw("con_a", "2026-11-10T09:00:00+10:00", "Newest"),
    );
    append(
        &db,
        "int_mid",
        raw("con_a", "2026-11-03T12:00:00+10:00", "Late entry"),
    );
    append(
        &db,
        "int_old",
        raw("con_a", "2026-10-01T09:00:00+10:00", "Oldest"),
    );
    let mut after = page.next_after;
    let mut rest = Vec::new();
    while let Some(position) = after {
        let cursor = codec().encode(position, &query(page_size()).filter);
        let page = timeline(
            &db,
            &query(RawTimelineQuery {
                cursor: Some(cursor),
                ..page_size()
            }),
            &[],
        )
        .unwrap();
        rest.extend(page.items.iter().map(|r| r.entry.id.to_string()));
        after = page.next_after;
    }
    assert_eq!(
        rest,
        [
            "int_5", "int_4", "int_mid", "int_3", "int_2", "int_1", "int_old"
        ],
        "nothing already shown repeats, nothing before the cursor is skipped"
    );
}

/// A survivor's timeline shows the contacts merged into it among its own
/// interactions, in occurrence order across contacts (ties at one instant
/// included), page after page without repeats or gaps, and filters apply
/// to them all.
#[test]
fn a_survivors_timeline_pages_through_the_contacts_merged_into_it() {
    let db = db();
    let at = |day: u32, hour: u32| format!("2026-11-{day:02}T{hour:02}:00:00+10:00");
    // Three interactions at one instant (the 3rd), on three contacts, two
    // of them with the same sequence on their own chains.
    for (entry, contact, when) in [
        ("int_a1", "con_a", at(1, 9)),
        ("int_b1", "con_b", at(2, 9)),
        ("int_c1", "con_c", at(3, 9)),
        ("int_a2", "con_a", at(3, 9)),
        ("int_b2", "con_b", at(3, 9)),
        ("int_c2", "con_c", at(4, 9)),
        ("int_b3", "con_b", at(5, 9)),
        ("int_a3", "con_a", at(6, 9)),
        ("int_z1", "con_z", at(7, 9)),
    ] {
        append(&db, entry, raw(contact, &when, "Call"));
    }
    let merged = [contact("con_b"), contact("con_c")];
    let page_of = |cursor: Option<String>| {
        timeline(
            &db,
            &query(RawTimelineQuery {
                page_size: Some("2".into()),
                cursor,
                ..RawTimelineQuery::default()
            }),
            &merged,
        )
        .unwrap()
    };
    let (mut shown, mut cursor) = (Vec::new(), None);
    loop {
        let page = page_of(cursor);
        assert!(page.items.len() <= 2);
        shown.extend(page.items.iter().map(|r| r.entry.id.to_string()));
        let Some(after) = page.next_after else { break };
        cursor = Some(codec().encode(after, &query(RawTimelineQuery::default()).filter));
    }
    assert_eq!(shown[..3], ["int_a3", "int_b3", "int_c2"]);
    assert_eq!(shown[6..], ["int_b1", "int_a1"]);
    // The instant three contacts share: each once, whatever the tie-break.
    let mut day3 = shown[3..6].to_vec();
    day3.sort();
    assert_eq!(day3, ["int_a2", "int_b2", "int_c1"]);
    assert!(!shown.contains(&"int_z1".to_string()), "not merged in");
    // Every record is the merged contact's own.
    let first = page_of(None);
    assert_eq!(first.items[1].entry.contact_id, contact("con_b"));
    // Filters apply to the merged contacts' interactions too.
    let sms_only = timeline(
        &db,
        &query(RawTimelineQuery {
            channel: Some("sms".into()),
            ..RawTimelineQuery::default()
        }),
        &merged,
    )
    .unwrap();
    assert!(sms_only.items.is_empty());
}

#[test]
fn filters_select_by_channel_direction_case_and_range() {
    let db = db();
    append(&db, "int_1", raw("con_a", "2026-11-01T09:00:00+10:00", "A"));
    append(
        &db,
        "int_2",
        RawInteraction {
            channel: Some("email".into()),
            direction: Some("outbound".into()),
            case_reference: None,
            ..raw("con_a", "2026-11-02T09:00:00+10:00", "B")
        },
    );
    append(&db, "int_3", raw("con_a", "2026-11-03T09:00:00+10:00", "C"));
    let ids = |raw: RawTimelineQuery| -> Vec<String> {
        first_page(&db, raw)
            .iter()
            .map(|r| r.entry.id.to_string())
            .collect()
    };
    assert_eq!(
        ids(RawTimelineQuery {
            channel: Some("email".into()),
            ..RawTimelineQuery::default()
        }),
        ["int_2"]
    );
    assert_eq!(
        ids(RawTimelineQuery {
            direction: Some("inbound".into()),
            ..RawTimelineQuery::default()
        }),
        ["int_3", "int_1"]
    );
    assert_eq!(
        ids(RawTimelineQuery {
            case_reference: Some("case-2026-1".into()),
            ..RawTimelineQuery::default()
        }),
        ["int_3", "int_1"]
    );
    assert_eq!(
        ids(RawTimelineQuery {
            from: Some("2026-11-02T09:00:00+10:00".into()),
            to: Some("2026-11-03T09:00:00+10:00".into()),
            ..RawTimelineQuery::default()
        }),
        ["int_2"]
    );
}

fn plan(db: &rusqlite::Connection, sql: &str, params: &[Value]) -> String {
    db.run(&format!("EXPLAIN QUERY PLAN {sql}"), params)
        .unwrap()
        .iter()
        .map(|row| match &row[3] {
            Value::Text(detail) => detail.clone(),
            other => panic!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn every_query_of_a_page_is_an_index_range() {
    let db = db();
    append(&db, "int_1", raw("con_a", "2026-11-01T09:00:00+10:00", "A"));
    let cursor = || {
        codec().encode(
            interactions_rules::TimelinePosition {
                occurred_at_ms: T0,
                contact_key: 1,
                sequence: 9,
            },
            &query(RawTimelineQuery::default()).filter,
        )
    };
    let filters =
        |channel: Option<&str>, category: Option<&str>, case: Option<&str>| RawTimelineQuery {
            channel: channel.map(Into::into),
            category: category.map(Into::into),
            case_reference: case.map(Into::into),
            from: Some("2026-01-01T00:00:00Z".into()),
            ..RawTimelineQuery::default()
        };
    for (raw, index) in [
        (RawTimelineQuery::default(), "PRIMARY KEY"),
        (
            RawTimelineQuery {
                cursor: Some(cursor()),
                ..RawTimelineQuery::default()
            },
            "PRIMARY KEY",
        ),
        (
            filters(Some("sms"), None, None),
            "interaction_timeline_by_channel",
        ),
        (
            RawTimelineQuery {
                direction: Some("outbound".into()),
                ..RawTimelineQuery::default()
            },
            "interaction_timeline_by_direction",
        ),
        (
            filters(Some("sms"), Some("complaint"), None),
            "interaction_timeline_by_category",
        ),
        (
            filters(Some("sms"), Some("x"), Some("CASE-2026-1")),
            "interaction_timeline_by_case",
        ),
    ] {
        let (sql, params) = read::page_sql(1, &query(raw));
        let plan = plan(&db, &sql, &params);
        assert!(plan.starts_with("SEARCH"), "{sql}: {plan}");
        assert!(plan.contains(index), "{sql}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
    }
    let family = format!(
        "SELECT sequence FROM interaction_entries {} WHERE contact_key = ? AND root_sequence IN (?, ?)",
        read::FAMILY_INDEX
    );
    let family = plan(&db, &family, &[1i64.into(), 1i64.into(), 2i64.into()]);
    assert!(
        family.contains("interaction_entries_by_root (contact_key=? AND root_sequence=?)"),
        "{family}"
    );
    let trend = plan(
        &db,
        "SELECT channel, COUNT(*) FROM interaction_timeline WHERE occurred_at >= ?1 AND occurred_at < ?2 GROUP BY channel",
        &[1i64.into(), 2i64.into()],
    );
    assert!(
        trend.contains("COVERING INDEX interaction_timeline_by_time"),
        "{trend}"
    );
}

fn hold(db: &rusqlite::Connection, hold_id: &str, raw: RawLegalHold) -> StoredHold {
    holds::place(
        db,
        HoldId::parse(hold_id).unwrap(),
        NewLegalHold::parse(&raw).unwrap(),
        &clerk(),
        T0,
    )
    .unwrap()
}

#[test]
fn disposal_is_refused_under_hold_then_tombstones_and_the_chain_still_verifies() {
    let db = db();
    append(
        &db,
        "int_1",
        raw("con_a", "2026-11-20T09:00:00+10:00", "Rent call"),
    );
    amend_with(
        &db,
        "amd_1",
        "int_1",
        RawAmendment {
            case_reference: Some(Some("CASE-2026-77".into())),
            ..amendment("Moved case")
        },
    );
    append(
        &db,
        "int_2",
        raw("con_a", "2026-11-21T09:00:00+10:00", "Kept"),
    );
    // A hold on the case it was moved to, and one on the contact.
    hold(
        &db,
        "hold_case",
        RawLegalHold {
            case_reference: Some("CASE-2026-77".into()),
            reason: Some("Tribunal".into()),
            ..RawLegalHold::default()
        },
    );
    hold(
        &db,
        "hold_contact",
        RawLegalHold {
            contact_id: Some("con_a".into()),
            reason: Some("Litigation".into()),
            ..RawLegalHold::default()
        },
    );
    let refused = dispose(&db, &id("int_1"), id("dsp_1"), disposal_request(), || {
        T0 + 5000
    });
    assert!(
        matches!(
            refused,
            Err(DisposeError::Refused(
                DisposalRefused::UnderLegalHold { .. }
            ))
        ),
        "{refused:?}"
    );
    let why = |hold: &str| interactions_rules::values::Reason::parse(hold).unwrap();
    holds::lift(
        &db,
        &HoldId::parse("hold_contact").unwrap(),
        &why("Settled"),
        &clerk(),
        T0 + 1,
    )
    .unwrap();
    assert!(matches!(
        dispose(&db, &id("int_1"), id("dsp_1"), disposal_request(), || T0
            + 5000),
        Err(DisposeError::Refused(
            DisposalRefused::UnderLegalHold { .. }
        ))
    ));
    holds::lift(
        &db,
        &HoldId::parse("hold_case").unwrap(),
        &why("Decided"),
        &clerk(),
        T0 + 2,
    )
    .unwrap();
    assert!(matches!(
        holds::lift(
            &db,
            &HoldId::parse("hold_case").unwrap(),
            &why("Again"),
            &clerk(),
            T0 + 3
        ),
        Err(HoldError::AlreadyLifted(_))
    ));
    assert!(matches!(
        dispose(&db, &id("amd_1"), id("dsp_1"), disposal_request(), || T0
            + 5000),
        Err(DisposeError::Refused(DisposalRefused::NotAnInteraction(_)))
    ));

    let (disposal, record) = dispose(&db, &id("int_1"), id("dsp_1"), disposal_request(), || {
        T0 + 5000
    })
    .unwrap();
    let RecordState::Disposed(tombstone) = &record.state else {
        panic!("not a tombstone: {record:?}");
    };
    assert_eq!(tombstone.disposed_by, disposal.id);
    assert_eq!(tombstone.authority_class.as_str(), "GRA 31 class 21284");
    assert_eq!(record.amendments.len(), 1);
    assert!(matches!(
        record.amendments[0].body,
        interactions_rules::EntryBody::Amendment {
            patch: Retained::Disposed { .. },
            ..
        }
    ));
    let (subjects, patches): (i64, i64) = db
        .query_row(
            "SELECT COUNT(subject), COUNT(patch) FROM interaction_entries WHERE disposed_by = 'dsp_1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((subjects, patches), (0, 0));
    assert_eq!(read::record(&db, &id("dsp_1")).unwrap().unwrap(), record);
    assert!(matches!(
        dispose(&db, &id("int_1"), id("dsp_2"), disposal_request(), || T0
            + 6000),
        Err(DisposeError::Refused(
            DisposalRefused::AlreadyDisposed { .. }
        ))
    ));
    let verdict = verify(&db, &contact("con_a")).unwrap().unwrap();
    assert!(verdict.is_valid(), "{verdict:?}");
    assert_eq!(verdict.entries, 4);
    // The timeline shows the tombstone in place, with the facts as recorded.
    let page = first_page(&db, RawTimelineQuery::default());
    assert!(matches!(page[1].state, RecordState::Disposed(_)));
    assert_eq!(holds::list(&db, None).unwrap().len(), 2);
}

#[test]
fn the_tables_refuse_rewrites() {
    let db = db();
    append(&db, "int_1", raw("con_a", "2026-11-20T09:00:00+10:00", "A"));
    for sql in [
        "UPDATE interaction_entries SET subject = 'B'",
        "UPDATE interaction_entries SET disposed_by = 'x', subject = NULL, notes = NULL, outcome = NULL, tags = NULL, documents = NULL, category = 'other'",
        "DELETE FROM interaction_entries",
    ] {
        let error = db.execute(sql, []).unwrap_err().to_string();
        assert!(error.contains("interaction entries"), "{sql}: {error}");
    }
    hold(
        &db,
        "hold_1",
        RawLegalHold {
            contact_id: Some("con_a".into()),
            reason: Some("x".into()),
            ..RawLegalHold::default()
        },
    );
    assert!(
        db.execute("DELETE FROM interaction_legal_holds", [])
            .is_err()
    );
    assert!(
        db.execute("UPDATE interaction_legal_holds SET reason = 'y'", [])
            .is_err()
    );
}

fn tamper(db: &rusqlite::Connection, sql: &str) {
    db.execute_batch(
        "DROP TRIGGER IF EXISTS interaction_entries_only_tombstoned; \
         DROP TRIGGER IF EXISTS interaction_entries_no_delete;",
    )
    .unwrap();
    db.execute_batch(sql).unwrap();
}

fn three(db: &rusqlite::Connection) {
    for n in 1..=3 {
        append(
            db,
            &format!("int_{n}"),
            raw("con_a", "2026-11-20T09:00:00+10:00", "Call"),
        );
    }
}

#[test]
fn verification_finds_the_first_broken_link() {
    let broken = |sql: &str| {
        let db = db();
        three(&db);
        tamper(&db, sql);
        verify(&db, &contact("con_a")).unwrap().unwrap()
    };
    let edited =
        broken("UPDATE interaction_entries SET subject = 'Something else' WHERE sequence = 2");
    let reason = edited.broken.as_ref().unwrap();
    assert_eq!((reason.sequence, edited.entries), (2, 1));
    assert!(reason.reason.contains("content"), "{reason:?}");

    let facts = broken("UPDATE interaction_entries SET channel = 'email' WHERE sequence = 1");
    assert_eq!(facts.broken.unwrap().sequence, 1);

    let unreadable = broken("UPDATE interaction_entries SET channel = 'fax' WHERE sequence = 3");
    let reason = unreadable.broken.unwrap();
    assert_eq!(reason.sequence, 3);
    assert!(reason.reason.contains("unreadable"), "{reason:?}");

    let deleted = broken("DELETE FROM interaction_entries WHERE sequence = 2");
    assert!(deleted.broken.unwrap().reason.contains("sequence"));

    let tail = broken("DELETE FROM interaction_entries WHERE sequence = 3");
    assert!(tail.broken.is_none() && !tail.tip_matches && !tail.is_valid());

    // root_sequence is not hashed; an interaction given one is caught too.
    let root = broken("UPDATE interaction_entries SET root_sequence = 1 WHERE sequence = 2");
    assert!(root.broken.unwrap().reason.contains("root_sequence"));
}

/// A connection on which `meanwhile` writes once, just before the first
/// read of chain entries: another request's write landing while
/// verification walks.
struct Meanwhile<'a, F> {
    db: &'a rusqlite::Connection,
    meanwhile: std::cell::RefCell<Option<F>>,
}

impl<'a, F: FnOnce(&rusqlite::Connection)> Meanwhile<'a, F> {
    fn new(db: &'a rusqlite::Connection, write: F) -> Self {
        Self {
            db,
            meanwhile: std::cell::RefCell::new(Some(write)),
        }
    }
}

impl<F: FnOnce(&rusqlite::Connection)> Sql for Meanwhile<'_, F> {
    fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, SqlError> {
        if sql.contains("FROM interaction_entries") {
            let write = self.meanwhile.borrow_mut().take();
            if let Some(write) = write {
                write(self.db);
            }
        }
        self.db.run(sql, params)
    }
}

#[test]
fn an_append_while_verification_walks_is_not_a_broken_chain() {
    let db = db();
    three(&db);
    let appending = Meanwhile::new(&db, |db| {
        append(
            db,
            "int_4",
            raw("con_a", "2026-11-20T09:00:00+10:00", "Call"),
        );
    });
    let verdict = verify(&appending, &contact("con_a")).unwrap().unwrap();
    assert!(verdict.is_valid(), "{verdict:?}");
    assert_eq!(verdict.entries, 3);
    assert_eq!(verify(&db, &contact("con_a")).unwrap().unwrap().entries, 4);
}

#[test]
fn a_disposal_while_verification_walks_is_not_a_broken_chain() {
    let db = db();
    three(&db);
    let disposing = Meanwhile::new(&db, |db| {
        dispose(db, &id("int_1"), id("dsp_1"), disposal_request(), || T0).unwrap();
    });
    let verdict = verify(&disposing, &contact("con_a")).unwrap().unwrap();
    assert!(verdict.is_valid(), "{verdict:?}");
    assert_eq!(verdict.entries, 4);
}

#[test]
fn entries_past_a_tip_wound_back_are_caught() {
    let db = db();
    three(&db);
    tamper(
        &db,
        "UPDATE interaction_chains SET length = 2, \
         head_hash = (SELECT hash FROM interaction_entries WHERE sequence = 2)",
    );
    let verdict = verify(&db, &contact("con_a")).unwrap().unwrap();
    assert!(!verdict.is_valid(), "{verdict:?}");
    let broken = verdict.broken.unwrap();
    assert_eq!(broken.sequence, 3);
    assert!(broken.reason.contains("past"), "{broken:?}");
}

#[test]
fn a_corrupt_row_is_reported_not_shown() {
    let db = db();
    three(&db);
    tamper(
        &db,
        "UPDATE interaction_entries SET tags = 'bad_tag' WHERE sequence = 2",
    );
    let error = read::record(&db, &id("int_2")).unwrap_err();
    assert!(
        matches!(error, StoreError::Corrupt { column: "tags", .. }),
        "{error}"
    );
}

#[test]
fn counts_by_channel_and_category_per_bucket_include_disposed_interactions() {
    let db = db();
    for (n, (day, channel, category)) in [
        ("2026-11-02", "phone", "enquiry"),
        ("2026-11-02", "email", "enquiry"),
        ("2026-11-03", "phone", "complaint"),
        ("2026-11-09", "phone", "enquiry"),
    ]
    .iter()
    .enumerate()
    {
        append(
            &db,
            &format!("int_{n}"),
            RawInteraction {
                channel: Some(channel.to_string()),
                category: Some(category.to_string()),
                ..raw("con_a", &format!("{day}T23:30:00+10:00"), "x")
            },
        );
    }
    dispose(&db, &id("int_0"), id("dsp_1"), disposal_request(), || T0).unwrap();
    let trend = |by: &str, granularity: &str| {
        let query = TrendQuery::parse(
            &RawTrendQuery {
                from: Some("2026-11-02T00:00:00+10:00".into()),
                to: Some("2026-11-16T00:00:00+10:00".into()),
                granularity: Some(granularity.into()),
                by: Some(by.into()),
                offset: None,
            },
            366,
        )
        .unwrap();
        counts(&db, &query.range, query.breakdown).unwrap()
    };
    let weeks = trend("channel", "week");
    assert_eq!(weeks.columns(), ["2026-W45", "2026-W46"]);
    assert_eq!(weeks.rows().len(), 9, "every channel has a row");
    let phone = weeks.rows().iter().position(|r| r == "phone").unwrap();
    assert_eq!((weeks.get(phone, 0), weeks.get(phone, 1)), (2, 1));
    let days = trend("category", "day");
    assert_eq!(days.rows(), ["complaint", "enquiry"]);
    let enquiry = 1;
    assert_eq!(
        days.get(enquiry, 0),
        2,
        "23:30 in Canberra is that local day"
    );
    assert_eq!(days.get(enquiry, 7), 1);
    let _ = (Breakdown::Channel, Granularity::Day);
}

#[test]
fn the_cursor_key_is_configured_or_made_once_per_database() {
    let db = db();
    let configured = cursor::codec(&db, &"A".repeat(44), || unreachable!()).unwrap();
    let made = cursor::codec(&db, "", || "k".repeat(64)).unwrap();
    let again = cursor::codec(&db, " ", || "other".repeat(20)).unwrap();
    let filter = query(RawTimelineQuery::default()).filter;
    let position = interactions_rules::TimelinePosition {
        occurred_at_ms: 1,
        contact_key: 1,
        sequence: 2,
    };
    let cursor = made.encode(position, &filter);
    assert_eq!(again.decode(&cursor, &filter), Ok(position));
    assert!(configured.decode(&cursor, &filter).is_err());
    assert!(matches!(
        cursor::codec(&db, "not base64!", || unreachable!()),
        Err(cursor::CursorKeyError::Invalid)
    ));
    assert!(matches!(
        cursor::codec(&db, "c2hvcnQ=", || unreachable!()),
        Err(cursor::CursorKeyError::Invalid)
    ));
}

fn key(caller: &str, key: &str, body: &str) -> IdempotencyKey {
    IdempotencyKey::new(
        key,
        &[caller.as_bytes(), b"appendInteraction"],
        &[b"POST", b"/api/interactions", b"", body.as_bytes()],
    )
    .unwrap()
}

fn append_once(
    db: &rusqlite::Connection,
    entry_id: &str,
    raw: RawInteraction,
    key: &IdempotencyKey,
) -> Result<Appended, AppendError> {
    let new = NewInteraction::parse(&raw, T0).unwrap();
    append_interaction_once(db, id(entry_id), clerk(), new, Some(key))
}

fn entries_of(db: &rusqlite::Connection, contact: &str) -> i64 {
    db.query_row(
        "SELECT count(*) FROM interaction_entries JOIN interaction_chains USING (contact_key) WHERE contact_id = ?",
        [contact],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_retried_append_answers_with_the_first_entry_and_appends_nothing() {
    let db = db();
    let first_key = key("staff:clerk", "retry-1", "first");
    let first = append_once(
        &db,
        "int_1",
        raw("con_a", "2026-11-20T09:00:00+10:00", "First"),
        &first_key,
    )
    .unwrap();
    assert!(!first.replayed);
    assert_eq!(first.record.entry.id, id("int_1"));

    // The retry carries a fresh entry id; it answers with the first entry.
    let retry = append_once(
        &db,
        "int_2",
        raw("con_a", "2026-11-20T09:00:00+10:00", "First"),
        &first_key,
    )
    .unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.record, first.record);
    assert_eq!(entries_of(&db, "con_a"), 1);
    assert!(read::record(&db, &id("int_2")).unwrap().is_none());

    // The same key for a different request is refused, appending nothing.
    let reused = append_once(
        &db,
        "int_3",
        raw("con_a", "2026-11-20T09:00:00+10:00", "Other"),
        &key("staff:clerk", "retry-1", "other"),
    );
    assert!(matches!(reused, Err(AppendError::KeyReused)), "{reused:?}");
    assert_eq!(entries_of(&db, "con_a"), 1);

    // Another caller's key of the same text is its own.
    let theirs = append_once(
        &db,
        "int_4",
        raw("con_a", "2026-11-21T09:00:00+10:00", "Theirs"),
        &key("staff:other", "retry-1", "first"),
    )
    .unwrap();
    assert!(!theirs.replayed);
    assert_eq!(entries_of(&db, "con_a"), 2);
    let verdict = verify(&db, &contact("con_a")).unwrap().unwrap();
    assert!(verdict.is_valid(), "{verdict:?}");

    // A retry after an amendment answers as first appended; after a
    // disposal, with the tombstone (the content is gone).
    amend_with(
        &db,
        "amd_1",
        "int_1",
        RawAmendment {
            case_reference: Some(Some("CASE-2026-77".into())),
            ..amendment("Moved case")
        },
    );
    let later = append_once(
        &db,
        "int_5",
        raw("con_a", "2026-11-20T09:00:00+10:00", "First"),
        &first_key,
    )
    .unwrap();
    assert_eq!(later.record, first.record);
    dispose(&db, &id("int_1"), id("dsp_1"), disposal_request(), || {
        T0 + 5000
    })
    .unwrap();
    let disposed = append_once(
        &db,
        "int_6",
        raw("con_a", "2026-11-20T09:00:00+10:00", "First"),
        &first_key,
    )
    .unwrap();
    assert!(disposed.replayed);
    assert!(matches!(disposed.record.state, RecordState::Disposed(_)));
    assert_eq!(entries_of(&db, "con_a"), 4);
}

#[test]
fn a_failed_append_keeps_no_key() {
    let db = db();
    let k = key("staff:clerk", "k", "body");
    // The chain's tip is corrupt, so the append fails after the key is
    // looked up; the key is not kept and a corrected retry appends.
    db.execute_batch(
        "INSERT INTO interaction_chains (contact_key, contact_id, length, head_hash) VALUES (1, 'con_a', 5, x'00')",
    )
    .unwrap();
    assert!(
        append_once(
            &db,
            "int_1",
            raw("con_a", "2026-11-20T09:00:00+10:00", "First"),
            &k
        )
        .is_err()
    );
    let kept: i64 = db
        .query_row("SELECT count(*) FROM interaction_idempotency", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, 0);
}
