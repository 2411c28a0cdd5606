//! GOV.UK Notify compatibility (issue 18): what the official clients'
//! integration suites check, each against a real host: `sanitised_content`,
//! phone numbers compared and stored as Notify does, templates scoped to
//! services, reply-to addresses and SMS senders, and the shapes of
//! Notify's answers.

use crm_tests::{Host, json};

use crate::notification::{
    app, assert_notify_error, consent, notify_client, notify_service, pseudo_contact, template,
    use_templates,
};

/// An email template `address` has consented to be sent.
fn consented_email(host: &Host, address: &str, body: &str) -> String {
    let id = template(host, "email", Some("Subject"), body, "claim-updates");
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    id
}

/// `sanitise_content_for` escapes the named values as Notify does (links
/// removed, Markdown characters escaped) and every email send answers
/// with `sanitised_content`: what changed, before and after.
#[test]
fn email_sends_answer_sanitised_content() {
    let host = &app().host;
    let address = "sanitised@example.gov.au";
    let email = consented_email(host, address, "Hi ((name)), see ((link))");
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&email]);
    let send = |body: serde_json::Value| {
        notify_client(host, &key, 0).post_json("/v2/notifications/email", &body)
    };
    let plain = send(json!({"email_address": address, "template_id": email,
        "personalisation": {"name": "Ann", "link": "[x](https://evil.example)"}}));
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(
        plain.json()["sanitised_content"],
        json!({}),
        "{}",
        plain.body
    );

    let sanitised = send(json!({"email_address": address, "template_id": email,
        "personalisation": {"name": "a-b", "LINK": "please [click](https://evil.example) or www.gov.uk"},
        "sanitise_content_for": ["Name", "link"]}));
    assert_eq!(sanitised.status, 201, "{}", sanitised.body);
    let answer = sanitised.json();
    assert_eq!(
        answer["sanitised_content"],
        json!({
            "name": {"unsanitised": "a-b", "sanitised": "a\\-b"},
            "LINK": {"unsanitised": "please [click](https://evil.example) or www.gov.uk",
                     "sanitised": "please \\[click\\]\\(\\) or www\\. gov\\. uk"},
        }),
        "{answer}"
    );
    assert_eq!(
        answer["content"]["body"], "Hi a\\-b, see please \\[click\\]\\(\\) or www\\. gov\\. uk",
        "{answer}"
    );

    let refused = send(json!({"email_address": address, "template_id": email,
        "personalisation": {"name": "a", "link": "b"}, "sanitise_content_for": "name"}));
    assert_eq!(
        assert_notify_error(&refused, 400, "ValidationError"),
        "sanitise_content_for is not of type array, null"
    );
}

/// An address Notify's schema would refuse is its `ValidationError`, in
/// its words, whatever the CRM's own rule found wrong.
#[test]
fn invalid_email_addresses_are_refused_in_notifys_words() {
    let host = &app().host;
    let email = consented_email(host, "valid@example.gov.au", "Hi ((name))");
    let (service, key) = notify_service(host, json!({}), "live");
    use_templates(host, &service, &[&email]);
    for address in [
        "no-at-sign.example.gov.au",
        "a b@example.gov.au",
        "x@localhost",
    ] {
        let reply = notify_client(host, &key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": address, "template_id": email, "personalisation": {"name": "A"}}),
        );
        assert_eq!(
            assert_notify_error(&reply, 400, "ValidationError"),
            "email_address Not a valid email address",
            "{address}"
        );
    }
}

/// Numbers are read as Notify reads them (a national number is a UK one,
/// any other country's needs its code) and compared normalised: a guest
/// list's `+447700900123` is the `07700 900123` a team key sends to, and a
/// consent recorded for one is the other's.
#[test]
fn phone_numbers_are_read_and_compared_as_notify_does() {
    let host = &app().host;
    let sms = template(host, "sms", None, "Code ((code))", "claim-updates");
    for number in ["+447700900123", "+447700900456", "+61412345678"] {
        consent(
            host,
            &pseudo_contact("sms", number),
            "claim-updates",
            "sms",
            "given",
        );
    }
    let send = |key: &str, number: &str| {
        notify_client(host, key, 0).post_json(
            "/v2/notifications/sms",
            &json!({"phone_number": number, "template_id": sms, "personalisation": {"code": "1"}}),
        )
    };
    let (team_service, team) =
        notify_service(host, json!({"guest_list": ["+447700900123"]}), "team");
    use_templates(host, &team_service, &[&sms]);
    for number in [
        "07700900123",
        "07700 900 123",
        "+44 (0)7700 900123",
        "0044 7700 900123",
    ] {
        let reply = send(&team, number);
        assert_eq!(reply.status, 201, "{number}: {}", reply.body);
    }
    assert_eq!(
        assert_notify_error(&send(&team, "07700900456"), 400, "BadRequestError"),
        "Can\u{2019}t send to this recipient using a team-only API key"
    );
    let (live_service, live) = notify_service(host, json!({}), "live");
    use_templates(host, &live_service, &[&sms]);
    for number in ["07700900456", "+61 412 345 678"] {
        let reply = send(&live, number);
        assert_eq!(reply.status, 201, "{number}: {}", reply.body);
    }
    for (number, message) in [
        ("07700 90", "Not enough digits"),
        ("07700 900 123 456 789", "Too many digits"),
        ("07700 9001a3", "Must not contain letters or symbols"),
        ("020 7946 0958", "Not a UK mobile number"),
        ("06700 900123", "Not a UK mobile number"),
        ("+999 1234 5678", "Not a valid country prefix"),
    ] {
        // Notify's schema checks the number: a `ValidationError` naming
        // the field, in its v2 API's words.
        assert_eq!(
            assert_notify_error(&send(&live, number), 400, "ValidationError"),
            format!("phone_number {message}"),
            "{number}"
        );
    }
    // A guest list takes numbers as Notify reads them too, normalised.
    let admin = crm_tests::app::admin(host, "admin-1");
    let reply = admin.post_json(
        "/api/notifications/services",
        &json!({"name": "Guests", "guest_list": ["07700 900123", "Ann@Example.gov.au"]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.json()["guest_list"],
        json!(["+447700900123", "ann@example.gov.au"])
    );
    let reply = admin.post_json(
        "/api/notifications/services",
        &json!({"name": "Guests", "guest_list": ["12"]}),
    );
    crm_tests::app::assert_problem(&reply, 400, "validation");
}

/// A template belongs to the services it is linked to: `/v2` lists, reads,
/// previews and sends only the caller's service's templates, and another
/// service's template is answered as Notify answers an unknown one.
#[test]
fn templates_are_scoped_to_their_services() {
    let host = &app().host;
    let address = "scoped@example.gov.au";
    let ours = consented_email(host, address, "Ours ((n))");
    let nobodys = template(host, "email", Some("S"), "Nobody's ((n))", "claim-updates");
    let (x, x_key) = notify_service(host, json!({}), "test");
    let (y, y_key) = notify_service(host, json!({}), "test");
    let comms = crate::notification::comms(host);
    let set_services = |template: &str, services: serde_json::Value| {
        comms.request(
            "PUT",
            &format!("/api/templates/{template}/services"),
            Some(&json!({ "services": services })),
        )
    };
    let reply = set_services(&ours, json!([x]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["services"], json!([x]));
    assert_eq!(
        comms.get(&format!("/api/templates/{ours}")).json()["services"],
        json!([x])
    );

    let listed = |key: &str| -> Vec<String> {
        notify_client(host, key, 0).get("/v2/templates").json()["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(listed(&x_key), vec![ours.clone()]);
    assert!(listed(&y_key).is_empty());
    let send = |key: &str, template: &str| {
        notify_client(host, key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": address, "template_id": template, "personalisation": {"n": 1}}),
        )
    };
    assert_eq!(send(&x_key, &ours).status, 201);
    let x_client = notify_client(host, &x_key, 0);
    assert_eq!(x_client.get(&format!("/v2/template/{ours}")).status, 200);
    assert_eq!(
        x_client
            .get(&format!("/v2/template/{ours}/version/1"))
            .status,
        200
    );
    let preview = x_client.post_json(
        &format!("/v2/template/{ours}/preview"),
        &json!({"personalisation": {"n": 1}}),
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    for (key, template) in [(&y_key, &ours), (&x_key, &nobodys)] {
        assert_eq!(
            assert_notify_error(&send(key, template), 400, "BadRequestError"),
            "Template not found"
        );
        let client = notify_client(host, key, 0);
        for path in [
            format!("/v2/template/{template}"),
            format!("/v2/template/{template}/version/1"),
        ] {
            assert_notify_error(&client.get(&path), 404, "NoResultFound");
        }
        let preview = client.post_json(
            &format!("/v2/template/{template}/preview"),
            &json!({"personalisation": {"n": 1}}),
        );
        assert_notify_error(&preview, 404, "NoResultFound");
    }

    // Only services may be named, and only Notify's kinds of template.
    let reply = set_services(&ours, json!([y, "00000000-0000-4000-8000-000000000000"]));
    let problem = crm_tests::app::assert_problem(&reply, 400, "validation");
    assert_eq!(crm_tests::app::error_fields(&problem), vec!["services[1]"]);
    let portal = template(host, "portal", Some("P"), "Portal", "claim-updates");
    let reply = set_services(&portal, json!([x]));
    crm_tests::app::assert_problem(&reply, 400, "validation");
    let reply = set_services("00000000-0000-4000-8000-000000000000", json!([x]));
    crm_tests::app::assert_problem(&reply, 404, "not-found");
}

/// The shapes Notify's clients read: a recipient as it was sent, the
/// unsubscribe link kept, a send's `template.uri` under its service, a
/// letter's postage from its template with its latest delivery date, its
/// postcode apart from its address lines, and templates with their
/// placeholders and postage; a templated letter takes neither `postage`
/// nor `scheduled_for`, as on Notify.
#[test]
fn notify_answers_have_notifys_shapes() {
    let host = &app().host;
    let address = "Shapes@Example.gov.au";
    let email = consented_email(host, "shapes@example.gov.au", "Hi ((name))");
    let sms = template(host, "sms", None, "Code ((code))", "claim-updates");
    consent(
        host,
        &pseudo_contact("sms", "+447700900789"),
        "claim-updates",
        "sms",
        "given",
    );
    let comms = crate::notification::comms(host);
    let letter = comms.post_json(
        "/api/templates",
        &json!({"name": "First class", "type": "letter", "subject": "Your letter",
                "body": "Dear ((name))", "purpose": "claim-updates", "postage": "first"}),
    );
    assert_eq!(letter.status, 201, "{}", letter.body);
    assert_eq!(letter.json()["postage"], "first");
    let letter = letter.json()["id"].as_str().unwrap().to_string();
    let lines = json!({"name": "Ann", "address_line_1": "Ann Person", "address_line_2": "1 Street", "postcode": "SW1A 1AA"});
    consent(
        host,
        &pseudo_contact("letter", r#"["Ann Person","1 Street","SW1A 1AA"]"#),
        "claim-updates",
        "letter",
        "given",
    );
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&email, &sms, &letter]);
    let client = || notify_client(host, &key, 0);
    let read = |id: &str| client().get(&format!("/v2/notifications/{id}")).json();

    let unsubscribe = "https://portal.example.gov.au/unsubscribe?u=1";
    let sent = client().post_json(
        "/v2/notifications/email",
        &json!({"email_address": address, "template_id": email, "personalisation": {"name": "A"},
                "one_click_unsubscribe_url": unsubscribe}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let sent = sent.json();
    let template_uri = sent["template"]["uri"].as_str().unwrap();
    assert!(
        template_uri.ends_with(&format!("/services/{service}/templates/{email}")),
        "{template_uri}"
    );
    let email_read = read(sent["id"].as_str().unwrap());
    assert_eq!(email_read["email_address"], address, "{email_read}");
    assert_eq!(email_read["one_click_unsubscribe_url"], unsubscribe);
    assert!(
        email_read["template"]["uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v2/template/{email}/version/1")),
        "{email_read}"
    );
    assert!(
        email_read.get("estimated_delivery").is_none(),
        "{email_read}"
    );

    let texted = client().post_json(
        "/v2/notifications/sms",
        &json!({"phone_number": "07700 900 789", "template_id": sms, "personalisation": {"code": "1"}}),
    );
    assert_eq!(texted.status, 201, "{}", texted.body);
    let sms_read = read(texted.json()["id"].as_str().unwrap());
    assert_eq!(sms_read["phone_number"], "07700 900 789", "{sms_read}");
    assert_eq!(sms_read["one_click_unsubscribe_url"], json!(null));

    let posted = client().post_json(
        "/v2/notifications/letter",
        &json!({"template_id": letter, "personalisation": lines}),
    );
    assert_eq!(posted.status, 201, "{}", posted.body);
    let letter_read = read(posted.json()["id"].as_str().unwrap());
    assert_eq!(letter_read["postage"], "first", "{letter_read}");
    assert_eq!(letter_read["line_1"], "Ann Person");
    assert_eq!(letter_read["line_2"], "1 Street");
    assert_eq!(letter_read["line_3"], json!(null), "{letter_read}");
    assert_eq!(letter_read["postcode"], "SW1A 1AA");
    let created = letter_read["created_at"].as_str().unwrap();
    let delivery = letter_read["estimated_delivery"].as_str().unwrap();
    assert_eq!(delivery.len(), created.len(), "{delivery}");
    assert!(delivery > created, "{delivery} after {created}");
    for (field, value) in [
        ("postage", json!("second")),
        ("scheduled_for", json!("2030-01-01T00:00:00Z")),
    ] {
        let mut body = json!({"template_id": letter, "personalisation": lines});
        body[field] = value;
        let refused = client().post_json("/v2/notifications/letter", &body);
        assert_eq!(
            assert_notify_error(&refused, 400, "ValidationError"),
            format!("Additional properties are not allowed ({field} was unexpected)")
        );
    }

    let letter_template = client().get(&format!("/v2/template/{letter}")).json();
    assert_eq!(letter_template["postage"], "first");
    assert_eq!(
        letter_template["personalisation"],
        json!({"name": {"required": true}})
    );
    let email_template = client().get(&format!("/v2/template/{email}")).json();
    assert_eq!(email_template["postage"], json!(null));
    assert_eq!(
        email_template["personalisation"],
        json!({"name": {"required": true}})
    );
}

/// A service's email reply-to addresses, text message senders and letter
/// contact blocks, administered by staff: a send may name one of its own
/// service's (another's, or none, is Notify's 400), the chosen one goes
/// with the message, and a text message is from its sender (the service's
/// default when none is named).
#[test]
fn reply_to_addresses_and_sms_senders_belong_to_their_service() {
    let app = app();
    let host = &app.host;
    let address = "reply.to@example.gov.au";
    let email = consented_email(host, address, "Reply ((n))");
    let sms = template(host, "sms", None, "Sender ((n))", "claim-updates");
    consent(
        host,
        &pseudo_contact("sms", "+447700900321"),
        "claim-updates",
        "sms",
        "given",
    );
    let (service, key) = notify_service(host, json!({}), "live");
    let (other, _) = notify_service(host, json!({}), "live");
    use_templates(host, &service, &[&email, &sms]);
    let admin = crm_tests::app::admin(host, "admin-1");
    let add = |service: &str, path: &str, body: serde_json::Value| {
        admin.post_json(
            &format!("/api/notifications/services/{service}/{path}"),
            &body,
        )
    };
    let created = |reply: crm_tests::Reply| {
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()
    };
    let reply_to = created(add(
        &service,
        "email-reply-to",
        json!({"email_address": "Replies@Example.gov.au"}),
    ));
    assert_eq!(reply_to["email_address"], "Replies@Example.gov.au");
    assert_eq!(reply_to["is_default"], true, "the first is the default");
    let second = created(add(
        &service,
        "email-reply-to",
        json!({"email_address": "more@example.gov.au"}),
    ));
    assert_eq!(second["is_default"], false);
    let theirs = created(add(
        &other,
        "email-reply-to",
        json!({"email_address": "theirs@example.gov.au"}),
    ));
    created(add(&service, "sms-senders", json!({"sms_sender": "GOVUK"})));
    let sender = created(add(
        &service,
        "sms-senders",
        json!({"sms_sender": "07700900555", "is_default": true}),
    ));
    let contact = created(add(
        &service,
        "letter-contacts",
        json!({"contact_block": "Benefits\n1 Street\nSW1A 1AA"}),
    ));
    assert_eq!(contact["contact_block"], "Benefits\n1 Street\nSW1A 1AA");
    let listed = admin.get(&format!(
        "/api/notifications/services/{service}/sms-senders"
    ));
    assert_eq!(listed.status, 200, "{}", listed.body);
    let senders = listed.json()["sms_senders"].clone();
    assert_eq!(senders.as_array().unwrap().len(), 2, "{senders}");
    assert_eq!(
        senders
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["is_default"] == true)
            .count(),
        1,
        "one default: {senders}"
    );
    for (path, body, field) in [
        (
            "email-reply-to",
            json!({"email_address": "not an address"}),
            "email_address",
        ),
        (
            "sms-senders",
            json!({"sms_sender": "A sender that is too long"}),
            "sms_sender",
        ),
        (
            "letter-contacts",
            json!({"contact_block": ""}),
            "contact_block",
        ),
    ] {
        let problem = crm_tests::app::assert_problem(&add(&service, path, body), 400, "validation");
        assert_eq!(crm_tests::app::error_fields(&problem), vec![field]);
    }
    let missing = add(
        "00000000-0000-4000-8000-000000000000",
        "sms-senders",
        json!({"sms_sender": "GOVUK"}),
    );
    crm_tests::app::assert_problem(&missing, 404, "not-found");

    let client = || notify_client(host, &key, 0);
    let sent = client().post_json(
        "/v2/notifications/email",
        &json!({"email_address": address, "template_id": email, "personalisation": {"n": 1},
                "email_reply_to_id": second["id"]}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.json()["id"].as_str().unwrap().to_string();
    let handed = app.webhook.wait_for(&id, 1);
    assert_eq!(handed[0].json()["reply_to"], "more@example.gov.au");
    let theirs_id = theirs["id"].as_str().unwrap();
    let refused = client().post_json(
        "/v2/notifications/email",
        &json!({"email_address": address, "template_id": email, "personalisation": {"n": 1},
                "email_reply_to_id": theirs_id}),
    );
    assert_eq!(
        assert_notify_error(&refused, 400, "BadRequestError"),
        format!(
            "email_reply_to_id {theirs_id} does not exist in database for service id {service}"
        )
    );

    let text = |sender_id: Option<&serde_json::Value>| {
        let mut body =
            json!({"phone_number": "07700900321", "template_id": sms, "personalisation": {"n": 1}});
        if let Some(id) = sender_id {
            body["sms_sender_id"] = id.clone();
        }
        client().post_json("/v2/notifications/sms", &body)
    };
    let chosen = text(Some(&sender["id"]));
    assert_eq!(chosen.status, 201, "{}", chosen.body);
    assert_eq!(chosen.json()["content"]["from_number"], "447700900555");
    let by_default = text(None);
    assert_eq!(by_default.json()["content"]["from_number"], "447700900555");
    let unknown = reply_to["id"].as_str().unwrap();
    assert_eq!(
        assert_notify_error(&text(Some(&json!(unknown))), 400, "BadRequestError"),
        format!("sms_sender_id {unknown} does not exist in database for service id {service}")
    );
}

/// As Notify's: an email's `body` is the template's text with the values
/// filled in, Windows line ends and Markdown as written (a text message's
/// is the text as sent, line ends `\n`), and a template's `created_by` is
/// an email address: its author's token's `email` claim, else the address
/// the CRM's emails come from.
#[test]
fn bodies_keep_windows_line_ends_and_templates_name_their_author_by_email() {
    let host = &app().host;
    let address = "crlf@example.gov.au";
    let email = consented_email(host, address, "# Hello ((name))\r\n\r\nSee you soon");
    let mut claims = crm_tests::auth::claims("author-1", &["communications-officer"]);
    claims["email"] = json!("Author.One@Example.GOV.au");
    let author = host.as_caller(&crm_tests::auth::dev_key().sign(&claims));
    let sms = author.post_json(
        "/api/templates",
        &json!({"name": "crlf sms", "type": "sms", "body": "Hi ((name))\r\n\r\nBye",
                "purpose": "service-delivery"}),
    );
    assert_eq!(sms.status, 201, "{}", sms.body);
    let sms = sms.json()["id"].as_str().unwrap().to_string();
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&email, &sms]);
    let client = notify_client(host, &key, 0);

    let sent = client.post_json(
        "/v2/notifications/email",
        &json!({"email_address": address, "template_id": email, "personalisation": {"name": "Ann"}}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let sent = sent.json();
    assert_eq!(sent["content"]["body"], "# Hello Ann\r\n\r\nSee you soon");
    let read = client.get(&format!(
        "/v2/notifications/{}",
        sent["id"].as_str().unwrap()
    ));
    assert_eq!(
        read.json()["body"],
        "# Hello Ann\r\n\r\nSee you soon",
        "{}",
        read.body
    );

    let text = client.post_json(
        "/v2/notifications/sms",
        &json!({"phone_number": "07700900123", "template_id": sms, "personalisation": {"name": "Ann"}}),
    );
    assert_eq!(text.status, 201, "{}", text.body);
    assert_eq!(text.json()["content"]["body"], "Hi Ann\n\nBye");

    let by_author = client.get(&format!("/v2/template/{sms}")).json();
    assert_eq!(by_author["created_by"], "Author.One@example.gov.au");
    let without_claim = client.get(&format!("/v2/template/{email}")).json();
    assert_eq!(without_claim["created_by"], "notifications@crm.gov.au");
}
