use super::*;

fn event_kinds(record: &ConsentRecord) -> Vec<EventKind> {
    record.events.iter().map(|e| e.kind).collect()
}

#[test]
fn a_first_grant_is_one_new_record_with_a_given_event() {
    let mut req = request();
    req.given_at = T0 - DAY;
    let consent = req.parse(&catalogue(), T0).unwrap();
    let plan = plan_record(&[], consent.clone(), rid("r1"), citizen(), T0).unwrap();
    assert_eq!(plan.superseded, None);
    assert_eq!(
        plan.record,
        ConsentRecord {
            id: rid("r1"),
            recorded_at_ms: T0,
            supersedes: None,
            consent,
            // Dated when the person decided, not when it was stored.
            events: vec![ConsentEvent {
                at_ms: T0 - DAY,
                kind: EventKind::Given,
                actor: citizen(),
                via: Via::Portal,
                superseded_by: None,
            }],
        }
    );
}

#[test]
fn a_new_decision_supersedes_the_ruling_record() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let mut req = request();
    req.decision = "refused".into();
    req.collection = serde_json::from_value(serde_json::json!({
        "method": "phone-call", "call_reference": "CALL-1", "officer_id": "staff-42"
    }))
    .unwrap();
    req.given_at = T0 + DAY;
    let consent = req.parse(&catalogue(), T0 + DAY).unwrap();
    let plan = plan_record(&ledger.records, consent, rid("r2"), officer(), T0 + DAY).unwrap();
    assert_eq!(plan.record.supersedes, Some(rid("r1")));
    assert_eq!(event_kinds(&plan.record), [EventKind::Refused]);
    assert_eq!(plan.record.events[0].via, Via::Phone);
    assert_eq!(
        plan.superseded,
        Some(Appended {
            record_id: rid("r1"),
            event: ConsentEvent {
                at_ms: T0 + DAY,
                kind: EventKind::Superseded,
                actor: officer(),
                via: Via::Phone,
                superseded_by: Some(rid("r2")),
            },
        })
    );
}

#[test]
fn giving_again_while_given_is_a_renewal() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, Some(T0 + 10 * DAY));
    ledger.give("r2", T0 + DAY, Some(T0 + 20 * DAY));
    assert_eq!(event_kinds(ledger.get("r2")), [EventKind::Renewed]);
    assert_eq!(
        event_kinds(ledger.get("r1")),
        [EventKind::Given, EventKind::Superseded]
    );
    // Once the earlier consent has expired, giving again is a plain grant.
    ledger.give("r3", T0 + 30 * DAY, None);
    assert_eq!(event_kinds(ledger.get("r3")), [EventKind::Given]);
    // And after a withdrawal too.
    ledger.withdraw(T0 + 31 * DAY).unwrap();
    ledger.give("r4", T0 + 32 * DAY, None);
    assert_eq!(event_kinds(ledger.get("r4")), [EventKind::Given]);
}

#[test]
fn a_decision_older_than_the_current_one_is_stale() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    ledger.withdraw(T0 + 5 * DAY).unwrap();
    // A paper form signed before the withdrawal, keyed in after it.
    let err = ledger
        .try_record("r2", request(), T0 + 4 * DAY, T0 + 6 * DAY)
        .unwrap_err();
    assert_eq!(
        err,
        PlanError::Stale {
            current: rid("r1"),
            current_decided_at_ms: T0 + 5 * DAY,
            given_at_ms: T0 + 4 * DAY,
        }
    );
    assert_eq!(ledger.records.len(), 1);
    // Decided at the same moment or later is fine.
    ledger
        .try_record("r2", request(), T0 + 5 * DAY, T0 + 6 * DAY)
        .unwrap();
    let mut older = request();
    older.decision = "refused".into();
    assert!(matches!(
        ledger.try_record("r3", older, T0 + 4 * DAY, T0 + 6 * DAY),
        Err(PlanError::Stale { .. })
    ));
}

#[test]
fn record_ids_are_never_reused() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    assert_eq!(
        ledger.try_record("r1", request(), T0 + 1, T0 + 1),
        Err(PlanError::IdTaken(rid("r1")))
    );
}

#[test]
fn only_given_consent_in_force_can_be_withdrawn() {
    let mut ledger = Ledger::default();
    assert_eq!(
        ledger.withdraw(T0),
        Err(PlanError::NothingToWithdraw { current: None })
    );
    ledger.refuse("r1", T0);
    assert_eq!(
        ledger.withdraw(T0 + 1),
        Err(PlanError::NothingToWithdraw {
            current: Some((rid("r1"), Status::Refused))
        })
    );
    ledger.give("r2", T0 + DAY, Some(T0 + 2 * DAY));
    assert_eq!(
        ledger.withdraw(T0 + 2 * DAY),
        Err(PlanError::NothingToWithdraw {
            current: Some((rid("r2"), Status::Expired))
        })
    );
    ledger.withdraw(T0 + 2 * DAY - 1).unwrap();
    let err = ledger.withdraw(T0 + 2 * DAY - 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "nothing to withdraw: record r2 is withdrawn"
    );
    assert_eq!(
        event_kinds(ledger.get("r2")),
        [EventKind::Given, EventKind::Withdrawn]
    );
}

#[test]
fn a_withdrawal_recorded_later_than_now_still_leaves_nothing_to_withdraw() {
    // Two withdrawals read the clock before either takes the write lock; the
    // one that read it later commits first.
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    ledger.withdraw(T0 + 10).unwrap();
    assert_eq!(
        ledger.withdraw(T0 + 9),
        Err(PlanError::NothingToWithdraw {
            current: Some((rid("r1"), Status::Withdrawn))
        })
    );
    assert_eq!(
        event_kinds(ledger.get("r1")),
        [EventKind::Given, EventKind::Withdrawn]
    );
}

#[test]
fn an_officer_withdraws_on_the_persons_behalf() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let appended = plan_withdrawal(
        &ledger.records,
        &contact("c1"),
        &pid("newsletters"),
        Channel::Email,
        officer(),
        Via::Phone,
        T0 + DAY,
    )
    .unwrap();
    assert_eq!(appended.record_id, rid("r1"));
    assert_eq!(appended.event.actor, officer());
    assert_eq!(appended.event.via, Via::Phone);
    assert_eq!(appended.event.kind, EventKind::Withdrawn);
    ledger.append(appended);
    assert_eq!(ledger.check(T0 + DAY).reason, Reason::Withdrawn);
}

#[test]
fn expiry_is_noted_once_from_the_boundary_on() {
    let mut ledger = Ledger::default();
    let until = T0 + DAY;
    ledger.give("r1", T0, Some(until));
    let record = ledger.get("r1").clone();
    assert_eq!(note_expiry(&record, &ledger.records, until - 1), None);
    let noted = note_expiry(&record, &ledger.records, until).unwrap();
    assert_eq!(
        (noted.kind, noted.actor.clone(), noted.via, noted.at_ms),
        (EventKind::ExpiredNoted, Actor::System, Via::System, until)
    );
    ledger.append(Appended {
        record_id: rid("r1"),
        event: noted,
    });
    assert_eq!(
        note_expiry(ledger.get("r1"), &ledger.records, until + DAY),
        None
    );
    // Superseded records are not noted as expired.
    let mut other = Ledger::default();
    other.give("s1", T0, Some(until));
    other.refuse("s2", T0 + 1);
    assert_eq!(
        note_expiry(other.get("s1"), &other.records, until + 1),
        None
    );
    // Nor refusals, which do not expire.
    assert_eq!(
        note_expiry(other.get("s2"), &other.records, until + 1),
        None
    );
}

#[test]
fn only_a_refusal_of_consent_in_force_revokes_it() {
    let plan_at = |ledger: &Ledger, decision: &str, at: i64| {
        let mut req = request();
        req.decision = decision.into();
        req.given_at = at;
        let consent = req.parse(&catalogue(), at).unwrap();
        plan_record(&ledger.records, consent, rid("next"), citizen(), at).unwrap()
    };
    let mut ledger = Ledger::default();
    assert_eq!(
        plan_at(&ledger, "refused", T0).revokes,
        None,
        "nothing before"
    );
    ledger.give("r1", T0, Some(T0 + 10 * DAY));
    assert_eq!(
        plan_at(&ledger, "refused", T0 + DAY).revokes,
        Some(rid("r1"))
    );
    assert_eq!(
        plan_at(&ledger, "given", T0 + DAY).revokes,
        None,
        "a renewal"
    );
    // At its expiry the consent is no longer in force: nothing to revoke.
    assert_eq!(plan_at(&ledger, "refused", T0 + 10 * DAY).revokes, None);
    ledger.refuse("r2", T0 + 2 * DAY);
    assert_eq!(plan_at(&ledger, "refused", T0 + 3 * DAY).revokes, None);
}
