//! The store against real SQLite files with the app's migrations.

use std::sync::atomic::{AtomicUsize, Ordering};

use crm_sql::Sql;
use crm_templates::TemplateType;
use notification_rules::{KeyType, NotificationStatus};

use super::*;
use crate::callbacks::{Attempt, CallbackState, Owed};
use crate::messages::{Listing, ServiceView};
use crate::services::{NewService, StoredKey};

const T0: i64 = 1_795_416_000_000; // 2026-11-23T06:40:00Z
const SERVICE: &str = "7f1c2a9e-4b5d-4c6e-8f70-112233445566";

/// A migrated database in a file of its own.
fn db() -> rusqlite::Connection {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "notification-store-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("db.sqlite");
    let _ = std::fs::remove_file(&path);
    let db = rusqlite::Connection::open(path).unwrap();
    crm_migrations::migrate(&db).unwrap();
    db
}

fn message(id: &str) -> Message {
    Message {
        id: id.into(),
        channel: TemplateType::Email,
        template_id: "t-1".into(),
        template_version: 1,
        purpose: "status-updates".into(),
        contact_id: Some("contact-1".into()),
        recipient: "ada@example.gov.au".into(),
        subject: Some("Your application".into()),
        body: "It has been received.".into(),
        html: Some("<p>It has been received.</p>".into()),
        reference: None,
        status: NotificationStatus::Created,
        consent_id: Some("consent-1".into()),
        sender: "crm".into(),
        sender_role: "staff".into(),
        service_id: None,
        api_key_id: None,
        key_type: Some("live".into()),
        created_by_name: Some("staff:clerk".into()),
        idempotency_key: None,
        request_hash: Some("hash-1".into()),
        scheduled_for: None,
        next_attempt_at: Some(T0),
        attempts: 0,
        provider: None,
        provider_reference: None,
        failure_reason: None,
        created_at: T0,
        sent_at: None,
        completed_at: None,
        updated_at: T0,
        interaction_id: None,
        sent_to: Some("Ada@Example.gov.au".into()),
        one_click_unsubscribe_url: Some("https://example.gov.au/unsubscribe".into()),
        postage: None,
        reply_to: Some("replies@example.gov.au".into()),
        notify_body: Some("Hello\r\n\r\nAnn".into()),
    }
}

fn template(id: &str, version: u32, kind: TemplateType, name: &str, at: i64) -> StoredTemplate {
    StoredTemplate {
        id: id.into(),
        version,
        kind,
        name: name.into(),
        subject: (kind != TemplateType::Sms).then(|| format!("Subject {version}")),
        body: format!("Body {version} ((name))"),
        purpose: "status-updates".into(),
        letter_contact_block: None,
        created_at: at,
        created_by: "staff:author".into(),
        created_by_email: Some("author@example.gov.au".into()),
        first_created_at: at,
        postage: (kind == TemplateType::Letter).then(|| "first".into()),
    }
}

fn statuses(db: &impl Sql, id: &str) -> Vec<String> {
    messages::events(db, id)
        .unwrap()
        .into_iter()
        .map(|e| e.status.unwrap())
        .collect()
}

#[test]
fn a_templates_versions_are_kept_and_the_newest_is_read() {
    let db = db();
    templates::insert(&db, &template("t-1", 1, TemplateType::Email, "Welcome", T0)).unwrap();
    templates::insert(
        &db,
        &template("t-1", 2, TemplateType::Email, "Welcome", T0 + 5),
    )
    .unwrap();
    templates::insert(&db, &template("t-2", 1, TemplateType::Sms, "Alert", T0 + 9)).unwrap();

    let newest = templates::load(&db, templates::Scope::All, "t-1", None)
        .unwrap()
        .unwrap();
    assert_eq!(newest.version, 2);
    assert_eq!(newest.body, "Body 2 ((name))");
    assert_eq!(newest.created_at, T0 + 5);
    assert_eq!(newest.first_created_at, T0, "the template's own creation");
    let first = templates::load(&db, templates::Scope::All, "t-1", Some(1))
        .unwrap()
        .unwrap();
    assert_eq!(
        first,
        template("t-1", 1, TemplateType::Email, "Welcome", T0)
    );
    assert_eq!(
        templates::load(&db, templates::Scope::All, "t-1", Some(3)).unwrap(),
        None
    );
    assert_eq!(
        templates::load(&db, templates::Scope::All, "t-9", None).unwrap(),
        None
    );

    let all = templates::list(&db, templates::Scope::All, None).unwrap();
    let listed: Vec<(&str, u32)> = all.iter().map(|t| (t.id.as_str(), t.version)).collect();
    assert_eq!(listed, [("t-2", 1), ("t-1", 2)], "newest versions, by name");
    let sms = templates::list(&db, templates::Scope::All, Some(TemplateType::Sms)).unwrap();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].id, "t-2");
}

#[test]
fn a_template_version_is_immutable() {
    let db = db();
    let v1 = template("t-1", 1, TemplateType::Email, "Welcome", T0);
    templates::insert(&db, &v1).unwrap();
    let again = StoredTemplate {
        body: "Changed".into(),
        ..v1.clone()
    };
    assert!(matches!(
        templates::insert(&db, &again),
        Err(StoreError::Sql(_))
    ));
    assert!(
        db.run("UPDATE notification_templates SET body = 'x'", &[])
            .is_err()
    );
    assert!(db.run("DELETE FROM notification_templates", &[]).is_err());
    assert_eq!(
        templates::load(&db, templates::Scope::All, "t-1", None)
            .unwrap()
            .unwrap(),
        v1
    );
}

#[test]
fn a_templates_purpose_must_be_in_the_consent_catalogue() {
    let db = db();
    assert!(templates::purpose_known(&db, "status-updates").unwrap());
    assert!(!templates::purpose_known(&db, "no-such-purpose").unwrap());
}

#[test]
fn a_message_is_stored_as_given_with_its_first_event() {
    let db = db();
    let letter = Message {
        channel: TemplateType::Letter,
        recipient: r#"["Ada Lovelace","1 Main St","Canberra ACT 2600"]"#.into(),
        ..message("m-1")
    };
    letter.insert(&db).unwrap();
    let stored = messages::load(&db, "m-1").unwrap().unwrap();
    assert_eq!(stored, letter);
    assert_eq!(
        stored.address_lines(),
        ["Ada Lovelace", "1 Main St", "Canberra ACT 2600"]
    );
    assert!(!stored.is_test());
    assert_eq!(messages::load(&db, "m-2").unwrap(), None);
    let events = messages::events(&db, "m-1").unwrap();
    assert_eq!(
        events,
        [StatusEvent {
            status: Some("created".into()),
            at: T0,
            detail: None
        }]
    );
}

#[test]
fn an_idempotency_key_answers_with_the_first_message() {
    let db = db();
    let first = Message {
        idempotency_key: Some("staff:clerk:key-1".into()),
        ..message("m-1")
    };
    first.insert(&db).unwrap();
    let retry = Message {
        idempotency_key: first.idempotency_key.clone(),
        ..message("m-2")
    };
    assert!(
        retry.insert(&db).is_err(),
        "the key's unique index refuses it"
    );
    assert_eq!(messages::load(&db, "m-2").unwrap(), None);
    let found = messages::by_idempotency_key(&db, "crm", "staff:clerk:key-1").unwrap();
    assert_eq!(found.map(|m| m.id), Some("m-1".into()));
    assert_eq!(
        messages::by_idempotency_key(&db, "crm", "staff:clerk:key-2").unwrap(),
        None
    );
    // Keys are per sender.
    let other_sender = Message {
        sender: format!("service:{SERVICE}"),
        ..retry
    };
    other_sender.insert(&db).unwrap();
    let theirs = messages::by_idempotency_key(&db, &other_sender.sender, "staff:clerk:key-1");
    assert_eq!(theirs.unwrap().map(|m| m.id), Some("m-2".into()));
}

#[test]
fn statuses_move_only_as_the_rules_allow_and_are_noted() {
    let db = db();
    let mut m = message("m-1");
    m.insert(&db).unwrap();
    assert!(
        m.move_to(&db, NotificationStatus::Sending, T0 + 1, Some("webhook"))
            .unwrap()
    );
    m.sent_at = Some(T0 + 1);
    m.attempts = 1;
    m.provider = Some("webhook".into());
    m.provider_reference = Some("prov-1".into());
    m.save_progress(&db).unwrap();
    assert!(
        m.move_to(&db, NotificationStatus::Delivered, T0 + 2, Some("webhook"))
            .unwrap()
    );
    assert_eq!(m.completed_at, Some(T0 + 2));
    assert_eq!(m.next_attempt_at, None);
    m.save_progress(&db).unwrap();
    // A late receipt never changes a final outcome.
    assert!(
        !m.move_to(&db, NotificationStatus::TemporaryFailure, T0 + 3, None)
            .unwrap()
    );
    assert_eq!(m.status, NotificationStatus::Delivered);

    let stored = messages::load(&db, "m-1").unwrap().unwrap();
    assert_eq!(stored, m);
    assert_eq!(statuses(&db, "m-1"), ["created", "sending", "delivered"]);
    let by_reference = messages::by_provider_reference(&db, "webhook", "prov-1").unwrap();
    assert_eq!(by_reference.map(|m| m.id), Some("m-1".into()));
    assert_eq!(
        messages::by_provider_reference(&db, "notify", "prov-1").unwrap(),
        None
    );
}

#[test]
fn a_dispatch_claim_is_taken_once_until_its_hold_lapses() {
    let db = db();
    message("m-1").insert(&db).unwrap();
    Message {
        next_attempt_at: Some(T0 - 10),
        ..message("m-2")
    }
    .insert(&db)
    .unwrap();
    Message {
        next_attempt_at: Some(T0 + 60_000),
        ..message("scheduled")
    }
    .insert(&db)
    .unwrap();
    Message {
        status: NotificationStatus::Sending,
        ..message("in-flight")
    }
    .insert(&db)
    .unwrap();

    let due = messages::claim_due(&db, 10, 1_000, || T0).unwrap();
    let ids: Vec<&str> = due.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m-2", "m-1"], "due ones, the longest waiting first");
    assert!(
        messages::claim_due(&db, 10, 1_000, || T0 + 999)
            .unwrap()
            .is_empty(),
        "held by the first claim"
    );
    let held = messages::load(&db, "m-1").unwrap().unwrap();
    assert_eq!(held.next_attempt_at, Some(T0 + 1_000));
    let again = messages::claim_due(&db, 1, 1_000, || T0 + 1_000).unwrap();
    assert_eq!(again.len(), 1, "the batch size bounds a claim");
}

#[test]
fn an_interaction_is_claimed_once_and_noted() {
    let db = db();
    let mut m = message("m-1");
    m.insert(&db).unwrap();
    Message {
        contact_id: None,
        ..message("raw")
    }
    .insert(&db)
    .unwrap();
    assert!(
        messages::unrecorded(&db, T0).unwrap().is_empty(),
        "not final"
    );
    for status in [NotificationStatus::Sending, NotificationStatus::Delivered] {
        assert!(m.move_to(&db, status, T0, None).unwrap());
    }
    m.save_progress(&db).unwrap();
    assert_eq!(messages::unrecorded(&db, T0).unwrap(), [m.clone()]);

    assert!(messages::claim_interaction(&db, "m-1", T0, T0 + 100).unwrap());
    assert!(!messages::claim_interaction(&db, "m-1", T0 + 50, T0 + 150).unwrap());
    assert!(messages::unrecorded(&db, T0 + 50).unwrap().is_empty());
    assert!(!messages::claim_interaction(&db, "raw", T0, T0 + 100).unwrap());

    messages::release_interaction(&db, "m-1").unwrap();
    assert!(messages::claim_interaction(&db, "m-1", T0 + 60, T0 + 160).unwrap());
    // A claim lapses.
    assert!(messages::claim_interaction(&db, "m-1", T0 + 161, T0 + 261).unwrap());
    messages::note_interaction(&db, "m-1", "interaction-1").unwrap();
    assert!(!messages::claim_interaction(&db, "m-1", T0 + 999, T0 + 1_099).unwrap());
    assert!(messages::unrecorded(&db, T0 + 999).unwrap().is_empty());
    let noted = messages::load(&db, "m-1").unwrap().unwrap();
    assert_eq!(noted.interaction_id.as_deref(), Some("interaction-1"));
}

#[test]
fn a_withdrawal_finds_the_contacts_queued_messages_for_its_purpose() {
    let db = db();
    message("email").insert(&db).unwrap();
    Message {
        channel: TemplateType::Sms,
        ..message("sms")
    }
    .insert(&db)
    .unwrap();
    Message {
        purpose: "research".into(),
        ..message("other-purpose")
    }
    .insert(&db)
    .unwrap();
    Message {
        contact_id: Some("contact-2".into()),
        ..message("other-contact")
    }
    .insert(&db)
    .unwrap();
    Message {
        status: NotificationStatus::Sending,
        ..message("in-flight")
    }
    .insert(&db)
    .unwrap();

    let ids = |found: Vec<Message>| {
        let mut ids: Vec<String> = found.into_iter().map(|m| m.id).collect();
        ids.sort();
        ids
    };
    let all = messages::queued_for(&db, "contact-1", "status-updates", None).unwrap();
    assert_eq!(ids(all), ["email", "sms"]);
    let sms = messages::queued_for(&db, "contact-1", "status-updates", Some("sms")).unwrap();
    assert_eq!(ids(sms), ["sms"]);
}

#[test]
fn withdrawals_are_read_past_the_cursor() {
    let db = db();
    let event = |topic: &str, aggregate: &str, payload: &str| {
        db.run(
            "INSERT INTO outbox_events (topic, aggregate_id, payload, occurred_at) VALUES (?, ?, ?, ?)",
            &[topic.into(), aggregate.into(), payload.into(), T0.into()],
        )
        .unwrap();
    };
    event(
        "consent.withdrawn",
        "consent-1",
        r#"{"contact_id":"contact-1","purpose":"research","channel":"sms"}"#,
    );
    event("contact.created", "contact-2", "{}");
    event("consent.withdrawn", "contact-3", r#"{"purpose":"surveys"}"#);
    event("consent.withdrawn", "contact-4", "not json");

    assert_eq!(withdrawals::cursor(&db).unwrap(), 0);
    let read = withdrawals::after(&db, 0, 1000).unwrap();
    assert_eq!(
        read,
        [
            withdrawals::Withdrawal {
                event_id: 1,
                contact_id: Some("contact-1".into()),
                purpose: Some("research".into()),
                channel: Some("sms".into()),
            },
            withdrawals::Withdrawal {
                event_id: 3,
                contact_id: Some("contact-3".into()),
                purpose: Some("surveys".into()),
                channel: None,
            },
            withdrawals::Withdrawal {
                event_id: 4,
                contact_id: Some("contact-4".into()),
                purpose: None,
                channel: None,
            },
        ]
    );
    assert_eq!(withdrawals::after(&db, 0, 1).unwrap().len(), 1);
    withdrawals::set_cursor(&db, 3).unwrap();
    withdrawals::set_cursor(&db, 4).unwrap();
    assert_eq!(withdrawals::cursor(&db).unwrap(), 4);
    assert!(withdrawals::after(&db, 4, 1000).unwrap().is_empty());
}

#[test]
fn case_updates_have_a_cursor_of_their_own() {
    let db = db();
    let event = |topic: &str, aggregate: &str, payload: &str| {
        db.run(
            "INSERT INTO outbox_events (topic, aggregate_id, payload, occurred_at) VALUES (?, ?, ?, ?)",
            &[topic.into(), aggregate.into(), payload.into(), T0.into()],
        )
        .unwrap();
    };
    event(
        "consent.withdrawn",
        "contact-1",
        r#"{"purpose":"research"}"#,
    );
    event(
        "case.status-changed",
        "cas_1",
        r#"{"case_id":"cas_1","reference":"CAS-2026-000001","contact_id":"con_1","status_label":"Resolved","citizen_visible":true}"#,
    );
    event(
        "case.status-changed",
        "cas_2",
        r#"{"reference":"CAS-2026-000002"}"#,
    );
    let read = case_updates::after(&db, case_updates::cursor(&db).unwrap(), 10).unwrap();
    assert_eq!(
        read,
        [
            case_updates::CaseUpdate {
                event_id: 2,
                case_id: Some("cas_1".into()),
                reference: Some("CAS-2026-000001".into()),
                contact_id: Some("con_1".into()),
                status_label: Some("Resolved".into()),
                citizen_visible: true,
            },
            case_updates::CaseUpdate {
                event_id: 3,
                case_id: Some("cas_2".into()),
                reference: Some("CAS-2026-000002".into()),
                contact_id: None,
                status_label: None,
                citizen_visible: false,
            },
        ]
    );
    // Reading case updates moves only their cursor.
    case_updates::set_cursor(&db, 3).unwrap();
    assert_eq!(case_updates::cursor(&db).unwrap(), 3);
    assert_eq!(withdrawals::cursor(&db).unwrap(), 0);
    assert_eq!(withdrawals::after(&db, 0, 10).unwrap().len(), 1);
}

#[test]
fn messages_in_flight_too_long_are_found() {
    let db = db();
    for (id, status, sent_at) in [
        ("old-sending", NotificationStatus::Sending, T0 - 100),
        ("old-pending", NotificationStatus::Pending, T0),
        ("new-sending", NotificationStatus::Sending, T0 + 1),
        ("old-delivered", NotificationStatus::Delivered, T0 - 100),
    ] {
        Message {
            status,
            sent_at: Some(sent_at),
            ..message(id)
        }
        .insert(&db)
        .unwrap();
    }
    let mut found: Vec<String> = messages::in_flight_since(&db, T0)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    found.sort();
    assert_eq!(found, ["old-pending", "old-sending"]);
}

#[test]
fn the_inbox_holds_a_contacts_delivered_portal_messages_newest_first() {
    let db = db();
    for (id, contact, channel, status, sent_at) in [
        (
            "older",
            "contact-1",
            TemplateType::Portal,
            NotificationStatus::Delivered,
            T0,
        ),
        (
            "newer",
            "contact-1",
            TemplateType::Portal,
            NotificationStatus::Delivered,
            T0 + 1,
        ),
        (
            "queued",
            "contact-1",
            TemplateType::Portal,
            NotificationStatus::Created,
            T0 + 2,
        ),
        (
            "email",
            "contact-1",
            TemplateType::Email,
            NotificationStatus::Delivered,
            T0 + 3,
        ),
        (
            "theirs",
            "contact-2",
            TemplateType::Portal,
            NotificationStatus::Delivered,
            T0 + 4,
        ),
    ] {
        Message {
            contact_id: Some(contact.into()),
            channel,
            status,
            sent_at: Some(sent_at),
            ..message(id)
        }
        .insert(&db)
        .unwrap();
    }
    let inbox: Vec<String> = messages::inbox(&db, "contact-1")
        .unwrap()
        .into_iter()
        .map(|m| m.message.id)
        .collect();
    assert_eq!(inbox, ["newer", "older"]);
}

#[test]
fn a_contact_marks_their_inbox_messages_read_and_unread_and_no_one_elses() {
    let db = db();
    for (id, contact, status) in [
        ("mine", "contact-1", NotificationStatus::Delivered),
        ("not-yet", "contact-1", NotificationStatus::Created),
        ("theirs", "contact-2", NotificationStatus::Delivered),
    ] {
        Message {
            contact_id: Some(contact.into()),
            channel: TemplateType::Portal,
            status,
            sent_at: Some(T0),
            ..message(id)
        }
        .insert(&db)
        .unwrap();
    }
    let read_at = |id: &str| {
        messages::inbox(&db, "contact-1")
            .unwrap()
            .into_iter()
            .find(|e| e.message.id == id)
            .map(|e| e.read_at)
    };
    assert_eq!(read_at("mine"), Some(None), "unread until marked");
    let marked = messages::mark_inbox(&db, "contact-1", "mine", Some(T0 + 5)).unwrap();
    assert_eq!(marked.map(|e| e.read_at), Some(Some(T0 + 5)));
    // Read again later: the first reading's time stays.
    messages::mark_inbox(&db, "contact-1", "mine", Some(T0 + 9)).unwrap();
    assert_eq!(read_at("mine"), Some(Some(T0 + 5)));
    let unmarked = messages::mark_inbox(&db, "contact-1", "mine", None).unwrap();
    assert_eq!(unmarked.map(|e| e.read_at), Some(None));
    assert_eq!(read_at("mine"), Some(None));
    // Another contact's message, one not delivered and one that does not
    // exist are not in this inbox, and nothing is written for them.
    for id in ["theirs", "not-yet", "missing"] {
        assert_eq!(
            messages::mark_inbox(&db, "contact-1", id, Some(T0)).unwrap(),
            None,
            "{id}"
        );
    }
    let reads = db
        .run("SELECT notification_id FROM notification_inbox_reads", &[])
        .unwrap();
    assert!(reads.is_empty(), "{reads:?}");
}

#[test]
fn a_key_sees_its_services_messages_of_its_kind() {
    let db = db();
    let sent = |id: &str, key_type: &str, channel: TemplateType, status, reference: &str, at| {
        Message {
            service_id: Some(SERVICE.into()),
            sender: format!("service:{SERVICE}"),
            key_type: Some(key_type.into()),
            channel,
            status,
            reference: Some(reference.into()),
            created_at: at,
            ..message(id)
        }
        .insert(&db)
        .unwrap();
    };
    use NotificationStatus::{
        Accepted, Created, Delivered, PermanentFailure, Received, TechnicalFailure,
    };
    sent("a", "live", TemplateType::Email, Delivered, "r1", T0);
    sent(
        "b",
        "live",
        TemplateType::Sms,
        TechnicalFailure,
        "r2",
        T0 + 1,
    );
    sent(
        "c",
        "live",
        TemplateType::Email,
        PermanentFailure,
        "r1",
        T0 + 2,
    );
    sent("t", "test", TemplateType::Email, Delivered, "r1", T0 + 3);
    sent("m", "team", TemplateType::Sms, Delivered, "r3", T0 + 4);
    sent("l1", "live", TemplateType::Letter, Created, "r4", T0 + 5);
    sent("l2", "live", TemplateType::Letter, Delivered, "r4", T0 + 6);
    message("crm-own").insert(&db).unwrap();

    let live = ServiceView {
        service_id: SERVICE,
        key_type: "live",
    };
    let test = ServiceView {
        key_type: "test",
        ..live
    };
    let team = ServiceView {
        key_type: "team",
        ..live
    };
    let ids = |view, listing: &Listing| -> Vec<String> {
        messages::list(&db, view, listing)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    let page = Listing {
        limit: 250,
        ..Listing::default()
    };
    assert_eq!(
        ids(live, &page),
        ["l2", "l1", "c", "b", "a"],
        "newest first"
    );
    assert_eq!(ids(test, &page), ["t"]);
    assert_eq!(ids(team, &page), ["m"], "a team key lists only team sends");
    // A read by id sees the service's message whichever key sent it.
    assert!(messages::of_service(&db, SERVICE, "a").unwrap().is_some());
    assert!(messages::of_service(&db, SERVICE, "t").unwrap().is_some());
    assert!(
        messages::of_service(&db, "another-service", "a")
            .unwrap()
            .is_none()
    );
    assert!(
        messages::of_service(&db, SERVICE, "crm-own")
            .unwrap()
            .is_none()
    );

    let failed = Listing {
        statuses: vec![TechnicalFailure, PermanentFailure],
        ..page.clone()
    };
    assert_eq!(ids(live, &failed), ["c", "b"]);
    // Letters are listed by the status Notify shows for them.
    let by_status = |status| Listing {
        statuses: vec![status],
        ..page.clone()
    };
    assert_eq!(ids(live, &by_status(Accepted)), ["l1"]);
    assert_eq!(ids(live, &by_status(Received)), ["l2"]);
    assert_eq!(ids(live, &by_status(Delivered)), ["a"]);
    assert!(ids(live, &by_status(Created)).is_empty());
    let emails = Listing {
        channel: Some(TemplateType::Email),
        reference: Some("r1".into()),
        ..page.clone()
    };
    assert_eq!(ids(live, &emails), ["c", "a"]);
    let older = Listing {
        older_than: Some("c".into()),
        limit: 1,
        ..page
    };
    assert_eq!(ids(live, &older), ["b"]);
}

#[test]
fn daily_counts_count_per_counter() {
    let db = db();
    let today = format!("{SERVICE}-email-2026-11-23-count");
    let tomorrow = format!("{SERVICE}-email-2026-11-24-count");
    assert_eq!(limits::daily_count(&db, &today).unwrap(), 0);
    limits::count_one(&db, &today).unwrap();
    limits::count_one(&db, &today).unwrap();
    limits::count_one(&db, &tomorrow).unwrap();
    limits::count_one(&db, "crm-email-2026-11-23-count").unwrap();
    assert_eq!(limits::daily_count(&db, &today).unwrap(), 2);
    assert_eq!(limits::daily_count(&db, &tomorrow).unwrap(), 1);
    // A refused send's transaction leaves no count behind.
    let refused: Result<(), StoreError> = crm_sql::transaction(&db, || {
        limits::count_one(&db, &today)?;
        Err(StoreError::Corrupt("refused".into()))
    });
    assert!(refused.is_err());
    assert_eq!(limits::daily_count(&db, &today).unwrap(), 2);
}

fn service(db: &impl Sql, callback_url: Option<&str>) {
    let new = NewService {
        id: SERVICE.into(),
        name: "Housing".into(),
        callback_url: callback_url.map(str::to_string),
        callback_token_sealed: callback_url.map(|_| "sealed-token".to_string()),
        created_at: T0,
        created_by: "staff:admin".into(),
    };
    let guests = ["ada@example.gov.au".to_string(), "+61400000000".into()];
    services::create(db, &new, &[guests.to_vec(), guests.to_vec()].concat()).unwrap();
}

fn key(id: &str, key_type: KeyType, at: i64) -> StoredKey {
    StoredKey {
        id: id.into(),
        service_id: SERVICE.into(),
        name: format!("key {id}"),
        key_type,
        secret_sealed: format!("sealed-{id}"),
        created_at: at,
        created_by: "staff:admin".into(),
        revoked_at: None,
    }
}

#[test]
fn a_service_has_its_guest_list_and_keys_and_revocation_sticks() {
    let db = db();
    assert!(!services::exists(&db, SERVICE).unwrap());
    service(&db, None);
    assert!(services::exists(&db, SERVICE).unwrap());
    assert!(!services::has_callback_url(&db, SERVICE).unwrap());
    let mut guests = services::guest_list(&db, SERVICE).unwrap();
    guests.sort();
    assert_eq!(guests, ["+61400000000", "ada@example.gov.au"]);

    services::insert_key(&db, &key("k-2", KeyType::Team, T0 + 1)).unwrap();
    services::insert_key(&db, &key("k-1", KeyType::Live, T0)).unwrap();
    assert_eq!(
        services::keys(&db, SERVICE).unwrap(),
        [
            key("k-1", KeyType::Live, T0),
            key("k-2", KeyType::Team, T0 + 1)
        ],
        "oldest first"
    );

    let revoked = services::revoke_key(&db, SERVICE, "k-1", T0 + 10, "staff:admin").unwrap();
    assert_eq!(revoked, Some(T0 + 10));
    let again = services::revoke_key(&db, SERVICE, "k-1", T0 + 20, "staff:admin").unwrap();
    assert_eq!(again, Some(T0 + 10), "the first revocation stands");
    assert_eq!(
        services::revoke_key(&db, SERVICE, "k-9", T0, "x").unwrap(),
        None
    );
    assert_eq!(
        services::revoke_key(&db, "other", "k-2", T0, "x").unwrap(),
        None
    );
    let keys = services::keys(&db, SERVICE).unwrap();
    assert_eq!(keys[0].revoked_at, Some(T0 + 10));
    assert_eq!(keys[1].revoked_at, None);
}

#[test]
fn callbacks_are_claimed_once_and_retried_until_they_end() {
    let db = db();
    service(&db, Some("https://callbacks.example.gov.au/notify"));
    assert!(services::has_callback_url(&db, SERVICE).unwrap());
    callbacks::enqueue(&db, "m-1", SERVICE, r#"{"id":"m-1"}"#, T0).unwrap();
    callbacks::enqueue(&db, "m-2", SERVICE, r#"{"id":"m-2"}"#, T0).unwrap();

    let ids = ["m-2".to_string()];
    let for_m2 = callbacks::claim(&db, Owed::For(&ids), T0, T0 + 100).unwrap();
    assert_eq!(for_m2.len(), 1);
    assert_eq!(for_m2[0].body, r#"{"id":"m-2"}"#);
    assert_eq!(for_m2[0].service_id, SERVICE);
    assert_eq!(
        for_m2[0].url.as_deref(),
        Some("https://callbacks.example.gov.au/notify")
    );
    assert_eq!(for_m2[0].token_sealed.as_deref(), Some("sealed-token"));
    assert_eq!(for_m2[0].attempts, 0);

    let all = callbacks::claim(&db, Owed::All, T0, T0 + 100).unwrap();
    assert_eq!(all.len(), 1, "m-2's is claimed already");
    let m1 = &all[0];
    assert!(
        callbacks::claim(&db, Owed::All, T0 + 99, T0 + 200)
            .unwrap()
            .is_empty()
    );

    let retry = Attempt {
        state: CallbackState::Pending,
        attempts: 1,
        next_attempt_at: Some(T0 + 500),
        result: "503".into(),
    };
    callbacks::record_attempt(&db, m1.id, &retry, T0 + 1).unwrap();
    let delivered = Attempt {
        state: CallbackState::Delivered,
        attempts: 1,
        next_attempt_at: None,
        result: "200".into(),
    };
    callbacks::record_attempt(&db, for_m2[0].id, &delivered, T0 + 1).unwrap();

    assert!(
        callbacks::claim(&db, Owed::All, T0 + 499, T0 + 600)
            .unwrap()
            .is_empty()
    );
    let again = callbacks::claim(&db, Owed::All, T0 + 500, T0 + 600).unwrap();
    assert_eq!(again.len(), 1, "only the pending one, once due");
    assert_eq!((again[0].id, again[0].attempts), (m1.id, 1));
    let failed = Attempt {
        state: CallbackState::Failed,
        attempts: 2,
        next_attempt_at: None,
        result: "gave up".into(),
    };
    callbacks::record_attempt(&db, m1.id, &failed, T0 + 501).unwrap();
    assert!(
        callbacks::claim(&db, Owed::All, i64::MAX, i64::MAX)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_unreadable_row_is_reported_as_corrupt() {
    let db = db();
    message("m-1").insert(&db).unwrap();
    db.run(
        "UPDATE notifications SET status = 'lost' WHERE id = 'm-1'",
        &[],
    )
    .unwrap();
    let error = messages::load(&db, "m-1").unwrap_err();
    assert_eq!(error.to_string(), "stored notification has a bad status");
}

#[test]
fn a_service_sees_only_the_templates_linked_to_it() {
    let db = db();
    let other = "0b7c2a9e-4b5d-4c6e-8f70-998877665544";
    for id in [SERVICE, other] {
        let service = NewService {
            id: id.into(),
            name: "A service".into(),
            callback_url: None,
            callback_token_sealed: None,
            created_at: T0,
            created_by: "staff:admin".into(),
        };
        services::create(&db, &service, &[]).unwrap();
    }
    templates::insert(&db, &template("t-1", 1, TemplateType::Email, "Ours", T0)).unwrap();
    templates::insert(
        &db,
        &template("t-1", 2, TemplateType::Email, "Ours", T0 + 1),
    )
    .unwrap();
    templates::insert(&db, &template("t-2", 1, TemplateType::Sms, "Theirs", T0)).unwrap();
    templates::insert(&db, &template("t-3", 1, TemplateType::Sms, "Nobody's", T0)).unwrap();
    templates::set_services(&db, "t-1", &[SERVICE.into(), other.into()]).unwrap();
    templates::set_services(&db, "t-2", &[other.into()]).unwrap();
    templates::set_services(&db, "t-1", &[SERVICE.into()]).unwrap();
    assert_eq!(templates::services(&db, "t-1").unwrap(), vec![SERVICE]);
    assert_eq!(
        templates::services(&db, "t-3").unwrap(),
        Vec::<String>::new()
    );

    let ours = templates::Scope::Service(SERVICE);
    let ids = |scope| -> Vec<String> {
        templates::list(&db, scope, None)
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(ids(ours), vec!["t-1"]);
    assert_eq!(ids(templates::Scope::Service(other)), vec!["t-2"]);
    assert_eq!(ids(templates::Scope::All), vec!["t-3", "t-1", "t-2"]);
    assert_eq!(
        templates::load(&db, ours, "t-1", None)
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        templates::load(&db, ours, "t-1", Some(1))
            .unwrap()
            .unwrap()
            .version,
        1
    );
    assert_eq!(templates::load(&db, ours, "t-2", None).unwrap(), None);
    assert_eq!(templates::load(&db, ours, "t-3", Some(1)).unwrap(), None);
    assert!(
        templates::load(&db, templates::Scope::All, "t-3", None)
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_services_senders_have_one_default_of_each_kind() {
    use crate::senders::{self, Sender, SenderKind};
    let db = db();
    for id in [SERVICE, "0b7c2a9e-4b5d-4c6e-8f70-998877665544"] {
        let service = NewService {
            id: id.into(),
            name: "A service".into(),
            callback_url: None,
            callback_token_sealed: None,
            created_at: T0,
            created_by: "staff:admin".into(),
        };
        services::create(&db, &service, &[]).unwrap();
    }
    let sender = |id: &str, kind, value: &str, is_default, at| Sender {
        id: id.into(),
        service_id: SERVICE.into(),
        kind,
        value: value.into(),
        is_default,
        created_at: at,
        created_by: "staff:admin".into(),
    };
    let first = senders::add(
        &db,
        &sender(
            "r-1",
            SenderKind::EmailReplyTo,
            "a@example.gov.au",
            false,
            T0,
        ),
    )
    .unwrap();
    assert!(first.is_default, "a kind's first is its default");
    let second = senders::add(
        &db,
        &sender(
            "r-2",
            SenderKind::EmailReplyTo,
            "b@example.gov.au",
            false,
            T0 + 1,
        ),
    )
    .unwrap();
    assert!(!second.is_default);
    let sms = senders::add(
        &db,
        &sender("s-1", SenderKind::SmsSender, "GOVUK", false, T0),
    )
    .unwrap();
    assert!(sms.is_default, "each kind has its own default");
    senders::add(
        &db,
        &sender(
            "r-3",
            SenderKind::EmailReplyTo,
            "c@example.gov.au",
            true,
            T0 + 2,
        ),
    )
    .unwrap();
    let defaults: Vec<String> = senders::list(&db, SERVICE, SenderKind::EmailReplyTo)
        .unwrap()
        .into_iter()
        .filter(|s| s.is_default)
        .map(|s| s.id)
        .collect();
    assert_eq!(defaults, vec!["r-3"]);
    assert_eq!(
        senders::default_of(&db, SERVICE, SenderKind::SmsSender)
            .unwrap()
            .unwrap()
            .value,
        "GOVUK"
    );
    assert_eq!(
        senders::find(&db, SERVICE, SenderKind::EmailReplyTo, "r-2")
            .unwrap()
            .unwrap()
            .value,
        "b@example.gov.au"
    );
    // Another kind's id, or another service's, is not found.
    assert_eq!(
        senders::find(&db, SERVICE, SenderKind::SmsSender, "r-2").unwrap(),
        None
    );
    assert_eq!(
        senders::find(
            &db,
            "0b7c2a9e-4b5d-4c6e-8f70-998877665544",
            SenderKind::EmailReplyTo,
            "r-2"
        )
        .unwrap(),
        None
    );
}

#[test]
fn a_precompiled_letters_pdf_is_kept_as_posted() {
    let db = db();
    let mut letter = message("letter-1");
    letter.channel = TemplateType::Letter;
    letter.insert(&db).unwrap();
    message("email-1").insert(&db).unwrap();
    let pdf = b"%PDF-1.4\n\x00\xff binary\n%%EOF".to_vec();
    letters::save_pdf(&db, "letter-1", &pdf).unwrap();
    assert_eq!(letters::pdf_of(&db, "letter-1").unwrap(), Some(pdf.clone()));
    assert_eq!(letters::pdf_of(&db, "email-1").unwrap(), None);
    // One PDF a letter.
    assert!(letters::save_pdf(&db, "letter-1", &pdf).is_err());
}

#[test]
fn received_texts_are_kept_once_and_listed_newest_first_by_service() {
    use crate::received_texts::{self, ReceivedText};
    let db = db();
    let other = "0b7c2a9e-4b5d-4c6e-8f70-998877665544";
    for id in [SERVICE, other] {
        let service = NewService {
            id: id.into(),
            name: "A service".into(),
            callback_url: None,
            callback_token_sealed: None,
            created_at: T0,
            created_by: "staff:admin".into(),
        };
        services::create(&db, &service, &[]).unwrap();
    }
    let text = |id: &str, service: &str, reference: &str, at: i64| ReceivedText {
        id: id.into(),
        service_id: service.into(),
        user_number: "447700900111".into(),
        notify_number: "07700900500".into(),
        content: format!("message {id}"),
        created_at: at,
        provider: "webhook".into(),
        provider_reference: reference.into(),
    };
    for (id, service, reference, at) in [
        ("a", SERVICE, "p-1", T0),
        ("c", SERVICE, "p-2", T0 + 1),
        ("b", SERVICE, "p-3", T0 + 1),
        ("d", other, "p-4", T0 + 2),
    ] {
        let (kept, new) = received_texts::receive(&db, &text(id, service, reference, at)).unwrap();
        assert!(new);
        assert_eq!(kept.id, id);
    }
    // A repeated hand-over keeps the first.
    let (kept, new) = received_texts::receive(&db, &text("e", SERVICE, "p-1", T0 + 9)).unwrap();
    assert!(!new);
    assert_eq!(kept, text("a", SERVICE, "p-1", T0));

    let ids = |older_than: Option<&str>, limit| -> Vec<String> {
        received_texts::list(&db, SERVICE, older_than, limit)
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(ids(None, 10), ["c", "b", "a"]);
    assert_eq!(ids(None, 2), ["c", "b"]);
    assert_eq!(ids(Some("b"), 2), ["a"]);
    assert!(ids(Some("a"), 2).is_empty());
    // Rows are never changed.
    assert!(
        db.run("UPDATE notify_received_texts SET content = 'x'", &[])
            .is_err()
    );
}

#[test]
fn a_document_is_kept_until_its_retention_ends() {
    use crate::documents::{self, StoredDocument};
    let db = db();
    let service = NewService {
        id: SERVICE.into(),
        name: "A service".into(),
        callback_url: None,
        callback_token_sealed: None,
        created_at: T0,
        created_by: "staff:admin".into(),
    };
    services::create(&db, &service, &[]).unwrap();
    message("email-1").insert(&db).unwrap();
    let document = |id: &str, expires_at| StoredDocument {
        id: id.into(),
        service_id: SERVICE.into(),
        notification_id: "email-1".into(),
        key_sha256: "ab".repeat(32),
        content: b"%PDF-1.7 \x00\xff".to_vec(),
        media_type: "application/pdf".into(),
        filename: Some("report.pdf".into()),
        confirm_email: None,
        created_at: T0,
        expires_at,
    };
    documents::save(&db, &document("d-1", T0 + 10)).unwrap();
    documents::save(&db, &document("d-2", T0 + 20)).unwrap();
    assert_eq!(
        documents::load(&db, "d-1").unwrap(),
        Some(document("d-1", T0 + 10))
    );
    assert_eq!(documents::delete_expired(&db, T0 + 10).unwrap(), 1);
    assert_eq!(documents::load(&db, "d-1").unwrap(), None);
    assert!(documents::load(&db, "d-2").unwrap().is_some());
}
