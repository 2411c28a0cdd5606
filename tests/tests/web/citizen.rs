//! The citizen's own records in the portal over plain HTTP, as a browser
//! with JavaScript off sends them: my consents (give, change, withdraw,
//! receipts), my messages (read, unread), who looked at my record (paged)
//! and asking for a correction (a case). Each page, each refusal (a form
//! re-drawn with its error summary, keeping what was sent; a form without
//! the session's CSRF token; another citizen's records), and what the API
//! holds afterwards.

use crm_tests::auth::{link_citizen, token};
use crm_tests::{Caller, Reply};
use serde_json::{Value, json};

use crate::{app, host, intake, person};

/// A browser's worth of HTTP: the session cookie kept, no redirect
/// followed, so each answer is seen as the component sent it.
pub(crate) struct WebClient {
    agent: ureq::Agent,
    cookie: Option<String>,
}

pub(crate) struct Answer {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Where a 303 sends the browser.
    pub fn location(&self) -> &str {
        assert_eq!(self.status, 303, "{}", self.body);
        self.header("location").expect("a location")
    }
}

/// `name="csrf_token" value="…"`'s value on a page.
fn csrf_on(page: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = page.find(marker).expect("a CSRF token on the page") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

impl WebClient {
    pub fn new() -> Self {
        Self {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into(),
            cookie: None,
        }
    }

    /// Signs `subject` in as a citizen with the development form.
    pub fn citizen(subject: &str) -> Self {
        let mut client = Self::new();
        let form = client.get("/sign-in");
        let csrf = csrf_on(&form.body);
        let signed_in = client.post_exactly(
            "/sign-in",
            &[
                ("csrf_token", &csrf),
                ("role", "citizen"),
                ("subject", subject),
            ],
        );
        assert_eq!(signed_in.location(), "/my-details");
        client
    }

    fn send(&mut self, method: &str, path: &str, form: Option<String>) -> Answer {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(host().url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let result = match form {
            Some(form) => self.agent.run(
                request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form.into_bytes())
                    .unwrap(),
            ),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let answer = Answer {
            status: response.status().as_u16(),
            body: response.body_mut().read_to_string().unwrap_or_default(),
            headers,
        };
        if let Some(set) = answer.header("set-cookie") {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            self.cookie = (!set.contains("Max-Age=0")).then_some(pair);
        }
        answer
    }

    pub fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None)
    }

    /// Posts `fields` with this session's CSRF token, as its pages' forms do.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = csrf_on(&self.get("/").body);
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_exactly(path, &all)
    }

    /// Posts exactly `fields`.
    pub fn post_exactly(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send("POST", path, Some(form))
    }
}

/// A new person, `Ada <family>`, linked to citizen `subject`; answers
/// their contact id. `phone_tail` must be the test's own (see `person`).
pub(crate) fn citizen_of(subject: &str, family: &str, phone_tail: u32) -> String {
    let contact = person(
        "Ada",
        family,
        &format!("{}@example.org", family.to_lowercase()),
        phone_tail,
    );
    link_citizen(&app().db_path(), subject, &contact);
    contact
}

/// The API as citizen `subject` (their own records, purpose self-access).
pub(crate) fn as_citizen(subject: &str) -> Caller<'static> {
    host().as_caller(&token(subject, &["citizen"]))
}

/// A case worker reading for case management.
pub(crate) fn case_worker(id: &str) -> Caller<'static> {
    host()
        .as_caller(&token(id, &["case-worker"]))
        .purpose("case-management")
}

/// A decision recorded by phone by the intake officer `intake()` acts as.
pub(crate) fn staff_records_consent(contact: &str, purpose: &str, channel: &str) {
    let reply = intake().post_json(
        "/api/consents",
        &crm_tests::consent::decision(contact, purpose, channel, "given", "intake-web"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// A portal message to `contact`, delivered to their inbox at once;
/// answers its id.
pub(crate) fn portal_message(contact: &str, subject: &str, body: &str) -> String {
    let comms = crm_tests::app::comms(host(), "comms-web");
    let template = comms.post_json(
        "/api/templates",
        &json!({"name": format!("Portal {subject}"), "type": "portal", "subject": subject,
                "body": body, "purpose": "service-delivery"}),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let sent = comms.post_json(
        "/api/notifications",
        &json!({"template_id": template.json()["id"], "contact_id": contact}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.json()["status"], "delivered", "{}", sent.body);
    sent.json()["id"].as_str().unwrap().to_string()
}

fn ok_json(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn audited(action: &str, actor: &str) -> Vec<String> {
    app()
        .audit_entries("outcome, actor_id", "action", action, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .into_iter()
        .filter(|(_, who)| who == actor)
        .map(|(outcome, _)| outcome)
        .collect()
}

fn error_summary(page: &Answer) -> &str {
    let start = page
        .body
        .find("govuk-error-summary__list")
        .unwrap_or_else(|| panic!("no error summary: {}", page.body));
    let end = page.body[start..].find("</ul>").unwrap() + start;
    &page.body[start..end]
}

#[test]
fn my_consents_are_given_withdrawn_and_receipted_through_the_api() {
    let subject = "citizen-consents-http";
    let contact = citizen_of(subject, "Consentia", 301);
    let mut web = WebClient::citizen(subject);

    let empty = web.get("/my-consents");
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert!(empty.body.contains("You have not made any choices yet"));
    let form = web.get("/my-consents/choose?purpose=newsletters&channel=email");
    assert_eq!(form.status, 200, "{}", form.body);
    // Only purposes resting on consent are offered; the Change link's
    // purpose and channel come chosen; the privacy notice is named.
    assert!(
        form.body.contains(r#"value="newsletters" checked"#),
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"value="email" checked"#));
    assert!(!form.body.contains(r#"value="service-delivery""#));
    assert!(
        form.body
            .contains("How we handle your personal information")
    );

    let given = web.post(
        "/my-consents",
        &[
            ("purpose", "newsletters"),
            ("channel", "email"),
            ("decision", "given"),
        ],
    );
    assert_eq!(given.location(), "/my-consents");
    let mine = ok_json(&as_citizen(subject).get("/api/consents"));
    assert_eq!(mine["contact_id"], contact.as_str());
    let record = &mine["current"][0];
    assert_eq!(record["status"], "given", "{mine}");
    assert_eq!(record["collection"]["method"], "portal-form");
    assert_eq!(record["notice_id"], "general");
    let listed = web.get("/my-consents");
    assert!(
        listed.body.contains("You agreed to newsletters by email"),
        "{}",
        listed.body
    );
    assert!(listed.body.contains(">Given</strong>"));
    assert!(listed.body.contains(r#"id="withdraw-newsletters-email""#));

    // Withdrawn through the portal, then shown so, with no button left.
    let withdrawn = web.post(
        "/my-consents/withdraw",
        &[("purpose", "newsletters"), ("channel", "email")],
    );
    assert_eq!(withdrawn.location(), "/my-consents");
    let mine = ok_json(&as_citizen(subject).get("/api/consents"));
    assert_eq!(mine["current"][0]["status"], "withdrawn", "{mine}");
    let listed = web.get("/my-consents");
    assert!(
        listed
            .body
            .contains("You withdrew your consent to newsletters by email")
    );
    assert!(listed.body.contains(">Withdrawn</strong>"));
    assert!(!listed.body.contains(r#"id="withdraw-newsletters-email""#));
    assert_eq!(
        audited("consent.withdraw", &format!("citizen:{subject}")),
        ["allowed"]
    );

    // Withdrawing again: nothing is in force, said on the page (409).
    let again = web.post(
        "/my-consents/withdraw",
        &[("purpose", "newsletters"), ("channel", "email")],
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(error_summary(&again).contains(r##"href="#withdraw-newsletters-email""##));
    assert!(error_summary(&again).contains("no consent in force"));

    // The receipt, readable and as a file whose digest holds.
    let id = record["id"].as_str().unwrap();
    let page = web.get(&format!("/my-consents/{id}/receipt"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Consent withdrawn"), "{}", page.body);
    assert!(page.body.contains("In this portal"));
    let file = web.get(&format!("/my-consents/{id}/receipt.json"));
    assert_eq!(file.status, 200, "{}", file.body);
    assert_eq!(file.header("content-type"), Some("application/json"));
    assert_eq!(
        file.header("content-disposition"),
        Some(format!("attachment; filename=\"consent-receipt-{id}.json\"").as_str())
    );
    let receipt: Value = serde_json::from_str(&file.body).unwrap();
    assert_eq!(receipt["record_id"], id);
    consent_rules::verify_receipt(&receipt).expect("the receipt's digest holds");
    assert!(page.body.contains(r#"id="receipt-digest">"#));
}

#[test]
fn a_refused_consent_form_keeps_what_was_chosen_and_records_nothing() {
    let subject = "citizen-consents-refused";
    citizen_of(subject, "Refusalton", 302);
    let mut web = WebClient::citizen(subject);
    let refused = web.post(
        "/my-consents",
        &[("purpose", "newsletters"), ("channel", "fax")],
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    let summary = error_summary(&refused);
    assert!(
        summary
            .contains(r##"<a href="#channel">Select which way of contacting you it covers</a>"##),
        "{summary}"
    );
    assert!(summary.contains(r##"<a href="#decision">Select whether you agree</a>"##));
    assert!(
        refused
            .body
            .contains("<title>Error: Give or change a consent")
    );
    assert!(refused.body.contains(r#"value="newsletters" checked"#));
    // A purpose that is not the catalogue's is the API's refusal, named.
    let unknown = web.post(
        "/my-consents",
        &[
            ("purpose", "no-such-purpose"),
            ("channel", "email"),
            ("decision", "given"),
        ],
    );
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(
        error_summary(&unknown).contains(r##"href="#purpose""##),
        "{}",
        unknown.body
    );
    let mine = ok_json(&as_citizen(subject).get("/api/consents"));
    assert_eq!(mine["history"], json!([]), "nothing recorded: {mine}");
}

#[test]
fn forms_without_the_sessions_csrf_token_change_nothing() {
    let subject = "citizen-csrf";
    let contact = citizen_of(subject, "Forgerywell", 303);
    staff_records_consent(&contact, "newsletters", "email");
    let message = portal_message(&contact, "Forged marks", "Hello");
    let mark = format!("/my-messages/{message}/read");
    let mut web = WebClient::citizen(subject);
    for (path, fields) in [
        (
            "/my-consents",
            vec![
                ("purpose", "newsletters"),
                ("channel", "sms"),
                ("decision", "given"),
            ],
        ),
        (
            "/my-consents/withdraw",
            vec![("purpose", "newsletters"), ("channel", "email")],
        ),
        (
            "/my-details/correction",
            vec![("item", "emails"), ("correction", "x@example.org")],
        ),
        (mark.as_str(), vec![]),
    ] {
        let mut forged = vec![("csrf_token", "forged")];
        forged.extend(fields.iter().copied());
        for attempt in [
            web.post_exactly(path, &forged),
            web.post_exactly(path, &fields),
        ] {
            assert_eq!(attempt.status, 403, "{path}: {}", attempt.body);
            assert!(attempt.body.contains("Your form could not be sent"));
        }
    }
    let mine = ok_json(&as_citizen(subject).get("/api/consents"));
    assert_eq!(mine["history"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["current"][0]["status"], "given");
    let cases = ok_json(&as_citizen(subject).get("/api/cases/mine"));
    assert_eq!(cases["cases"], json!([]), "{cases}");
    let inbox = ok_json(&as_citizen(subject).get("/api/notifications/inbox"));
    assert_eq!(inbox["messages"][0]["read_at"], Value::Null, "{inbox}");
}

#[test]
fn another_citizens_consents_messages_and_cases_are_not_shown() {
    let (mine, theirs) = ("citizen-own-records", "citizen-other-records");
    citizen_of(mine, "Ownerby", 304);
    let other = citizen_of(theirs, "Otherwise", 305);
    staff_records_consent(&other, "newsletters", "letter");
    let their_consent = ok_json(&as_citizen(theirs).get("/api/consents"))["current"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let their_message = portal_message(&other, "Theirs only", "Private words");
    let their_case = case_worker("worker-other")
        .post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "Their private case",
                    "priority": "normal", "contact_id": other}),
        )
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut web = WebClient::citizen(mine);
    for path in [
        format!("/my-consents/{their_consent}/receipt"),
        format!("/my-consents/{their_consent}/receipt.json"),
    ] {
        let page = web.get(&path);
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(page.body.contains("Page not found"));
        assert!(!page.body.contains(&other));
    }
    let marked = web.post(&format!("/my-messages/{their_message}/read"), &[]);
    assert_eq!(marked.status, 404, "{}", marked.body);
    let replied = web.post(
        &format!("/my-cases/{their_case}/messages"),
        &[("reply", "Not mine")],
    );
    assert_eq!(replied.status, 404, "{}", replied.body);
    for (path, hidden) in [
        ("/my-consents", their_consent.as_str()),
        ("/my-messages", "Private words"),
        ("/my-cases", "Their private case"),
    ] {
        let page = web.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(!page.body.contains(hidden), "{path} shows {hidden}");
    }
    let inbox = ok_json(&as_citizen(theirs).get("/api/notifications/inbox"));
    assert_eq!(inbox["messages"][0]["read_at"], Value::Null, "{inbox}");
}

#[test]
fn my_messages_are_shown_as_text_and_marked_read_and_unread() {
    let subject = "citizen-messages-http";
    let contact = citizen_of(subject, "Messager", 306);
    let id = portal_message(
        &contact,
        "Your permit",
        "Your permit is ready.\n\nCollect it by Friday.",
    );
    let mut web = WebClient::citizen(subject);
    let inbox = web.get("/my-messages");
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert!(
        inbox.body.contains("You have 1 unread message."),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains(">Unread</strong>"));
    // Each paragraph of the text its own.
    assert!(
        inbox
            .body
            .contains(r#"<p class="govuk-body">Your permit is ready.</p>"#),
        "{}",
        inbox.body
    );
    assert!(
        inbox
            .body
            .contains(r#"<p class="govuk-body">Collect it by Friday.</p>"#)
    );
    assert!(
        inbox
            .body
            .contains(&format!(r#"action="/my-messages/{id}/read""#))
    );

    let read = web.post(&format!("/my-messages/{id}/read"), &[]);
    assert_eq!(read.location(), format!("/my-messages#message-{id}"));
    let api = ok_json(&as_citizen(subject).get("/api/notifications/inbox"));
    assert!(api["messages"][0]["read_at"].is_string(), "{api}");
    let inbox = web.get("/my-messages");
    assert!(inbox.body.contains("Message marked as read"));
    assert!(inbox.body.contains("You have read all your messages."));
    assert!(
        inbox
            .body
            .contains(&format!(r#"action="/my-messages/{id}/unread""#))
    );

    let unread = web.post(&format!("/my-messages/{id}/unread"), &[]);
    assert_eq!(unread.location(), format!("/my-messages#message-{id}"));
    let api = ok_json(&as_citizen(subject).get("/api/notifications/inbox"));
    assert_eq!(api["messages"][0]["read_at"], Value::Null, "{api}");
    assert_eq!(
        audited("inbox.update", &format!("citizen:{subject}")),
        ["allowed", "allowed"]
    );
    // A message that is not there is the API's 404, and the page's.
    let missing = web.post("/my-messages/no-such-message/read", &[]);
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[test]
fn who_looked_shows_staff_reads_by_role_and_purpose_and_pages_on() {
    let subject = "citizen-who-looked-http";
    let contact = citizen_of(subject, "Lookwell", 307);
    let worker = case_worker("worker-looking");
    // More reads than a page holds.
    for _ in 0..26 {
        assert_eq!(worker.get(&format!("/api/contacts/{contact}")).status, 200);
    }
    let mut web = WebClient::citizen(subject);
    let first = web.get("/who-looked");
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains("A case worker"), "{}", first.body);
    assert!(first.body.contains("Case management"));
    assert!(first.body.contains("Read your details"));
    assert!(
        !first.body.contains("worker-looking"),
        "staff ids are not shown by default"
    );
    assert!(!first.body.contains(r#"rel="prev""#));
    let next = first
        .body
        .split(r#"href="/who-looked?after="#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to later uses")
        .to_string();
    let later = web.get(&format!("/who-looked?after={next}"));
    assert_eq!(later.status, 200, "{}", later.body);
    assert!(later.body.contains(r#"href="/who-looked" rel="prev""#));
    assert!(later.body.contains("A case worker"), "{}", later.body);
    // A cursor that is not a number is the first page.
    let odd = web.get("/who-looked?after=abc");
    assert_eq!(odd.status, 200);
    assert!(!odd.body.contains(r#"rel="prev""#));
}

#[test]
fn a_correction_request_becomes_a_case_in_the_corrections_queue_and_under_my_cases() {
    let subject = "citizen-correction-http";
    citizen_of(subject, "Correctby", 308);
    let mut web = WebClient::citizen(subject);
    let details = web.get("/my-details");
    assert!(details.body.contains(r#"href="/my-details/correction""#));
    let form = web.get("/my-details/correction?item=emails");
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains(r#"value="emails" checked"#),
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"value="other""#));

    // Nothing chosen or typed: both named, what was typed kept.
    let refused = web.post("/my-details/correction", &[("correction", "   ")]);
    assert_eq!(refused.status, 400, "{}", refused.body);
    let summary = error_summary(&refused);
    assert!(
        summary.contains(r##"<a href="#item">Select which detail is wrong</a>"##),
        "{summary}"
    );
    assert!(summary.contains(r##"<a href="#correction">Enter what it should say</a>"##));
    let too_long = "x".repeat(2001);
    let refused = web.post(
        "/my-details/correction",
        &[("item", "emails"), ("correction", &too_long)],
    );
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains(&too_long), "what was typed is kept");
    assert!(refused.body.contains(r#"value="emails" checked"#));
    assert!(error_summary(&refused).contains("2000 characters or fewer"));
    let cases = ok_json(&as_citizen(subject).get("/api/cases/mine"));
    assert_eq!(cases["cases"], json!([]), "nothing opened: {cases}");

    let sent = web.post(
        "/my-details/correction",
        &[
            ("item", "emails"),
            ("correction", "ada.correct@example.org"),
        ],
    );
    assert_eq!(sent.location(), "/my-cases");
    let cases = ok_json(&as_citizen(subject).get("/api/cases/mine"));
    let case = &cases["cases"][0];
    assert_eq!(case["case_type"], "correction-request", "{cases}");
    assert_eq!(case["subject"], "Correct my email addresses");
    assert!(
        case["details"]
            .as_str()
            .unwrap()
            .contains("We hold: correctby@example.org")
    );
    assert!(
        case["details"]
            .as_str()
            .unwrap()
            .contains("It should be: ada.correct@example.org")
    );
    // Staff find it in the corrections queue, filed under the citizen.
    let queue =
        ok_json(&case_worker("worker-corrections").get("/api/cases?queue_id=records-corrections"));
    assert!(
        queue["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == case["id"]),
        "{queue}"
    );
    let page = web.get("/my-cases");
    let reference = case["reference"].as_str().unwrap();
    assert!(
        page.body.contains(&format!("reference {reference}")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Correct my email addresses"));
    assert!(page.body.contains("It should be: ada.correct@example.org"));
}

#[test]
fn the_start_page_and_the_navigation_link_every_portal_page() {
    let subject = "citizen-navigation";
    citizen_of(subject, "Navigata", 309);
    let pages = [
        "/my-details",
        "/my-cases",
        "/my-consents",
        "/my-messages",
        "/who-looked",
    ];
    let signed_out = WebClient::new().get("/");
    assert_eq!(signed_out.status, 200);
    assert!(signed_out.body.contains("govuk-button--start"));
    let mut web = WebClient::citizen(subject);
    let start = web.get("/");
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(!start.body.contains("govuk-button--start"));
    for page in pages {
        assert!(
            signed_out
                .body
                .contains(&format!(r#"<a class="govuk-link" href="{page}">"#)),
            "the start page links {page}"
        );
        let shown = web.get(page);
        assert_eq!(shown.status, 200, "{page}: {}", shown.body);
        assert!(shown.body.contains("govuk-service-navigation"));
        for other in pages {
            assert!(
                shown.body.contains(&format!(
                    r#"class="govuk-service-navigation__link" href="{other}""#
                )),
                "{page} links {other}"
            );
        }
        assert!(
            shown
                .body
                .contains(&format!(r#"href="{page}" aria-current="page""#)),
            "{page} is marked current"
        );
    }
    // Signed out, each asks to sign in first.
    for page in pages {
        assert_eq!(WebClient::new().get(page).location(), "/sign-in");
    }
}
