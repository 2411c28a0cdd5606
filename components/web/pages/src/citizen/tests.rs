use serde_json::json;

use super::access_log::{self, WhoLookedPage};
use super::consents::{self, ConsentChoicePage, ConsentReceiptPage, MyConsentsPage, NoticeLink};
use super::correction::{self, CorrectionPage};
use super::messages::{self, MyMessagesPage};
use super::{PORTAL_NAV, sentence};
use crate::*;

fn chrome(current: &str) -> Chrome {
    Chrome {
        service_name: "Your agency record",
        home: "/",
        css: "/assets/app-0123.css".into(),
        js: "/assets/app-4567.mjs".into(),
        nav: PORTAL_NAV
            .iter()
            .map(|(href, label)| NavItem {
                href,
                label,
                current: *href == current,
            })
            .collect(),
        user: Some(SignedIn {
            label: "citizen (ada)".into(),
            csrf: "csrf-token-1".into(),
        }),
        purpose: None,
        banner: None,
    }
}

const T0: i64 = 1_796_601_600_000; // 2026-12-07T00:00:00Z

fn consents() -> serde_json::Value {
    let record = |id: &str, purpose: &str, channel: &str, decision: &str, status: &str| {
        json!({"id": id, "purpose": purpose, "channel": channel, "decision": decision, "status": status,
               "recorded_at": T0, "collection": {"method": "phone-call"},
               "events": [{"at": T0, "kind": decision}, {"at": T0 + 86_400_000, "kind": "receipt-issued"}]})
    };
    let mut withdrawn = record("cns_2", "status-updates", "sms", "given", "withdrawn");
    withdrawn["events"]
        .as_array_mut()
        .unwrap()
        .push(json!({"at": T0 + 2 * 86_400_000, "kind": "withdrawn"}));
    withdrawn["collection"]["method"] = json!("portal-form");
    json!({
        "contact_id": "con_1",
        "current": [record("cns_1", "newsletters", "email", "given", "given"), withdrawn.clone()],
        "history": [withdrawn, record("cns_1", "newsletters", "email", "given", "given"),
                    record("cns_0", "sharing:housing", "letter", "refused", "superseded")],
    })
}

fn catalogue() -> serde_json::Value {
    json!({"purposes": [
        {"id": "service-delivery", "lawful_basis": "primary-purpose", "description": "Delivering the services you ask for."},
        {"id": "newsletters", "lawful_basis": "consent", "description": "Newsletters."},
        {"id": "status-updates", "lawful_basis": "consent", "description": "Messages about your case."}
    ]})
}

#[test]
fn consents_show_each_choice_now_and_every_decision_with_its_receipt() {
    let purposes = consents::purposes(&catalogue(), false);
    let current = consents::current(&consents(), &purposes);
    assert_eq!(current[0].purpose, "Newsletters");
    assert_eq!(current[0].channel, "Email");
    assert_eq!(current[0].status, "Given");
    assert!(current[0].withdrawable);
    // The withdrawal, not the later receipt, is when it came to be so.
    assert_eq!(current[1].since, "9 December 2026");
    assert_eq!(current[1].status, "Withdrawn");
    assert!(!current[1].withdrawable);
    assert_eq!(current[1].channel, "Text message");
    assert_eq!(
        current[1].change_href,
        "/my-consents/choose?purpose=status-updates&channel=sms"
    );
    assert_eq!(current[1].receipt_href, "/my-consents/cns_2/receipt");
    let history = consents::history(&consents(), &purposes);
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].made, "In this portal");
    assert_eq!(history[1].made, "By phone");
    // A purpose the catalogue does not hold is named from its id.
    assert_eq!(history[2].purpose, "Sharing:housing");
    assert_eq!(history[2].decision, "Did not agree");
    assert_eq!(history[2].status, "Replaced by a later decision");
    assert_eq!(history[2].recorded, "7 December 2026, 00:00 UTC");

    let mut errors = Errors::default();
    let button = consents::withdraw_id("newsletters", "email");
    errors.add(&button, "There is no consent in force");
    let html = render(&MyConsentsPage {
        chrome: chrome("/my-consents"),
        errors,
        csrf: "csrf-token-1".into(),
        current,
        history,
    });
    // Only consent in force has a withdraw button, and it posts the CSRF
    // token with the purpose and channel; the summary links to it.
    assert_eq!(html.matches(r#"action="/my-consents/withdraw""#).count(), 1);
    assert!(
        html.contains(r#"id="withdraw-newsletters-email""#),
        "{html}"
    );
    assert!(html.contains(r##"<a href="#withdraw-newsletters-email">"##));
    assert!(html.contains(r#"name="purpose" value="newsletters""#));
    assert_eq!(
        html.matches(r#"name="csrf_token" value="csrf-token-1""#)
            .count(),
        2
    );
    assert!(html.contains(r#"href="/my-consents/cns_0/receipt""#));
}

#[test]
fn the_choice_form_offers_only_purposes_resting_on_consent_and_keeps_what_was_chosen() {
    let purposes = consents::purposes(&catalogue(), true);
    let ids: Vec<&str> = purposes.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["newsletters", "status-updates"]);
    let notices = json!({"privacy_notices": [
        {"id": "general", "version": 1, "title": "Old", "url": "https://crm.gov.au/privacy/general/v1"},
        {"id": "general", "version": 2, "title": "How we handle it", "url": "https://crm.gov.au/privacy/general/v2"},
        {"id": "other", "version": 9, "title": "Other"}
    ]});
    let notice = consents::newest_notice(&notices, "general").unwrap();
    assert_eq!(
        notice,
        NoticeLink {
            id: "general".into(),
            version: 2,
            title: "How we handle it".into(),
            url: Some("https://crm.gov.au/privacy/general/v2".into()),
        }
    );
    assert_eq!(consents::newest_notice(&notices, "missing"), None);
    let mut errors = Errors::default();
    errors.add("decision", "Select whether you agree");
    let options: Vec<(&str, &str)> = purposes
        .iter()
        .map(|(i, d)| (i.as_str(), d.as_str()))
        .collect();
    let channels = consents::channel_choices();
    let channel_options: Vec<(&str, &str)> =
        channels.iter().map(|(v, l)| (*v, l.as_str())).collect();
    let html = render(&ConsentChoicePage {
        chrome: chrome("/my-consents"),
        csrf: "t".into(),
        purpose: Radios::new(
            "purpose",
            "What is it for?",
            &options,
            Some("status-updates"),
            &errors,
        ),
        channel: Radios::new(
            "channel",
            "Which way?",
            &channel_options,
            Some("sms"),
            &errors,
        ),
        decision: Radios::new(
            "decision",
            "Do you agree?",
            consents::DECISIONS,
            None,
            &errors,
        ),
        notice,
        errors,
    });
    assert!(html.contains(r#"id="purpose-status-updates" name="purpose" type="radio" value="status-updates" checked"#), "{html}");
    assert!(html.contains(r#"id="channel-sms" name="channel" type="radio" value="sms" checked"#));
    assert!(html.contains(r##"<a href="#decision">Select whether you agree</a>"##));
    assert!(html.contains(r#"href="https://crm.gov.au/privacy/general/v2""#));
    assert!(html.contains("(version 2)"));
    assert!(!html.contains("service-delivery"));
}

#[test]
fn a_receipt_reads_as_rows_and_events() {
    let receipt = json!({
        "record_id": "cns_1", "channel": "email", "recorded_at": "2026-12-07T00:00:00.000Z",
        "purposes": [{"purpose": "newsletters", "purpose_description": "Newsletters.", "lawful_basis": "consent"}],
        "pii_information": [{"pii_type": "contact-details", "sensitive": false}],
        "pii_controllers": [{"party_name": "The Agency", "party_contact": "privacy@agency.gov.au"}],
        "privacy_notice": {"title": "How we handle it", "version": 1},
        "collection_method": {"method": "portal-form", "form_version": "portal-consents-1"},
        "withdrawal_method": "In the portal, or call us",
        "event": [{"event_time": "2026-12-07T00:00:00.000Z", "event_type": "given", "event_state": "Given"},
                  {"event_time": "2026-12-08T10:30:00.000Z", "event_type": "withdrawn", "event_state": "Withdrawn"}],
        "digest": {"algorithm": "sha-256", "value": "ab12"}
    });
    let (rows, events) = consents::receipt_rows(&receipt);
    let row = |key: &str| {
        rows.iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no {key} row"))
            .lines
            .clone()
    };
    assert_eq!(row("What it is for"), ["Newsletters."]);
    assert_eq!(row("How we may contact you"), ["Email"]);
    assert_eq!(row("Information used"), ["Contact details"]);
    assert_eq!(
        row("Who is responsible for it"),
        ["The Agency", "privacy@agency.gov.au"]
    );
    assert_eq!(row("Made"), ["In this portal"]);
    assert_eq!(events[1].what, "Consent withdrawn");
    assert_eq!(events[1].when, "8 December 2026, 10:30 UTC");
    let html = render(&ConsentReceiptPage {
        chrome: chrome("/my-consents"),
        errors: Errors::default(),
        rows,
        events,
        digest: "ab12".into(),
        download_href: "/my-consents/cns_1/receipt.json".into(),
    });
    assert!(html.contains(r#"href="/my-consents/cns_1/receipt.json""#));
    assert!(html.contains(r#"id="receipt-digest">ab12<"#));
}

#[test]
fn messages_show_as_text_read_or_unread_with_a_button_to_mark_them() {
    let inbox = json!({"messages": [
        {"id": "m2", "subject": null, "body": "Line one\r\nLine <two>\n\n\nSecond paragraph", "html": "<p>x</p>",
         "reference": "R-1", "sent_at": "2026-12-08T09:00:00.000Z", "read_at": null},
        {"id": "m1", "subject": "Approved", "body": "Yes", "sent_at": "2026-12-07T09:00:00.000Z",
         "read_at": "2026-12-07T10:00:00.000Z"}
    ]});
    let lines = messages::inbox(&inbox);
    assert_eq!(lines[0].subject, "Message from us");
    assert_eq!(
        lines[0].paragraphs,
        [vec!["Line one", "Line <two>"], vec!["Second paragraph"]]
    );
    assert!(!lines[0].read && lines[1].read);
    let html = render(&MyMessagesPage::new(
        chrome("/my-messages"),
        "t".into(),
        lines,
    ));
    assert!(html.contains("You have 1 unread message."), "{html}");
    // Text, escaped: never the message's own HTML.
    assert!(html.contains("Line &#60;two&#62;"));
    assert!(!html.contains("<p>x</p>"));
    assert!(html.contains(r#"action="/my-messages/m2/read""#));
    assert!(html.contains(r#"action="/my-messages/m1/unread""#));
    assert!(html.contains(
        r#"class="govuk-service-navigation__item govuk-service-navigation__item--active""#
    ));
}

#[test]
fn the_access_log_names_who_by_role_why_and_what_and_pages_on() {
    let page = json!({"accesses": [
        {"sequence": 4, "at": T0, "role": "case-worker", "actor": null, "purpose": "case-management",
         "action": "contact.read", "resource": "contact/con_1", "outcome": "allowed"},
        {"sequence": 7, "at": T0 + 60_000, "role": "citizen", "actor": "you", "purpose": "self-access",
         "action": "consent.withdraw", "resource": "contact/con_1/consents", "outcome": "allowed"},
        {"sequence": 9, "at": T0, "role": "auditor", "actor": "staff:alice", "purpose": null,
         "action": "case.read", "resource": "case/cas_1", "outcome": "denied"}
    ], "next": "/api/audit/me?after=9&limit=3"});
    let lines = access_log::accesses(&page);
    assert_eq!(lines[0].who, "A case worker");
    assert_eq!(lines[0].why, "Case management");
    assert_eq!(lines[0].what, "Read your details");
    assert_eq!(lines[0].when, "7 December 2026, 00:00 UTC");
    assert_eq!(lines[1].who, "You");
    assert_eq!(lines[1].why, "Your own use of this service");
    assert_eq!(lines[2].who, "An auditor (staff:alice)");
    assert_eq!(lines[2].what, "Read your case (refused)");
    assert_eq!(lines[2].why, "None stated");
    assert_eq!(access_log::next_after(&page), Some(9));
    assert_eq!(access_log::next_after(&json!({"next": null})), None);
    let html = render(&WhoLookedPage {
        chrome: chrome("/who-looked"),
        errors: Errors::default(),
        accesses: lines,
        first_href: Some("/who-looked".into()),
        next_href: Some("/who-looked?after=9".into()),
    });
    assert!(html.contains(r#"href="/who-looked?after=9" rel="next""#));
    assert!(html.contains(r#"href="/who-looked" rel="prev""#));
}

#[test]
fn a_correction_names_the_detail_what_we_hold_and_what_it_should_be() {
    let record =
        json!({"display_name": "Ada Lovelace", "emails": ["ada@example.org"], "phones": []});
    let details = correction::details(&record);
    let fields: Vec<&str> = details.iter().map(|d| d.field).collect();
    assert_eq!(fields, ["display_name", "emails"]);
    let choices = correction::choices(&details);
    assert_eq!(choices.last(), Some(&("other", "Something else")));
    assert_eq!(
        correction::case_text(Some(&details[1]), "ada@new.example.org"),
        (
            "Correct my email addresses".to_string(),
            "Detail: Email addresses\nWe hold: ada@example.org\nIt should be: ada@new.example.org"
                .to_string()
        )
    );
    assert_eq!(
        correction::case_text(None, "My middle name is Byron").0,
        "Correct my details"
    );
    let mut errors = Errors::default();
    errors.add("correction", "Enter what it should say");
    let html = render(&CorrectionPage {
        chrome: chrome("/my-details"),
        csrf: "t".into(),
        item: Radios::new(
            "item",
            "Which detail is wrong?",
            &choices,
            Some("emails"),
            &errors,
        ),
        correction: Field::text("correction", "What should it say?").filled("", &errors),
        errors,
    });
    assert!(
        html.contains(r#"id="item-emails" name="item" type="radio" value="emails" checked"#),
        "{html}"
    );
    assert!(html.contains(r##"<a href="#correction">Enter what it should say</a>"##));
    assert!(html.contains(r#"id="correction-error" class="govuk-error-message""#));
}

#[test]
fn the_start_page_links_every_portal_page_and_offers_sign_in_only_when_signed_out() {
    let page = |signed_in: bool| {
        render(&StartPage {
            chrome: chrome("/"),
            errors: Errors::default(),
            heading: "Your record with the agency",
            lede: "What you can do.",
            start_href: "/sign-in".into(),
            links: PORTAL_NAV,
            signed_in,
        })
    };
    let (out, signed_in) = (page(false), page(true));
    for (href, _) in PORTAL_NAV {
        assert!(
            out.contains(&format!(r#"<a class="govuk-link" href="{href}">"#)),
            "{out}"
        );
    }
    assert!(out.contains("govuk-button--start"));
    assert!(!signed_in.contains("govuk-button--start"));
    assert_eq!(sentence("case-management"), "Case management");
    assert_eq!(
        consents::decision_words("status-updates", "sms"),
        "status updates by text message"
    );
    assert_eq!(sentence(""), "");
}
