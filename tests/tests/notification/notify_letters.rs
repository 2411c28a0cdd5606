//! GOV.UK Notify's precompiled letters, letters' PDFs and received text
//! messages (issue 18, item 3), each against a real host: a PDF posted as
//! base64 is checked, kept and given back byte for byte; a templated letter
//! is rendered to a PDF; text messages a provider hands over on its signed
//! inbound route are listed for the service that owns the number, with
//! Notify's paging.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crm_tests::{Host, Reply, Value, json};
use notification_rules::sign_body;

use crate::notification::{
    WEBHOOK_SECRET, app, assert_notify_error, notify_client, notify_service, template,
    use_templates,
};

/// A one-page letter, the smallest PDF a reader opens (no xref: readers
/// rebuild it).
const ONE_PAGE_PDF: &[u8] = b"%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj
4 0 obj << /Length 44 >> stream
BT /F1 12 Tf 72 770 Td (A letter) Tj ET
endstream endobj
trailer << /Root 1 0 R >>
%%EOF
";

fn precompiled(host: &Host, key: &str, body: &Value) -> Reply {
    notify_client(host, key, 0).post_json("/v2/notifications/letter", body)
}

fn letters_of(host: &Host, key: &str) -> usize {
    let list = notify_client(host, key, 0).get("/v2/notifications?template_type=letter");
    assert_eq!(list.status, 200, "{}", list.body);
    list.json()["notifications"].as_array().unwrap().len()
}

/// A precompiled letter is a PDF (base64, at most 2 MiB, whole), kept as
/// posted: its answer is Notify's `{id, reference, postage}`, its read a
/// letter with the given postage, and its PDF the very bytes sent. What is
/// not a PDF, bad postage, a missing reference and a team key are refused
/// in Notify's words, and nothing of a refused one is kept.
#[test]
fn precompiled_letters_are_checked_kept_and_given_back() {
    let host = &app().host;
    let (service, key) = notify_service(host, json!({}), "test");
    let content = STANDARD.encode(ONE_PAGE_PDF);

    let sent = precompiled(
        host,
        &key,
        &json!({"reference": "batch-1", "content": content}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let sent = sent.json();
    let id = sent["id"].as_str().unwrap().to_string();
    assert_eq!(
        sent,
        json!({"id": id, "reference": "batch-1", "postage": "second"})
    );
    let first = precompiled(
        host,
        &key,
        &json!({"reference": "batch-2", "content": content, "postage": "first"}),
    );
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.json()["postage"], "first");

    let client = notify_client(host, &key, 0);
    let read = client.get(&format!("/v2/notifications/{id}"));
    assert_eq!(read.status, 200, "{}", read.body);
    let read = read.json();
    assert_eq!(read["type"], "letter", "{read}");
    assert_eq!(read["reference"], "batch-1");
    assert_eq!(read["postage"], "second");
    assert_eq!(read["line_1"], "Provided as PDF", "{read}");
    assert_eq!(read["postcode"], json!(null), "{read}");
    // A test key's letter is posted at once, as on Notify.
    assert_eq!(read["status"], "received", "{read}");
    assert_eq!(read["template"]["version"], 1);

    let pdf = client.get(&format!("/v2/notifications/{id}/pdf"));
    assert_eq!(pdf.status, 200, "{}", pdf.body);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(pdf.bytes == ONE_PAGE_PDF, "the PDF as it was sent");

    let before = letters_of(host, &key);
    let refused = |body: Value| precompiled(host, &key, &body);
    assert_eq!(
        assert_notify_error(
            &refused(json!({"reference": "r", "content": "not base64!"})),
            400,
            "BadRequestError"
        ),
        "Cannot decode letter content (invalid base64 encoding)"
    );
    assert_eq!(
        assert_notify_error(
            &refused(json!({"reference": "r", "content": STANDARD.encode("Dear resident, %%EOF")})),
            400,
            "BadRequestError"
        ),
        "Letter content is not a valid PDF"
    );
    let mut large = b"%PDF-1.7\n".to_vec();
    large.resize(2 * 1024 * 1024 + 1, b' ');
    large.extend_from_slice(b"%%EOF\n");
    assert_eq!(
        assert_notify_error(
            &refused(json!({"reference": "r", "content": STANDARD.encode(&large)})),
            400,
            "BadRequestError"
        ),
        "Letter content is larger than 2MB"
    );
    assert_eq!(
        assert_notify_error(
            &refused(json!({"reference": "r", "content": content, "postage": "europe"})),
            400,
            "ValidationError"
        ),
        "postage invalid. It must be either first, second or economy."
    );
    assert_eq!(
        assert_notify_error(
            &refused(json!({"content": content})),
            400,
            "ValidationError"
        ),
        "reference is a required property"
    );
    let (team_service, team) = notify_service(host, json!({}), "team");
    assert_ne!(team_service, service);
    assert_eq!(
        assert_notify_error(
            &precompiled(host, &team, &json!({"reference": "r", "content": content})),
            403,
            "BadRequestError"
        ),
        "Cannot send letters with a team api key"
    );
    assert_eq!(letters_of(host, &key), before, "nothing refused is kept");
}

/// A live key's precompiled letter goes to the letter provider with its
/// PDF (base64 in `pdf`): the PDF is the letter, and the provider prints it.
#[test]
fn a_precompiled_letter_reaches_its_provider_with_its_pdf() {
    let notifying = app();
    let host = &notifying.host;
    let (_, key) = notify_service(host, json!({}), "live");
    let sent = precompiled(
        host,
        &key,
        &json!({"reference": "to-print", "content": STANDARD.encode(ONE_PAGE_PDF)}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.json()["id"].as_str().unwrap().to_string();
    let handed = notifying.webhook.wait_for(&id, 1);
    let handed = handed[0].json();
    assert_eq!(handed["channel"], "letter", "{handed}");
    // Compared, not printed: the PDF is 90 KB.
    assert!(
        handed["pdf"] == STANDARD.encode(ONE_PAGE_PDF).as_str(),
        "the letter's PDF, base64: {:.200}",
        handed["pdf"]
    );
    let read = notify_client(host, &key, 0).get(&format!("/v2/notifications/{id}"));
    assert_eq!(read.json()["status"], "accepted", "{}", read.body);
}

/// A templated letter's PDF is rendered from what was sent (its address,
/// subject and body in it); another service's letter is unknown, a text
/// message is "not a letter", and a letter waiting for a virus scan is
/// Notify's `PDFNotReadyError`.
#[test]
fn a_letters_pdf_is_rendered_and_only_letters_have_one() {
    let notifying = app();
    let host = &notifying.host;
    let letter = template(
        host,
        "letter",
        Some("Your benefit review"),
        "Dear ((address_line_1)),\n\nYour review is booked.",
        "service-delivery",
    );
    let sms = template(host, "sms", None, "Your code", "service-delivery");
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&letter, &sms]);
    let client = || notify_client(host, &key, 0);
    let sent = client().post_json(
        "/v2/notifications/letter",
        &json!({"template_id": letter, "personalisation": {
            "address_line_1": "Ann Person", "address_line_2": "1 High Street", "postcode": "SW1A 1AA"}}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.json()["id"].as_str().unwrap().to_string();

    let pdf = client().get(&format!("/v2/notifications/{id}/pdf"));
    assert_eq!(pdf.status, 200, "{}", pdf.body);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(pdf.bytes.starts_with(b"%PDF-"), "{}", pdf.body);
    for shown in [
        "(Ann Person)",
        "(1 High Street)",
        "(SW1A 1AA)",
        "(Your benefit review)",
        "(Dear Ann Person,)",
        "(Your review is booked.)",
    ] {
        assert!(pdf.body.contains(shown), "{shown} in {}", pdf.body);
    }

    let (_, other) = notify_service(host, json!({}), "test");
    let unknown = notify_client(host, &other, 0).get(&format!("/v2/notifications/{id}/pdf"));
    assert_notify_error(&unknown, 404, "NoResultFound");

    let texted = client().post_json(
        "/v2/notifications/sms",
        &json!({"phone_number": "07700900321", "template_id": sms}),
    );
    assert_eq!(texted.status, 201, "{}", texted.body);
    let text_id = texted.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        assert_notify_error(
            &client().get(&format!("/v2/notifications/{text_id}/pdf")),
            400,
            "BadRequestError"
        ),
        "Notification is not a letter"
    );

    // No route puts a letter back before its scan; the database can.
    notifying
        .db()
        .execute(
            "UPDATE notifications SET status = 'pending-virus-check' WHERE id = ?",
            [&id],
        )
        .unwrap();
    assert_eq!(
        assert_notify_error(
            &client().get(&format!("/v2/notifications/{id}/pdf")),
            400,
            "PDFNotReadyError"
        ),
        "PDF not available yet, try again later"
    );
}

/// Posts a received text as the webhook provider, signed with `secret`.
fn inbound(host: &Host, body: &Value, secret: &str) -> Reply {
    let text = body.to_string();
    let signature = sign_body(secret.as_bytes(), text.as_bytes());
    host.request(
        "POST",
        "/api/notifications/inbound/webhook",
        &[
            ("content-type", "application/json"),
            ("x-crm-signature", &signature),
        ],
        Some(text.as_bytes()),
    )
}

fn add_sms_sender(host: &Host, service: &str, sender: &str) {
    let reply = crm_tests::app::admin(host, "admin-1").post_json(
        &format!("/api/notifications/services/{service}/sms-senders"),
        &json!({ "sms_sender": sender }),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// Text messages a provider hands over on its signed inbound route are kept
/// for the service whose sender is the number they went to (however it is
/// written), once however often they are handed over, and listed to that
/// service only, newest first, in Notify's shape and paging. An unsigned
/// one, one to no service's number and one without a message are refused.
#[test]
fn received_texts_arrive_signed_and_are_listed_for_their_service() {
    let host = &app().host;
    // A number of this test's own: senders are found across every service.
    let number = "07700 900 617";
    let (service, key) = notify_service(host, json!({}), "live");
    add_sms_sender(host, &service, "GOVUK");
    add_sms_sender(host, &service, number);
    let (_, stranger) = notify_service(host, json!({}), "live");
    let text = |id: &str, message: &str, at: &str| {
        json!({"id": id, "source_number": "447700900111", "destination_number": "447700900617",
               "message": message, "date_received": at})
    };

    let first = inbound(
        host,
        &text("in-617-1", "Yes please", "2026-12-07T10:00:00.000000Z"),
        WEBHOOK_SECRET,
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.json();
    assert_eq!(first["service_id"], service.as_str());
    let again = inbound(
        host,
        &text("in-617-1", "Yes please", "2026-12-07T10:00:00.000000Z"),
        WEBHOOK_SECRET,
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["id"], first["id"], "a repeat keeps the first");
    for (id, at) in [
        ("in-617-2", "2026-12-07T11:00:00.000000Z"),
        ("in-617-3", "2026-12-07T12:00:00.000000Z"),
    ] {
        let reply = inbound(host, &text(id, &format!("text {id}"), at), WEBHOOK_SECRET);
        assert_eq!(reply.status, 201, "{}", reply.body);
    }

    let unsigned = inbound(
        host,
        &text("in-617-9", "x", "2026-12-07T12:00:00Z"),
        "wrong",
    );
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);
    let mut nobody = text("in-617-9", "x", "2026-12-07T12:00:00Z");
    nobody["destination_number"] = json!("07700900999");
    assert_eq!(inbound(host, &nobody, WEBHOOK_SECRET).status, 404);
    let mut empty = text("in-617-9", "x", "2026-12-07T12:00:00Z");
    empty["message"] = json!("");
    let empty = inbound(host, &empty, WEBHOOK_SECRET);
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert!(empty.body.contains("message"), "{}", empty.body);

    let list = notify_client(host, &key, 0).get("/v2/received-text-messages");
    assert_eq!(list.status, 200, "{}", list.body);
    let list = list.json();
    let texts = list["received_text_messages"].as_array().unwrap();
    let contents: Vec<&str> = texts
        .iter()
        .map(|t| t["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["text in-617-3", "text in-617-2", "Yes please"]);
    assert_eq!(
        texts[2],
        json!({"id": first["id"], "user_number": "447700900111", "notify_number": "447700900617",
               "created_at": "2026-12-07T10:00:00.000000Z", "service_id": service,
               "content": "Yes please"})
    );
    let current = list["links"]["current"].as_str().unwrap();
    assert!(current.ends_with("/v2/received-text-messages"), "{list}");
    let next = list["links"]["next"].as_str().unwrap();
    let last = texts[2]["id"].as_str().unwrap();
    assert!(
        next.ends_with(&format!("/v2/received-text-messages?older_than={last}")),
        "{list}"
    );

    let older = notify_client(host, &key, 0).get(&format!(
        "/v2/received-text-messages?older_than={}",
        texts[0]["id"].as_str().unwrap()
    ));
    assert_eq!(older.status, 200, "{}", older.body);
    assert_eq!(
        older.json()["received_text_messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let past_the_end =
        notify_client(host, &key, 0).get(&format!("/v2/received-text-messages?older_than={last}"));
    let past_the_end = past_the_end.json();
    assert_eq!(past_the_end["received_text_messages"], json!([]));
    assert!(
        past_the_end["links"].get("next").is_none(),
        "{past_the_end}"
    );

    let theirs = notify_client(host, &stranger, 0).get("/v2/received-text-messages");
    assert_eq!(
        theirs.json()["received_text_messages"],
        json!([]),
        "another service's"
    );
    assert_eq!(
        assert_notify_error(
            &notify_client(host, &key, 0).get("/v2/received-text-messages?older_than=nope"),
            400,
            "ValidationError"
        ),
        "older_than is not a valid UUID"
    );
}
