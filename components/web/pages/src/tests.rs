use serde_json::json;

use crate::*;

fn chrome() -> Chrome {
    Chrome {
        service_name: "CRM staff console",
        home: "/staff/",
        css: "/assets/app-0123.css".into(),
        js: "/assets/app-4567.mjs".into(),
        nav: vec![NavItem {
            href: "/staff/search",
            label: "Search people",
            current: true,
        }],
        user: Some(SignedIn {
            label: "case-worker (alice)".into(),
            csrf: "csrf-token-1".into(),
        }),
        purpose: Some(PurposeBanner {
            purpose: "case-management".into(),
            change_href: "/staff/purpose?next=%2Fstaff%2Fsearch".into(),
        }),
        banner: None,
    }
}

fn search_page(errors: Errors, name: &str) -> String {
    render(&SearchPage {
        chrome: chrome(),
        name: Field::text("name", "Name").filled(name, &errors),
        email: Field::text("email", "Email address").filled("", &errors),
        phone: Field::text("phone", "Phone number").filled("", &errors),
        results: None,
        can_add: false,
        errors,
    })
}

#[test]
fn a_refused_form_keeps_what_was_typed_and_links_the_summary_to_the_field() {
    let mut errors = Errors::default();
    errors.add("name", "Name must be 100 characters or fewer");
    let html = search_page(errors, "Ada <b>Lovelace</b>");
    assert!(html.contains("<title>Error: Search people"), "{html}");
    assert!(html.contains(r##"<a href="#name">Name must be 100 characters or fewer</a>"##));
    assert!(html.contains(
        r#"class="govuk-error-summary" data-module="govuk-error-summary" tabindex="-1" autofocus"#
    ));
    assert!(html.contains(r#"id="name-error" class="govuk-error-message""#));
    assert!(html.contains(r#"aria-describedby="name-error""#));
    // What was typed comes back, escaped.
    assert!(
        html.contains("value=\"Ada &#60;b&#62;Lovelace&#60;/b&#62;\""),
        "{html}"
    );
    assert!(!html.contains("<b>Lovelace"));
}

#[test]
fn a_page_without_errors_has_no_error_summary() {
    let html = search_page(Errors::default(), "");
    assert!(!html.contains("govuk-error-summary"));
    assert!(html.contains("<title>Search people – CRM staff console</title>"));
}

#[test]
fn every_page_has_the_generic_header_a_skip_link_and_no_inline_script() {
    let html = search_page(Errors::default(), "");
    assert!(html.contains(r#"<html lang="en-AU" class="govuk-template">"#));
    assert!(html.contains(r##"<a href="#main-content" class="govuk-skip-link""##));
    assert!(html.contains(r#"<main class="govuk-main-wrapper" id="main-content">"#));
    assert!(html.contains("govuk-header__service-name\">CRM staff console</a>"));
    // No crown, no GOV.UK logotype: neither is licensed outside gov.uk.
    assert!(!html.contains("govuk-header__logo"));
    assert!(!html.contains("GOV.UK"));
    assert!(html.contains(r#"<script type="module" src="/assets/app-4567.mjs"></script>"#));
    assert_eq!(html.matches("<script").count(), 1, "no inline script");
    // The purpose is shown, and sign-out posts its CSRF token.
    assert!(html.contains("Purpose of use: <strong>case-management</strong>"));
    assert!(html.contains(r#"name="csrf_token" value="csrf-token-1""#));
    assert!(html.contains(r#"aria-current="page""#));
}

#[test]
fn a_radio_groups_error_links_to_its_first_radio() {
    let mut errors = Errors::default();
    errors.add("purpose", "Select why you are opening records");
    let html = render(&PurposePage {
        chrome: chrome(),
        csrf: "t".into(),
        next: "/staff/search".into(),
        purpose: Radios::new(
            "purpose",
            "Purpose of use",
            &[("service-delivery", "service-delivery"), ("audit", "audit")],
            None,
            &errors,
        ),
        errors,
    });
    assert!(html.contains(r#"id="purpose" name="purpose" type="radio" value="service-delivery""#));
    assert!(html.contains(r#"id="purpose-audit" name="purpose" type="radio" value="audit""#));
    assert!(html.contains(r##"<a href="#purpose">"##));
}

#[test]
fn contact_rows_show_each_value_with_where_it_came_from() {
    let record = json!({
        "display_name": "Ada Lovelace",
        "given_name": null,
        "emails": ["ada@example.org", "a@example.org"],
        "phones": [],
        "postal_address": {"lines": ["1 Main St"], "locality": "Canberra", "state": "ACT", "postcode": "2600"},
        "provenance": {
            "emails": {"source": "self-service", "purpose": "service-delivery", "channel": "portal",
                       "collected_at": "2026-12-07T10:00:00Z", "notice_id": "general", "notice_version": 1, "request_id": "r"}
        }
    });
    let rows = api::contact_rows(&record);
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["Name", "Email addresses", "Postal address"]);
    assert_eq!(rows[1].lines, ["ada@example.org", "a@example.org"]);
    assert_eq!(
        rows[1].source.as_deref(),
        Some("Given by portal on 7 December 2026 (self service, for service delivery)")
    );
    assert_eq!(rows[2].lines, ["1 Main St", "Canberra ACT 2600"]);
    assert_eq!(rows[0].source, None);
}

#[test]
fn a_refused_reply_is_shown_on_its_own_case_only() {
    let mine = json!({"cases": [
        {"id": "cas_1", "reference": "CAS-2026-000001", "subject": "Rates", "status": "new", "status_label": "New",
         "opened_at": "2026-12-01T09:00:00Z", "activities": [
            {"from": "you", "subject": "Hello", "body": "Question", "created_at": "2026-12-02T09:30:00Z"}]},
        {"id": "cas_2", "reference": "CAS-2026-000002", "subject": "Bins", "status": "new", "opened_at": "2026-12-01T09:00:00Z"}
    ]});
    let mut errors = Errors::default();
    errors.add(api::reply_field_id("cas_2"), "Enter your reply");
    let cases = api::citizen_cases(&mine, Some(("cas_2", "  ")), &errors);
    assert_eq!(cases[0].reply.error, None);
    assert_eq!(cases[0].status, "New");
    assert_eq!(cases[0].messages[0].from, "You");
    assert_eq!(cases[0].messages[0].when, "2 December 2026, 09:30 UTC");
    assert_eq!(cases[1].reply.error.as_deref(), Some("Enter your reply"));
    assert_eq!(cases[1].reply.value, "  ");
    let html = render(&MyCasesPage {
        chrome: chrome(),
        errors,
        csrf: "t".into(),
        cases,
    });
    assert!(html.contains(r#"id="reply-cas_2" name="reply""#));
    assert!(html.contains(r##"<a href="#reply-cas_2">Enter your reply</a>"##));
}

#[test]
fn versions_are_listed_newest_first_with_who_changed_them() {
    let history = json!({"versions": [
        {"version": 1, "change": "created", "recorded_at": "2026-12-01T09:00:00Z",
         "actor": {"role": "intake-officer", "id": "staff:intake-1"}, "reason": null},
        {"version": 2, "change": "corrected", "recorded_at": "2026-12-02T10:15:00Z",
         "actor": {"role": "citizen"}, "reason": "moved house"}
    ]});
    let lines = api::versions(&history);
    assert_eq!(lines[0].version, 2);
    assert_eq!(lines[0].by, "citizen");
    assert_eq!(lines[0].reason, "moved house");
    assert_eq!(lines[1].by, "intake-officer (staff:intake-1)");
    assert_eq!(lines[1].when, "1 December 2026, 09:00 UTC");
}
