//! The store against real SQLite files with the app's migrations (which
//! seed the purpose catalogue and the `general` privacy notice).

use consent_rules::{
    Actor, Channel, ConsentRequest, EventKind, LawfulBasis, Nonce, NoticeContent, NoticeVersion,
    OfficerId, PlanError, PrivacyNotice, Purpose, PurposeCategory, PurposeId, Reason, RecordId,
    Suppression, SuppressionReason, Via, plan_record, plan_withdrawal,
};
use crm_sql::{Sql, transaction};

use super::*;

const DAY: i64 = 86_400_000;
/// 2026-11-10, after the seeded catalogue and notice.
const T0: i64 = 1_794_268_800_000;

fn db() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    let db = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
    crm_migrations::migrate(&db).unwrap();
    (dir, db)
}

fn officer() -> Actor {
    Actor::Officer(OfficerId::parse("staff-42").unwrap())
}

fn written(at_ms: i64) -> Written<'static> {
    Written {
        by: "staff-42",
        request_id: "req-1",
        at_ms,
    }
}

fn count(db: &impl Sql, sql: &str) -> i64 {
    match db.run(sql, &[]).unwrap()[0][0] {
        Value::Integer(n) => n,
        ref other => panic!("{other:?}"),
    }
}

/// Records `decision` for c1 on `purpose` by `channel` at `at_ms`, as the
/// component does: plan against the ruling record, write it all in one
/// transaction.
fn decide_for(
    db: &rusqlite::Connection,
    id: &str,
    purpose: &str,
    channel: &str,
    decision: &str,
    at_ms: i64,
) -> ConsentRecord {
    let request: ConsentRequest = serde_json::from_value(serde_json::json!({
        "contact_id": "c1",
        "purpose": purpose,
        "data_categories": ["contact-details"],
        "channel": channel,
        "decision": decision,
        "notice_id": "general",
        "notice_version": 1,
        "collection": {"method": "paper-form", "form_version": "consent-form/3", "officer_id": "staff-42", "document_reference": "scan-1"},
        "given_at": at_ms,
    }))
    .unwrap();
    let purposes: Vec<Purpose> = purposes(db)
        .unwrap()
        .into_iter()
        .map(|e| e.purpose)
        .collect();
    let consent = request.parse(&purposes, at_ms).unwrap();
    transaction(db, || {
        let current = records(
            db,
            Records::Current {
                contact: "c1",
                purpose,
                channel: consent.channel,
            },
        )?;
        let plan = plan_record(
            &current,
            consent,
            RecordId::parse(id).unwrap(),
            officer(),
            at_ms,
        )
        .unwrap();
        write_record_plan(db, &plan, &current, Via::Paper, written(at_ms))?;
        Ok::<_, StoreError>(plan.record)
    })
    .unwrap()
}

fn current(db: &rusqlite::Connection, purpose: &str, channel: Channel) -> Vec<ConsentRecord> {
    records(
        db,
        Records::Current {
            contact: "c1",
            purpose,
            channel,
        },
    )
    .unwrap()
}

#[test]
fn records_read_back_as_written() {
    let (_dir, db) = db();
    let given = decide_for(&db, "cns_1", "newsletters", "email", "given", T0);
    assert_eq!(records(&db, Records::Id("cns_1")).unwrap(), [given]);
    assert_eq!(record_contact(&db, "cns_1").unwrap().as_deref(), Some("c1"));
    assert_eq!(record_contact(&db, "cns_404").unwrap(), None);
}

#[test]
fn a_new_decision_supersedes_and_never_overwrites() {
    let (_dir, db) = db();
    let given = decide_for(&db, "cns_1", "newsletters", "email", "given", T0);
    let refused = decide_for(&db, "cns_2", "newsletters", "email", "refused", T0 + DAY);

    let all = records(&db, Records::OfContact("c1")).unwrap();
    assert_eq!(all.len(), 2);
    // The first record is as it was, with one more event.
    assert_eq!(all[0].consent, given.consent);
    assert_eq!(all[0].recorded_at_ms, given.recorded_at_ms);
    let kinds: Vec<_> = all[0].events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Given, EventKind::Superseded]);
    assert_eq!(all[1], refused);
    assert_eq!(all[1].supersedes, Some(given.id.clone()));
    // Only the new one rules.
    assert_eq!(current(&db, "newsletters", Channel::Email), [refused]);
    // The refusal ended consent that was in force: announced.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox_events WHERE topic = 'consent.withdrawn' AND aggregate_id = 'cns_1'"
        ),
        1
    );
}

#[test]
fn the_current_consent_is_per_purpose_and_channel() {
    let (_dir, db) = db();
    let email = decide_for(&db, "cns_1", "newsletters", "email", "given", T0);
    let sms = decide_for(&db, "cns_2", "newsletters", "sms", "refused", T0);
    let updates = decide_for(&db, "cns_3", "status-updates", "email", "given", T0);
    assert_eq!(current(&db, "newsletters", Channel::Email), [email]);
    assert_eq!(current(&db, "newsletters", Channel::Sms), [sms]);
    assert_eq!(current(&db, "status-updates", Channel::Email), [updates]);
    assert_eq!(current(&db, "status-updates", Channel::Sms), []);
    assert_eq!(records(&db, Records::OfContact("c1")).unwrap().len(), 3);
    assert_eq!(records(&db, Records::OfContact("c2")).unwrap(), []);
    // Nothing was superseded, so nothing was announced.
    assert_eq!(count(&db, "SELECT count(*) FROM outbox_events"), 0);
}

fn plan_withdrawing(db: &rusqlite::Connection, at_ms: i64) -> (Vec<ConsentRecord>, Appended) {
    let records = current(db, "newsletters", Channel::Email);
    let appended = plan_withdrawal(
        &records,
        &ContactId::parse("c1").unwrap(),
        &PurposeId::parse("newsletters").unwrap(),
        Channel::Email,
        officer(),
        Via::Phone,
        at_ms,
    )
    .unwrap();
    (records, appended)
}

#[test]
fn a_withdrawal_writes_its_outbox_event_in_the_same_transaction() {
    let (_dir, db) = db();
    decide_for(&db, "cns_1", "newsletters", "email", "given", T0);
    let outbox = "SELECT count(*) FROM outbox_events WHERE topic = 'consent.withdrawn'";

    // Rolled back: neither the event nor the announcement is kept.
    let (records_before, appended) = plan_withdrawing(&db, T0 + DAY);
    let failed: Result<(), StoreError> = transaction(&db, || {
        write_withdrawal(&db, records_before, appended, written(T0 + DAY))?;
        assert_eq!(count(&db, outbox), 1);
        Err(StoreError::Missing("a later step failed"))
    });
    assert!(failed.is_err());
    assert_eq!(count(&db, outbox), 0);
    assert_eq!(
        current(&db, "newsletters", Channel::Email)[0].events.len(),
        1
    );

    // Committed: both.
    let (records_before, appended) = plan_withdrawing(&db, T0 + DAY);
    let withdrawn = transaction(&db, || {
        write_withdrawal(&db, records_before, appended, written(T0 + DAY))
    })
    .unwrap();
    assert_eq!(withdrawn.withdrawn_at_ms(), Some(T0 + DAY));
    assert_eq!(current(&db, "newsletters", Channel::Email), [withdrawn]);
    let payload = db
        .run(
            "SELECT aggregate_id, payload, occurred_at FROM outbox_events WHERE topic = 'consent.withdrawn'",
            &[],
        )
        .unwrap();
    assert_eq!(payload.len(), 1);
    assert_eq!(payload[0][0], Value::from("cns_1"));
    assert_eq!(payload[0][2], Value::Integer(T0 + DAY));
    // Nothing is left to withdraw.
    let records = current(&db, "newsletters", Channel::Email);
    let again = plan_withdrawal(
        &records,
        &ContactId::parse("c1").unwrap(),
        &PurposeId::parse("newsletters").unwrap(),
        Channel::Email,
        officer(),
        Via::Phone,
        T0 + 2 * DAY,
    );
    assert!(matches!(again, Err(PlanError::NothingToWithdraw { .. })));
}

#[test]
fn a_withdrawal_of_a_record_not_read_is_refused() {
    let (_dir, db) = db();
    decide_for(&db, "cns_1", "newsletters", "email", "given", T0);
    let (_, appended) = plan_withdrawing(&db, T0 + DAY);
    let refused = transaction(&db, || {
        write_withdrawal(&db, Vec::new(), appended, written(T0 + DAY))
    });
    assert!(matches!(refused, Err(StoreError::Missing(_))));
    assert_eq!(count(&db, "SELECT count(*) FROM consent_events"), 1);
}

fn suppress(db: &rusqlite::Connection, id: &str, channel: Channel, since: i64) -> Suppression {
    let suppression = Suppression::new(
        ContactId::parse("c1").unwrap(),
        channel,
        SuppressionReason::RequestedByPerson,
        since,
        None,
    )
    .unwrap();
    insert_suppression(
        db,
        NewSuppression {
            id,
            suppression: &suppression,
            note: Some("asked on the phone"),
            created_at_ms: since,
            created_by: "staff-42",
        },
    )
    .unwrap();
    suppression
}

#[test]
fn suppressions_are_added_listed_and_lifted_once() {
    let (_dir, db) = db();
    let email = suppress(&db, "dnc_1", Channel::Email, T0);
    suppress(&db, "dnc_2", Channel::Sms, T0 + 1);
    let entries = suppressions(&db, Suppressions::OfContact("c1")).unwrap();
    assert_eq!(
        entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["dnc_1", "dnc_2"]
    );
    assert_eq!(entries[0].note.as_deref(), Some("asked on the phone"));
    assert_eq!(entries[0].suppression().unwrap(), Some(email));
    assert!(
        suppressions(&db, Suppressions::OfContact("c2"))
            .unwrap()
            .is_empty()
    );

    assert!(!is_lifted(&db, "dnc_1").unwrap());
    let lift = Lift {
        at_ms: T0 + DAY,
        by: "staff-42".into(),
        reason: "asked again".into(),
    };
    insert_lift(&db, "dnc_1", &lift).unwrap();
    assert!(is_lifted(&db, "dnc_1").unwrap());
    let lifted = suppressions(&db, Suppressions::Id("dnc_1"))
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(lifted.lift.as_ref().map(|l| l.at_ms), Some(T0 + DAY));
    // A lift ends the entry then.
    let ended = lifted.suppression().unwrap().unwrap();
    assert!(ended.is_active_at(T0 + DAY - 1));
    assert!(!ended.is_active_at(T0 + DAY));
    // A second lift of the same entry is refused by the table.
    assert!(matches!(
        insert_lift(&db, "dnc_1", &lift),
        Err(StoreError::Sql(_))
    ));
}

#[test]
fn the_check_is_answered_from_the_system_of_record() {
    let (_dir, db) = db();
    let check_at = |purpose: &str, channel: Option<Channel>, at: i64| {
        check(&db, "c1", purpose, channel, at).unwrap()
    };
    let no_consent = check_at("newsletters", Some(Channel::Email), T0);
    assert!(!no_consent.permitted);
    assert_eq!(no_consent.reason, Reason::NoConsent);

    let given = decide_for(&db, "cns_1", "newsletters", "email", "given", T0);
    let permitted = check_at("newsletters", Some(Channel::Email), T0 + 1);
    assert!(permitted.permitted);
    assert_eq!(permitted.consent_id, Some(given.id.clone()));
    assert_eq!(permitted.reason, Reason::ConsentGiven);
    // Another channel has no consent of its own.
    assert!(!check_at("newsletters", Some(Channel::Sms), T0 + 1).permitted);

    // A do-not-contact entry on the channel wins, at once.
    suppress(&db, "dnc_1", Channel::Email, T0 + 2);
    assert_eq!(
        check_at("newsletters", Some(Channel::Email), T0 + 3).reason,
        Reason::Suppressed
    );
    insert_lift(
        &db,
        "dnc_1",
        &Lift {
            at_ms: T0 + 4,
            by: "staff-42".into(),
            reason: "asked again".into(),
        },
    )
    .unwrap();
    assert!(check_at("newsletters", Some(Channel::Email), T0 + 5).permitted);

    // So does a withdrawal.
    let (records, appended) = plan_withdrawing(&db, T0 + 6);
    transaction(&db, || {
        write_withdrawal(&db, records, appended, written(T0 + 6))
    })
    .unwrap();
    assert_eq!(
        check_at("newsletters", Some(Channel::Email), T0 + 7).reason,
        Reason::Withdrawn
    );

    // A purpose that rests on something other than consent.
    assert_eq!(
        check_at("service-delivery", Some(Channel::Email), T0).reason,
        Reason::LawfulBasis(LawfulBasis::PrimaryPurpose)
    );
    assert_eq!(
        check_at("no-such-purpose", Some(Channel::Email), T0).reason,
        Reason::UnknownPurpose
    );
    assert_eq!(
        check_at("Not A Purpose!", Some(Channel::Email), T0).reason,
        Reason::UnknownPurpose
    );
    assert_eq!(
        check_at("newsletters", None, T0).reason,
        Reason::UnsupportedChannel
    );
    assert!(matches!(
        check(&db, "", "newsletters", Some(Channel::Email), T0),
        Err(CheckError::BadContact(_))
    ));
}

#[test]
fn a_check_on_an_unmigrated_database_is_a_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let bare = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
    let failed = check(&bare, "c1", "newsletters", Some(Channel::Email), T0).unwrap_err();
    assert!(matches!(failed, CheckError::Store(StoreError::Sql(_))));
    assert_eq!(
        failed.detail(),
        "a database statement failed (the details are in the log)"
    );
}

#[test]
fn purposes_are_revised_by_new_revisions() {
    let (_dir, db) = db();
    let seeded = purposes(&db).unwrap();
    assert!(
        seeded
            .iter()
            .any(|e| e.purpose.id().as_str() == "newsletters")
    );
    assert_eq!(latest_revision(&db, "bulletins").unwrap(), None);
    let first = current_purpose(&db, "newsletters").unwrap().unwrap();
    assert_eq!(first.revision, 1);
    let latest = latest_revision(&db, "newsletters").unwrap().unwrap();
    assert_eq!(latest.revision, 1);
    assert_eq!(latest.revised_at_ms, first.revised_at_ms);

    let revised = PurposeEntry {
        purpose: Purpose::new(
            PurposeId::parse("newsletters").unwrap(),
            PurposeCategory::DirectCommunication,
            LawfulBasis::Consent,
            "Our monthly newsletter",
        )
        .unwrap(),
        revision: 2,
        revised_at_ms: T0,
        revised_by: "admin-1".into(),
    };
    insert_purpose(&db, &revised).unwrap();
    let now = current_purpose(&db, "newsletters").unwrap().unwrap();
    assert_eq!((now.revision, now.revised_by.as_str()), (2, "admin-1"));
    assert_eq!(now.purpose.description(), "Our monthly newsletter");
    // Before the revision, the first one was in force.
    assert_eq!(
        purpose_at(&db, "newsletters", T0 - 1)
            .unwrap()
            .unwrap()
            .revision,
        1
    );
    assert_eq!(
        purpose_at(&db, "newsletters", T0)
            .unwrap()
            .unwrap()
            .revision,
        2
    );
    assert_eq!(purposes(&db).unwrap().len(), seeded.len());
    // The table keeps revisions as they were written.
    assert!(matches!(
        insert_purpose(&db, &revised),
        Err(StoreError::Sql(_))
    ));
    assert!(
        db.run("UPDATE consent_purposes SET description = 'x'", &[])
            .is_err()
    );
}

#[test]
fn notice_versions_are_published_and_read() {
    let (_dir, db) = db();
    let seeded = notice(&db, "general", 1).unwrap().unwrap();
    assert_eq!(notice(&db, "general", 2).unwrap(), None);
    let second = PrivacyNotice {
        version: NoticeVersion::parse(2).unwrap(),
        content: NoticeContent::Text("We keep what you tell us safe.".into()),
        published_at_ms: T0,
        ..seeded.clone()
    };
    insert_notice(&db, &second, "admin-1").unwrap();
    assert_eq!(notice(&db, "general", 2).unwrap(), Some(second.clone()));
    assert_eq!(
        notices(&db, Some(("general", None))).unwrap(),
        [seeded.clone(), second.clone()]
    );
    assert_eq!(notices(&db, None).unwrap().len(), 2);
    assert!(matches!(
        insert_notice(&db, &second, "admin-1"),
        Err(StoreError::Sql(_))
    ));
}

#[test]
fn a_link_nonce_is_redeemed_once() {
    let (_dir, db) = db();
    let nonce = Nonce::parse("n_0123456789abcdef0123").unwrap();
    assert!(!nonce_used(&db, &nonce).unwrap());
    let used = Redemption {
        nonce: &nonce,
        at_ms: T0,
        contact_id: &ContactId::parse("c1").unwrap(),
        purpose: &PurposeId::parse("newsletters").unwrap(),
        channel: Channel::Email,
        record_id: None,
        request_id: "req-1",
    };
    insert_redemption(&db, used).unwrap();
    assert!(nonce_used(&db, &nonce).unwrap());
    assert!(matches!(
        insert_redemption(&db, used),
        Err(StoreError::Sql(_))
    ));
}
