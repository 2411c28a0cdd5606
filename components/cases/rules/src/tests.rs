use crm_auth::policy::Role;
use proptest::prelude::*;

use crate::{
    Activity, ActivityKind, CaseFacts, CaseReference, CaseTypeKey, ClosurePolicy, Direction,
    Effect, OpeningRequest, StatusKey, TransitionError, Workflow, citizen_opening_refusals,
    counts_as_first_response,
};

fn key(k: &str) -> StatusKey {
    StatusKey::parse(k).unwrap()
}

fn housing() -> CaseTypeKey {
    CaseTypeKey::parse("housing-repair").unwrap()
}

const NO_CHILDREN: CaseFacts = CaseFacts {
    resolved_days_ago: None,
    open_children: 0,
    closure_policy: ClosurePolicy::CloseChildren,
};

#[test]
fn references_read_back_what_they_write() {
    let first = CaseReference::new(2026, 123).unwrap();
    assert_eq!(first.to_string(), "CAS-2026-000123");
    assert_eq!("cas-2026-000123".parse::<CaseReference>().unwrap(), first);
    assert_eq!(first.next().unwrap().to_string(), "CAS-2026-000124");
    assert_eq!(
        CaseReference::new(2027, 1_234_567).unwrap().to_string(),
        "CAS-2027-1234567"
    );
    for bad in [
        "",
        "CAS-2026-",
        "CAS-26-000001",
        "CAS-2026-12",
        "CAS-2026-000000",
        "CASE-2026-000001",
        "CAS-2026-00001x",
        "CAS-1999-000001",
    ] {
        assert!(bad.parse::<CaseReference>().is_err(), "{bad}");
    }
}

#[test]
fn the_default_workflow_allows_what_each_role_does() {
    let workflow = Workflow::defaults(30);
    let targets = |roles: &[Role], from: &str| {
        workflow
            .allowed_targets(roles, &housing(), &key(from))
            .iter()
            .map(|k| k.as_str().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        targets(&[Role::CaseWorker], "in-progress"),
        [
            "awaiting-citizen",
            "awaiting-third-party",
            "resolved",
            "withdrawn",
            "rejected",
            "duplicate"
        ]
    );
    assert_eq!(
        targets(&[Role::IntakeOfficer], "new"),
        ["assigned", "rejected", "duplicate", "withdrawn"]
    );
    assert!(targets(&[Role::IntakeOfficer], "in-progress").is_empty());
    assert_eq!(
        targets(&[Role::Citizen], "awaiting-citizen"),
        ["in-progress", "withdrawn"]
    );
    assert!(targets(&[Role::Auditor], "new").is_empty());
    // Both clocks-pausing statuses say so, and no other.
    let pausing: Vec<&str> = workflow
        .statuses()
        .iter()
        .filter(|s| s.pauses_sla)
        .map(|s| s.key.as_str())
        .collect();
    assert_eq!(pausing, ["awaiting-citizen", "awaiting-third-party"]);
}

#[test]
fn an_illegal_change_names_the_allowed_targets() {
    let workflow = Workflow::defaults(30);
    let refused = workflow
        .check(
            &[Role::CaseWorker],
            &housing(),
            &key("new"),
            &key("closed"),
            NO_CHILDREN,
        )
        .unwrap_err();
    assert_eq!(
        refused,
        TransitionError::NotAllowed {
            from: "new".into(),
            to: "closed".into(),
            allowed: [
                "assigned",
                "in-progress",
                "withdrawn",
                "rejected",
                "duplicate"
            ]
            .map(String::from)
            .to_vec(),
        }
    );
    assert!(
        refused
            .to_string()
            .contains("allowed: assigned, in-progress"),
        "{refused}"
    );
    assert_eq!(
        workflow.check(
            &[Role::CaseWorker],
            &housing(),
            &key("new"),
            &key("lost"),
            NO_CHILDREN
        ),
        Err(TransitionError::UnknownStatus("lost".into()))
    );
}

#[test]
fn a_resolved_case_reopens_only_within_its_window() {
    let workflow = Workflow::defaults(30);
    let reopen = |days| {
        workflow.check(
            &[Role::CaseWorker],
            &housing(),
            &key("resolved"),
            &key("in-progress"),
            CaseFacts {
                resolved_days_ago: Some(days),
                ..NO_CHILDREN
            },
        )
    };
    assert_eq!(reopen(30), Ok(Effect::None));
    assert_eq!(
        reopen(31),
        Err(TransitionError::ReopenWindowPassed {
            days_ago: 31,
            window: 30
        })
    );
}

#[test]
fn closing_a_parent_follows_its_closure_policy() {
    let workflow = Workflow::defaults(30);
    let resolve = |open_children, closure_policy| {
        workflow.check(
            &[Role::CaseWorker],
            &housing(),
            &key("in-progress"),
            &key("resolved"),
            CaseFacts {
                resolved_days_ago: None,
                open_children,
                closure_policy,
            },
        )
    };
    assert_eq!(
        resolve(2, ClosurePolicy::CloseChildren),
        Ok(Effect::CloseChildren)
    );
    assert_eq!(
        resolve(2, ClosurePolicy::BlockWhileChildOpen),
        Err(TransitionError::ChildrenOpen(2))
    );
    assert_eq!(
        resolve(0, ClosurePolicy::BlockWhileChildOpen),
        Ok(Effect::None)
    );
    // Moving between open statuses closes nothing.
    assert_eq!(
        workflow.check(
            &[Role::CaseWorker],
            &housing(),
            &key("in-progress"),
            &key("awaiting-citizen"),
            CaseFacts {
                resolved_days_ago: None,
                open_children: 2,
                closure_policy: ClosurePolicy::BlockWhileChildOpen
            },
        ),
        Ok(Effect::None)
    );
}

#[test]
fn a_table_naming_an_unknown_status_is_refused() {
    let defaults = Workflow::defaults(30);
    let transitions = vec![crate::Transition {
        role: Role::CaseWorker,
        case_type: Some(housing()),
        from: key("new"),
        to: key("archived"),
    }];
    assert_eq!(
        Workflow::new(defaults.statuses().to_vec(), transitions, 30).unwrap_err(),
        TransitionError::UnknownStatus("archived".into())
    );
}

#[test]
fn only_a_staff_message_that_reaches_the_citizen_is_a_first_response() {
    let activity = |kind, direction, by_staff, citizen_visible| Activity {
        kind,
        direction,
        by_staff,
        citizen_visible,
    };
    use ActivityKind::*;
    use Direction::*;
    assert!(counts_as_first_response(&activity(
        Email, Outbound, true, true
    )));
    assert!(counts_as_first_response(&activity(
        Notification,
        Outbound,
        true,
        true
    )));
    assert!(counts_as_first_response(&activity(
        Call, Outbound, true, true
    )));
    assert!(
        !counts_as_first_response(&activity(Note, Internal, true, false)),
        "internal note"
    );
    assert!(
        !counts_as_first_response(&activity(Note, Outbound, true, true)),
        "a note, even visible"
    );
    assert!(
        !counts_as_first_response(&activity(Assignment, Internal, true, true)),
        "assignment"
    );
    assert!(
        !counts_as_first_response(&activity(Email, Outbound, true, false)),
        "not visible"
    );
    assert!(
        !counts_as_first_response(&activity(CitizenMessage, Inbound, false, true)),
        "the citizen's own"
    );
    assert!(
        !counts_as_first_response(&activity(Email, Outbound, false, true)),
        "sent by the system"
    );
}

#[test]
fn a_citizen_opens_only_kinds_of_case_open_to_them_and_sets_nothing_staff_decide() {
    let plain = OpeningRequest::default();
    assert!(citizen_opening_refusals(&plain, true).is_empty());
    assert_eq!(
        citizen_opening_refusals(&plain, false),
        [("case_type", "is not a kind of case you can open yourself")]
    );
    let everything = OpeningRequest {
        priority: true,
        contact_id: true,
        queue_id: true,
        assignee: true,
        parent_id: true,
        confidentiality: true,
        participants: true,
    };
    let fields: Vec<&str> = citizen_opening_refusals(&everything, false)
        .iter()
        .map(|(field, _)| *field)
        .collect();
    assert_eq!(
        fields,
        [
            "case_type",
            "contact_id",
            "priority",
            "queue_id",
            "assignee",
            "parent_id",
            "confidentiality",
            "participants"
        ]
    );
}

proptest! {
    #[test]
    fn any_reference_reads_back(year in 2000u16..=9999, number in 1u32..1_000_000_000) {
        let reference = CaseReference::new(year, number).unwrap();
        prop_assert_eq!(reference.to_string().parse::<CaseReference>().unwrap(), reference);
    }

    /// Whatever the table allows a role, `check` allows; whatever it does
    /// not, `check` refuses naming exactly what it does allow.
    #[test]
    fn check_agrees_with_the_table(from in 0usize..10, to in 0usize..10, role in 0usize..7) {
        let workflow = Workflow::defaults(30);
        let keys: Vec<StatusKey> = workflow.statuses().iter().map(|s| s.key.clone()).collect();
        let roles = [Role::IntakeOfficer, Role::CaseWorker, Role::CommunicationsOfficer, Role::Auditor, Role::Administrator, Role::Citizen, Role::Service];
        let roles = [roles[role]];
        let facts = CaseFacts { resolved_days_ago: Some(0), ..NO_CHILDREN };
        let allowed = workflow.allowed_targets(&roles, &housing(), &keys[from]).contains(&&keys[to]);
        match workflow.check(&roles, &housing(), &keys[from], &keys[to], facts) {
            Ok(_) => prop_assert!(allowed),
            Err(TransitionError::NotAllowed { allowed: named, .. }) => {
                prop_assert!(!allowed);
                let expected: Vec<String> = workflow.allowed_targets(&roles, &housing(), &keys[from]).iter().map(|k| k.as_str().to_string()).collect();
                prop_assert_eq!(named, expected);
            }
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    /// Each staff-only field named is refused on its own, whatever else is.
    #[test]
    fn each_staff_only_field_is_refused_alone(bits in 0u8..128, openable: bool) {
        let named = |i: u8| bits & (1 << i) != 0;
        let request = OpeningRequest {
            priority: named(0),
            contact_id: named(1),
            queue_id: named(2),
            assignee: named(3),
            parent_id: named(4),
            confidentiality: named(5),
            participants: named(6),
        };
        let refusals = citizen_opening_refusals(&request, openable);
        prop_assert_eq!(refusals.len(), bits.count_ones() as usize + usize::from(!openable));
    }
}
