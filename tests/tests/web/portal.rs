use crm_tests::auth::{link_citizen, token};
use serde_json::json;

use crate::browser::{Browser, Js};
use crate::{app, host, person};

/// Signs in with the development form as `role` / `subject`.
pub(crate) async fn dev_sign_in(browser: &mut Browser, role_id: &str, subject: &str) {
    browser.goto(&host().url("/")).await;
    browser.check_page("start").await;
    browser.click_through("a.govuk-button--start").await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.check_page("sign-in").await;
    browser.click(&format!("#{role_id}")).await;
    browser.type_into("#subject", subject).await;
    browser.click_through("#submit").await;
}

async fn citizen_flow(js: Js) {
    let tag = format!("{js:?}").to_lowercase();
    let subject = format!("citizen-web-{tag}");
    let phone_tail = if js == Js::On { 101 } else { 102 };
    let contact = person(
        "Ada",
        &format!("Portal{tag}"),
        &format!("ada.{tag}@example.org"),
        phone_tail,
    );
    link_citizen(&app().db_path(), &subject, &contact);
    // A case about them, opened by staff.
    let staff = host()
        .as_caller(&token("intake-web", &["intake-officer"]))
        .purpose("case-management");
    let case = staff.post_json(
        "/api/cases",
        &json!({"case_type": "general-enquiry", "subject": format!("Rates notice {tag}"),
                "priority": "normal", "contact_id": contact}),
    );
    assert_eq!(case.status, 201, "{}", case.body);
    let case = case.json();
    let case_id = case["id"].as_str().unwrap().to_string();

    let mut browser = Browser::start("citizen", js).await;
    dev_sign_in(&mut browser, "role", &subject).await;

    // My details: the record, and where each item came from.
    assert_eq!(browser.path().await, "/my-details");
    browser.check_page("my-details").await;
    let details = browser.text("main").await;
    assert!(details.contains(&format!("Ada Portal{tag}")), "{details}");
    assert!(
        details.contains(&format!("ada.{tag}@example.org")),
        "{details}"
    );
    assert!(
        details.contains(&format!("+61412345{phone_tail}")),
        "{details}"
    );
    assert!(details.contains("Given by phone on"), "{details}");
    assert!(browser.text("#signed-in-as").await.contains(&subject));

    // My cases: the case, its status, and a reply box.
    browser.click_through("a[href='/my-cases']").await;
    browser.check_page("my-cases").await;
    let cases = browser.text("main").await;
    assert!(
        cases.contains(case["reference"].as_str().unwrap()),
        "{cases}"
    );
    assert!(cases.contains(&format!("Rates notice {tag}")), "{cases}");

    // An empty reply is refused in place, the error summary focused.
    let reply_box = format!("#reply-{case_id}");
    let send = format!("form[action='/my-cases/{case_id}/messages'] button");
    browser.type_into(&reply_box, "   ").await;
    browser.click_through(&send).await;
    browser.check_page("my-cases-reply-refused").await;
    assert!(
        browser
            .text(".govuk-error-summary")
            .await
            .contains("Enter your reply")
    );
    assert!(
        browser
            .focused_class()
            .await
            .contains("govuk-error-summary")
    );
    assert_eq!(
        browser
            .attr(&format!("{reply_box}-error"), "class")
            .await
            .as_deref(),
        Some("govuk-error-message")
    );

    // A real reply is sent, then shown (POST–redirect–GET).
    browser
        .type_into(&reply_box, "I have paid it, see receipt 42.")
        .await;
    browser.click_through(&send).await;
    assert_eq!(
        browser.path().await,
        "/my-cases",
        "{}",
        browser.text("main").await
    );
    browser.check_page("my-cases-replied").await;
    assert!(
        browser
            .text(".govuk-notification-banner")
            .await
            .contains("Your reply was sent")
    );
    assert!(
        browser
            .text("main")
            .await
            .contains("I have paid it, see receipt 42.")
    );
    // ...and it is on the case, as the citizen's message.
    let activities = staff.get(&format!("/api/cases/{case_id}/activities"));
    assert!(
        activities.body.contains("I have paid it, see receipt 42."),
        "{}",
        activities.body
    );

    // Signing out ends the session: the pages ask to sign in again.
    browser.click_through("#sign-out").await;
    assert_eq!(browser.path().await, "/");
    browser.goto(&host().url("/my-details")).await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_signs_in_sees_their_details_and_replies_on_their_case_with_javascript() {
    citizen_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_signs_in_sees_their_details_and_replies_on_their_case_without_javascript() {
    citizen_flow(Js::Off).await;
}
