use serde_json::json;

use super::cases::{CaseAction, QueueFilters, SlaTag, queue_lines, refusal as case_refusal};
use super::correct::changed_details;
use super::details::{ContactDetails, Identifying, refusal};
use super::intake::{NewContactDraft, candidate_lines, reason};
use super::notify::ConsentDecision;
use super::record::{RecordAccess, RecordHeader, RecordSection, relationships};

fn typed(pairs: &[(&str, &str)]) -> ContactDetails {
    let form: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ContactDetails::from_form(&form)
}

#[test]
fn typed_details_become_the_apis_fields_and_blank_ones_none() {
    let details = typed(&[
        ("archetype", "individual"),
        ("given_name", " Ada "),
        ("family_name", "Lovelace"),
        ("emails", "ada@example.org\n\n  a@example.org "),
        ("birth-day", "7"),
        ("birth-month", "12"),
        ("birth-year", "1815"),
        ("address_line_1", "1 Main St"),
        ("locality", "Canberra"),
        ("postcode", "2600"),
    ]);
    let fields = details.to_fields(Identifying::Shown).unwrap();
    assert_eq!(fields["given_name"], "Ada");
    assert_eq!(fields["organisation_name"], serde_json::Value::Null);
    assert_eq!(
        fields["emails"],
        json!(["ada@example.org", "a@example.org"])
    );
    assert_eq!(fields["phones"], json!([]));
    assert_eq!(fields["date_of_birth"], "1815-12-07");
    assert_eq!(
        fields["postal_address"],
        json!({"lines": ["1 Main St"], "locality": "Canberra", "state": null, "postcode": "2600"})
    );
    assert_eq!(fields["preferred_channel"], serde_json::Value::Null);
}

#[test]
fn a_date_of_birth_needs_all_three_boxes_and_numbers() {
    for (day, month, year, error) in [
        (
            "7",
            "",
            "1815",
            "Date of birth must include a day, month and year",
        ),
        (
            "seven",
            "12",
            "1815",
            "Date of birth must be a real date, for example 27 3 1985",
        ),
        (
            "7",
            "12",
            "15",
            "Date of birth must be a real date, for example 27 3 1985",
        ),
    ] {
        let details = typed(&[
            ("birth-day", day),
            ("birth-month", month),
            ("birth-year", year),
        ]);
        let errors = details.to_fields(Identifying::Shown).unwrap_err();
        assert_eq!(errors.for_field("birth-day").as_deref(), Some(error));
    }
}

#[test]
fn a_record_reads_back_into_the_form_and_only_changed_fields_are_sent() {
    let record = json!({
        "archetype": "individual", "given_name": "Ada", "family_name": "Lovelace",
        "emails": ["ada@example.org"], "phones": ["+61412345678"], "date_of_birth": "1815-12-07",
        "postal_address": {"lines": ["1 Main St", "Unit 2"], "locality": "Canberra", "state": "ACT", "postcode": "2600"},
        "preferred_channel": "email"
    });
    let seen = ContactDetails::from_record(&record);
    assert_eq!(seen.birth_day, "07");
    assert_eq!(seen.postal.line_2, "Unit 2");
    assert_eq!(
        seen.changes_since(&seen, Identifying::Shown).unwrap().len(),
        0
    );
    let mut now = seen.clone();
    now.family_name = "King".into();
    now.phones = String::new();
    let changes = now.changes_since(&seen, Identifying::Shown).unwrap();
    assert_eq!(
        serde_json::Value::Object(changes),
        json!({"family_name": "King", "phones": []})
    );
    let current = ContactDetails {
        given_name: "Augusta".into(),
        ..seen.clone()
    };
    let changed = changed_details(&seen, &current, Identifying::Shown);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].detail, "Given names");
    assert_eq!(changed[0].was, ["Ada"]);
    assert_eq!(changed[0].now, ["Augusta"]);
}

#[test]
fn every_field_reads_back_into_the_form_and_is_sent_only_when_changed() {
    let record = json!({
        "archetype": "individual", "family_name": "Lovelace",
        "date_of_birth": "1815-12-07",
        "identifiers": [{"scheme": "abn", "value": "51824753556"}, {"scheme": "crn", "value": "123456789A"}],
        "postal_address": {"lines": ["1 Main St"], "locality": "Canberra", "state": "ACT", "postcode": "2600", "country": "AU"},
        "residential_address": {"lines": ["2 Rue Haute"], "locality": "Paris", "state": null, "postcode": "75001", "country": "FR"},
        "language": "fr",
        "accessibility_needs": {"interpreter": "vi", "large_print": true, "tty": false, "auslan": true, "other": null},
        "tags": ["vip", "carer"]
    });
    let seen = ContactDetails::from_record(&record);
    assert_eq!(seen.identifiers, "abn: 51824753556\ncrn: 123456789A");
    assert_eq!(seen.postal.country, "", "Australia is the default");
    assert_eq!(seen.residential.country, "FR");
    assert_eq!(seen.accessibility, ["large_print", "auslan"]);
    assert_eq!(seen.tags, "vip\ncarer");
    assert!(
        seen.changes_since(&seen, Identifying::Shown)
            .unwrap()
            .is_empty()
    );

    let now = typed(&[
        ("archetype", "individual"),
        ("family_name", "Lovelace"),
        ("birth-day", "07"),
        ("birth-month", "12"),
        ("birth-year", "1815"),
        ("identifiers", "abn: 51824753556\n medicare : 2123 45670 1 "),
        ("address_line_1", "1 Main St"),
        ("locality", "Canberra"),
        ("state", "ACT"),
        ("postcode", "2600"),
        ("residential_address_line_1", "2 Rue Haute"),
        ("residential_locality", "Paris"),
        ("residential_postcode", "75001"),
        ("residential_country", "FR"),
        ("language", "en"),
        ("accessibility", "tty"),
        ("interpreter", ""),
        ("accessibility_other", "Calls after 10am"),
        ("tags", "vip"),
    ]);
    let changes = now.changes_since(&seen, Identifying::Shown).unwrap();
    assert_eq!(
        serde_json::Value::Object(changes),
        json!({
            "identifiers": [{"scheme": "abn", "value": "51824753556"}, {"scheme": "medicare", "value": "2123 45670 1"}],
            "language": "en",
            "accessibility_needs": {"interpreter": null, "large_print": false, "tty": true, "auslan": false, "other": "Calls after 10am"},
            "tags": ["vip"]
        })
    );
    let rows = now.rows(Identifying::Shown);
    let row = |key: &str| rows.iter().find(|r| r.key == key).unwrap().lines.clone();
    assert_eq!(
        row("Residential address"),
        ["2 Rue Haute", "Paris 75001", "FR"]
    );
    assert_eq!(
        row("Accessibility needs"),
        ["TTY or the National Relay Service", "Calls after 10am"]
    );
}

/// A reader who may not see identifying details is neither shown them
/// nor sends them, even when a forged form carries them.
#[test]
fn identifying_details_are_neither_shown_nor_sent_to_a_reader_who_may_not_see_them() {
    let seen =
        ContactDetails::from_record(&json!({"archetype": "individual", "family_name": "Hidden"}));
    let forged = typed(&[
        ("archetype", "individual"),
        ("family_name", "Hidden"),
        ("identifiers", "abn: 51824753556"),
        ("birth-day", "1"),
        ("birth-month", "2"),
        ("birth-year", "1990"),
    ]);
    assert!(
        forged
            .changes_since(&seen, Identifying::Hidden)
            .unwrap()
            .is_empty()
    );
    let fields = forged.to_fields(Identifying::Hidden).unwrap();
    assert!(!fields.contains_key("identifiers") && !fields.contains_key("date_of_birth"));
    let form = forged.form(&crate::Errors::default(), Identifying::Hidden);
    assert!(form.identifiers.is_none() && form.birth.is_none());
    let keys: Vec<String> = forged
        .rows(Identifying::Hidden)
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert!(
        !keys
            .iter()
            .any(|k| k == "Identifiers" || k == "Date of birth")
    );
}

#[test]
fn an_identifier_needs_its_scheme_before_a_colon() {
    let errors = typed(&[("identifiers", "abn: 51824753556\n51824753556")])
        .to_fields(Identifying::Shown)
        .unwrap_err();
    assert_eq!(
        errors.for_field("identifiers").as_deref(),
        Some(
            "Identifier 2 must be a scheme, a colon and the number, for example abn: 51 824 753 556"
        )
    );
}

#[test]
fn api_refusals_name_the_box_they_are_about() {
    assert_eq!(
        refusal("emails[1]", "must contain @"),
        ("emails".into(), "Email address 2 must contain @".into())
    );
    assert_eq!(
        refusal("changes.family_name", "is too long"),
        ("family_name".into(), "Family name is too long".into())
    );
    assert_eq!(refusal("postal_address.lines[1]", "x").0, "address_line_2");
    assert_eq!(refusal("postal_address.postcode", "x").0, "postcode");
    assert_eq!(refusal("date_of_birth", "x").0, "birth-day");
    assert_eq!(
        refusal("identifiers[1].value", "must be 11 digits"),
        (
            "identifiers".into(),
            "Identifier 2 must be 11 digits".into()
        )
    );
    assert_eq!(
        refusal("residential_address.lines[1]", "is too long"),
        (
            "residential_address_line_2".into(),
            "Residential address line 2 is too long".into()
        )
    );
    assert_eq!(
        refusal("changes.residential_address.postcode", "must be 4 digits"),
        (
            "residential_postcode".into(),
            "Residential postcode must be 4 digits".into()
        )
    );
    assert_eq!(
        refusal("postal_address.state", "x").1,
        "State or territory x"
    );
    assert_eq!(refusal("language", "x").0, "language");
    assert_eq!(
        refusal("accessibility_needs.interpreter", "x").0,
        "interpreter"
    );
    assert_eq!(
        refusal("accessibility_needs.other", "x").0,
        "accessibility_other"
    );
    assert_eq!(
        refusal("tags[0]", "must be lower case"),
        ("tags".into(), "Tag 1 must be lower case".into())
    );
    assert_eq!(
        refusal("relationships", "is wrong"),
        ("archetype".into(), "relationships is wrong".into())
    );
    assert_eq!(
        case_refusal(CaseAction::Participant, "kind", "must be contact or staff").0,
        "party_kind"
    );
    assert_eq!(case_refusal(CaseAction::Activity, "kind", "x").0, "kind");
    assert_eq!(case_refusal(CaseAction::Transition, "", "x").0, "to");
}

#[test]
fn candidates_show_the_apis_reasons_in_words() {
    let candidates = json!([
        {"contact_id": "con_1", "score": 1.0, "display_name": "Ada Lovelace",
         "reasons": [{"rule": "same-email"}, {"rule": "different-date-of-birth"}]},
        {"contact_id": "con_2", "score": 0.87,
         "reasons": [{"rule": "similar-name", "similarity": 0.93}, {"rule": "near-date-of-birth", "difference": "day-month-swapped"}]}
    ]);
    let lines = candidate_lines(&candidates);
    assert_eq!(
        lines[0].reasons,
        ["Same email address", "A different date of birth"]
    );
    assert_eq!(lines[0].strength, "Certain: they share an identifier");
    assert_eq!(lines[1].name, None, "a role not told names sees none");
    assert_eq!(lines[1].strength, "87% alike");
    assert_eq!(
        lines[1].reasons,
        [
            "Similar name (93% alike)",
            "Date of birth with the day and month swapped"
        ]
    );
    assert_eq!(reason(&json!({"rule": "brand-new-rule"})), "brand new rule");
    let draft = NewContactDraft {
        candidates,
        ..NewContactDraft::default()
    };
    assert!(draft.has_candidates() && draft.is_candidate("con_2") && !draft.is_candidate("con_3"));
}

#[test]
fn a_records_header_offers_only_what_the_role_allows() {
    let record = json!({"id": "con_9", "display_name": "Ada", "version": 3});
    let header = RecordHeader::new(
        &record,
        RecordSection::Consents,
        RecordAccess {
            consents: true,
            send_message: true,
            ..RecordAccess::default()
        },
    );
    let sections: Vec<(&str, bool)> = header
        .sections
        .iter()
        .map(|s| (s.href.as_str(), s.current))
        .collect();
    assert_eq!(
        sections,
        [
            ("/staff/contacts/con_9", false),
            ("/staff/contacts/con_9/consents", true)
        ]
    );
    let actions: Vec<&str> = header.actions.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(actions, ["Send a message"]);
    assert_eq!(relationships(&record), None, "not answered: not shown");
    let related =
        relationships(&json!({"relationships": [{"kind": "partner-of", "contact_id": "con_2"}]}));
    assert_eq!(related.unwrap()[0].kind, "Partner of");
}

#[test]
fn sla_tags_and_queue_filters() {
    assert_eq!(SlaTag::new(Some("breached"), None).class, "govuk-tag--red");
    assert_eq!(
        SlaTag::new(Some("in-progress"), Some("2026-12-09T05:00:00Z")).label,
        "Due 9 December 2026, 05:00 UTC"
    );
    assert_eq!(SlaTag::new(None, None).label, "No SLA");
    let page = json!({"cases": [{"id": "cas_1", "reference": "CAS-2026-000001", "status": "in-progress",
                                 "priority": "high", "assignee": null, "sla_state": "warning"}]});
    let labels = vec![("in-progress".to_string(), "In progress".to_string())];
    let lines = queue_lines(&page, &labels);
    assert_eq!(lines[0].status, "In progress");
    assert_eq!(lines[0].assignee, "Nobody");
    assert_eq!(lines[0].sla.label, "Warning");
    let pairs: Vec<(String, String)> = [
        ("queue_id", "rates"),
        ("priority", "urgent"),
        ("priority", "high"),
        ("sla_state", "breached"),
        ("status", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let filters = QueueFilters::from_query(&pairs);
    assert!(filters.any());
    let query = filters.api_query();
    assert!(
        query.contains(&("category", "open".to_string())),
        "no status: open ones"
    );
    assert!(query.contains(&("priority", "urgent,high".to_string())));
    assert!(query.contains(&("queue_id", "rates".to_string())));
    assert_eq!(filters.page_query().len(), 4);
    assert!(!QueueFilters::default().any());
}

#[test]
fn the_consent_decision_is_said_in_words() {
    let decision = |permitted: bool, reason: &str| {
        ConsentDecision::from_api(&json!({"permitted": permitted, "reason": reason,
                                          "purpose": "status-updates", "channel": "sms"}))
    };
    assert_eq!(
        decision(false, "withdrawn").explanation,
        "They withdrew their consent to status updates by text message."
    );
    assert_eq!(
        decision(true, "lawful-basis:primary-purpose").explanation,
        "No consent is needed: status updates rests on primary purpose."
    );
    assert!(!decision(false, "suppressed").permitted);
}

#[test]
fn a_suppressed_count_is_a_gap_in_its_line_and_a_word_in_its_table() {
    let stats = json!({
        "columns": ["2026-W48", "2026-W49", "2026-W50"],
        "rows": [
            {"label": "phone", "cells": [{"count": 7, "suppressed": false}, {"count": null, "suppressed": true},
                                         {"count": 12, "suppressed": false}], "total": {"count": 22, "suppressed": false}},
        ],
        "column_totals": [{"count": 7, "suppressed": false}, {"count": null, "suppressed": true},
                          {"count": 12, "suppressed": false}],
        "grand_total": {"count": 22, "suppressed": false},
        "min_cell": 5
    });
    let drawn = super::reports::trends(&stats);
    let phone = &drawn.chart.series[0];
    assert_eq!(phone.runs.len(), 2, "the suppressed week breaks the line");
    assert_eq!(phone.dots.len(), 2);
    assert_eq!(phone.dots[1].label, "phone, 2026-W50: 12");
    // 12 on a scale up to 20: the top of the plot is 20.
    assert_eq!(drawn.chart.y_ticks.last().unwrap().label, "20");
    assert!(drawn.any_suppressed);
    assert_eq!(
        drawn.table.rows[0],
        (
            "phone".to_string(),
            vec!["7".into(), "suppressed".into(), "12".into(), "22".into()]
        )
    );
    assert_eq!(drawn.table.rows[1].0, "All");
    assert_eq!(
        drawn.table.columns.last().map(String::as_str),
        Some("Total")
    );
}

#[test]
fn the_sla_summary_stacks_each_queues_clocks_by_state() {
    let summary = super::reports::sla_summary(&json!({"counts": [
        {"queue_id": "rates", "state": "breached", "count": 2},
        {"queue_id": "rates", "state": "in-progress", "count": 6},
        {"queue_id": null, "state": "in-progress", "count": 1}
    ]}));
    assert_eq!(
        summary.table.rows[0],
        (
            "rates".to_string(),
            ["2", "0", "6", "0", "0", "0", "8"]
                .map(String::from)
                .to_vec()
        )
    );
    assert_eq!(summary.table.rows[1].0, "No queue");
    let rates = &summary.chart.bars[0];
    assert_eq!(rates.segments.len(), 2);
    assert_eq!(rates.segments[0].label, "rates: 2 breached");
    // The longest bar fills the plot; segments follow on.
    let end = rates.segments[1].x + rates.segments[1].width;
    assert!((end - (640.0 - 16.0)).abs() < 0.01, "{end}");
}

#[test]
fn the_trails_dates_are_whole_utc_days() {
    let pairs: Vec<(String, String)> = [
        ("actor", "staff:alice"),
        ("since-day", "7"),
        ("since-month", "12"),
        ("since-year", "2026"),
        ("until-day", "7"),
        ("until-month", "12"),
        ("until-year", "2026"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let filters = super::audit::AuditFilters::from_query(&pairs);
    let query = filters.api_query().unwrap();
    // 2026-12-07T00:00:00Z, and the day after for the exclusive end.
    assert!(
        query.contains(&("since", "1796601600000".to_string())),
        "{query:?}"
    );
    assert!(
        query.contains(&("until", "1796688000000".to_string())),
        "{query:?}"
    );
    assert!(query.contains(&("actor", "staff:alice".to_string())));
    let bad = super::audit::AuditFilters::from_query(&[
        ("until-day".into(), "31".into()),
        ("until-month".into(), "2".into()),
        ("until-year".into(), "2026".into()),
    ]);
    let errors = bad.api_query().unwrap_err();
    assert_eq!(
        errors.for_field("until-day").as_deref(),
        Some("To date must be a real date, for example 27 3 2026")
    );
}
