use crm_tests::auth::{link_citizen, token};
use fantoccini::Locator;

use crate::browser::{Browser, Js};
use crate::portal::dev_sign_in;
use crate::{app, host, person};

async fn staff_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    // Names that do not sound alike, as search matches by sound too.
    let family = match js {
        Js::On => "Hopperton",
        Js::Off => "Babbington",
    };
    let phone_tail = if js == Js::On { 201 } else { 202 };
    let contact = person(
        "Grace",
        family,
        &format!("grace.{tag}@example.org"),
        phone_tail,
    );
    let citizen_subject = format!("citizen-console-{tag}");
    link_citizen(&app().db_path(), &citizen_subject, &contact);
    let officer = format!("officer-web-{tag}");

    let mut browser = Browser::start("staff", js).await;
    dev_sign_in(&mut browser, "role-case-worker", &officer).await;

    // Before any record, the purpose of use.
    assert_eq!(browser.path().await, "/staff/purpose");
    browser.check_page("purpose").await;
    browser.click_through("#submit").await;
    browser.check_page("purpose-refused").await;
    assert!(
        browser
            .text(".govuk-error-summary")
            .await
            .contains("Select why you are opening records")
    );
    browser.click("#purpose-case-management").await;
    browser.click_through("#submit").await;
    assert_eq!(
        browser.path().await,
        "/staff/search",
        "{}",
        browser.text("main").await
    );
    browser.check_page("search").await;
    assert!(
        browser
            .text("#purpose-of-use")
            .await
            .contains("case-management")
    );

    // A search with nothing in it is refused in place.
    browser.click_through("#submit").await;
    browser.check_page("search-refused").await;
    assert!(
        browser
            .text(".govuk-error-summary")
            .await
            .contains("Enter a name, email address or phone number")
    );

    // Search by name, then open the record.
    browser.type_into("#name", family).await;
    browser.click_through("#submit").await;
    browser.check_page("search-results").await;
    let found = browser.text("main").await;
    assert!(found.contains("1 person found"), "{found}");
    browser
        .click_through(&format!("a[href='/staff/contacts/{contact}']"))
        .await;
    assert_eq!(browser.path().await, format!("/staff/contacts/{contact}"));
    browser.check_page("contact-record").await;
    assert_eq!(browser.text("h1").await, format!("Grace {family}"));
    assert!(
        browser
            .text("main")
            .await
            .contains(&format!("grace.{tag}@example.org"))
    );
    assert!(
        browser
            .text("#purpose-of-use")
            .await
            .contains("case-management")
    );
    // Its versions, one so far, by the intake officer who took it in.
    browser.click_through("a[href$='/versions']").await;
    browser.check_page("contact-versions").await;
    let versions = browser.text("tbody").await;
    assert!(
        versions.contains("intake-officer (staff:intake-web)"),
        "{versions}"
    );
    let rows = browser.client.find_all(Locator::Css("tbody tr")).await;
    assert_eq!(rows.expect("rows").len(), 1);
    browser.close().await;

    // The citizen sees that read, by a case worker, for that purpose.
    let citizen = host().as_caller(&token(&citizen_subject, &["citizen"]));
    let seen = citizen.get("/api/audit/me");
    assert_eq!(seen.status, 200, "{}", seen.body);
    let reads: Vec<_> = seen.json()["accesses"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["action"] == "contact.read" && e["purpose"] == "case-management")
        .collect();
    assert!(
        !reads.is_empty(),
        "no case-management read in {}",
        seen.body
    );
    assert_eq!(reads[0]["role"], "case-worker", "{}", seen.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_state_a_purpose_search_and_open_a_record_the_citizen_sees_with_javascript() {
    staff_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_state_a_purpose_search_and_open_a_record_the_citizen_sees_without_javascript() {
    staff_flow(Js::Off).await;
}

async fn queue_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    let officer = format!("worker-queue-{tag}");
    let queue = format!("web-queue-{tag}");
    let admin = host()
        .as_caller(&token("admin-web", &["administrator"]))
        .purpose("case-management");
    let made = admin.request(
        "PUT",
        &format!("/api/queues/{queue}"),
        Some(&serde_json::json!({"name": format!("Web queue {tag}"), "ordering": ["priority", "fifo"],
                                 "members": [{"officer": format!("staff:{officer}"), "capacity": 5}]})),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let intake = host()
        .as_caller(&token("intake-web", &["intake-officer"]))
        .purpose("case-management");
    let case = intake.post_json(
        "/api/cases",
        &serde_json::json!({"case_type": "general-enquiry", "subject": format!("Footpath {tag}"),
                            "priority": "high", "queue_id": queue}),
    );
    assert_eq!(case.status, 201, "{}", case.body);
    let reference = case.json()["reference"].as_str().unwrap().to_string();

    let mut browser = Browser::start("queue", js).await;
    dev_sign_in(&mut browser, "role-case-worker", &officer).await;
    browser.check_page("purpose").await;
    browser.click("#purpose-case-management").await;
    browser.click_through("#submit").await;
    browser.check_page("search").await;
    browser.click_through("a[href='/staff/queue']").await;
    browser.check_page("queue-choose").await;

    // An empty queue id is refused in place.
    browser.click_through("#submit").await;
    browser.check_page("queue-refused").await;
    let refused = browser.text(".govuk-error-summary").await;
    assert!(refused.contains("Enter the queue's id"), "{refused}");

    browser.type_into("#queue_id", &queue).await;
    browser.click_through("#submit").await;
    browser.check_page("queue").await;
    let row = browser.text("tbody tr").await;
    assert!(row.contains(&reference), "{row}");
    assert!(row.contains("Nobody"), "{row}");
    assert!(row.contains("UTC"), "the SLA due time: {row}");

    browser.click_through("#take-next").await;
    browser.check_page("queue-taken").await;
    let banner = browser.text(".govuk-notification-banner").await;
    assert!(
        banner.contains(&format!("You took {reference}")),
        "{banner}"
    );
    let row = browser.text("tbody tr").await;
    assert!(row.contains(&format!("staff:{officer}")), "{row}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_see_a_queue_with_due_times_and_take_the_next_case_with_javascript() {
    queue_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_see_a_queue_with_due_times_and_take_the_next_case_without_javascript() {
    queue_flow(Js::Off).await;
}
