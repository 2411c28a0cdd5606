use std::sync::OnceLock;
use std::time::Duration;

use crm_tests::app::{App, assert_problem};
use crm_tests::auth::{link_citizen, now_secs, token};
use crm_tests::provider::{Answer, ProviderServer};
use crm_tests::{Caller, Host, Reply, Value, json};
use notification_rules::{ApiKey, create_notify_jwt, sign_body, verify_notify_jwt};

const SEALING_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub(crate) const WEBHOOK_SECRET: &str = "webhook-shared-secret";
const UPSTREAM_CALLBACK_TOKEN: &str = "upstream-notify-callback-token";
/// The upstream Notify key the relay signs with.
const UPSTREAM_KEY: &str =
    "relay-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";
const UPSTREAM_SMS_TEMPLATE: &str = "f33517ff-2a88-4f6e-b855-c550268ce08a";

/// The app on a host with its message providers, each a local server.
pub(crate) struct Notifying {
    app: App,
    /// The generic webhook provider (email and letters).
    pub(crate) webhook: ProviderServer,
    /// The upstream Notify the relay sends text messages to.
    upstream: ProviderServer,
    /// Services' status callback endpoints.
    callbacks: ProviderServer,
}

/// Tests reach the app's host and database through the providers' struct.
impl std::ops::Deref for Notifying {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

fn start(limits: &[(&str, &str)]) -> Notifying {
    start_with(limits, &[])
}

/// As [`start`], with more `crm-host up` arguments.
fn start_with(limits: &[(&str, &str)], host_args: &[&str]) -> Notifying {
    let webhook = ProviderServer::start();
    let upstream = ProviderServer::start();
    upstream.answer_always(Answer::Status(201, r#"{"id":"upstream-1"}"#.into()));
    let callbacks = ProviderServer::start();
    let mut variables = vec![
        ("notification_sealing_key", SEALING_KEY.to_string()),
        (
            "notification_providers",
            "email=webhook,sms=notify,letter=webhook".into(),
        ),
        (
            "notification_webhook_url",
            format!("{}/messages", webhook.origin()),
        ),
        ("notification_webhook_origin", "http://127.0.0.1:*".into()),
        ("notification_webhook_secret", WEBHOOK_SECRET.into()),
        ("notification_notify_url", upstream.origin()),
        ("notification_notify_origin", "http://127.0.0.1:*".into()),
        ("notification_notify_api_key", UPSTREAM_KEY.into()),
        (
            "notification_notify_templates",
            format!("sms={UPSTREAM_SMS_TEMPLATE}"),
        ),
        (
            "notification_notify_callback_token",
            UPSTREAM_CALLBACK_TOKEN.into(),
        ),
        ("notification_callback_origin", "http://127.0.0.1:*".into()),
        ("notification_provider_timeout_ms", "700".into()),
        ("notification_retry_attempts", "3".into()),
        ("notification_retry_base_ms", "1".into()),
        ("notification_retry_max_ms", "1".into()),
        ("notification_callback_attempts", "3".into()),
        ("notification_callback_retry_ms", "1".into()),
    ];
    variables.extend(limits.iter().map(|(k, v)| (*k, v.to_string())));
    let mut args = Vec::new();
    for (name, value) in variables {
        args.push("--variable".into());
        args.push(format!("{name}={value}"));
    }
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(host_args);
    let app = App::shared(&args);
    // The consent-based purposes these tests send for.
    for purpose in ["claim-updates", "reminders"] {
        let reply = admin(&app.host).post_json(
            "/api/consents/purposes",
            &crm_tests::consent::direct_purpose(purpose),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    Notifying {
        app,
        webhook,
        upstream,
        callbacks,
    }
}

pub(crate) fn app() -> &'static Notifying {
    static APP: OnceLock<Notifying> = OnceLock::new();
    APP.get_or_init(|| start(&[]))
}

fn host() -> &'static Host {
    &app().host
}

/// A second shared host for the tests added for issue 7's gaps that call
/// dispatch: a dispatch acts on every due message and callback of its
/// host, and the tests on the first host count on their own dispatches.
fn dispatching_app() -> &'static Notifying {
    static APP: OnceLock<Notifying> = OnceLock::new();
    APP.get_or_init(|| start(&[]))
}

/// Takes in contacts and records their consent.
fn officer(host: &Host) -> Caller<'_> {
    crm_tests::app::officer(host, "officer-n")
}

/// Writes templates and sends messages.
pub(crate) fn comms(host: &Host) -> Caller<'_> {
    crm_tests::app::comms(host, "comms-1")
}

fn admin(host: &Host) -> Caller<'_> {
    crm_tests::app::admin(host, "admin-1")
}

fn auditor(host: &Host) -> Caller<'_> {
    host.as_caller(&token("auditor-n", &["auditor"]))
        .purpose("audit")
}

pub(crate) fn assert_notify_error(reply: &Reply, status: u16, error: &str) -> String {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status_code"], status, "{body}");
    assert_eq!(body["errors"][0]["error"], error, "{body}");
    body["errors"][0]["message"].as_str().unwrap().to_string()
}

fn new_contact(host: &Host, name: &str, email: &str) -> String {
    let reply = officer(host).post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": name, "email": email, "preferred_channel": "email"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_string()
}

/// Records `decision` (`given`, `refused`) or a withdrawal (`withdrawn`).
pub(crate) fn consent(host: &Host, contact: &str, purpose: &str, channel: &str, decision: &str) {
    let reply = if decision == "withdrawn" {
        officer(host).post_json(
            "/api/consents/withdrawals",
            &crm_tests::consent::withdrawal(contact, purpose, channel),
        )
    } else {
        officer(host).post_json(
            "/api/consents",
            &crm_tests::consent::decision(contact, purpose, channel, decision, "officer-n"),
        )
    };
    assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
}

/// The pseudo-contact a raw address is consent-checked as (README).
pub(crate) fn pseudo_contact(channel: &str, address: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{channel}:{}", address.trim().to_lowercase()));
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("recipient:{hex}")
}

pub(crate) fn template(
    host: &Host,
    kind: &str,
    subject: Option<&str>,
    body: &str,
    purpose: &str,
) -> String {
    let mut request =
        json!({"name": format!("{kind} template"), "type": kind, "body": body, "purpose": purpose});
    if let Some(subject) = subject {
        request["subject"] = json!(subject);
    }
    let reply = comms(host).post_json("/api/templates", &request);
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_string()
}

/// Sends `request` as the communications officer, which must be a 201.
fn send(host: &Host, request: &Value) -> Reply {
    let reply = comms(host).post_json("/api/notifications", request);
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply
}

/// A new contact with `email` who has consented to `claim-updates` by
/// `channel`, and a template for that channel and purpose: (contact, template).
fn ready_to_send(
    host: &Host,
    name: &str,
    email: &str,
    channel: &str,
    subject: Option<&str>,
    body: &str,
) -> (String, String) {
    let contact = new_contact(host, name, email);
    consent(host, &contact, "claim-updates", channel, "given");
    let template = template(host, channel, subject, body, "claim-updates");
    (contact, template)
}

fn dispatch(host: &Host) -> Value {
    let reply = admin(host).post_json("/api/notifications/dispatch", &json!({}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn notification(host: &Host, id: &str) -> Value {
    let reply = comms(host).get(&format!("/api/notifications/{id}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// Posts a signed webhook receipt.
fn receipt(host: &Host, body: &Value, secret: &str) -> Reply {
    let text = body.to_string();
    let signature = sign_body(secret.as_bytes(), text.as_bytes());
    host.request(
        "POST",
        "/api/notifications/receipts/webhook",
        &[
            ("content-type", "application/json"),
            ("x-crm-signature", &signature),
        ],
        Some(text.as_bytes()),
    )
}

/// A Notify service with a key of `key_type`; returns (service id, key).
pub(crate) fn notify_service(host: &Host, extra: Value, key_type: &str) -> (String, String) {
    let mut body = json!({"name": "Benefits portal"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let reply = admin(host).post_json("/api/notifications/services", &body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let service = reply.json()["id"].as_str().unwrap().to_string();
    (service.clone(), new_key(host, &service, key_type))
}

fn new_key(host: &Host, service: &str, key_type: &str) -> String {
    let reply = admin(host).post_json(
        &format!("/api/notifications/services/{service}/keys"),
        &json!({"name": format!("{key_type} key"), "key_type": key_type}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["key"].as_str().unwrap().to_string()
}

/// Adds `service` to the services each of `templates` belongs to (`/v2`
/// sees only its service's templates).
pub(crate) fn use_templates(host: &Host, service: &str, templates: &[&str]) {
    for template in templates {
        let path = format!("/api/templates/{template}/services");
        let read = comms(host).get(&format!("/api/templates/{template}"));
        assert_eq!(read.status, 200, "{}", read.body);
        let mut services = read.json()["services"].as_array().unwrap().clone();
        services.push(json!(service));
        let reply = comms(host).request("PUT", &path, Some(&json!({ "services": services })));
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

/// A Notify client: a fresh JWT made from `key`, `skew` seconds off.
pub(crate) fn notify_client<'a>(host: &'a Host, key: &str, skew: i64) -> Caller<'a> {
    let key = ApiKey::parse(key).expect("a Notify key");
    host.as_caller(&create_notify_jwt(
        key.secret(),
        key.service_id(),
        now_secs() + skew,
    ))
}

#[test]
fn templates_keep_their_versions_and_previews_are_safe() {
    let host = host();
    let id = template(
        host,
        "email",
        Some("About your ((thing))"),
        "Hello ((Name)),\n\n((items))\n\n((urgent??Please reply today.))",
        "status-updates",
    );
    let preview = comms(host).post_json(
        &format!("/api/templates/{id}/preview"),
        &json!({"personalisation": {"name": "<script>x</script>", "thing": "claim",
                 "items": ["one", "two"], "urgent": "yes"}}),
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    let preview = preview.json();
    assert_eq!(preview["subject"], "About your claim");
    let html = preview["html"].as_str().unwrap();
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("<li>one</li>") || html.contains("<li>\none"),
        "{html}"
    );
    assert!(
        preview["body"]
            .as_str()
            .unwrap()
            .contains("Please reply today.")
    );

    let missing = comms(host).post_json(
        &format!("/api/templates/{id}/preview"),
        &json!({"personalisation": {"thing": "x"}}),
    );
    let body = assert_problem(&missing, 400, "template-render");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Missing personalisation: Name, items, urgent"),
        "{body}"
    );

    let revised = comms(host).post_json(
        &format!("/api/templates/{id}/versions"),
        &json!({"subject": "Update on your ((thing))"}),
    );
    assert_eq!(revised.status, 201, "{}", revised.body);
    assert_eq!(revised.json()["version"], 2);
    let v1 = comms(host)
        .get(&format!("/api/templates/{id}/versions/1"))
        .json();
    assert_eq!(v1["subject"], "About your ((thing))");
    let latest = comms(host).get(&format!("/api/templates/{id}")).json();
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["subject"], "Update on your ((thing))");
    let listed = comms(host).get("/api/templates?type=email").json();
    let listed: Vec<&Value> = listed["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] == id.as_str())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["version"], 2);

    // The database refuses to change a version.
    let db = rusqlite::Connection::open(app().db_path()).unwrap();
    let refused = db.execute(
        "UPDATE notification_templates SET body = 'x' WHERE id = ?1",
        [&id],
    );
    assert!(refused.unwrap_err().to_string().contains("immutable"));

    let bad = comms(host).post_json(
        "/api/templates",
        &json!({"name": "", "type": "sms", "subject": "no", "body": "((unclosed", "purpose": "Not A Slug"}),
    );
    let body = assert_problem(&bad, 400, "validation");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"purpose") && fields.contains(&"subject"),
        "{body}"
    );
    // The purpose must be in the consent catalogue, for a new template and
    // for each new version: consent would refuse every send for another.
    let unknown = comms(host).post_json(
        "/api/templates",
        &json!({"name": "Unknown purpose", "type": "sms", "body": "x", "purpose": "not-in-the-catalogue"}),
    );
    assert_unknown_purpose(&unknown);
    let unknown = comms(host).post_json(
        &format!("/api/templates/{id}/versions"),
        &json!({"purpose": "not-in-the-catalogue"}),
    );
    assert_unknown_purpose(&unknown);
    let latest = comms(host).get(&format!("/api/templates/{id}")).json();
    assert_eq!(latest["version"], 2, "no version was made: {latest}");
    assert_eq!(latest["purpose"], "status-updates");
    // A purpose added to the catalogue may be used at once.
    let added = admin(host).post_json(
        "/api/consents/purposes",
        &crm_tests::consent::direct_purpose("template-purpose-check"),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let revised = comms(host).post_json(
        &format!("/api/templates/{id}/versions"),
        &json!({"purpose": "template-purpose-check"}),
    );
    assert_eq!(revised.status, 201, "{}", revised.body);
    assert_eq!(revised.json()["purpose"], "template-purpose-check");
    let caseworker = host.as_caller(&token("cw", &["case-worker"]));
    assert_problem(
        &caseworker.post_json(
            "/api/templates",
            &json!({"name": "x", "type": "sms", "body": "x", "purpose": "x"}),
        ),
        403,
        "forbidden",
    );
}

/// A 400 naming `purpose` as outside the consent purpose catalogue.
fn assert_unknown_purpose(reply: &Reply) {
    let body = assert_problem(reply, 400, "validation");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["field"], "purpose", "{body}");
    assert!(
        errors[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not in the consent purpose catalogue"),
        "{body}"
    );
}

#[test]
fn a_send_to_a_contact_needs_consent_and_is_delivered_recorded_and_audited() {
    let app = app();
    let host = &app.host;
    let contact = new_contact(host, "Consenting Person", "person.one@example.gov.au");
    let id = template(
        host,
        "email",
        Some("Claim ((ref))"),
        "Your claim ((ref)) moved.",
        "claim-updates",
    );
    let send = || {
        comms(host).post_json(
            "/api/notifications",
            &json!({"template_id": id, "contact_id": contact, "personalisation": {"ref": "C-1"}}),
        )
    };
    let refused = assert_problem(&send(), 400, "consent-refused");
    assert!(
        refused["detail"].as_str().unwrap().contains("no-consent"),
        "{refused}"
    );
    let audit = auditor(host)
        .get(&format!(
            "/api/audit/entries?limit=500&resource=template/{id}"
        ))
        .json();
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "denied" && e["detail"] == "consent-refused:no-consent"),
        "{audit}"
    );
    assert!(
        app.webhook.received_with(&contact).is_empty(),
        "nothing is sent without consent"
    );

    consent(host, &contact, "claim-updates", "email", "given");
    let sent = send();
    assert_eq!(sent.status, 201, "{}", sent.body);
    let message = sent.json();
    let message_id = message["id"].as_str().unwrap();
    assert_eq!(message["status"], "sending");
    assert_eq!(message["recipient"], "person.one@example.gov.au");
    let handed = app.webhook.wait_for(message_id, 1);
    assert_eq!(handed.len(), 1);
    let request = &handed[0];
    assert_eq!(request.path, "/messages");
    assert_eq!(request.header("idempotency-key"), Some(message_id));
    assert!(notification_rules::verify_body_signature(
        WEBHOOK_SECRET.as_bytes(),
        request.body.as_bytes(),
        request.header("x-crm-signature")
    ));
    assert_eq!(request.json()["body"], "Your claim C-1 moved.");
    assert_eq!(request.json()["to"], "person.one@example.gov.au");

    // A receipt with a bad signature is refused; a good one is applied once.
    let delivered = json!({"id": message_id, "status": "delivered"});
    assert_problem(
        &receipt(host, &delivered, "wrong-secret"),
        401,
        "unauthorized",
    );
    let applied = receipt(host, &delivered, WEBHOOK_SECRET);
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(applied.json()["applied"], true);
    let late = receipt(
        host,
        &json!({"id": message_id, "status": "temporary-failure"}),
        WEBHOOK_SECRET,
    );
    assert_eq!(late.json()["applied"], false);
    let read = notification(host, message_id);
    assert_eq!(read["status"], "delivered");
    let statuses: Vec<&str> = read["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["created", "sending", "delivered"]);

    // The final status is an outbound interaction in the contact's log.
    let interaction_id = read["interaction_id"]
        .as_str()
        .expect("recorded in the interaction log");
    let interaction = officer(host).get(&format!("/api/interactions/{interaction_id}"));
    assert_eq!(interaction.status, 200, "{}", interaction.body);
    let interaction = interaction.json();
    assert_eq!(interaction["direction"], "outbound");
    assert_eq!(interaction["notification_id"], message_id);
    assert_eq!(interaction["contact_id"], contact.as_str());
    let audit = auditor(host)
        .get(&format!(
            "/api/audit/entries?limit=500&resource=notification/{message_id}"
        ))
        .json();
    let actions: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(actions.contains(&("notification.send", "")), "{actions:?}");
    assert!(
        actions.contains(&("notification.receipt", "delivered")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("notification.status", "delivered")),
        "{actions:?}"
    );

    // The contact's messages, newest first, a page at a time; the refused
    // send made none.
    let again = send();
    assert_eq!(again.status, 201, "{}", again.body);
    let newest = again.json()["id"].as_str().unwrap().to_string();
    let page = |query: &str| {
        let reply = comms(host).get(&format!("/api/notifications?contact_id={contact}&{query}"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    };
    let first = page("limit=1");
    assert_eq!(first["notifications"][0]["id"], newest.as_str());
    assert_eq!(first["next_older_than"], newest.as_str());
    let second = page(&format!("limit=1&older_than={newest}"));
    assert_eq!(second["notifications"][0]["id"], message_id);
    assert_eq!(second["notifications"][0]["status"], "delivered");
    assert_eq!(second["next_older_than"], Value::Null);
    assert_eq!(page("")["notifications"].as_array().unwrap().len(), 2);

    // Reading notifications is for those who send them.
    let intake = host
        .as_caller(&token("intake-only", &["intake-officer"]))
        .purpose("case-management");
    assert_problem(
        &intake.get(&format!("/api/notifications/{message_id}")),
        403,
        "forbidden",
    );
    assert_problem(
        &intake.get(&format!("/api/notifications?contact_id={contact}")),
        403,
        "forbidden",
    );
}

#[test]
fn a_retried_send_never_sends_twice() {
    let app = app();
    let host = &app.host;
    let (contact, id) = ready_to_send(
        host,
        "Retry Person",
        "retry.person@example.gov.au",
        "email",
        Some("Hi"),
        "Hello ((name))",
    );
    let send = |name: &str| {
        comms(host)
            .header("idempotency-key", "retry-abc-1")
            .post_json("/api/notifications", &json!({"template_id": id, "contact_id": contact, "personalisation": {"name": name}}))
    };
    let first = send("Ann");
    assert_eq!(first.status, 201, "{}", first.body);
    let again = send("Ann");
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["id"], first.json()["id"]);
    let message_id = first.json()["id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        app.webhook.received_with(&message_id).len(),
        1,
        "handed over once: {}",
        first.body
    );
    assert_problem(&send("Bob"), 409, "idempotency-key-reused");
    // Another caller's key of the same name is theirs alone.
    let other = host
        .as_caller(&token("comms-2", &["communications-officer"]))
        .header("idempotency-key", "retry-abc-1")
        .post_json(
            "/api/notifications",
            &json!({"template_id": id, "contact_id": contact, "personalisation": {"name": "Ann"}}),
        );
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(other.json()["id"], first.json()["id"]);
}

#[test]
fn a_citizen_marks_their_own_inbox_messages_read_and_unread() {
    let app = app();
    let host = &app.host;
    let (contact, portal) = ready_to_send(
        host,
        "Reading Person",
        "reading.person@example.gov.au",
        "portal",
        Some("Read me"),
        "Your claim ((ref)) is approved.",
    );
    let (other, _) = ready_to_send(
        host,
        "Other Reader",
        "other.reader@example.gov.au",
        "portal",
        Some("Not yours"),
        "x",
    );
    let send_to = |contact: &str| {
        send(
            host,
            &json!({"template_id": portal, "contact_id": contact, "personalisation": {"ref": "R-1"}}),
        )
        .json()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (mine, theirs) = (send_to(&contact), send_to(&other));
    link_citizen(&app.db_path(), "citizen-reader-1", &contact);
    let citizen = host.as_caller(&token("citizen-reader-1", &["citizen"]));
    let read_at = || {
        let inbox = citizen.get("/api/notifications/inbox");
        assert_eq!(inbox.status, 200, "{}", inbox.body);
        inbox.json()["messages"][0]["read_at"].clone()
    };
    assert_eq!(read_at(), Value::Null, "unread until marked");
    let read = citizen.post_json(&format!("/api/notifications/inbox/{mine}/read"), &json!({}));
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()["id"], mine.as_str());
    let first = read.json()["read_at"].clone();
    assert!(first.is_string(), "{}", read.body);
    assert_eq!(read_at(), first);
    // Reading it again keeps the first reading's time.
    std::thread::sleep(Duration::from_millis(5));
    let again = citizen.post_json(&format!("/api/notifications/inbox/{mine}/read"), &json!({}));
    assert_eq!(again.json()["read_at"], first);
    let unread = citizen.post_json(
        &format!("/api/notifications/inbox/{mine}/unread"),
        &json!({}),
    );
    assert_eq!(unread.status, 200, "{}", unread.body);
    assert_eq!(unread.json()["read_at"], Value::Null);
    assert_eq!(read_at(), Value::Null);
    // Another's message, as one that does not exist: not in this inbox.
    for id in [theirs.as_str(), "no-such-message"] {
        assert_problem(
            &citizen.post_json(&format!("/api/notifications/inbox/{id}/read"), &json!({})),
            404,
            "not-found",
        );
    }
    // No staff role marks a citizen's messages.
    assert_problem(
        &comms(host).post_json(&format!("/api/notifications/inbox/{mine}/read"), &json!({})),
        403,
        "forbidden",
    );
    let entries = app.audit_entries(
        "actor_id, outcome, resource",
        "action",
        "inbox.update",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    );
    let by = |actor: &str, outcome: &str| {
        entries
            .iter()
            .filter(|(a, o, _)| a == actor && o == outcome)
            .count()
    };
    assert_eq!(by("citizen:citizen-reader-1", "allowed"), 5, "{entries:?}");
    assert_eq!(by("citizen:citizen-reader-1", "failed"), 2, "{entries:?}");
    assert_eq!(by("staff:comms-1", "denied"), 1, "{entries:?}");
    assert!(
        entries
            .iter()
            .any(|(_, _, resource)| resource == &format!("notification/{mine}")),
        "{entries:?}"
    );
}

#[test]
fn portal_messages_go_to_the_citizens_inbox() {
    let app = app();
    let host = &app.host;
    let (contact, portal) = ready_to_send(
        host,
        "Portal Person",
        "portal.person@example.gov.au",
        "portal",
        Some("New message"),
        "Your claim ((ref)) is approved.",
    );
    let sent = send(
        host,
        &json!({"template_id": portal, "contact_id": contact, "personalisation": {"ref": "P-9"}}),
    );
    assert_eq!(sent.json()["status"], "delivered");
    link_citizen(&app.db_path(), "citizen-inbox-1", &contact);
    let citizen = host
        .as_caller(&token("citizen-inbox-1", &["citizen"]))
        .purpose("service-delivery");
    let inbox = citizen.get("/api/notifications/inbox");
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    let messages = inbox.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["body"], "Your claim P-9 is approved.");
    assert_problem(
        &comms(host).get("/api/notifications/inbox"),
        403,
        "forbidden",
    );
    // A portal message needs a contact.
    let raw = comms(host).post_json("/api/notifications", &json!({"template_id": portal, "email_address": "a@example.gov.au", "personalisation": {"ref": "x"}}));
    assert_problem(&raw, 400, "validation");
    // With several templates, the contact's preferred channel (email) wins.
    consent(host, &contact, "claim-updates", "email", "given");
    let email = template(
        host,
        "email",
        Some("Email"),
        "By email ((ref))",
        "claim-updates",
    );
    let chosen = send(
        host,
        &json!({"template_ids": [portal, email], "contact_id": contact, "personalisation": {"ref": "Q"}}),
    );
    assert_eq!(chosen.json()["channel"], "email");
}

#[test]
fn queued_messages_are_cancelled_by_withdrawal_and_checked_again_at_dispatch() {
    let app = app();
    let host = &app.host;
    let id = template(
        host,
        "email",
        Some("Later"),
        "See you ((when))",
        "reminders",
    );
    let soon = |secs: i64| crm_tests::auth::now_secs() + secs;
    let rfc3339 = |secs: i64| {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.query_row(
            "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?1, 'unixepoch')",
            [secs],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    // A do-not-contact entry after queueing (no outbox event): dispatch
    // asks consent again and cancels.
    let first = new_contact(host, "Withdrawing Person", "withdrawing@example.gov.au");
    consent(host, &first, "reminders", "email", "given");
    let queued = send(
        host,
        &json!({"template_id": id, "contact_id": first, "personalisation": {"when": "soon"}, "scheduled_for": rfc3339(soon(1))}),
    );
    let queued_id = queued.json()["id"].as_str().unwrap().to_string();
    assert_eq!(queued.json()["status"], "created");
    let suppressed = officer(host).post_json(
        "/api/consents/suppressions",
        &json!({"contact_id": first, "channel": "email", "reason": "complaint"}),
    );
    assert_eq!(suppressed.status, 201, "{}", suppressed.body);
    std::thread::sleep(Duration::from_millis(1_200));
    let summary = dispatch(host);
    assert!(
        summary["consent_cancelled"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    let read = notification(host, &queued_id);
    assert_eq!(read["status"], "cancelled");
    assert!(
        read["failure_reason"]
            .as_str()
            .unwrap()
            .contains("suppressed"),
        "{read}"
    );
    assert!(app.webhook.received_with(&queued_id).is_empty());
    assert_eq!(
        officer(host)
            .get(&format!(
                "/api/interactions/{}",
                read["interaction_id"].as_str().unwrap()
            ))
            .status,
        200
    );

    // A withdrawal through the consent API writes a `consent.withdrawn`
    // outbox event, which cancels queued messages before they are due.
    let second = new_contact(host, "Evented Person", "evented@example.gov.au");
    consent(host, &second, "reminders", "email", "given");
    let later = comms(host).post_json(
        "/api/notifications",
        &json!({"template_id": id, "contact_id": second, "personalisation": {"when": "later"}, "scheduled_for": rfc3339(soon(3600))}),
    );
    let later_id = later.json()["id"].as_str().unwrap().to_string();
    consent(host, &second, "reminders", "email", "withdrawn");
    let db = rusqlite::Connection::open(app.db_path()).unwrap();
    let summary = dispatch(host);
    assert!(
        summary["withdrawals_cancelled"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    assert_eq!(notification(host, &later_id)["status"], "cancelled");
    let cursor: i64 = db
        .query_row(
            "SELECT last_id FROM outbox_cursors WHERE consumer = 'notification'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let newest: i64 = db
        .query_row("SELECT MAX(id) FROM outbox_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cursor, newest);
}

/// Consent is asked again as of the moment a dispatch run checks each
/// message, not as of the run's start: a withdrawal answered while the run
/// waits on a status callback refuses the message it then checks.
#[test]
fn a_withdrawal_answered_during_a_dispatch_run_refuses_what_it_then_checks() {
    // A host of its own: no other test's dispatch may claim these messages.
    let app = start(&[]);
    let host = &app.host;
    let (service, key) = notify_service(
        host,
        json!({"callback_url": format!("{}/callbacks", app.callbacks.origin()), "callback_bearer_token": "slow-callback-token"}),
        "live",
    );
    let id = template(host, "email", Some("Hi"), "Soon ((x))", "claim-updates");
    use_templates(host, &service, &[&id]);
    let (first, second) = (
        "racing.first@example.gov.au",
        "racing.second@example.gov.au",
    );
    let decide = |address: &str, decision: &str| {
        let subject = pseudo_contact("email", address);
        consent(host, &subject, "claim-updates", "email", decision);
    };
    decide(first, "given");
    decide(second, "given");
    let send = |address: &str, scheduled_for: Option<String>| {
        let mut body =
            json!({"email_address": address, "template_id": id, "personalisation": {"x": "1"}});
        if let Some(at) = scheduled_for {
            body["scheduled_for"] = json!(at);
        }
        let sent = notify_client(host, &key, 0).post_json("/v2/notifications/email", &body);
        assert_eq!(sent.status, 201, "{}", sent.body);
        sent.json()["id"].as_str().unwrap().to_string()
    };
    // The first is handed over and, 73 hours on, times out at the run's
    // start; its service's status callback then takes half a second.
    let held_up = send(first, None);
    let at = now_secs() + 1;
    let checked = send(second, Some(rfc3339(at)));
    let long_ago = (now_secs() - 73 * 3600) * 1000;
    let changed = app.db()
        .execute(
            "UPDATE notifications SET sent_at = ?1, created_at = ?1 WHERE id = ?2 AND status = 'sending'",
            rusqlite::params![long_ago, held_up],
        )
        .unwrap();
    assert_eq!(changed, 1);
    app.callbacks
        .script(&held_up, [Answer::Slow(Duration::from_millis(500), 200)]);
    while now_secs() <= at {
        std::thread::sleep(Duration::from_millis(50));
    }
    let summary = std::thread::scope(|scope| {
        let run = scope.spawn(|| dispatch(host));
        assert_eq!(app.callbacks.wait_for(&held_up, 1).len(), 1);
        decide(second, "withdrawn");
        run.join().unwrap()
    });
    assert_eq!(summary["timed_out"], 1, "{summary}");
    assert_eq!(summary["consent_cancelled"], 1, "{summary}");
    let read = notification(host, &checked);
    assert_eq!(read["status"], "cancelled", "{read}");
    assert!(app.webhook.received_with(&checked).is_empty());
}

#[test]
fn failed_deliveries_are_retried_then_become_technical_failures() {
    let app = app();
    let host = &app.host;
    let (contact, id) = ready_to_send(
        host,
        "Unlucky Person",
        "unlucky@example.gov.au",
        "email",
        Some("Hi"),
        "Attempt ((n))",
    );
    let send = |n: &str| {
        let reply = send(
            host,
            &json!({"template_id": id, "contact_id": contact, "personalisation": {"n": n}}),
        );
        reply.json()
    };
    // 503, 429, then too slow: three attempts, then technical-failure.
    app.webhook.script(
        "Attempt exhaust",
        [
            Answer::Status(503, "{}".into()),
            Answer::Status(429, "{}".into()),
            Answer::Slow(Duration::from_millis(1_500), 200),
        ],
    );
    let first = send("exhaust");
    let message_id = first["id"].as_str().unwrap().to_string();
    assert_eq!(first["status"], "created");
    assert!(
        first["failure_reason"].as_str().unwrap().contains("503"),
        "{first}"
    );
    std::thread::sleep(Duration::from_millis(20));
    dispatch(host);
    let second = notification(host, &message_id);
    assert_eq!(second["status"], "created");
    assert!(
        second["failure_reason"].as_str().unwrap().contains("429"),
        "{second}"
    );
    std::thread::sleep(Duration::from_millis(20));
    let summary = dispatch(host);
    assert!(
        summary["technical_failures"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    let last = notification(host, &message_id);
    assert_eq!(last["status"], "technical-failure");
    assert_eq!(last["attempts"], 3);
    assert!(
        last["failure_reason"]
            .as_str()
            .unwrap()
            .contains("no answer within"),
        "{last}"
    );
    assert_eq!(app.webhook.received_with(&message_id).len(), 3);

    // Garbage instead of HTTP is retried too, and the next try succeeds.
    app.webhook.script("Attempt garbage", [Answer::Garbage]);
    let garbled = send("garbage");
    assert_eq!(garbled["status"], "created");
    std::thread::sleep(Duration::from_millis(20));
    dispatch(host);
    assert_eq!(
        notification(host, garbled["id"].as_str().unwrap())["status"],
        "sending"
    );
    // A 4xx answer is not retried.
    app.webhook
        .script("Attempt refused", [Answer::Status(400, "{}".into())]);
    assert_eq!(send("refused")["status"], "technical-failure");
}

#[test]
fn notify_v2_sends_reads_lists_and_previews() {
    let app = app();
    let host = &app.host;
    let email_template = template(
        host,
        "email",
        Some("Ref ((ref))"),
        "Hello ((name))",
        "claim-updates",
    );
    let letter_template = template(
        host,
        "letter",
        Some("Your letter"),
        "Dear ((name))",
        "claim-updates",
    );
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&email_template, &letter_template]);
    let client = || notify_client(host, &key, 0);
    for (channel, address) in [
        ("email", "temp-fail@simulator.notify"),
        ("email", "ann@example.gov.au"),
        // Consent is recorded for the number as Notify normalises it.
        ("sms", "+447700900002"),
    ] {
        consent(
            host,
            &pseudo_contact(channel, address),
            "claim-updates",
            channel,
            "given",
        );
    }
    let sent = client().post_json(
        "/v2/notifications/email",
        &json!({"email_address": "temp-fail@simulator.notify", "template_id": email_template, "personalisation": {"name": "Ann", "ref": "R1"}, "reference": "ref-1"}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let sent = sent.json();
    assert_eq!(sent["content"]["subject"], "Ref R1");
    assert_eq!(sent["content"]["body"], "Hello Ann");
    assert_eq!(sent["reference"], "ref-1");
    assert_eq!(sent["template"]["version"], 1);
    let id = sent["id"].as_str().unwrap();
    assert!(
        sent["uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v2/notifications/{id}"))
    );
    let read = client().get(&format!("/v2/notifications/{id}")).json();
    assert_eq!(
        read["status"], "temporary-failure",
        "test keys simulate: {read}"
    );
    assert_eq!(read["type"], "email");
    assert_eq!(read["email_address"], "temp-fail@simulator.notify");
    // Notify's shape: microsecond times, no sender name for an API send,
    // no postage for an email, and its cost fields (no billing here).
    let created_at = read["created_at"].as_str().unwrap();
    assert_eq!(
        created_at.len(),
        "2026-01-01T00:00:00.000000Z".len(),
        "{created_at}"
    );
    assert_eq!(read["created_by_name"], Value::Null);
    assert_eq!(read["postage"], Value::Null);
    assert_eq!(read["is_cost_data_ready"], false);
    assert_eq!(read["cost_in_pounds"], Value::Null);
    assert_eq!(read["cost_details"], json!({}));
    for field in [
        "created_at",
        "sent_at",
        "completed_at",
        "template",
        "body",
        "subject",
        "line_1",
        "postcode",
    ] {
        assert!(read.get(field).is_some(), "{field} in {read}");
    }
    assert!(
        app.webhook.received_with(id).is_empty(),
        "test keys deliver nothing"
    );
    let delivered = client().post_json(
        "/v2/notifications/email",
        &json!({"email_address": "ann@example.gov.au", "template_id": email_template, "personalisation": {"name": "Ann", "ref": "R2"}, "reference": "ref-2"}),
    );
    assert_eq!(delivered.status, 201, "{}", delivered.body);
    let sms = template(host, "sms", None, "Code ((code))", "claim-updates");
    use_templates(host, &service, &[&sms]);
    let failed = client().post_json(
        "/v2/notifications/sms",
        &json!({"phone_number": "07700900002", "template_id": sms, "personalisation": {"code": "1"}}),
    );
    assert_eq!(failed.status, 201, "{}", failed.body);
    assert_eq!(
        client()
            .get(&format!(
                "/v2/notifications/{}",
                failed.json()["id"].as_str().unwrap()
            ))
            .json()["status"],
        "permanent-failure"
    );

    // Letters: the address is in the personalisation.
    let letter_contact = pseudo_contact(
        "letter",
        r#"["Ms A Person","1 Example Street","SYDNEY NSW 2000"]"#,
    );
    consent(host, &letter_contact, "claim-updates", "letter", "given");
    let letter = client().post_json(
        "/v2/notifications/letter",
        &json!({"template_id": letter_template, "personalisation": {"name": "A", "address_line_1": "Ms A Person", "address_line_2": "1 Example Street", "address_line_3": "SYDNEY NSW 2000"}}),
    );
    assert_eq!(letter.status, 201, "{}", letter.body);
    let letter_read = client()
        .get(&format!(
            "/v2/notifications/{}",
            letter.json()["id"].as_str().unwrap()
        ))
        .json();
    assert_eq!(letter_read["line_1"], "Ms A Person");
    assert_eq!(letter_read["postcode"], "SYDNEY NSW 2000");
    assert_eq!(letter_read["postage"], "second");
    assert_eq!(letter_read["status"], "received");

    // Filters.
    let by_reference = client().get("/v2/notifications?reference=ref-2").json();
    assert_eq!(by_reference["notifications"].as_array().unwrap().len(), 1);
    let failures = client()
        .get("/v2/notifications?status=temporary-failure&status=permanent-failure")
        .json();
    assert_eq!(
        failures["notifications"].as_array().unwrap().len(),
        2,
        "{failures}"
    );
    let emails = client().get("/v2/notifications?template_type=email").json();
    assert_eq!(emails["notifications"].as_array().unwrap().len(), 2);
    let older = client()
        .get(&format!("/v2/notifications?older_than={id}"))
        .json();
    assert!(
        older["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["id"] != id)
    );
    assert!(
        older["links"]["current"]
            .as_str()
            .unwrap()
            .contains("older_than")
    );
    assert_notify_error(
        &client().get("/v2/notifications?status=lost"),
        400,
        "ValidationError",
    );
    assert_notify_error(
        &client().get(&format!("/v2/notifications/{}", uuid_like(7))),
        404,
        "NoResultFound",
    );

    // Validation and missing personalisation as Notify words them.
    let message = assert_notify_error(
        &client().post_json(
            "/v2/notifications/email",
            &json!({"template_id": "nope", "colour": "red"}),
        ),
        400,
        "ValidationError",
    );
    assert!(
        message.contains("email_address is a required property"),
        "{message}"
    );
    let message = assert_notify_error(
        &client().post_json(
            "/v2/notifications/email",
            &json!({"email_address": "ann@example.gov.au", "template_id": email_template}),
        ),
        400,
        "BadRequestError",
    );
    assert_eq!(message, "Missing personalisation: ref, name");
    let message = assert_notify_error(
        &client().post_json(
            "/v2/notifications/sms",
            &json!({"phone_number": "0412345678", "template_id": email_template}),
        ),
        400,
        "BadRequestError",
    );
    assert_eq!(
        message,
        "email template is not suitable for sms notification"
    );

    // Templates.
    let read = client()
        .get(&format!("/v2/template/{email_template}"))
        .json();
    assert_eq!(read["type"], "email");
    assert_eq!(read["version"], 1);
    let version = client().get(&format!("/v2/template/{email_template}/version/1"));
    assert_eq!(version.status, 200);
    assert_notify_error(
        &client().get(&format!("/v2/template/{email_template}/version/9")),
        404,
        "NoResultFound",
    );
    let listed = client().get("/v2/templates?type=sms").json();
    assert!(
        listed["templates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["type"] == "sms")
    );
    assert!(
        listed["templates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == sms.as_str())
    );
    assert_notify_error(
        &client().get("/v2/templates?type=fax"),
        400,
        "ValidationError",
    );
    let preview = client().post_json(
        &format!("/v2/template/{email_template}/preview"),
        &json!({"personalisation": {"name": "[x](http://evil)", "ref": "1"}}),
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        !preview.json()["html"]
            .as_str()
            .unwrap()
            .contains("href=\"http://evil"),
        "{}",
        preview.body
    );
}

fn uuid_like(n: u8) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

#[test]
fn notify_v2_pages_with_links_next() {
    let host = host();
    let sms = template(host, "sms", None, "Page ((n))", "claim-updates");
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&sms]);
    let number = "07700900003";
    consent(
        host,
        &pseudo_contact("sms", "+447700900003"),
        "claim-updates",
        "sms",
        "given",
    );
    for n in 0..251 {
        let reply = notify_client(host, &key, 0).post_json(
            "/v2/notifications/sms",
            &json!({"phone_number": number, "template_id": sms, "personalisation": {"n": n}}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let page = notify_client(host, &key, 0)
        .get("/v2/notifications?template_type=sms")
        .json();
    assert_eq!(page["notifications"].as_array().unwrap().len(), 250);
    let next = page["links"]["next"].as_str().expect("links.next");
    let path = &next[next.find("/v2/").unwrap()..];
    let rest = notify_client(host, &key, 0).get(path).json();
    assert_eq!(rest["notifications"].as_array().unwrap().len(), 1);
    // As Notify: `next` on every page that is not empty (the clients'
    // iterators page until an empty one), and none on an empty page.
    let next = rest["links"]["next"]
        .as_str()
        .expect("links.next on the last full page");
    let path = &next[next.find("/v2/").unwrap()..];
    let empty = notify_client(host, &key, 0).get(path).json();
    assert_eq!(empty["notifications"].as_array().unwrap().len(), 0);
    assert!(empty["links"].get("next").is_none(), "{empty}");
}

/// A list shows only the messages of the caller's key type (live, team or
/// test), as Notify's; a read by id shows any of the service's messages,
/// whichever key sent it, as Notify's does.
#[test]
fn notify_v2_lists_by_key_type_and_reads_by_id_across_them() {
    let host = host();
    let email = template(host, "email", Some("Kind"), "Kind ((n))", "claim-updates");
    let address = "kinds@example.gov.au";
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    let (service, live) = notify_service(host, json!({"guest_list": [address]}), "live");
    let team = new_key(host, &service, "team");
    let test = new_key(host, &service, "test");
    use_templates(host, &service, &[&email]);
    let send = |key: &str| {
        let reply = notify_client(host, key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": address, "template_id": email, "personalisation": {"n": 1}}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_str().unwrap().to_string()
    };
    let (by_live, by_team, by_test) = (send(&live), send(&team), send(&test));
    let listed = |key: &str| -> Vec<String> {
        notify_client(host, key, 0).get("/v2/notifications").json()["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(listed(&live), std::slice::from_ref(&by_live));
    assert_eq!(listed(&team), std::slice::from_ref(&by_team));
    assert_eq!(listed(&test), std::slice::from_ref(&by_test));
    for id in [&by_live, &by_team, &by_test] {
        for key in [&live, &team, &test] {
            let read = notify_client(host, key, 0).get(&format!("/v2/notifications/{id}"));
            assert_eq!(read.status, 200, "{}", read.body);
        }
    }
    // Another service's key reads none of them.
    let (_, other) = notify_service(host, json!({}), "live");
    let read = notify_client(host, &other, 0).get(&format!("/v2/notifications/{by_live}"));
    assert_notify_error(&read, 404, "NoResultFound");
}

/// A `/v2` path or method no operation has is answered in Notify's error
/// shape (never a problem document), after Notify's authentication, and
/// the attempt is audited like any other.
#[test]
fn notify_v2_answers_unknown_paths_and_methods_in_notifys_shape() {
    let app = app();
    let host = &app.host;
    let (_, key) = notify_service(host, json!({}), "test");
    assert_notify_error(&host.get("/v2/no-such-thing"), 401, "AuthError");
    let unknown = notify_client(host, &key, 0)
        .header("x-request-id", "v2-unknown-path")
        .get("/v2/no-such-thing");
    assert_eq!(
        assert_notify_error(&unknown, 404, "ResourceNotFound"),
        "The requested URL was not found on the server."
    );
    let entries = app.audit_entries(
        "action, outcome, detail",
        "request_id",
        "v2-unknown-path",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        },
    );
    assert_eq!(
        entries,
        [(
            "request".to_string(),
            "denied".to_string(),
            Some("not-found".to_string())
        )]
    );
    let wrong_method = notify_client(host, &key, 0).send("DELETE", "/v2/templates", None);
    assert_notify_error(&wrong_method, 405, "MethodNotAllowedError");
    assert_eq!(wrong_method.header("allow"), Some("GET"));
}

#[test]
fn notify_v2_authentication() {
    let host = host();
    let (service, key) = notify_service(host, json!({}), "live");
    assert_notify_error(&host.get("/v2/templates"), 401, "AuthError");
    let basic = host.request(
        "GET",
        "/v2/templates",
        &[("authorization", "Basic abc")],
        None,
    );
    assert_notify_error(&basic, 401, "AuthError");
    assert_eq!(
        notify_client(host, &key, 0).get("/v2/templates").status,
        200
    );
    assert_eq!(
        notify_client(host, &key, -25).get("/v2/templates").status,
        200
    );
    let skewed = assert_notify_error(
        &notify_client(host, &key, 45).get("/v2/templates"),
        403,
        "AuthError",
    );
    assert!(skewed.contains("clock"), "{skewed}");
    assert_notify_error(
        &notify_client(host, &key, -45).get("/v2/templates"),
        403,
        "AuthError",
    );
    // The right service with the wrong secret.
    let wrong = format!("k-{service}-{}", uuid_like(9));
    let message = assert_notify_error(
        &notify_client(host, &wrong, 0).get("/v2/templates"),
        403,
        "AuthError",
    );
    assert_eq!(message, "Invalid token: API key not found");
    let unknown = format!("k-{}-{}", uuid_like(3), uuid_like(4));
    let message = assert_notify_error(
        &notify_client(host, &unknown, 0).get("/v2/templates"),
        403,
        "AuthError",
    );
    assert_eq!(message, "Invalid token: service not found");
    // A token signed with HS512 or `none` is refused.
    let api_key = ApiKey::parse(&key).unwrap();
    let good = create_notify_jwt(api_key.secret(), api_key.service_id(), now_secs());
    let claims = good.split('.').nth(1).unwrap();
    use base64::Engine;
    let none =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let forged = host
        .as_caller(&format!("{none}.{claims}."))
        .get("/v2/templates");
    let message = assert_notify_error(&forged, 403, "AuthError");
    assert_eq!(message, "Invalid token: algorithm used is not HS256");
    // Our own JWTs are not Notify's.
    assert_notify_error(&comms(host).get("/v2/templates"), 403, "AuthError");

    // Revocation takes effect on the next request.
    let keys = admin(host)
        .get(&format!("/api/notifications/services/{service}/keys"))
        .json();
    let key_id = keys["keys"][0]["id"].as_str().unwrap().to_string();
    assert!(
        !keys.to_string().contains(&key[key.len() - 36..]),
        "secrets are never listed"
    );
    let revoked = admin(host).post_json(
        &format!("/api/notifications/services/{service}/keys/{key_id}/revoke"),
        &json!({}),
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let message = assert_notify_error(
        &notify_client(host, &key, 0).get("/v2/templates"),
        403,
        "AuthError",
    );
    assert_eq!(message, "Invalid token: API key revoked");
    let audit = auditor(host)
        .get("/api/audit/entries?limit=500&resource=/v2/templates")
        .json();
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "authenticate" && e["outcome"] == "denied"),
        "{audit}"
    );
    // Only administrators manage keys; the sealing key never leaves.
    assert_problem(
        &comms(host).post_json(
            &format!("/api/notifications/services/{service}/keys"),
            &json!({"name": "x", "key_type": "live"}),
        ),
        403,
        "forbidden",
    );
    let db = rusqlite::Connection::open(app().db_path()).unwrap();
    let sealed: String = db
        .query_row(
            "SELECT secret_sealed FROM notify_api_keys WHERE id = ?1",
            [&key_id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains(&key[key.len() - 36..]));
}

/// The id of a service's only key.
fn only_key_id(host: &Host, service: &str) -> String {
    let keys = admin(host)
        .get(&format!("/api/notifications/services/{service}/keys"))
        .json();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    keys["keys"][0]["id"].as_str().unwrap().to_string()
}

/// The `notification.send` entries of one request of a Notify key:
/// (outcome, resource), in the order written.
fn send_entries(host: &Host, key_id: &str, reply: &Reply) -> Vec<(String, String)> {
    let request_id = reply.header("x-request-id").expect("x-request-id");
    let audit = auditor(host)
        .get(&format!(
            "/api/audit/entries?limit=500&action=notification.send&actor=notify-key:{key_id}"
        ))
        .json();
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request_id"] == request_id)
        .map(|e| {
            (
                e["outcome"].as_str().unwrap().to_string(),
                e["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn notify_v2_sends_are_audited_before_anything_is_queued() {
    let host = host();
    let (service, key) = notify_service(host, json!({}), "live");
    let key_id = only_key_id(host, &service);
    let id = template(host, "email", Some("Hi"), "Audit ((x))", "claim-updates");
    use_templates(host, &service, &[&id]);
    let address = "audited@example.gov.au";
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    let send = |template: &str, personalisation: Value| {
        notify_client(host, &key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": address, "template_id": template, "personalisation": personalisation}),
        )
    };
    // Allowed before it is queued, naming the message it made.
    let sent = send(&id, json!({"x": "1"}));
    assert_eq!(sent.status, 201, "{}", sent.body);
    let message = sent.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        send_entries(host, &key_id, &sent),
        [("allowed".to_string(), format!("notification/{message}"))]
    );
    // A refusal by consent is recorded once, as denied.
    let news = template(host, "email", Some("Hi"), "News ((x))", "newsletters");
    use_templates(host, &service, &[&news]);
    let refused = send(&news, json!({"x": "1"}));
    assert_notify_error(&refused, 400, "BadRequestError");
    let outcomes: Vec<String> = send_entries(host, &key_id, &refused)
        .into_iter()
        .map(|(outcome, _)| outcome)
        .collect();
    assert_eq!(outcomes, ["allowed", "denied"]);
    // Any other failure after the allowed entry is recorded as failed.
    let failed = send(&id, json!({}));
    assert_notify_error(&failed, 400, "BadRequestError");
    let outcomes: Vec<String> = send_entries(host, &key_id, &failed)
        .into_iter()
        .map(|(outcome, _)| outcome)
        .collect();
    assert_eq!(outcomes, ["allowed", "failed"]);
}

#[test]
fn notify_v2_idempotency_keys_are_scoped_by_key_type() {
    let app = app();
    let host = &app.host;
    let (service, live) = notify_service(host, json!({}), "live");
    let test = new_key(host, &service, "test");
    let id = template(host, "email", Some("Hi"), "Once ((x))", "claim-updates");
    use_templates(host, &service, &[&id]);
    let address = "scoped.retry@example.gov.au";
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    let send = |key: &str| {
        notify_client(host, key, 0)
            .header("idempotency-key", "scoped-retry-1")
            .post_json(
                "/v2/notifications/email",
                &json!({"email_address": address, "template_id": id, "personalisation": {"x": "1"}}),
            )
    };
    let by_test = send(&test);
    assert_eq!(by_test.status, 201, "{}", by_test.body);
    let test_message = by_test.json()["id"].as_str().unwrap().to_string();
    // The same key from a live key is another request: a message of its
    // own, delivered, not the test key's (never delivered, hidden from it).
    let by_live = send(&live);
    assert_eq!(by_live.status, 201, "{}", by_live.body);
    assert_eq!(by_live.header("idempotent-replayed"), None);
    let live_message = by_live.json()["id"].as_str().unwrap().to_string();
    assert_ne!(live_message, test_message);
    assert_eq!(app.webhook.wait_for(&live_message, 1).len(), 1);
    assert!(app.webhook.received_with(&test_message).is_empty());
    // Each key type's retry answers with its own first message.
    for (key, first) in [(&live, &live_message), (&test, &test_message)] {
        let again = send(key);
        assert_eq!(again.status, 201, "{}", again.body);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json()["id"], first.as_str());
        assert_eq!(
            notify_client(host, key, 0)
                .get(&format!("/v2/notifications/{first}"))
                .status,
            200
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        app.webhook.received_with(&live_message).len(),
        1,
        "sent once"
    );
}

#[test]
fn callback_urls_must_be_inside_the_callback_origin() {
    let host = host();
    // The tests' `notification_callback_origin` is `http://127.0.0.1:*`.
    for outside in [
        "https://portal.example.gov.au/callbacks",
        "http://localhost:8080/callbacks",
        "https://127.0.0.1:8443/callbacks",
        "http://127.0.0.1.example.com/callbacks",
        "http://user@127.0.0.1:8080/callbacks",
    ] {
        let reply = admin(host).post_json(
            "/api/notifications/services",
            &json!({"name": "Outside", "callback_url": outside, "callback_bearer_token": "token-0123456789"}),
        );
        let body = assert_problem(&reply, 400, "validation");
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{outside}: {body}");
        assert_eq!(errors[0]["field"], "callback_url", "{outside}: {body}");
        assert!(
            errors[0]["reason"]
                .as_str()
                .unwrap()
                .contains("notification_callback_origin"),
            "{body}"
        );
    }
    let inside = admin(host).post_json(
        "/api/notifications/services",
        &json!({"name": "Inside", "callback_url": "http://127.0.0.1:8080/callbacks", "callback_bearer_token": "token-0123456789"}),
    );
    assert_eq!(inside.status, 201, "{}", inside.body);
}

#[test]
fn team_keys_send_only_to_the_guest_list() {
    let host = host();
    let id = template(host, "email", Some("Hi"), "Team ((x))", "claim-updates");
    let (service, key) = notify_service(
        host,
        json!({"guest_list": ["Guest@Example.gov.au"]}),
        "team",
    );
    use_templates(host, &service, &[&id]);
    for address in ["guest@example.gov.au", "stranger@example.gov.au"] {
        consent(
            host,
            &pseudo_contact("email", address),
            "claim-updates",
            "email",
            "given",
        );
    }
    let send = |to: &str| {
        notify_client(host, &key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": to, "template_id": id, "personalisation": {"x": "1"}}),
        )
    };
    assert_eq!(send("guest@example.gov.au").status, 201);
    let message = assert_notify_error(&send("stranger@example.gov.au"), 400, "BadRequestError");
    assert_eq!(
        message,
        "Can\u{2019}t send to this recipient using a team-only API key"
    );
    // A team key's letter is forbidden, in Notify's words.
    let letter = template(host, "letter", Some("Team"), "Team ((x))", "claim-updates");
    use_templates(host, &service, &[&letter]);
    let reply = notify_client(host, &key, 0).post_json(
        "/v2/notifications/letter",
        &json!({"template_id": letter, "personalisation": {"x": "1",
                "address_line_1": "A Person", "address_line_2": "1 Street", "address_line_3": "SW1A 1AA"}}),
    );
    assert_eq!(
        assert_notify_error(&reply, 403, "BadRequestError"),
        "Cannot send letters with a team api key"
    );
}

#[test]
fn raw_sends_without_consent_are_refused_for_notify_callers() {
    let host = host();
    let id = template(host, "email", Some("Hi"), "News ((x))", "newsletters");
    let (service, key) = notify_service(host, json!({}), "live");
    use_templates(host, &service, &[&id]);
    let reply = notify_client(host, &key, 0).post_json("/v2/notifications/email", &json!({"email_address": "nobody@example.gov.au", "template_id": id, "personalisation": {"x": "1"}}));
    let message = assert_notify_error(&reply, 400, "BadRequestError");
    assert!(message.contains("no-consent"), "{message}");
}

#[test]
fn the_relay_signs_for_upstream_notify_and_services_get_status_callbacks() {
    let app = app();
    let host = &app.host;
    let callback_token = "service-callback-token-1";
    let (service, key) = notify_service(
        host,
        json!({"callback_url": format!("{}/callbacks", app.callbacks.origin()), "callback_bearer_token": callback_token}),
        "live",
    );
    let sms = template(host, "sms", None, "Your code is ((code))", "claim-updates");
    use_templates(host, &service, &[&sms]);
    consent(
        host,
        &pseudo_contact("sms", "+61412345678"),
        "claim-updates",
        "sms",
        "given",
    );
    let sent = notify_client(host, &key, 0).post_json(
        "/v2/notifications/sms",
        &json!({"phone_number": "+61 412 345 678", "template_id": sms, "personalisation": {"code": "4321"}, "reference": "relay-1"}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.json()["id"].as_str().unwrap().to_string();
    let relayed = app.upstream.wait_for(&id, 1);
    assert_eq!(relayed.len(), 1);
    let request = &relayed[0];
    assert_eq!(request.path, "/v2/notifications/sms");
    let upstream = ApiKey::parse(UPSTREAM_KEY).unwrap();
    let token = request
        .header("authorization")
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap();
    verify_notify_jwt(token, upstream.secret(), upstream.service_id(), now_secs())
        .expect("a valid upstream JWT");
    let body = request.json();
    assert_eq!(body["phone_number"], "+61412345678");
    assert_eq!(body["template_id"], UPSTREAM_SMS_TEMPLATE);
    assert_eq!(body["reference"], id.as_str());
    assert_eq!(body["personalisation"]["body"], "Your code is 4321");
    assert_eq!(
        notify_client(host, &key, 0)
            .get(&format!("/v2/notifications/{id}"))
            .json()["status"],
        "sending"
    );

    // Upstream's receipt, with its token; the service's callback is
    // refused once (503) and delivered by the next dispatch.
    app.callbacks
        .script(&id, [Answer::Status(503, "{}".into())]);
    let upstream_receipt =
        json!({"id": "upstream-1", "reference": id, "status": "delivered"}).to_string();
    let refused = host.request(
        "POST",
        "/api/notifications/receipts/notify",
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer not-the-token"),
        ],
        Some(upstream_receipt.as_bytes()),
    );
    assert_problem(&refused, 401, "unauthorized");
    let accepted = host.request(
        "POST",
        "/api/notifications/receipts/notify",
        &[
            ("content-type", "application/json"),
            (
                "authorization",
                &format!("Bearer {UPSTREAM_CALLBACK_TOKEN}"),
            ),
        ],
        Some(upstream_receipt.as_bytes()),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let first = app.callbacks.wait_for(&id, 1);
    assert_eq!(first.len(), 1);
    std::thread::sleep(Duration::from_millis(10));
    let summary = dispatch(host);
    assert!(
        summary["callbacks"]["delivered"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    let callbacks = app.callbacks.wait_for(&id, 2);
    assert_eq!(callbacks.len(), 2);
    let callback = &callbacks[1];
    assert_eq!(callback.path, "/callbacks");
    assert_eq!(
        callback.header("authorization"),
        Some(format!("Bearer {callback_token}").as_str())
    );
    let body = callback.json();
    assert_eq!(body["status"], "delivered");
    assert_eq!(body["reference"], "relay-1");
    assert_eq!(body["notification_type"], "sms");
    assert_eq!(body["to"], "+61412345678");
}

#[test]
fn every_notification_route_answers() {
    let host = host();
    let everyone = host
        .as_caller(&token(
            "everyone-n",
            &["communications-officer", "administrator", "case-worker"],
        ))
        .purpose("communications");
    for (method, path) in [
        ("GET", "/api/templates"),
        ("GET", "/api/notifications/unknown"),
        ("POST", "/api/notifications/dispatch"),
    ] {
        let reply = everyone.send(method, path, (method == "POST").then_some("{}"));
        assert!(
            matches!(reply.status, 200 | 404),
            "{method} {path}: {}",
            reply.body
        );
    }
    let bad = everyone.send("POST", "/api/notifications", Some("{not json"));
    assert_problem(&bad, 400, "invalid-json");
    let big = format!("{{\"template_id\": \"{}\"}}", "x".repeat(2 << 20));
    let reply = everyone.send("POST", "/api/notifications", Some(&big));
    assert!(matches!(reply.status, 400 | 413), "{}", reply.body);
    let (_, key) = notify_service(host, json!({}), "test");
    let garbage =
        notify_client(host, &key, 0).send("POST", "/v2/notifications/email", Some("{not json"));
    assert_notify_error(&garbage, 400, "BadRequestError");
}

/// Limits run on a host of their own, configured tight.
#[test]
fn rate_and_daily_limits_answer_429() {
    let app = start(&[
        ("notification_rate_limit_per_minute", "6"),
        ("notification_daily_limits", "sms=2"),
    ]);
    let host = &app.host;
    let sms = template(host, "sms", None, "Limit ((n))", "claim-updates");
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&sms]);
    consent(
        host,
        &pseudo_contact("sms", "+447700900111"),
        "claim-updates",
        "sms",
        "given",
    );
    let send = || {
        notify_client(host, &key, 0).post_json(
            "/v2/notifications/sms",
            &json!({"phone_number": "07700900111", "template_id": sms, "personalisation": {"n": "1"}}),
        )
    };
    // A burst of 3 (a third of the minute's 6, plus one) ...
    assert_eq!(send().status, 201);
    assert_eq!(send().status, 201);
    let over_daily = send();
    let daily = assert_notify_error(&over_daily, 429, "TooManyRequestsError");
    assert_eq!(daily, "Exceeded send limits (sms: 2) for today");
    let until_midnight: u64 = over_daily
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&until_midnight), "{until_midnight}");
    let over_rate = send();
    let rate = assert_notify_error(&over_rate, 429, "RateLimitError");
    assert_eq!(
        rate,
        "Exceeded rate limit for key type TEST of 6 requests per 60 seconds"
    );
    let next_token: u64 = over_rate
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(
        (1..=10).contains(&next_token),
        "a token every 10 s: {next_token}"
    );
    // ... and the CRM's own senders see problems.
    let (contact, email) = ready_to_send(
        host,
        "Limited Person",
        "limited@example.gov.au",
        "email",
        Some("s"),
        "b",
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let reply = comms(host).post_json(
            "/api/notifications",
            &json!({"template_id": email, "contact_id": contact}),
        );
        statuses.push(reply.status);
        if reply.status == 429 {
            assert_problem(&reply, 429, "rate-limited");
            assert!(reply.header("retry-after").is_some());
        }
    }
    assert_eq!(statuses, [201, 201, 201, 429]);
}

/// Two replicas over one state directory (one key-value store) give one
/// service exactly its bucket's tokens, however their requests interleave:
/// the bucket is taken from by compare-and-swap, not read and then written.
#[test]
fn two_replicas_allow_exactly_the_rate_limits_tokens() {
    rate_limit_is_exact_across_replicas(&[]);
}

/// As above with the key-value store on a real Redis server.
#[test]
fn two_replicas_allow_exactly_the_rate_limits_tokens_from_redis() {
    let redis = crm_tests::redis::RedisServer::start();
    let config = redis.runtime_config();
    rate_limit_is_exact_across_replicas(&["--runtime-config-file", config.to_str().unwrap()]);
    assert!(
        redis
            .command("KEYS notification:rate:*")
            .is_some_and(|r| r != "*0"),
        "the bucket is on Redis"
    );
}

fn rate_limit_is_exact_across_replicas(host_args: &[&str]) {
    let app = start_with(&[("notification_rate_limit_per_minute", "6")], host_args);
    let state_dir = app.state_dir().to_str().unwrap().to_string();
    let sealing = format!("notification_sealing_key={SEALING_KEY}");
    let mut args = vec![
        "--state-dir",
        &state_dir,
        "--variable",
        &sealing,
        "--variable",
        "notification_rate_limit_per_minute=6",
    ];
    args.extend(host_args);
    let args = crm_tests::cache_args(&args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let replica = Host::start_shared(&crm_tests::workspace().join("spin.toml"), &args);
    let host = &app.host;
    let sms = template(host, "sms", None, "Rate ((n))", "claim-updates");
    let (service, key) = notify_service(host, json!({}), "test");
    use_templates(host, &service, &[&sms]);
    consent(
        host,
        &pseudo_contact("sms", "+447700900222"),
        "claim-updates",
        "sms",
        "given",
    );
    let started = std::time::Instant::now();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let senders: Vec<_> = (0..8)
            .map(|t| {
                let (host, key, sms) = (if t % 2 == 0 { host } else { &replica }, &key, &sms);
                scope.spawn(move || {
                    (0..3)
                        .map(|_| {
                            notify_client(host, key, 0)
                                .post_json(
                                    "/v2/notifications/sms",
                                    &json!({"phone_number": "07700900222", "template_id": sms,
                                            "personalisation": {"n": "1"}}),
                                )
                                .status
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        senders
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect()
    });
    // Six a minute is a burst of three and a token every ten seconds.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(9),
        "too slow to count a refill out"
    );
    let sent = statuses.iter().filter(|s| **s == 201).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((sent, limited), (3, 21), "{statuses:?}");
}

/// `secs` since the epoch as RFC 3339 (whole seconds, UTC).
fn rfc3339(secs: i64) -> String {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.query_row(
        "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?1, 'unixepoch')",
        [secs],
        |r| r.get::<_, String>(0),
    )
    .unwrap()
}

/// A contact reachable by email, the `phones` given and, if given, a
/// postal address.
fn reachable_contact(
    host: &Host,
    name: &str,
    email: &str,
    phones: &[&str],
    postal: Value,
) -> String {
    let mut body = json!({"archetype": "individual", "display_name": name, "email": email,
                          "phones": phones, "preferred_channel": "email"});
    if !postal.is_null() {
        body["postal_address"] = postal;
    }
    let reply = officer(host).post_json("/api/contacts", &body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_string()
}

/// The contact's `notification` interactions, from their interaction log.
fn notification_interactions(host: &Host, contact: &str) -> Vec<Value> {
    let reply = officer(host).get(&format!("/api/interactions?contact_id={contact}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let page = reply.json();
    assert!(page["next_cursor"].is_null(), "one page: {page}");
    page["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["category"] == "notification")
        .cloned()
        .collect()
}

/// How many interaction log entries name the message (in the SQLite file).
fn interaction_rows(db: &rusqlite::Connection, message: &str) -> i64 {
    db.query_row(
        "SELECT COUNT(*) FROM interaction_entries WHERE kind = 'interaction' AND notification_id = ?1",
        [message],
        |r| r.get(0),
    )
    .unwrap()
}

/// The status callback owed for a message: (state, attempts, last result,
/// next attempt); there is exactly one.
fn callback_row(
    db: &rusqlite::Connection,
    message: &str,
) -> (String, i64, Option<String>, Option<i64>) {
    let mut statement = db
        .prepare(
            "SELECT state, attempts, last_result, next_attempt_at FROM notification_callbacks WHERE notification_id = ?1",
        )
        .unwrap();
    let rows: Vec<_> = statement
        .query_map([message], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 1, "one callback for {message}: {rows:?}");
    rows.into_iter().next().unwrap()
}

/// Status callbacks run on a host of their own (so each dispatch's tally
/// is this test's alone), with `notification_callback_attempts=4` and 1 ms
/// between tries.
#[test]
fn status_callbacks_are_retried_on_429_and_5xx_until_delivered_or_given_up() {
    let app = start(&[
        ("notification_callback_attempts", "4"),
        ("notification_callback_retry_ms", "1"),
    ]);
    let host = &app.host;
    let db = app.db();
    let email = template(host, "email", Some("Hi"), "Callback ((n))", "claim-updates");
    let address = "callbacks@example.gov.au";
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    let tally = |delivered: u64, retrying: u64, failed: u64| json!({"delivered": delivered, "retrying": retrying, "failed": failed});
    let pause = || std::thread::sleep(Duration::from_millis(15));

    // 429, then 503, then 200: three tries, then no more.
    let token = "retrying-callback-token";
    let (service, live) = notify_service(
        host,
        json!({"callback_url": format!("{}/status", app.callbacks.origin()), "callback_bearer_token": token}),
        "live",
    );
    use_templates(host, &service, &[&email]);
    let sent = notify_client(host, &live, 0).post_json(
        "/v2/notifications/email",
        &json!({"email_address": address, "template_id": email, "personalisation": {"n": "1"}, "reference": "callback-retried"}),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.json()["id"].as_str().unwrap().to_string();
    assert_eq!(app.webhook.wait_for(&id, 1).len(), 1);
    app.callbacks.script(
        &id,
        [
            Answer::Status(429, "{}".into()),
            Answer::Status(503, "{}".into()),
            Answer::Status(200, "{}".into()),
        ],
    );
    assert!(
        app.callbacks.received_with(&id).is_empty(),
        "no callback before the status is final"
    );
    let applied = receipt(
        host,
        &json!({"id": id, "status": "delivered"}),
        WEBHOOK_SECRET,
    );
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(applied.json()["applied"], true);
    // Tried at once by the receipt: 429.
    assert_eq!(app.callbacks.wait_for(&id, 1).len(), 1);
    let (state, attempts, last, next) = callback_row(&db, &id);
    assert_eq!(
        (state.as_str(), attempts, last.as_deref()),
        ("pending", 1, Some("answered 429"))
    );
    assert!(next.is_some());
    pause();
    assert_eq!(dispatch(host)["callbacks"], tally(0, 1, 0));
    assert_eq!(app.callbacks.wait_for(&id, 2).len(), 2);
    let (state, attempts, last, _) = callback_row(&db, &id);
    assert_eq!(
        (state.as_str(), attempts, last.as_deref()),
        ("pending", 2, Some("answered 503"))
    );
    pause();
    assert_eq!(dispatch(host)["callbacks"], tally(1, 0, 0));
    assert_eq!(app.callbacks.wait_for(&id, 3).len(), 3);
    let (state, attempts, last, next) = callback_row(&db, &id);
    assert_eq!(
        (state.as_str(), attempts, last.as_deref(), next),
        ("delivered", 3, Some("answered 200"), None)
    );
    // Delivered: later dispatches leave it be.
    pause();
    assert_eq!(dispatch(host)["callbacks"], tally(0, 0, 0));
    std::thread::sleep(Duration::from_millis(200));
    let received = app.callbacks.received_with(&id);
    assert_eq!(received.len(), 3, "no call after the 200");
    for callback in &received {
        assert_eq!(callback.method, "POST");
        assert_eq!(callback.path, "/status");
        assert_eq!(
            callback.header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "each try carries the service's token"
        );
        let body = callback.json();
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["status"], "delivered");
        assert_eq!(body["reference"], "callback-retried");
        assert_eq!(body["to"], address);
        assert_eq!(body["notification_type"], "email");
    }

    // A server that always answers 500, another that refuses connections
    // and one that answers 400 (final at once). Test keys settle at once,
    // so the first try is made by the send itself.
    let failing = ProviderServer::start();
    failing.answer_always(Answer::Status(500, "{}".into()));
    failing.script("callback-refused", [Answer::Status(400, "{}".into())]);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut messages = Vec::new();
    for (url, reference) in [
        (format!("{}/down", failing.origin()), "callback-500"),
        (
            format!("http://127.0.0.1:{closed}/nobody"),
            "callback-closed",
        ),
        (format!("{}/down", failing.origin()), "callback-refused"),
    ] {
        let (service, key) = notify_service(
            host,
            json!({"callback_url": url, "callback_bearer_token": "failing-callback-token"}),
            "test",
        );
        use_templates(host, &service, &[&email]);
        let sent = notify_client(host, &key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": address, "template_id": email, "personalisation": {"n": "2"}, "reference": reference}),
        );
        assert_eq!(sent.status, 201, "{}", sent.body);
        messages.push(sent.json()["id"].as_str().unwrap().to_string());
    }
    let [server_error, refused_connection, bad_request] = &messages[..] else {
        unreachable!()
    };
    assert_eq!(failing.wait_for(server_error, 1).len(), 1);
    assert_eq!(failing.wait_for(bad_request, 1).len(), 1);
    let (state, attempts, last, next) = callback_row(&db, bad_request);
    assert_eq!(
        (state.as_str(), attempts, last.as_deref(), next),
        ("failed", 1, Some("answered 400"), None),
        "a 4xx other than 429 is not retried"
    );
    for (n, expected) in [
        (2, tally(0, 2, 0)),
        (3, tally(0, 2, 0)),
        (4, tally(0, 0, 2)),
    ] {
        pause();
        assert_eq!(
            dispatch(host)["callbacks"],
            expected,
            "dispatch for try {n}"
        );
        assert_eq!(failing.wait_for(server_error, n).len(), n);
        let state = if n < 4 { "pending" } else { "failed" };
        let (got, attempts, last, next) = callback_row(&db, server_error);
        assert_eq!(
            (got.as_str(), attempts, last.as_deref()),
            (state, n as i64, Some("answered 500"))
        );
        assert_eq!(next.is_none(), n == 4, "no next try once failed");
        let (got, attempts, last, _) = callback_row(&db, refused_connection);
        assert_eq!((got.as_str(), attempts), (state, n as i64));
        assert!(
            last.as_deref().unwrap().starts_with("no answer"),
            "{last:?}"
        );
    }
    // Given up: no fifth try, however many dispatches follow.
    for _ in 0..2 {
        pause();
        assert_eq!(dispatch(host)["callbacks"], tally(0, 0, 0));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(failing.received_with(server_error).len(), 4);
    assert_eq!(failing.received_with(bad_request).len(), 1);
    for callback in failing.received() {
        assert_eq!(
            callback.header("authorization"),
            Some("Bearer failing-callback-token")
        );
    }
    // The messages themselves stay as they were.
    for id in &messages {
        assert_eq!(notification(host, id)["status"], "delivered");
    }
}

#[test]
fn a_do_not_contact_entry_refuses_a_send_at_send_time() {
    let app = app();
    let host = &app.host;
    let db = app.db();
    let address = "do.not.contact@example.gov.au";
    let contact = reachable_contact(
        host,
        "Suppressed Person",
        address,
        &["0412 555 101"],
        Value::Null,
    );
    consent(host, &contact, "claim-updates", "email", "given");
    consent(host, &contact, "claim-updates", "sms", "given");
    let email = template(
        host,
        "email",
        Some("Hi"),
        "Suppressed ((x))",
        "claim-updates",
    );
    let suppression = officer(host).post_json(
        "/api/consents/suppressions",
        &json!({"contact_id": contact, "channel": "email", "reason": "complaint"}),
    );
    assert_eq!(suppression.status, 201, "{}", suppression.body);

    let refused = comms(host).post_json(
        "/api/notifications",
        &json!({"template_id": email, "contact_id": contact, "personalisation": {"x": "1"}}),
    );
    let problem = assert_problem(&refused, 400, "consent-refused");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("suppressed")
            && detail.contains("claim-updates")
            && detail.contains("email"),
        "{problem}"
    );
    // Nothing queued, nothing sent.
    let queued: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM notifications WHERE contact_id = ?1",
            [&contact],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 0);
    std::thread::sleep(Duration::from_millis(100));
    assert!(app.webhook.received_with(address).is_empty());
    // Audited as denied, with the reason, in the refused request.
    let request_id = refused.header("x-request-id").expect("x-request-id");
    let audit = auditor(host)
        .get(&format!(
            "/api/audit/entries?limit=500&action=notification.send&subject_contact_id={contact}"
        ))
        .json();
    let entries: Vec<(&str, &str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request_id"] == request_id)
        .map(|e| {
            (
                e["outcome"].as_str().unwrap(),
                e["resource"].as_str().unwrap(),
                e["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        entries.contains(&(
            "denied",
            format!("template/{email}").as_str(),
            "consent-refused:suppressed"
        )),
        "{entries:?}"
    );
    assert_eq!(
        entries
            .iter()
            .filter(|(outcome, _, _)| *outcome == "denied")
            .count(),
        1,
        "{entries:?}"
    );
    // The send was allowed, then denied for want of consent: and nothing
    // more, no `failed` entry after the denial for the refusal's answer.
    let outcomes: Vec<&str> = entries.iter().map(|(outcome, _, _)| *outcome).collect();
    assert_eq!(outcomes, ["allowed", "denied"], "{entries:?}");
    // The entry is about the contact, so it is in their access log.
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["request_id"] == request_id
                && e["subject_contact_id"] == contact.as_str()
                && e["outcome"] == "denied"),
        "{audit}"
    );

    // The entry is about email: a text message to the same contact goes.
    let sms = template(host, "sms", None, "Suppressed text ((x))", "claim-updates");
    let sent = send(
        host,
        &json!({"template_id": sms, "contact_id": contact, "personalisation": {"x": "2"}}),
    );
    let sms_id = sent.json()["id"].as_str().unwrap().to_string();
    let relayed = app.upstream.wait_for(&sms_id, 1);
    assert_eq!(relayed.len(), 1);
    assert_eq!(relayed[0].json()["phone_number"], "+61412555101");
}

#[test]
fn notify_v2_idempotency_keys_replay_refuse_another_body_and_belong_to_their_service() {
    let app = app();
    let host = &app.host;
    let db = app.db();
    let (service, key) = notify_service(host, json!({}), "live");
    let key_id = only_key_id(host, &service);
    let (other_service, other_key) = notify_service(host, json!({}), "live");
    let id = template(
        host,
        "email",
        Some("Hi"),
        "Idempotent ((x))",
        "claim-updates",
    );
    use_templates(host, &service, &[&id]);
    use_templates(host, &other_service, &[&id]);
    let address = "v2.idempotent@example.gov.au";
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    let send = |key: &str, x: &str| {
        notify_client(host, key, 0)
            .header("idempotency-key", "v2-retry-7")
            .post_json(
                "/v2/notifications/email",
                &json!({"email_address": address, "template_id": id, "personalisation": {"x": x}, "reference": "v2-idempotent"}),
            )
    };
    let first = send(&key, "1");
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let message = first.json()["id"].as_str().unwrap().to_string();
    let again = send(&key, "1");
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["id"], message.as_str());
    assert_eq!(again.json()["content"], first.json()["content"]);
    // The replay is audited as naming the first message.
    let entries = send_entries(host, &key_id, &again);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        entries[1],
        ("allowed".to_string(), format!("notification/{message}"))
    );
    // The same key for another body: 409, recorded as failed.
    let conflict = send(&key, "2");
    let text = assert_notify_error(&conflict, 409, "BadRequestError");
    assert!(text.contains("Idempotency-Key"), "{text}");
    let outcomes: Vec<String> = send_entries(host, &key_id, &conflict)
        .into_iter()
        .map(|(outcome, _)| outcome)
        .collect();
    assert_eq!(outcomes, ["allowed", "failed"]);
    // One row for the service, one hand-over.
    let rows: Vec<(String, String)> = db
        .prepare("SELECT id, idempotency_key FROM notifications WHERE service_id = ?1")
        .unwrap()
        .query_map([&service], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, [(message.clone(), "live:v2-retry-7".to_string())]);
    assert_eq!(app.webhook.wait_for(&message, 1).len(), 1);
    // Another service's key of the same name is its own.
    let other = send(&other_key, "1");
    assert_eq!(other.status, 201, "{}", other.body);
    assert_eq!(other.header("idempotent-replayed"), None);
    let other_message = other.json()["id"].as_str().unwrap().to_string();
    assert_ne!(other_message, message);
    assert_eq!(app.webhook.wait_for(&other_message, 1).len(), 1);
    let owner: String = db
        .query_row(
            "SELECT service_id FROM notifications WHERE id = ?1",
            [&other_message],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(owner, other_service);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(app.webhook.received_with(&message).len(), 1, "sent once");
}

#[test]
fn notify_v2_scheduled_for_holds_a_message_until_dispatch() {
    let app = dispatching_app();
    let host = &app.host;
    let db = app.db();
    let (service, key) = notify_service(host, json!({}), "live");
    let id = template(host, "email", Some("Hi"), "Later ((x))", "claim-updates");
    use_templates(host, &service, &[&id]);
    let address = "v2.scheduled@example.gov.au";
    consent(
        host,
        &pseudo_contact("email", address),
        "claim-updates",
        "email",
        "given",
    );
    let send = |scheduled_for: &str, reference: &str| {
        notify_client(host, &key, 0).post_json(
            "/v2/notifications/email",
            &json!({"email_address": address, "template_id": id, "personalisation": {"x": "1"},
                    "reference": reference, "scheduled_for": scheduled_for}),
        )
    };
    let at = now_secs() + 2;
    let sent = send(&rfc3339(at), "v2-scheduled");
    assert_eq!(sent.status, 201, "{}", sent.body);
    let body = sent.json();
    // Notify writes microseconds.
    let expected = rfc3339(at).replace('Z', ".000000Z");
    assert_eq!(body["scheduled_for"], expected.as_str(), "{body}");
    let message = body["id"].as_str().unwrap().to_string();
    let read = notify_client(host, &key, 0)
        .get(&format!("/v2/notifications/{message}"))
        .json();
    assert_eq!(read["status"], "created", "{read}");
    assert_eq!(read["scheduled_for"], expected.as_str());
    let (scheduled, next): (i64, i64) = db
        .query_row(
            "SELECT scheduled_for, next_attempt_at FROM notifications WHERE id = ?1",
            [&message],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((scheduled, next), (at * 1000, at * 1000));
    // Not before it is due.
    dispatch(host);
    std::thread::sleep(Duration::from_millis(100));
    assert!(app.webhook.received_with(&message).is_empty());
    assert_eq!(
        notify_client(host, &key, 0)
            .get(&format!("/v2/notifications/{message}"))
            .json()["status"],
        "created"
    );
    // Due: the next dispatch hands it over, once.
    while now_secs() <= at {
        std::thread::sleep(Duration::from_millis(100));
    }
    dispatch(host);
    let handed = app.webhook.wait_for(&message, 1);
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].json()["to"], address);
    assert_eq!(
        notify_client(host, &key, 0)
            .get(&format!("/v2/notifications/{message}"))
            .json()["status"],
        "sending"
    );
    dispatch(host);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(app.webhook.received_with(&message).len(), 1);

    // Past, too far ahead, or not a date: Notify's validation error, and
    // nothing queued.
    for (when, why) in [
        (rfc3339(now_secs() - 3600), "must not be in the past"),
        (
            rfc3339(now_secs() + 400 * 86_400),
            "must be within 366 days",
        ),
        ("tomorrow".to_string(), "RFC 3339"),
    ] {
        let reply = send(&when, "v2-scheduled-refused");
        let text = assert_notify_error(&reply, 400, "ValidationError");
        assert!(text.contains(why), "{when}: {text}");
        assert!(text.starts_with("scheduled_for must "), "{text}");
        assert_eq!(text.matches("scheduled_for").count(), 1, "{text}");
        // The CRM's own API names the field once too, as the error's field.
        let reply = comms(host).post_json(
            "/api/notifications",
            &json!({"template_id": id, "email_address": address, "personalisation": {"x": "1"},
                    "reference": "v2-scheduled-refused", "scheduled_for": when}),
        );
        assert_eq!(reply.status, 400, "{}", reply.body);
        let problem = reply.json();
        assert_eq!(problem["errors"][0]["field"], "scheduled_for", "{problem}");
        let reason = problem["errors"][0]["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("must ") && reason.contains(why),
            "{reason}"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert_eq!(detail.matches("scheduled_for").count(), 1, "{detail}");
    }
    let refused: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM notifications WHERE reference = 'v2-scheduled-refused'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refused, 0);
}

#[test]
fn sms_and_letters_to_a_contact_go_to_the_address_on_record() {
    let app = app();
    let host = &app.host;
    let contact = reachable_contact(
        host,
        "Ann Recipient",
        "ann.recipient@example.gov.au",
        &["(02) 6123 0000", "0412 999 777"],
        json!({"lines": ["Unit 4", "12 Example Street"], "locality": "Sydney", "state": "NSW", "postcode": "2000"}),
    );
    consent(host, &contact, "claim-updates", "sms", "given");
    consent(host, &contact, "claim-updates", "letter", "given");

    // SMS: the first mobile on record, through the relay.
    let sms = template(host, "sms", None, "Your code is ((code))", "claim-updates");
    let sent = send(
        host,
        &json!({"template_id": sms, "contact_id": contact, "personalisation": {"code": "77"}}),
    );
    let sent = sent.json();
    assert_eq!(sent["channel"], "sms");
    assert_eq!(sent["recipient"], "+61412999777", "mobiles first: {sent}");
    assert_eq!(sent["status"], "sending");
    let sms_id = sent["id"].as_str().unwrap();
    let relayed = app.upstream.wait_for(sms_id, 1);
    assert_eq!(relayed.len(), 1);
    assert_eq!(relayed[0].path, "/v2/notifications/sms");
    let body = relayed[0].json();
    assert_eq!(body["phone_number"], "+61412999777");
    assert_eq!(body["reference"], sms_id);
    assert_eq!(body["personalisation"]["body"], "Your code is 77");
    assert!(body.get("email_address").is_none(), "{body}");

    // Letter: the addressee, then the postal address on record, through the
    // webhook.
    let letter = template(
        host,
        "letter",
        Some("Your claim"),
        "Dear ((name))",
        "claim-updates",
    );
    let sent = send(
        host,
        &json!({"template_id": letter, "contact_id": contact, "personalisation": {"name": "Ann"}}),
    );
    let sent = sent.json();
    let lines = json!([
        "Ann Recipient",
        "Unit 4",
        "12 Example Street",
        "SYDNEY NSW 2000"
    ]);
    assert_eq!(sent["channel"], "letter");
    assert_eq!(sent["recipient"], lines, "{sent}");
    assert_eq!(sent["status"], "accepted");
    let letter_id = sent["id"].as_str().unwrap();
    let handed = app.webhook.wait_for(letter_id, 1);
    assert_eq!(handed.len(), 1);
    assert!(notification_rules::verify_body_signature(
        WEBHOOK_SECRET.as_bytes(),
        handed[0].body.as_bytes(),
        handed[0].header("x-crm-signature")
    ));
    let body = handed[0].json();
    assert_eq!(body["channel"], "letter");
    assert_eq!(body["to"], lines);
    assert_eq!(body["body"], "Dear Ann");
    assert_eq!(body["subject"], "Your claim");

    // No address of that kind on record: refused, nothing sent.
    let no_phone = new_contact(host, "No Phone", "no.phone@example.gov.au");
    consent(host, &no_phone, "claim-updates", "sms", "given");
    let refused = comms(host).post_json(
        "/api/notifications",
        &json!({"template_id": sms, "contact_id": no_phone, "personalisation": {"code": "1"}}),
    );
    assert_problem(&refused, 400, "no-address");
    std::thread::sleep(Duration::from_millis(100));
    assert!(app.upstream.received_with("Your code is 1\"").is_empty());
}

/// Sends a letter to a new contact `name` with `address` on record, and
/// answers the address lines the provider was handed.
fn letter_lines_handed_over(name: &str, email: &str, address: Value) -> Value {
    let app = app();
    let host = &app.host;
    let contact = reachable_contact(host, name, email, &[], address);
    consent(host, &contact, "claim-updates", "letter", "given");
    let letter = template(
        host,
        "letter",
        Some("Your claim"),
        "Dear ((name))",
        "claim-updates",
    );
    let sent = send(
        host,
        &json!({"template_id": letter, "contact_id": contact, "personalisation": {"name": name}}),
    );
    let id = sent.json()["id"].as_str().unwrap().to_string();
    let handed = app.webhook.wait_for(&id, 1);
    assert_eq!(handed.len(), 1);
    handed[0].json()["to"].clone()
}

/// A letter to a contact whose postal address has one street line (the
/// usual Australian address) gets two address lines from the directory
/// (`3 Low St`, `BRADDON ACT 2612`); with the addressee's name first, as
/// on any letter, it has the three lines a letter needs.
#[test]
fn a_letter_to_a_contact_with_one_street_line_is_sent() {
    let to = letter_lines_handed_over(
        "Bea Oneline",
        "bea.oneline@example.gov.au",
        json!({"lines": ["3 Low St"], "locality": "Braddon", "state": "ACT", "postcode": "2612"}),
    );
    assert_eq!(
        to,
        json!(["Bea Oneline", "3 Low St", "BRADDON ACT 2612"]),
        "{to}"
    );
}

/// A letter to a contact living overseas ends with the country's name in
/// capitals, as international mail does (the contact record keeps the ISO
/// code, which a letter's last line would not accept).
#[test]
fn a_letter_to_a_contact_overseas_ends_with_the_country_name() {
    let to = letter_lines_handed_over(
        "Cai Overseas",
        "cai.overseas@example.gov.au",
        json!({"lines": ["1 Queen St"], "locality": "Auckland", "postcode": "1010", "country": "NZ"}),
    );
    assert_eq!(
        to,
        json!(["Cai Overseas", "1 Queen St", "Auckland 1010", "NEW ZEALAND"]),
        "{to}"
    );
}

/// The address on record, with the addressee's name, longer than a letter
/// allows (here 6 street lines, written around the contact API's limit):
/// a 400 naming the contact's address, not a personalisation field the
/// caller never sent; nothing queued. Address keys the caller sends are
/// not mixed into the address on record.
#[test]
fn a_letter_to_a_contact_whose_address_is_too_long_names_the_contacts_address() {
    let app = app();
    let host = &app.host;
    let contact = reachable_contact(
        host,
        "Cy Manylines",
        "cy.manylines@example.gov.au",
        &[],
        json!({"lines": ["Flat 2", "9 Long Rd"], "locality": "Braddon", "state": "ACT", "postcode": "2612"}),
    );
    consent(host, &contact, "claim-updates", "letter", "given");
    let letter = template(
        host,
        "letter",
        Some("Your address"),
        "Dear ((name))",
        "claim-updates",
    );
    // The caller's own address keys are ignored for a contact.
    let sent = send(
        host,
        &json!({"template_id": letter, "contact_id": contact,
                "personalisation": {"name": "Cy", "address_line_6": "ELSEWHERE", "postcode": "SW1A 1AA"}}),
    );
    let lines = json!(["Cy Manylines", "Flat 2", "9 Long Rd", "BRADDON ACT 2612"]);
    assert_eq!(sent.json()["recipient"], lines, "{}", sent.body);

    let db = app.db();
    let changed = db
        .execute(
            "UPDATE contacts SET record = json_set(record, '$.postal_address.lines', json(?1)) WHERE id = ?2",
            rusqlite::params![
                json!(["Flat 2", "Level 3", "Building 4", "Block 5", "Estate 6", "9 Long Rd"])
                    .to_string(),
                contact
            ],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let refused = comms(host).post_json(
        "/api/notifications",
        &json!({"template_id": letter, "contact_id": contact,
                "personalisation": {"name": "Cy"}, "reference": "too-long-address"}),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    let problem = refused.json();
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["field"], "contact_id", "{problem}");
    let reason = errors[0]["reason"].as_str().unwrap();
    assert!(reason.contains("postal address"), "{reason}");
    assert!(reason.contains("8 lines"), "{reason}");
    assert!(reason.contains("at most 7"), "{reason}");
    assert!(
        !refused.body.contains("personalisation"),
        "{}",
        refused.body
    );
    let queued: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM notifications WHERE reference = 'too-long-address'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 0);
}

#[test]
fn messages_sending_for_72_hours_become_temporary_failures() {
    let app = dispatching_app();
    let host = &app.host;
    let db = app.db();
    let contact = reachable_contact(
        host,
        "Silent Provider",
        "silent.provider@example.gov.au",
        &["0412 555 272"],
        Value::Null,
    );
    consent(host, &contact, "claim-updates", "email", "given");
    consent(host, &contact, "claim-updates", "sms", "given");
    let email = template(
        host,
        "email",
        Some("Hi"),
        "Unanswered ((n))",
        "claim-updates",
    );
    let sms = template(host, "sms", None, "Unanswered text ((n))", "claim-updates");
    let send = |template: &str, n: &str| {
        let reply = send(
            host,
            &json!({"template_id": template, "contact_id": contact, "personalisation": {"n": n}}),
        );
        assert_eq!(reply.json()["status"], "sending", "{}", reply.body);
        reply.json()["id"].as_str().unwrap().to_string()
    };
    let stale = send(&email, "stale");
    let recent = send(&email, "recent");
    let pending = send(&sms, "pending");
    // Upstream Notify says the text is `pending` (its provider is trying).
    let upstream_receipt =
        json!({"id": "upstream-1", "reference": pending, "status": "pending"}).to_string();
    let applied = host.request(
        "POST",
        "/api/notifications/receipts/notify",
        &[
            ("content-type", "application/json"),
            (
                "authorization",
                &format!("Bearer {UPSTREAM_CALLBACK_TOKEN}"),
            ),
        ],
        Some(upstream_receipt.as_bytes()),
    );
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(notification(host, &pending)["status"], "pending");

    // Handed over 72 hours and a minute ago (two of them), and 71 hours ago.
    let hour_ms = 3_600_000i64;
    let now_ms = now_secs() * 1000;
    for (id, age_ms) in [
        (&stale, 72 * hour_ms + 60_000),
        (&pending, 72 * hour_ms + 60_000),
        (&recent, 71 * hour_ms),
    ] {
        let changed = db
            .execute(
                "UPDATE notifications SET sent_at = ?1, created_at = ?1 WHERE id = ?2 AND status IN ('sending', 'pending')",
                rusqlite::params![now_ms - age_ms, id],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let summary = dispatch(host);
    assert!(summary["timed_out"].as_u64().is_some(), "{summary}");

    for id in [&stale, &pending] {
        let read = notification(host, id);
        assert_eq!(read["status"], "temporary-failure", "{read}");
        assert!(read["completed_at"].is_string(), "{read}");
        let events = read["events"].as_array().unwrap();
        let last = events.last().unwrap();
        assert_eq!(last["status"], "temporary-failure");
        assert_eq!(last["detail"], "no receipt within 72 hours");
        // The outcome is in the contact's interaction log ...
        let interaction_id = read["interaction_id"]
            .as_str()
            .unwrap_or_else(|| panic!("recorded: {read}"));
        let interaction = officer(host)
            .get(&format!("/api/interactions/{interaction_id}"))
            .json();
        assert_eq!(interaction["direction"], "outbound");
        assert_eq!(interaction["category"], "notification");
        assert_eq!(interaction["outcome"], "temporary-failure");
        assert_eq!(interaction["notification_id"], id.as_str());
        assert_eq!(interaction["contact_id"], contact.as_str());
        assert_eq!(interaction_rows(&db, id), 1);
        // ... and the audit trail.
        let audit = auditor(host)
            .get(&format!(
                "/api/audit/entries?limit=500&action=notification.status&resource=notification/{id}"
            ))
            .json();
        let details: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["detail"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(details, ["temporary-failure"], "{audit}");
    }
    let listed = notification_interactions(host, &contact);
    let outcomes: Vec<(&str, &str)> = listed
        .iter()
        .map(|i| {
            (
                i["notification_id"].as_str().unwrap(),
                i["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 2, "{listed:?}");
    assert!(outcomes.contains(&(stale.as_str(), "temporary-failure")));
    assert!(outcomes.contains(&(pending.as_str(), "temporary-failure")));

    // 71 hours is not yet 72.
    let read = notification(host, &recent);
    assert_eq!(read["status"], "sending", "{read}");
    assert!(read["interaction_id"].is_null());
    assert_eq!(interaction_rows(&db, &recent), 0);
    // A receipt after the time-out changes nothing.
    let late = receipt(
        host,
        &json!({"id": stale, "status": "delivered"}),
        WEBHOOK_SECRET,
    );
    assert_eq!(late.status, 200, "{}", late.body);
    assert_eq!(late.json()["applied"], false);
    assert_eq!(notification(host, &stale)["status"], "temporary-failure");
    dispatch(host);
    assert_eq!(interaction_rows(&db, &stale), 1);
}

#[test]
fn each_send_is_one_outbound_interaction_with_its_final_status() {
    let app = dispatching_app();
    let host = &app.host;
    let db = app.db();
    let (contact, email) = ready_to_send(
        host,
        "Recorded Person",
        "recorded.person@example.gov.au",
        "email",
        Some("Recorded"),
        "Recorded ((n))",
    );
    let send = |n: &str| {
        let reply = send(
            host,
            &json!({"template_id": email, "contact_id": contact, "personalisation": {"n": n}}),
        );
        reply.json()
    };
    // Delivered, by receipt.
    let delivered = send("delivered")["id"].as_str().unwrap().to_string();
    assert!(
        notification(host, &delivered)["interaction_id"].is_null(),
        "not final yet"
    );
    let applied = receipt(
        host,
        &json!({"id": delivered, "status": "delivered"}),
        WEBHOOK_SECRET,
    );
    assert_eq!(applied.json()["applied"], true, "{}", applied.body);
    // A permanent failure, by receipt.
    let bounced = send("bounced")["id"].as_str().unwrap().to_string();
    let applied = receipt(
        host,
        &json!({"id": bounced, "status": "permanent-failure"}),
        WEBHOOK_SECRET,
    );
    assert_eq!(applied.json()["applied"], true, "{}", applied.body);
    // A technical failure, once the three tries are spent.
    app.webhook.script(
        "Recorded exhausted",
        [
            Answer::Status(503, "{}".into()),
            Answer::Status(502, "{}".into()),
            Answer::Status(500, "{}".into()),
        ],
    );
    let first = send("exhausted");
    let exhausted = first["id"].as_str().unwrap().to_string();
    assert_eq!(first["status"], "created");
    let mut status = String::new();
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(10));
        dispatch(host);
        status = notification(host, &exhausted)["status"]
            .as_str()
            .unwrap()
            .to_string();
        if status != "created" {
            break;
        }
    }
    assert_eq!(status, "technical-failure");
    assert_eq!(app.webhook.received_with(&exhausted).len(), 3);

    // A dispatch (which records what was not yet recorded) adds nothing.
    dispatch(host);
    let listed = notification_interactions(host, &contact);
    let mut recorded: Vec<(String, String)> = listed
        .iter()
        .map(|i| {
            assert_eq!(i["direction"], "outbound", "{i}");
            assert_eq!(i["channel"], "email", "{i}");
            (
                i["notification_id"].as_str().unwrap().to_string(),
                i["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    recorded.sort();
    let mut expected = vec![
        (delivered.clone(), "delivered".to_string()),
        (bounced.clone(), "permanent-failure".to_string()),
        (exhausted.clone(), "technical-failure".to_string()),
    ];
    expected.sort();
    assert_eq!(recorded, expected, "one interaction per send: {listed:?}");
    for id in [&delivered, &bounced, &exhausted] {
        assert_eq!(interaction_rows(&db, id), 1, "{id}");
        let read = notification(host, id);
        let interaction_id = read["interaction_id"].as_str().unwrap();
        assert!(
            listed
                .iter()
                .any(|i| i["id"] == interaction_id && i["notification_id"] == id.as_str()),
            "{read}"
        );
    }
}

/// A message another request is recording (its interaction claim is live)
/// is left to it, by the receipt that makes it final and by dispatches; a
/// claim whose holder crashed lapses, and a dispatch then records the
/// message, once.
#[test]
fn a_lapsed_interaction_claim_is_recorded_by_a_later_dispatch() {
    let app = dispatching_app();
    let host = &app.host;
    let db = app.db();
    let (contact, email) = ready_to_send(
        host,
        "Claimed Person",
        "claimed.person@example.gov.au",
        "email",
        Some("Claimed"),
        "Claimed ((n))",
    );
    let reply = send(
        host,
        &json!({"template_id": email, "contact_id": contact, "personalisation": {"n": "1"}}),
    );
    let id = reply.json()["id"].as_str().unwrap().to_string();
    let claim = |until_ms: i64| {
        let changed = db
            .execute(
                "UPDATE notifications SET interaction_claim = ?1 WHERE id = ?2",
                rusqlite::params![until_ms, id],
            )
            .unwrap();
        assert_eq!(changed, 1);
    };
    // As if another request were recording it for the next hour.
    claim(now_secs() * 1000 + 3_600_000);
    let applied = receipt(
        host,
        &json!({"id": id, "status": "delivered"}),
        WEBHOOK_SECRET,
    );
    assert_eq!(applied.json()["applied"], true, "{}", applied.body);
    dispatch(host);
    assert_eq!(interaction_rows(&db, &id), 0);
    assert!(notification(host, &id)["interaction_id"].is_null());

    // Its holder crashed: the claim lapses.
    claim(now_secs() * 1000 - 1);
    dispatch(host);
    // Another test's dispatch on this host may be the one recording it.
    let mut read = notification(host, &id);
    for _ in 0..100 {
        if read["interaction_id"].is_string() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        read = notification(host, &id);
    }
    let interaction_id = read["interaction_id"]
        .as_str()
        .unwrap_or_else(|| panic!("recorded: {read}"));
    assert_eq!(interaction_rows(&db, &id), 1);
    let interaction = officer(host)
        .get(&format!("/api/interactions/{interaction_id}"))
        .json();
    assert_eq!(interaction["outcome"], "delivered", "{interaction}");
    let held: Option<i64> = db
        .query_row(
            "SELECT interaction_claim FROM notifications WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, None, "the claim is cleared once recorded");
    dispatch(host);
    assert_eq!(interaction_rows(&db, &id), 1);
}

/// A crash after the interaction was appended and before the message noted
/// it (here: the note cleared and the claim lapsed, in the file) leaves the
/// next dispatch to record it again; the leaf answers with the interaction
/// already appended for that notification instead of appending a second.
#[test]
fn an_interaction_appended_but_not_noted_is_not_appended_twice() {
    let app = start(&[]);
    let host = &app.host;
    let db = app.db();
    let (contact, portal) = ready_to_send(
        host,
        "Crashed Person",
        "crashed.person@example.gov.au",
        "portal",
        Some("Moved"),
        "Your claim moved",
    );
    let sent = send(host, &json!({"template_id": portal, "contact_id": contact}));
    let id = sent.json()["id"].as_str().unwrap().to_string();
    let first = notification(host, &id)["interaction_id"]
        .as_str()
        .expect("recorded at delivery")
        .to_string();
    db.execute(
        "UPDATE notifications SET interaction_id = NULL, interaction_claim = NULL WHERE id = ?1",
        [&id],
    )
    .unwrap();
    dispatch(host);
    assert_eq!(notification(host, &id)["interaction_id"], first.as_str());
    assert_eq!(interaction_rows(&db, &id), 1);
}

/// A receipt makes a message final and commits, then records its
/// interaction (`records::finalise`); a dispatch running meanwhile records
/// every final message without one (`records::catch_up`). Each claims the
/// message first, so only one appends. On a host of its own: receipts for
/// 60 messages while two dispatches loop.
#[test]
fn a_receipt_racing_dispatches_records_the_interaction_once() {
    let app = start(&[]);
    let host = &app.host;
    let db = app.db();
    let (contact, email) = ready_to_send(
        host,
        "Raced Person",
        "raced.person@example.gov.au",
        "email",
        Some("Raced"),
        "Raced ((n))",
    );
    let ids: Vec<String> = (0..60)
        .map(|n| {
            let reply = send(
                host,
                &json!({"template_id": email, "contact_id": contact, "personalisation": {"n": n}}),
            );
            reply.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    dispatch(host);
                }
            });
        }
        for id in &ids {
            let applied = receipt(
                host,
                &json!({"id": id, "status": "delivered"}),
                WEBHOOK_SECRET,
            );
            assert_eq!(applied.status, 200, "{}", applied.body);
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    dispatch(host);
    let counts: Vec<(String, i64)> = ids
        .iter()
        .map(|id| (id.clone(), interaction_rows(&db, id)))
        .filter(|(_, n)| *n != 1)
        .collect();
    assert!(counts.is_empty(), "{counts:?}");
}

// A portal message at a glance: refused without consent, delivered with it,
// refused again once it is withdrawn.

#[test]
fn a_notification_needs_consent_and_withdrawal_takes_effect_at_once() {
    // The officer the consent below names records it.
    let officer = || crm_tests::app::officer(host(), "officer-1");
    let contact = crm_tests::app::new_contact(host(), "Consent Tester");
    let comms = host()
        .as_caller(&token("comms-app", &["communications-officer"]))
        .purpose("communications");
    let template = comms.post_json(
        "/api/templates",
        &json!({"name": "Claim moved", "type": "portal", "subject": "Your claim", "body": "Your claim moved", "purpose": "status-updates"}),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let template_id = template.json()["id"].as_str().unwrap().to_string();
    let send = || {
        comms.post_json(
            "/api/notifications",
            &json!({"contact_id": contact, "template_id": template_id}),
        )
    };
    let refused = send();
    assert_problem(&refused, 400, "consent-refused");
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("no-consent")
    );

    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let consent = json!({"contact_id": contact, "purpose": "status-updates", "channel": "portal",
        "decision": "given", "notice_id": "general", "notice_version": 1,
        "data_categories": ["contact-details"], "given_at": now_ms,
        "collection": {"method": "phone-call", "call_reference": "CALL-7", "officer_id": "officer-1"}});
    assert_eq!(officer().post_json("/api/consents", &consent).status, 201);
    let sent = send();
    assert_eq!(sent.status, 201, "{}", sent.body);
    let notification_id = sent.json()["id"].as_str().unwrap().to_string();
    let read = comms
        .get(&format!("/api/notifications/{notification_id}"))
        .json();
    assert_eq!(
        read["status"], "delivered",
        "portal messages land in the inbox"
    );
    let interaction = officer().get(&format!(
        "/api/interactions/{}",
        read["interaction_id"].as_str().unwrap()
    ));
    assert_eq!(interaction.status, 200);
    assert_eq!(interaction.json()["direction"], "outbound");
    assert_eq!(
        interaction.json()["notification_id"],
        notification_id.as_str()
    );

    let withdrawal = json!({"contact_id": contact, "purpose": "status-updates",
        "channel": "portal", "via": "phone"});
    assert_eq!(
        officer()
            .post_json("/api/consents/withdrawals", &withdrawal)
            .status,
        200
    );
    let after = send();
    assert_problem(&after, 400, "consent-refused");
    assert!(
        after.json()["detail"]
            .as_str()
            .unwrap()
            .contains("withdrawn")
    );
    let history = officer()
        .get(&format!("/api/consents?contact_id={contact}"))
        .json();
    let events: Vec<&str> = history["history"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["given", "withdrawn"],
        "a withdrawal is an event on the record, nothing overwritten"
    );
}
