//! Files sent by email as Notify's clients send them (`prepare_upload`,
//! issue 18): the file is kept with the message and the email carries a
//! link to it; with `confirm_email_before_download` (the default) the
//! recipient gives their address before downloading; the key in the link is
//! the credential; a file past its `retention_period` is gone, and dispatch
//! deletes it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crm_tests::{Host, Reply, Value, json};

use crate::notification::{
    app, assert_notify_error, notify_client, notify_service, template, use_templates,
};

const REPORT: &[u8] = b"%PDF-1.7\n\x00\xffyour report\n%%EOF\n";

/// Sends an email whose `link` personalisation is `file`; the message's id
/// and the link in its body.
fn send_file(host: &Host, key: &str, email: &str, file: Value) -> (String, String) {
    let sent = notify_client(host, key, 0).post_json(
        "/v2/notifications/email",
        &json!({"email_address": "Reader@Example.gov.au", "template_id": email,
                "personalisation": {"link": file}}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let sent = sent.json();
    let body = sent["content"]["body"].as_str().unwrap();
    let start = body
        .find("http")
        .unwrap_or_else(|| panic!("a link in {body}"));
    let link = body[start..].split_whitespace().next().unwrap().to_string();
    (sent["id"].as_str().unwrap().to_string(), link)
}

/// The link's path and query, for the host.
fn path_of(link: &str) -> String {
    let after_scheme = link.find("://").unwrap() + 3;
    link[after_scheme..][link[after_scheme..].find('/').unwrap()..].to_string()
}

fn confirm(host: &Host, path: &str, address: &str) -> Reply {
    let form = format!("email_address={}", address.replace('@', "%40"));
    host.request(
        "POST",
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    )
}

#[test]
fn a_file_sent_by_email_is_downloaded_after_confirming_the_address() {
    let notifying = app();
    let host = &notifying.host;
    let email = template(
        host,
        "email",
        Some("Your report"),
        "Download it: ((link))",
        "service-delivery",
    );
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&email]);
    let file = STANDARD.encode(REPORT);

    let (_, link) = send_file(
        host,
        &key,
        &email,
        json!({"file": file, "filename": "report.pdf"}),
    );
    let path = path_of(&link);
    assert!(path.starts_with("/api/notifications/documents/"), "{link}");
    let form = host.request("GET", &path, &[], None);
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("name=\"email_address\""),
        "{}",
        form.body
    );
    assert!(!form.bytes.starts_with(b"%PDF"), "not before confirming");
    let wrong = confirm(host, &path, "someone@example.gov.au");
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    let right = confirm(host, &path, " reader@example.GOV.au ");
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(right.bytes, REPORT);
    assert_eq!(right.header("content-type"), Some("application/pdf"));
    assert_eq!(
        right.header("content-disposition"),
        Some("attachment; filename=\"report.pdf\"")
    );
    // The key is the credential.
    let (without_key, _) = path.split_once("?key=").unwrap();
    let forged = format!("{without_key}?key=AAAA");
    assert_eq!(confirm(host, &forged, "reader@example.gov.au").status, 404);

    let (_, open) = send_file(
        host,
        &key,
        &email,
        json!({"file": STANDARD.encode("a,b\n1,2\n"), "filename": "data.csv",
               "confirm_email_before_download": false, "retention_period": "1 week"}),
    );
    let open = host.request("GET", &path_of(&open), &[], None);
    assert_eq!(open.status, 200, "{}", open.body);
    assert_eq!(open.body, "a,b\n1,2\n");
    assert_eq!(open.header("content-type"), Some("text/csv"));

    // Past its retention period it is gone, and dispatch deletes it.
    let id = path.trim_start_matches("/api/notifications/documents/");
    let id = id.split('?').next().unwrap();
    notifying
        .db()
        .execute(
            "UPDATE notify_documents SET expires_at = 0 WHERE id = ?",
            [id],
        )
        .unwrap();
    assert_eq!(confirm(host, &path, "reader@example.gov.au").status, 404);
    let dispatched =
        crm_tests::app::admin(host, "admin-1").post_json("/api/notifications/dispatch", &json!({}));
    assert_eq!(dispatched.status, 200, "{}", dispatched.body);
    assert!(
        dispatched.json()["documents_deleted"].as_u64().unwrap() >= 1,
        "{}",
        dispatched.body
    );
    let left: i64 = notifying
        .db()
        .query_row(
            "SELECT COUNT(*) FROM notify_documents WHERE id = ?",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_file_is_refused_in_notifys_words_and_nothing_is_kept() {
    let notifying = app();
    let host = &notifying.host;
    let email = template(
        host,
        "email",
        Some("Your report"),
        "Download it: ((link))",
        "service-delivery",
    );
    let sms = template(host, "sms", None, "See ((link))", "service-delivery");
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&email, &sms]);
    let pdf = STANDARD.encode(REPORT);
    let send = |file: Value| {
        notify_client(host, &key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": "reader@example.gov.au", "template_id": email,
                    "personalisation": {"link": file}}),
        )
    };
    let documents = || -> i64 {
        notifying
            .db()
            .query_row(
                "SELECT COUNT(*) FROM notify_documents WHERE service_id = ?",
                [&service],
                |r| r.get(0),
            )
            .unwrap()
    };
    // This service's: the other tests share the host.
    for (file, message) in [
        (
            json!({"file": pdf, "retention_period": "80 weeks"}),
            "Unsupported value for retention_period '80 weeks'. Supported periods are from 1 to 78 weeks.",
        ),
        (
            json!({"file": pdf, "confirm_email_before_download": "no"}),
            "Unsupported value for confirm_email_before_download: 'no'. Use a boolean true or false value.",
        ),
        (json!({"file": "%%%"}), "File is not valid base64"),
        (
            json!({"file": STANDARD.encode(b"MZ\x90\x00\x03\x00")}),
            "Unsupported file type 'application/octet-stream'. Supported types are: '.csv', '.jpeg', '.jpg', '.json', '.pdf', '.png', '.txt'",
        ),
    ] {
        assert_eq!(
            assert_notify_error(&send(file), 400, "BadRequestError"),
            message
        );
    }
    let texted = notify_client(host, &key, 0).post_json(
        "/v2/notifications/sms",
        &json!({"phone_number": "07700900123", "template_id": sms, "personalisation": {"link": {"file": pdf}}}),
    );
    assert_eq!(
        assert_notify_error(&texted, 400, "BadRequestError"),
        "Can only send a file by email"
    );
    assert_eq!(documents(), 0);
}
