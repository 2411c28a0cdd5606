//! The staff console's flows in Chromium, each with JavaScript on and off,
//! every page screenshotted and checked by axe-core: intake with a
//! duplicate (the officer uses the record we hold; once keyboard-only),
//! a correction that meets someone else's change (the conflict page), a
//! case taken from the queue, worked and resolved, an interaction recorded
//! and a message sent through a record's sections, and an auditor's
//! reports, trail and chain verification.

use crm_tests::auth::token;
use fantoccini::key::Key;
use serde_json::json;

use crate::browser::{Browser, Js, focus_is, move_focus_to, press, press_through};
use crate::portal::dev_sign_in;
use crate::{app, host, person};

/// Signs in as `role` and states `purpose`, ending on the search page.
async fn staff_sign_in(browser: &mut Browser, role_id: &str, subject: &str, purpose_id: &str) {
    dev_sign_in(browser, role_id, subject).await;
    assert_eq!(browser.path().await, "/staff/purpose");
    browser.check_page("purpose").await;
    browser.click(&format!("#{purpose_id}")).await;
    browser.click_through("#submit").await;
    assert_eq!(browser.path().await, "/staff/search");
    browser.check_page("search").await;
}

async fn intake_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    let email = format!("duplicate.{tag}@example.org");
    let existing = person(
        "Dorothy",
        &format!("Duplicate{tag}"),
        &email,
        if js == Js::On { 401 } else { 402 },
    );
    let mut browser = Browser::start("staff-intake", js).await;
    staff_sign_in(
        &mut browser,
        "role-intake-officer",
        &format!("intake-{tag}"),
        "purpose",
    )
    .await;
    browser.click_through("#add-contact").await;
    assert_eq!(browser.path().await, "/staff/contacts/new");
    browser.check_page("new-contact").await;

    // Nothing chosen: refused in place, the summary focused.
    browser.type_into("#family_name", "Dupe").await;
    browser.type_into("#birth-day", "4").await;
    browser.click_through("#submit").await;
    browser.check_page("new-contact-refused").await;
    assert!(
        browser
            .text(".govuk-error-summary")
            .await
            .contains("Date of birth must include a day, month and year")
    );
    assert!(
        browser
            .focused_class()
            .await
            .contains("govuk-error-summary")
    );
    assert_eq!(
        browser.attr("#family_name", "value").await.as_deref(),
        Some("Dupe")
    );

    browser.click("#archetype").await;
    browser.type_into("#given_name", "Dorothy").await;
    browser
        .type_into("#family_name", &format!("Duplicate{tag}"))
        .await;
    browser.type_into("#birth-day", "").await;
    browser.type_into("#emails", &email).await;
    browser.click("#given_by").await;
    browser.click_through("#submit").await;
    assert_eq!(browser.path().await, "/staff/contacts/new/duplicates");
    browser.check_page("possible-duplicates").await;
    let card = browser.text("#candidate-1").await;
    assert!(card.contains("Same email address"), "{card}");
    assert!(card.contains(&format!("Dorothy Duplicate{tag}")), "{card}");

    browser.click_through("#use-1").await;
    assert_eq!(browser.path().await, format!("/staff/contacts/{existing}"));
    browser.check_page("existing-record").await;
    assert!(
        browser
            .text(".govuk-notification-banner")
            .await
            .contains("no new record was made")
    );
    browser.close().await;
    let found = host()
        .as_caller(&token("intake-check", &["intake-officer"]))
        .purpose("service-delivery")
        .get(&format!("/api/contacts?email={email}"));
    assert_eq!(
        found.json()["items"].as_array().map(Vec::len),
        Some(1),
        "no second record: {}",
        found.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_intake_with_a_duplicate_uses_the_existing_record_with_javascript() {
    intake_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_intake_with_a_duplicate_uses_the_existing_record_without_javascript() {
    intake_flow(Js::Off).await;
}

async fn type_keys(browser: &Browser, text: &str) {
    press(browser, &text.chars().collect::<Vec<_>>()).await;
}

/// The same intake, done with the keyboard alone: tabbing, typing,
/// arrow keys and Enter; nothing is clicked.
#[tokio::test(flavor = "multi_thread")]
async fn staff_intake_with_a_duplicate_is_done_with_the_keyboard_alone() {
    let email = "duplicate.keyboard@example.org";
    let existing = person("Keith", "Keyboardson", email, 403);
    let mut browser = Browser::start("staff-keyboard", Js::On).await;
    browser.goto(&host().url("/sign-in")).await;
    browser.check_page("sign-in").await;
    // Sign in: the role radios, then the user id.
    move_focus_to(&browser, Key::Tab, "#role").await;
    // Down from the first role (citizen) to the intake officer.
    press(&browser, &[Key::Down.into()]).await;
    move_focus_to(&browser, Key::Tab, "#subject").await;
    type_keys(&browser, "intake-keyboard").await;
    press_through(&browser, Key::Enter).await;
    assert_eq!(browser.path().await, "/staff/purpose");
    browser.check_page("purpose").await;
    move_focus_to(&browser, Key::Tab, "#purpose").await;
    press(&browser, &[Key::Space.into()]).await;
    move_focus_to(&browser, Key::Tab, "#submit").await;
    press_through(&browser, Key::Enter).await;
    assert_eq!(browser.path().await, "/staff/search");
    browser.check_page("search").await;
    move_focus_to(&browser, Key::Tab, "#add-contact").await;
    press_through(&browser, Key::Enter).await;
    browser.check_page("new-contact").await;
    move_focus_to(&browser, Key::Tab, "#archetype").await;
    press(&browser, &[Key::Space.into()]).await;
    move_focus_to(&browser, Key::Tab, "#family_name").await;
    type_keys(&browser, "Keyboardson").await;
    move_focus_to(&browser, Key::Tab, "#emails").await;
    type_keys(&browser, email).await;
    move_focus_to(&browser, Key::Tab, "#submit").await;
    press_through(&browser, Key::Enter).await;
    assert_eq!(browser.path().await, "/staff/contacts/new/duplicates");
    browser.check_page("possible-duplicates").await;
    move_focus_to(&browser, Key::Tab, "#use-1").await;
    press_through(&browser, Key::Enter).await;
    assert_eq!(browser.path().await, format!("/staff/contacts/{existing}"));
    browser.check_page("existing-record").await;
    browser.close().await;
}

/// Every field of a record corrected with the keyboard alone: the
/// residential address, a preferred language the API refuses (the error
/// summary takes the focus and leads back to the box), accessibility needs
/// and tags; each page checked by axe-core.
#[tokio::test(flavor = "multi_thread")]
async fn staff_correct_every_field_of_a_record_with_the_keyboard_alone() {
    let contact = person("Kay", "Keyfields", "kay.keyfields@example.org", 602);
    let mut browser = Browser::start("staff-correct-keyboard", Js::On).await;
    browser.goto(&host().url("/sign-in")).await;
    move_focus_to(&browser, Key::Tab, "#role").await;
    // Down from the first role (citizen) to the intake officer.
    press(&browser, &[Key::Down.into()]).await;
    move_focus_to(&browser, Key::Tab, "#subject").await;
    type_keys(&browser, "intake-fields-keys").await;
    press_through(&browser, Key::Enter).await;
    move_focus_to(&browser, Key::Tab, "#purpose").await;
    press(&browser, &[Key::Space.into()]).await;
    move_focus_to(&browser, Key::Tab, "#submit").await;
    press_through(&browser, Key::Enter).await;
    browser
        .goto(&host().url(&format!("/staff/contacts/{contact}")))
        .await;
    move_focus_to(
        &browser,
        Key::Tab,
        &format!("a[href='/staff/contacts/{contact}/correct']"),
    )
    .await;
    press_through(&browser, Key::Enter).await;
    browser.check_page("correct-every-field").await;
    for (id, text) in [
        ("#residential_address_line_1", "9 Keys Lane"),
        ("#residential_locality", "Hobart"),
        ("#residential_state", "TAS"),
        ("#residential_postcode", "7000"),
        ("#language", "english"),
        ("#reason", "Moved house"),
    ] {
        move_focus_to(&browser, Key::Tab, id).await;
        type_keys(&browser, text).await;
    }
    move_focus_to(&browser, Key::Tab, "#submit").await;
    press_through(&browser, Key::Enter).await;
    browser.check_page("correct-every-field-refused").await;
    assert!(focus_is(&browser, ".govuk-error-summary").await);
    assert_eq!(
        browser
            .attr("#residential_postcode", "value")
            .await
            .as_deref(),
        Some("7000"),
        "what was typed is kept"
    );
    // The summary's link leads to the language box, to put it right.
    move_focus_to(
        &browser,
        Key::Tab,
        ".govuk-error-summary__list a[href='#language']",
    )
    .await;
    press(&browser, &[Key::Enter.into()]).await;
    move_focus_to(&browser, Key::Tab, "#language").await;
    // The summary's link put the caret before what was typed: to its end,
    // then rub it out.
    press(&browser, &[Key::End.into()]).await;
    press(&browser, &[Key::Backspace.into(); 7]).await;
    type_keys(&browser, "vi").await;
    move_focus_to(&browser, Key::Tab, "#accessibility-tty").await;
    press(&browser, &[Key::Space.into()]).await;
    move_focus_to(&browser, Key::Tab, "#tags").await;
    type_keys(&browser, "carer").await;
    // Given by phone (the first of the radios): a channel the API's
    // consent check allows accessibility needs through.
    move_focus_to(&browser, Key::Tab, "#given_by").await;
    press(&browser, &[Key::Space.into()]).await;
    move_focus_to(&browser, Key::Tab, "#submit").await;
    press_through(&browser, Key::Enter).await;
    assert_eq!(
        browser.path().await,
        format!("/staff/contacts/{contact}"),
        "{}",
        browser.text("main").await
    );
    browser.check_page("corrected-every-field").await;
    assert!(
        browser
            .text(".govuk-notification-banner")
            .await
            .contains("version 2")
    );
    let record = host()
        .as_caller(&token("intake-fields-keys", &["intake-officer"]))
        .purpose("service-delivery")
        .get(&format!("/api/contacts/{contact}"))
        .json();
    assert_eq!(record["residential_address"]["locality"], "Hobart");
    assert_eq!(record["language"], "vi");
    assert_eq!(record["accessibility_needs"]["tty"], true);
    assert_eq!(record["tags"], json!(["carer"]));
    browser.close().await;
}

async fn correct_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    let family = format!("Collide{tag}");
    let contact = person(
        "Colin",
        &family,
        &format!("colin.{tag}@example.org"),
        if js == Js::On { 411 } else { 412 },
    );
    let mut browser = Browser::start("staff-correct", js).await;
    staff_sign_in(
        &mut browser,
        "role-case-worker",
        &format!("worker-correct-{tag}"),
        "purpose-case-management",
    )
    .await;
    browser
        .goto(&host().url(&format!("/staff/contacts/{contact}")))
        .await;
    browser.check_page("record").await;
    browser
        .click_through(&format!("a[href='/staff/contacts/{contact}/correct']"))
        .await;
    browser.check_page("correct").await;
    browser
        .type_into("#family_name", &format!("{family}-Smith"))
        .await;
    browser
        .type_into("#reason", "Double-barrelled since marriage")
        .await;

    // Meanwhile someone else corrects the record.
    let api = host()
        .as_caller(&token("intake-meanwhile", &["intake-officer"]))
        .purpose("service-delivery");
    let changed = api.header("if-match", "\"v1\"").request(
        "PATCH",
        &format!("/api/contacts/{contact}"),
        Some(&json!({"changes": {"given_name": "Colleen"}, "reason": "Prefers her full name"})),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);

    browser.click_through("#submit").await;
    browser.check_page("correct-conflict").await;
    assert_eq!(
        browser.text("h1").await,
        "Someone changed this record while you were correcting it"
    );
    let meanwhile = browser.text("#changed-meanwhile").await;
    assert!(meanwhile.contains("Colleen"), "{meanwhile}");
    assert!(
        browser
            .text("#changed-by")
            .await
            .contains("Prefers her full name")
    );
    assert_eq!(
        browser.attr("#family_name", "value").await,
        Some(format!("{family}-Smith")),
        "what they typed is kept"
    );
    // Their correction, on top of the record as it is now.
    browser.type_into("#given_name", "Colleen").await;
    browser.click_through("#submit").await;
    assert_eq!(browser.path().await, format!("/staff/contacts/{contact}"));
    browser.check_page("corrected").await;
    assert!(
        browser
            .text(".govuk-notification-banner")
            .await
            .contains("version 3")
    );
    assert_eq!(browser.text("h1").await, format!("Colleen {family}-Smith"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_correct_a_record_that_changed_meanwhile_on_a_conflict_page_with_javascript() {
    correct_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_correct_a_record_that_changed_meanwhile_on_a_conflict_page_without_javascript() {
    correct_flow(Js::Off).await;
}

async fn case_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    let officer = format!("worker-queue-{tag}");
    let queue = format!("web-queue-{tag}");
    let admin = host()
        .as_caller(&token("admin-web", &["administrator"]))
        .purpose("case-management");
    let made = admin.request(
        "PUT",
        &format!("/api/queues/{queue}"),
        Some(
            &json!({"name": format!("Web queue {tag}"), "ordering": ["priority", "fifo"],
                     "members": [{"officer": format!("staff:{officer}"), "capacity": 5}]}),
        ),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let contact = person(
        "Quentin",
        &format!("Queue{tag}"),
        &format!("quentin.{tag}@example.org"),
        if js == Js::On { 421 } else { 422 },
    );
    let intake = host()
        .as_caller(&token("intake-web", &["intake-officer"]))
        .purpose("case-management");
    let open = |subject: String, priority: &str| {
        let reply = intake.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": subject, "priority": priority,
                    "queue_id": queue, "contact_id": contact}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()
    };
    let urgent = open(format!("Footpath collapsed {tag}"), "urgent");
    open(format!("Leaves on path {tag}"), "low");
    let reference = urgent["reference"].as_str().unwrap().to_string();
    // Long overdue: the sweep finds it breached.
    app()
        .db()
        .execute(
            "UPDATE case_clocks SET started_at = started_at - ?2, last_change = last_change - ?2,
                 due_at = due_at - ?2, warn_at = warn_at - ?2 WHERE case_id = ?1",
            rusqlite::params![urgent["id"].as_str().unwrap(), 366_i64 * 86_400_000],
        )
        .unwrap();
    assert_eq!(
        admin.post_json("/api/cases/sla/sweep", &json!({})).status,
        200
    );

    let mut browser = Browser::start("staff-case", js).await;
    staff_sign_in(
        &mut browser,
        "role-case-worker",
        &officer,
        "purpose-case-management",
    )
    .await;
    browser.click_through("a[href='/staff/queue']").await;
    browser.check_page("queue").await;
    // Filter to this queue's breached cases.
    browser
        .client
        .find(fantoccini::Locator::Css("#queue_id"))
        .await
        .expect("the queue filter")
        .select_by_value(&queue)
        .await
        .expect("choosing the queue");
    browser.click("#sla_state-breached").await;
    browser.click_through("#apply-filters").await;
    browser.check_page("queue-filtered").await;
    let rows = browser.text("#cases tbody").await;
    assert!(rows.contains(&reference), "{rows}");
    assert!(rows.contains("Breached"), "{rows}");
    assert!(!rows.contains("Leaves on path"), "{rows}");

    browser.click_through("#take-next").await;
    assert_eq!(
        browser.path().await,
        format!("/staff/cases/{}", urgent["id"].as_str().unwrap())
    );
    browser.check_page("case-taken").await;
    assert!(
        browser
            .text(".govuk-notification-banner")
            .await
            .contains(&format!("You took {reference}"))
    );
    // Work it: in progress, a call to the resident, then resolved.
    browser.click("input[name='to'][value='in-progress']").await;
    browser.click_through("#change-status").await;
    browser.check_page("case-in-progress").await;
    assert!(browser.text("#case-status").await.contains("In progress"));
    browser.click_through("#add-activity").await;
    browser.check_page("case-activity-refused").await;
    assert!(
        browser
            .text(".govuk-error-summary")
            .await
            .contains("Subject")
    );
    browser.type_into("#subject", "Rang the resident").await;
    browser.type_into("#body", "Crew booked for tomorrow").await;
    browser.click("#direction-outbound").await;
    browser.click("#citizen_visible-yes").await;
    browser.click_through("#add-activity").await;
    browser.check_page("case-activity").await;
    assert!(browser.text("main").await.contains("Rang the resident"));
    browser.click("input[name='to'][value='resolved']").await;
    browser
        .type_into("#resolution_summary", "Footpath repaired")
        .await;
    browser.click_through("#change-status").await;
    browser.check_page("case-resolved").await;
    assert!(browser.text("#case-status").await.contains("Resolved"));
    // The case is on the contact's record.
    browser
        .click_through(&format!("a[href='/staff/contacts/{contact}']"))
        .await;
    browser
        .click_through(&format!("a[href='/staff/contacts/{contact}/cases']"))
        .await;
    browser.check_page("contact-cases").await;
    assert!(browser.text("main").await.contains(&reference));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_take_a_case_from_the_queue_work_and_resolve_it_with_javascript() {
    case_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_take_a_case_from_the_queue_work_and_resolve_it_without_javascript() {
    case_flow(Js::Off).await;
}

async fn auditor_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    let contact = person(
        "Agatha",
        &format!("Audit{tag}"),
        &format!("agatha.{tag}@example.org"),
        if js == Js::On { 431 } else { 432 },
    );
    let reader = format!("reader-{tag}");
    let read = host()
        .as_caller(&token(&reader, &["case-worker"]))
        .purpose("case-management")
        .get(&format!("/api/contacts/{contact}"));
    assert_eq!(read.status, 200, "{}", read.body);

    let mut browser = Browser::start("staff-auditor", js).await;
    dev_sign_in(&mut browser, "role-auditor", &format!("auditor-{tag}")).await;
    assert_eq!(browser.path().await, "/staff/purpose");
    browser.check_page("purpose").await;
    browser.click("#purpose-audit").await;
    browser.click_through("#submit").await;
    browser.check_page("first-page").await;
    browser.click_through("a[href='/staff/reports']").await;
    browser.check_page("reports").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("Interactions over time")
    );
    assert!(
        browser
            .text("main")
            .await
            .contains("Service levels by queue")
    );
    browser.click_through("a[href='/staff/audit']").await;
    browser.check_page("audit-trail").await;
    browser
        .type_into("#actor", &format!("staff:{reader}"))
        .await;
    browser
        .type_into("#resource", &format!("contact/{contact}"))
        .await;
    browser.click_through("#apply-filters").await;
    browser.check_page("audit-trail-filtered").await;
    let entries = browser.text("#entries tbody").await;
    assert!(entries.contains("contact.read"), "{entries}");
    assert!(entries.contains(&format!("staff:{reader}")), "{entries}");
    browser.type_into("#since-day", "31").await;
    browser.type_into("#since-month", "2").await;
    browser.type_into("#since-year", "2026").await;
    browser.click_through("#apply-filters").await;
    browser.check_page("audit-trail-refused").await;
    assert!(
        browser
            .text(".govuk-error-summary")
            .await
            .contains("From date")
    );
    browser.click_through("#verify").await;
    browser.check_page("audit-verify").await;
    assert!(
        browser
            .text("#verdict")
            .await
            .contains("The chain is intact")
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auditor_reads_reports_filters_the_trail_and_verifies_the_chain_with_javascript() {
    auditor_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auditor_reads_reports_filters_the_trail_and_verifies_the_chain_without_javascript() {
    auditor_flow(Js::Off).await;
}

async fn record_and_message_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    let contact = person(
        "Meredith",
        &format!("Message{tag}"),
        &format!("meredith.{tag}@example.org"),
        if js == Js::On { 441 } else { 442 },
    );
    let template = host()
        .as_caller(&token("comms-flow", &["communications-officer"]))
        .post_json(
            "/api/templates",
            &json!({"name": format!("Appointment {tag}"), "type": "portal", "subject": "Your appointment",
                    "body": "See you at ((time)).", "purpose": "service-delivery"}),
        );
    assert_eq!(template.status, 201, "{}", template.body);
    let template = template.json()["id"].as_str().unwrap().to_string();
    let record = format!("/staff/contacts/{contact}");

    let mut browser = Browser::start("staff-record", js).await;
    staff_sign_in(
        &mut browser,
        "role-case-worker",
        &format!("worker-record-{tag}"),
        "purpose-case-management",
    )
    .await;
    browser.goto(&host().url(&record)).await;
    browser.check_page("record").await;
    browser
        .click_through(&format!("a[href='{record}/interactions/new']"))
        .await;
    browser.check_page("interaction").await;
    browser.click_through("#submit").await;
    browser.check_page("interaction-refused").await;
    assert!(
        browser
            .text(".govuk-error-summary")
            .await
            .contains("Category")
    );
    browser.click("#channel").await;
    browser.click("#direction").await;
    browser.type_into("#category", "enquiry").await;
    browser
        .type_into("#subject", "Asked about the appointment")
        .await;
    browser.click_through("#submit").await;
    assert_eq!(browser.path().await, record);
    browser.check_page("interaction-recorded").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("Asked about the appointment")
    );

    for (section, name) in [
        ("consents", "consents"),
        ("cases", "cases"),
        ("messages", "messages"),
    ] {
        browser
            .click_through(&format!("a[href='{record}/{section}']"))
            .await;
        browser.check_page(name).await;
    }
    browser
        .click_through(&format!("a[href='{record}/messages/new']"))
        .await;
    browser.check_page("message-template").await;
    browser.click(&format!("input[value='{template}']")).await;
    browser.click_through("#submit").await;
    browser.check_page("message-personalise").await;
    browser.click_through("#submit").await;
    browser.check_page("message-personalise-refused").await;
    browser
        .type_into("#personalisation-time", "10am Tuesday")
        .await;
    browser.click_through("#submit").await;
    browser.check_page("message-check").await;
    assert!(
        browser
            .text("#message-preview")
            .await
            .contains("See you at 10am Tuesday.")
    );
    assert!(
        browser
            .text("#consent-decision")
            .await
            .contains("No consent is needed")
    );
    browser.click_through("#submit").await;
    assert_eq!(browser.path().await, format!("{record}/messages"));
    browser.check_page("message-sent").await;
    assert!(browser.text("main").await.contains("Your appointment"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_record_an_interaction_and_send_a_message_with_javascript() {
    record_and_message_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_record_an_interaction_and_send_a_message_without_javascript() {
    record_and_message_flow(Js::Off).await;
}
