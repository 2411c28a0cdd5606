use super::*;

fn stored(record: &ConsentRecord) -> (StoredRecord, Vec<StoredEvent>) {
    let events = record
        .events
        .iter()
        .map(|e| StoredEvent::from_event(&record.id, e))
        .collect();
    (StoredRecord::from_record(record), events)
}

/// Records with a grantor, each collection method's evidence, a
/// supersession, a withdrawal and a validity period.
fn varied_ledger() -> Ledger {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, Some(T0 + 30 * DAY));
    let mut req = request();
    req.grantor = Some(GrantorRequest {
        contact_id: "c9".into(),
        relationship: "parent-or-guardian".into(),
    });
    req.data_categories = vec!["contact-details".into(), "health".into()];
    req.collection = serde_json::from_value(serde_json::json!({
        "method": "paper-form", "form_version": "F-2/2026", "document_reference": "scan:77",
        "officer_id": "staff-42"
    }))
    .unwrap();
    ledger.try_record("r2", req, T0 + DAY, T0 + DAY).unwrap();
    ledger.withdraw(T0 + 2 * DAY).unwrap();
    ledger
}

#[test]
fn records_and_events_round_trip_through_their_rows() {
    let ledger = varied_ledger();
    for record in &ledger.records {
        let (row, events) = stored(record);
        assert_eq!(row.clone().into_record(events).as_ref(), Ok(record));
    }
    let (row, _) = stored(ledger.get("r2"));
    assert_eq!(row.grantor_id.as_deref(), Some("c9"));
    assert_eq!(row.supersedes.as_deref(), Some("r1"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&row.collection).unwrap()["method"],
        "paper-form"
    );
}

#[test]
fn a_row_that_fails_its_checks_is_reported_by_column() {
    let ledger = varied_ledger();
    let (row, events) = stored(ledger.get("r2"));
    let corrupt = |change: fn(&mut StoredRecord)| {
        let mut bad = row.clone();
        change(&mut bad);
        bad.into_record(events.clone()).unwrap_err().column
    };
    assert_eq!(corrupt(|r| r.channel = "pigeon".into()), "channel");
    assert_eq!(corrupt(|r| r.grantor_relationship = None), "grantor_id");
    assert_eq!(
        corrupt(|r| r.data_categories = "[\"A\"]".into()),
        "data_categories"
    );
    assert_eq!(
        corrupt(|r| r.collection = r#"{"method":"counter"}"#.into()),
        "collection"
    );
    assert_eq!(
        corrupt(|r| r.valid_until_ms = Some(r.given_at_ms)),
        "valid_until"
    );
    let mut stray = events.clone();
    stray[0].record_id = "r1".into();
    assert_eq!(row.clone().into_record(stray).unwrap_err().column, "events");
    let mut bad_actor = events;
    bad_actor[0].actor_id = None;
    let error = row.into_record(bad_actor).unwrap_err();
    assert_eq!(
        (error.table, error.column),
        ("consent_events", "actor_kind")
    );
}

#[test]
fn purposes_and_notices_are_rebuilt_through_their_checks() {
    let purpose = stored_purpose("newsletters", "direct-communication", "consent", "News").unwrap();
    assert_eq!(
        purpose,
        Purpose::new(
            pid("newsletters"),
            PurposeCategory::DirectCommunication,
            LawfulBasis::Consent,
            "News"
        )
        .unwrap()
    );
    assert_eq!(
        stored_purpose(
            "newsletters",
            "direct-communication",
            "primary-purpose",
            "News"
        )
        .unwrap_err()
        .column,
        "description"
    );
    let notice = StoredNotice {
        id: "general".into(),
        version: 2,
        language: "en-au".into(),
        title: "How we handle it".into(),
        text: Some("We collect...".into()),
        url: None,
        published_at_ms: T0,
    }
    .into_notice()
    .unwrap();
    assert_eq!(notice.language.as_str(), "en-AU");
    assert_eq!(notice.content, NoticeContent::Text("We collect...".into()));
    let both = StoredNotice {
        id: "general".into(),
        version: 1,
        language: "en".into(),
        title: "t".into(),
        text: Some("x".into()),
        url: Some("https://a.au".into()),
        published_at_ms: 0,
    };
    assert_eq!(both.into_notice().unwrap_err().column, "text");
}

#[test]
fn a_lift_ends_a_suppression_early_and_one_before_it_began_voids_it() {
    let at = |until, lifted| {
        stored_suppression("s1", "c1", "email", "complaint", 100, until, lifted)
            .unwrap()
            .map(|s| s.until_ms())
    };
    assert_eq!(at(None, None), Some(None));
    assert_eq!(at(Some(300), None), Some(Some(300)));
    assert_eq!(at(None, Some(200)), Some(Some(200)));
    assert_eq!(at(Some(300), Some(200)), Some(Some(200)));
    assert_eq!(at(Some(150), Some(200)), Some(Some(150)));
    assert_eq!(at(None, Some(100)), None);
    assert!(stored_suppression("s1", "c1", "fax", "complaint", 100, None, None).is_err());
    assert_eq!(
        stored_suppression("s1", "c1", "sms", "complaint", 100, Some(100), None)
            .unwrap_err()
            .column,
        "until"
    );
}

#[test]
fn a_withdrawal_event_names_the_record_and_how() {
    let ledger = varied_ledger();
    let event = ConsentWithdrawn::new(ledger.get("r2"), T0 + 2 * DAY, Via::OneClickLink);
    let json: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"contact_id": "c1", "purpose": "newsletters", "channel": "email",
            "consent_id": "r2", "at": T0 + 2 * DAY, "via": "one-click-link"})
    );
    assert_eq!(
        serde_json::from_value::<ConsentWithdrawn>(json).unwrap(),
        event
    );
}
