//! The citizen's own records in the browser, each flow with JavaScript on
//! and off, every page screenshotted and checked by axe-core: withdrawing a
//! consent and keeping its receipt, then giving another; a staff member's
//! read of their record seen in who looked, and a message marked read; and
//! asking for a correction, which becomes a case under my cases (with
//! JavaScript on, done with the keyboard alone).

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::Value;

use crate::browser::{Browser, Js, focus_is, move_focus_to, press, press_through};
use crate::citizen::{as_citizen, case_worker, citizen_of, portal_message, staff_records_consent};
use crate::host;
use crate::portal::dev_sign_in;

fn tag(js: Js) -> String {
    format!("{js:?}").to_lowercase()
}

/// The session cookie the browser holds, as a `cookie` header.
async fn session_cookie(browser: &Browser) -> String {
    let cookie = browser
        .client
        .get_named_cookie("crm-session")
        .await
        .expect("the session cookie");
    format!("crm-session={}", cookie.value())
}

async fn consent_flow(js: Js) {
    let tag = tag(js);
    let subject = format!("citizen-consents-web-{tag}");
    let (family, tail) = match js {
        Js::On => ("Withdrawby", 311),
        Js::Off => ("Revokesley", 312),
    };
    let contact = citizen_of(&subject, family, tail);
    staff_records_consent(&contact, "newsletters", "email");
    let consent = as_citizen(&subject).get("/api/consents").json()["current"][0]["id"]
        .as_str()
        .expect("the consent's id")
        .to_string();

    let mut browser = Browser::start("consents", js).await;
    dev_sign_in(&mut browser, "role", &subject).await;
    browser.check_page("my-details").await;
    browser.click_through("a[href='/my-consents']").await;
    browser.check_page("my-consents").await;
    let card = browser.text(&format!("#consent-{consent}")).await;
    assert!(card.contains("Newsletters and news"), "{card}");
    assert!(card.contains("Given"), "{card}");

    // Withdraw it: shown withdrawn, with the banner saying so.
    browser.click_through("#withdraw-newsletters-email").await;
    assert_eq!(browser.path().await, "/my-consents");
    browser.check_page("my-consents-withdrawn").await;
    let banner = browser.text(".govuk-notification-banner").await;
    assert!(
        banner.contains("You withdrew your consent to newsletters by email"),
        "{banner}"
    );
    assert!(
        browser
            .text(&format!("#consent-{consent}"))
            .await
            .contains("Withdrawn")
    );
    assert_eq!(
        as_citizen(&subject).get("/api/consents").json()["current"][0]["status"],
        "withdrawn"
    );

    // Its receipt, opened, then downloaded with the browser's session.
    browser
        .click_through(&format!(
            "#consent-{consent} a[href='/my-consents/{consent}/receipt']"
        ))
        .await;
    browser.check_page("consent-receipt").await;
    let receipt_page = browser.text("main").await;
    assert!(receipt_page.contains("Consent withdrawn"), "{receipt_page}");
    assert!(receipt_page.contains("By phone"), "{receipt_page}");
    let href = browser
        .attr("#download-receipt", "href")
        .await
        .expect("the download link");
    let downloaded = host().request(
        "GET",
        &href,
        &[("cookie", session_cookie(&browser).await.as_str())],
        None,
    );
    assert_eq!(downloaded.status, 200, "{}", downloaded.body);
    assert!(
        downloaded
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;")),
        "{:?}",
        downloaded.headers
    );
    let receipt: Value = downloaded.json();
    consent_rules::verify_receipt(&receipt).expect("the downloaded receipt's digest holds");
    assert_eq!(receipt["record_id"], consent.as_str());
    // Each receipt issued is an event on the record, so the page's (issued
    // first) is one event shorter, with its own digest.
    let digest = browser.text("#receipt-digest").await;
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{digest}"
    );

    // Give another: refused in place first, then recorded.
    browser.click_through("a.govuk-back-link").await;
    browser.check_page("my-consents-again").await;
    browser.click_through("#give-consent").await;
    browser.check_page("consent-choice").await;
    browser.click_through("#submit").await;
    browser.check_page("consent-choice-refused").await;
    let summary = browser.text(".govuk-error-summary").await;
    for message in [
        "Select what it is for",
        "Select which way of contacting you it covers",
        "Select whether you agree",
    ] {
        assert!(summary.contains(message), "{summary}");
    }
    assert!(
        browser
            .focused_class()
            .await
            .contains("govuk-error-summary")
    );
    browser
        .click("input[name='purpose'][value='status-updates']")
        .await;
    browser.click("input[name='channel'][value='sms']").await;
    browser.click("input[name='decision'][value='given']").await;
    browser.click_through("#submit").await;
    assert_eq!(
        browser.path().await,
        "/my-consents",
        "{}",
        browser.text("main").await
    );
    browser.check_page("my-consents-given").await;
    let banner = browser.text(".govuk-notification-banner").await;
    assert!(
        banner.contains("You agreed to status updates by text message"),
        "{banner}"
    );
    let current = as_citizen(&subject).get("/api/consents").json()["current"].clone();
    assert!(
        current
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["purpose"] == "status-updates"
                && r["channel"] == "sms"
                && r["status"] == "given"),
        "{current}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_withdraws_a_consent_keeps_its_receipt_and_gives_another_with_javascript() {
    consent_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_withdraws_a_consent_keeps_its_receipt_and_gives_another_without_javascript() {
    consent_flow(Js::Off).await;
}

async fn who_looked_flow(js: Js) {
    let tag = tag(js);
    let subject = format!("citizen-looked-web-{tag}");
    let (family, tail) = match js {
        Js::On => ("Glanceford", 313),
        Js::Off => ("Peekhurst", 314),
    };
    let contact = citizen_of(&subject, family, tail);
    // A staff member reads the record through the API, for a purpose.
    let read =
        case_worker(&format!("worker-looked-{tag}")).get(&format!("/api/contacts/{contact}"));
    assert_eq!(read.status, 200, "{}", read.body);
    let message = portal_message(
        &contact,
        &format!("Bin day changes {tag}"),
        "Your bin day moves to Tuesday.",
    );

    let mut browser = Browser::start("who-looked", js).await;
    dev_sign_in(&mut browser, "role", &subject).await;
    browser.check_page("my-details").await;
    browser.click_through("a[href='/who-looked']").await;
    browser.check_page("who-looked").await;
    let rows: Vec<String> = {
        let mut texts = Vec::new();
        for row in browser
            .client
            .find_all(Locator::Css("#accesses tbody tr"))
            .await
            .expect("rows")
        {
            texts.push(row.text().await.expect("a row's text"));
        }
        texts
    };
    assert!(
        rows.iter().any(|r| r.contains("A case worker")
            && r.contains("Case management")
            && r.contains("Read your details")),
        "{rows:#?}"
    );

    browser.click_through("a[href='/my-messages']").await;
    browser.check_page("my-messages").await;
    let section = format!("#section-{message}");
    let shown = browser.text(&section).await;
    assert!(shown.contains(&format!("Bin day changes {tag}")), "{shown}");
    assert!(shown.contains("Unread") && shown.contains("Your bin day moves to Tuesday."));
    browser.click_through(&format!("#mark-{message}")).await;
    browser.check_page("my-messages-read").await;
    assert!(
        browser
            .text(".govuk-notification-banner")
            .await
            .contains("Message marked as read")
    );
    assert!(browser.text(&section).await.contains("Read"));
    let inbox = as_citizen(&subject).get("/api/notifications/inbox").json();
    assert!(inbox["messages"][0]["read_at"].is_string(), "{inbox}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_sees_a_staff_read_in_who_looked_and_reads_a_message_with_javascript() {
    who_looked_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_sees_a_staff_read_in_who_looked_and_reads_a_message_without_javascript() {
    who_looked_flow(Js::Off).await;
}

/// Checks the correction request made in the browser: the case under my
/// cases, and in the API.
async fn assert_correction_filed(browser: &mut Browser, subject: &str) {
    assert_eq!(
        browser.path().await,
        "/my-cases",
        "{}",
        browser.text("main").await
    );
    browser.check_page("my-cases-correction").await;
    let cases = as_citizen(subject).get("/api/cases/mine").json();
    let case = &cases["cases"][0];
    assert_eq!(case["subject"], "Correct my email addresses", "{cases}");
    let reference = case["reference"].as_str().unwrap();
    let banner = browser.text(".govuk-notification-banner").await;
    assert!(
        banner.contains(&format!("reference {reference}")),
        "{banner}"
    );
    let main = browser.text("main").await;
    assert!(main.contains("Correct my email addresses"), "{main}");
    assert!(main.contains(reference), "{main}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_asks_for_a_correction_and_follows_its_case_without_javascript() {
    let subject = "citizen-correction-web-no-js";
    citizen_of(subject, "Amendale", 315);
    let mut browser = Browser::start("correction", Js::Off).await;
    dev_sign_in(&mut browser, "role", subject).await;
    browser.check_page("my-details").await;
    browser.click_through("#ask-correction").await;
    browser.check_page("correction").await;
    browser.click_through("#submit").await;
    browser.check_page("correction-refused").await;
    let summary = browser.text(".govuk-error-summary").await;
    assert!(
        summary.contains("Select which detail is wrong"),
        "{summary}"
    );
    assert!(summary.contains("Enter what it should say"), "{summary}");
    assert!(
        browser
            .focused_class()
            .await
            .contains("govuk-error-summary")
    );
    browser.click("#item-emails").await;
    browser
        .type_into("#correction", "ada.amended@example.org")
        .await;
    browser.click_through("#submit").await;
    assert_correction_filed(&mut browser, subject).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_asks_for_a_correction_with_the_keyboard_alone_with_javascript() {
    let subject = "citizen-correction-web-keys";
    citizen_of(subject, "Keyworth", 316);
    let mut browser = Browser::start("correction-keys", Js::On).await;
    browser.goto(&host().url("/")).await;
    browser.check_page("start").await;
    move_focus_to(&browser, Key::Tab, "a.govuk-button--start").await;
    press_through(&browser, Key::Enter).await;
    browser.check_page("sign-in").await;
    // The citizen radio is the group's first: Tab reaches it, Space picks it.
    move_focus_to(&browser, Key::Tab, "#role").await;
    press(&browser, &[Key::Space.into()]).await;
    move_focus_to(&browser, Key::Tab, "#subject").await;
    press(&browser, &subject.chars().collect::<Vec<_>>()).await;
    press_through(&browser, Key::Enter).await;
    assert_eq!(browser.path().await, "/my-details");
    browser.check_page("my-details").await;

    move_focus_to(&browser, Key::Tab, "#ask-correction").await;
    press_through(&browser, Key::Enter).await;
    browser.check_page("correction").await;
    // Sent empty: the error summary takes the focus.
    move_focus_to(&browser, Key::Tab, "#submit").await;
    press_through(&browser, Key::Enter).await;
    browser.check_page("correction-refused").await;
    assert!(focus_is(&browser, ".govuk-error-summary").await);
    // The summary's link leads to the radios; arrows choose within them.
    move_focus_to(
        &browser,
        Key::Tab,
        ".govuk-error-summary__list a[href='#item']",
    )
    .await;
    press(&browser, &[Key::Enter.into()]).await;
    move_focus_to(&browser, Key::Tab, "input[name='item']").await;
    move_focus_to(&browser, Key::Down, "#item-emails").await;
    press(&browser, &[Key::Space.into()]).await;
    move_focus_to(&browser, Key::Tab, "#correction").await;
    press(
        &browser,
        &"ada.keys@example.org".chars().collect::<Vec<_>>(),
    )
    .await;
    move_focus_to(&browser, Key::Tab, "#submit").await;
    press_through(&browser, Key::Enter).await;
    assert_correction_filed(&mut browser, subject).await;
    let cases = as_citizen(subject).get("/api/cases/mine").json();
    assert!(
        cases["cases"][0]["details"]
            .as_str()
            .unwrap()
            .contains("It should be: ada.keys@example.org"),
        "{cases}"
    );
    browser.close().await;
}
