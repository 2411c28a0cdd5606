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
