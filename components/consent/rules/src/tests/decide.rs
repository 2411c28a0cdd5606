use super::*;

fn suppression(channel: Channel, since: i64, until: Option<i64>) -> Suppression {
    Suppression::new(
        contact("c1"),
        channel,
        SuppressionReason::RequestedByPerson,
        since,
        until,
    )
    .unwrap()
}

#[test]
fn no_record_means_no_consent() {
    let ledger = Ledger::default();
    assert_eq!(ledger.check(T0), denied(Reason::NoConsent, None));
}

#[test]
fn grant_permits_from_given_at_on() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    assert_eq!(ledger.check(T0), permitted("r1"));
    assert_eq!(ledger.check(T0 + 3650 * DAY), permitted("r1"));
    assert_eq!(
        ledger.check(T0 - 1),
        denied(Reason::NotYetValid, Some("r1"))
    );
}

#[test]
fn refusal_denies() {
    let mut ledger = Ledger::default();
    ledger.refuse("r1", T0);
    assert_eq!(ledger.check(T0 + DAY), denied(Reason::Refused, Some("r1")));
}

#[test]
fn expiry_boundary_is_exact() {
    let mut ledger = Ledger::default();
    let until = T0 + 30 * DAY;
    ledger.give("r1", T0, Some(until));
    assert_eq!(ledger.check(until - 1), permitted("r1"));
    assert_eq!(ledger.check(until), denied(Reason::Expired, Some("r1")));
    assert_eq!(ledger.check(until + 1), denied(Reason::Expired, Some("r1")));
}

#[test]
fn withdrawal_is_effective_for_the_very_next_check() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let withdrawn_at = T0 + DAY;
    ledger.withdraw(withdrawn_at).unwrap();
    assert_eq!(ledger.check(withdrawn_at - 1), permitted("r1"));
    assert_eq!(
        ledger.check(withdrawn_at),
        denied(Reason::Withdrawn, Some("r1"))
    );
    assert_eq!(
        ledger.check(withdrawn_at + 1),
        denied(Reason::Withdrawn, Some("r1"))
    );
}

#[test]
fn refuse_then_give() {
    let mut ledger = Ledger::default();
    ledger.refuse("r1", T0);
    ledger.give("r2", T0 + DAY, None);
    assert_eq!(ledger.check(T0 + DAY), permitted("r2"));
    assert_eq!(ledger.get("r2").supersedes, Some(rid("r1")));
}

#[test]
fn give_withdraw_give_again() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    ledger.withdraw(T0 + DAY).unwrap();
    ledger.give("r2", T0 + 2 * DAY, None);
    assert_eq!(ledger.check(T0 + 2 * DAY), permitted("r2"));
    // The re-grant is a new record; the withdrawn one is kept, superseded.
    assert_eq!(ledger.records.len(), 2);
    assert_eq!(
        status_at(ledger.get("r1"), &ledger.records, T0 + 2 * DAY),
        Status::Superseded
    );
    // Before the re-grant's validity began, the ruling record was not yet valid.
    assert_eq!(
        ledger.check(T0 + DAY),
        denied(Reason::NotYetValid, Some("r2"))
    );
}

#[test]
fn the_newest_record_of_a_supersede_chain_rules() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, Some(T0 + 10 * DAY));
    ledger.give("r2", T0 + DAY, Some(T0 + 100 * DAY));
    ledger.refuse("r3", T0 + 2 * DAY);
    ledger.give("r4", T0 + 3 * DAY, None);
    assert_eq!(ledger.check(T0 + 200 * DAY), permitted("r4"));
    let chain: Vec<Option<&str>> = ledger
        .records
        .iter()
        .map(|r| r.supersedes.as_ref().map(RecordId::as_str))
        .collect();
    assert_eq!(chain, [None, Some("r1"), Some("r2"), Some("r3")]);
    ledger.refuse("r5", T0 + 4 * DAY);
    assert_eq!(
        ledger.check(T0 + 200 * DAY),
        denied(Reason::Refused, Some("r5"))
    );
    assert_eq!(
        current_records(&ledger.records)
            .into_iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["r5"]
    );
}

#[test]
fn other_contacts_purposes_and_channels_do_not_count() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let at = T0 + DAY;
    assert_eq!(
        decide(
            &contact("c2"),
            &purpose("newsletters"),
            Channel::Email,
            &ledger.records,
            &[],
            at
        ),
        denied(Reason::NoConsent, None)
    );
    assert_eq!(
        ledger.check_with(&purpose("newsletters"), Channel::Sms, &[], at),
        denied(Reason::NoConsent, None)
    );
    assert_eq!(
        ledger.check_with(&purpose("status-updates"), Channel::Email, &[], at),
        denied(Reason::NoConsent, None)
    );
}

#[test]
fn a_non_consent_basis_permits_without_a_record() {
    let ledger = Ledger::default();
    let decision = ledger.check_with(&purpose("service-delivery"), Channel::Letter, &[], T0);
    assert_eq!(
        decision,
        Decision {
            permitted: true,
            consent_id: None,
            reason: Reason::LawfulBasis(LawfulBasis::PrimaryPurpose),
        }
    );
    assert_eq!(decision.reason.code(), "lawful-basis:primary-purpose");
    let sharing = ledger.check_with(&purpose("sharing:ato"), Channel::Portal, &[], T0);
    assert!(sharing.permitted);
    assert_eq!(
        sharing.reason.to_string(),
        "lawful-basis:required-or-authorised-by-law"
    );
}

#[test]
fn records_from_when_a_purpose_rested_on_consent_do_not_bear_on_a_new_basis() {
    let mut ledger = Ledger::default();
    ledger.refuse("r1", T0);
    let now_by_law = Purpose::new(
        pid("newsletters"),
        PurposeCategory::Service,
        LawfulBasis::RequiredOrAuthorisedByLaw,
        "Notices the law requires",
    )
    .unwrap();
    assert_eq!(
        ledger
            .check_with(&now_by_law, Channel::Email, &[], T0 + DAY)
            .reason,
        Reason::LawfulBasis(LawfulBasis::RequiredOrAuthorisedByLaw)
    );
}

#[test]
fn suppression_beats_consent() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let list = [suppression(Channel::Email, T0 + DAY, Some(T0 + 2 * DAY))];
    let check = |at| ledger.check_with(&purpose("newsletters"), Channel::Email, &list, at);
    assert_eq!(check(T0 + DAY - 1), permitted("r1"));
    assert_eq!(check(T0 + DAY), denied(Reason::Suppressed, None));
    assert_eq!(check(T0 + 2 * DAY - 1), denied(Reason::Suppressed, None));
    assert_eq!(check(T0 + 2 * DAY), permitted("r1"));
}

#[test]
fn suppression_blocks_service_messages_whatever_their_basis() {
    let ledger = Ledger::default();
    let list = [suppression(Channel::Letter, T0, None)];
    assert_eq!(
        ledger.check_with(&purpose("service-delivery"), Channel::Letter, &list, T0),
        denied(Reason::Suppressed, None)
    );
    assert_eq!(
        ledger.check_with(&purpose("sharing:ato"), Channel::Letter, &list, T0),
        denied(Reason::Suppressed, None)
    );
    // Only the suppressed channel.
    assert!(
        ledger
            .check_with(&purpose("service-delivery"), Channel::Email, &list, T0)
            .permitted
    );
}

#[test]
fn suppression_does_not_bear_on_research_which_contacts_nobody() {
    let mut ledger = Ledger::default();
    let mut req = request();
    req.purpose = "research".into();
    ledger.try_record("r1", req, T0, T0).unwrap();
    let list = [suppression(Channel::Email, T0, None)];
    assert_eq!(
        ledger.check_with(&purpose("research"), Channel::Email, &list, T0),
        permitted("r1")
    );
}

#[test]
fn suppression_of_another_contact_does_not_count() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let other = Suppression::new(
        contact("c2"),
        Channel::Email,
        SuppressionReason::Undeliverable,
        0,
        None,
    )
    .unwrap();
    assert_eq!(
        ledger.check_with(&purpose("newsletters"), Channel::Email, &[other], T0),
        permitted("r1")
    );
}

#[test]
fn reason_codes_are_stable() {
    let codes: Vec<String> = [
        Reason::ConsentGiven,
        Reason::NoConsent,
        Reason::Refused,
        Reason::Withdrawn,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::Suppressed,
        Reason::LawfulBasis(LawfulBasis::PermittedGeneralSituation),
    ]
    .into_iter()
    .map(Reason::code)
    .collect();
    assert_eq!(
        codes,
        [
            "consent-given",
            "no-consent",
            "refused",
            "withdrawn",
            "expired",
            "not-yet-valid",
            "suppressed",
            "lawful-basis:permitted-general-situation",
        ]
    );
}

#[test]
fn status_over_a_records_life() {
    let mut ledger = Ledger::default();
    let until = T0 + 30 * DAY;
    ledger.give("r1", T0, Some(until));
    let r1 = ledger.get("r1").clone();
    assert_eq!(status_at(&r1, &ledger.records, T0), Status::Given);
    assert_eq!(status_at(&r1, &ledger.records, until - 1), Status::Given);
    assert_eq!(status_at(&r1, &ledger.records, until), Status::Expired);

    ledger.withdraw(T0 + DAY).unwrap();
    let r1 = ledger.get("r1").clone();
    assert_eq!(r1.withdrawn_at_ms(), Some(T0 + DAY));
    assert_eq!(status_at(&r1, &[], T0 + DAY - 1), Status::Given);
    assert_eq!(status_at(&r1, &[], T0 + DAY), Status::Withdrawn);
    // Withdrawn before it would have expired: it stays withdrawn.
    assert_eq!(status_at(&r1, &[], until + 1), Status::Withdrawn);

    ledger.give("r2", T0 + 5 * DAY, None);
    // Superseded only once the new record was stored.
    assert_eq!(
        status_at(&r1, &ledger.records, T0 + 5 * DAY - 1),
        Status::Withdrawn
    );
    assert_eq!(
        status_at(&r1, &ledger.records, T0 + 5 * DAY),
        Status::Superseded
    );
    ledger.refuse("r3", T0 + 6 * DAY);
    assert_eq!(
        status_at(ledger.get("r3"), &ledger.records, T0 + 7 * DAY),
        Status::Refused
    );
}

#[test]
fn a_withdrawal_stamped_after_expiry_leaves_it_expired() {
    let mut ledger = Ledger::default();
    let until = T0 + DAY;
    ledger.give("r1", T0, Some(until));
    // plan_withdrawal refuses this; a stored row could still carry it.
    let mut record = ledger.get("r1").clone();
    record.events.push(ConsentEvent {
        at_ms: until,
        kind: EventKind::Withdrawn,
        actor: officer(),
        via: Via::Phone,
        superseded_by: None,
    });
    assert_eq!(status_at(&record, &[], until + 1), Status::Expired);
}

#[test]
fn ruling_ties_go_to_the_later_record() {
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let mut twin = ledger.get("r1").clone();
    twin.id = rid("r1-twin");
    twin.consent.decision = ConsentDecision::Refused;
    ledger.records.push(twin);
    assert_eq!(
        ruling_record(
            &ledger.records,
            &contact("c1"),
            &pid("newsletters"),
            Channel::Email
        )
        .map(|r| r.id.as_str()),
        Some("r1-twin")
    );
}
