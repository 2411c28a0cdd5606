//! The GOV.UK Notify v2 API (`/v2/...`): Notify's authentication (a bearer
//! JWT, HS256 with one of the service's API key secrets, `iss` the service
//! id, `iat` within 30 s), field names, statuses and error bodies, so a
//! client written for Notify works by changing its base URL and key.
//!
//! These routes are public in the route table: they check their own
//! credential, then record each action in the audit trail as the key
//! (`notify-key:<id>`, role `service`). Portal templates are the CRM's own
//! and do not appear here.

use crm_component_support::audit::Outcome;
use crm_component_support::auth::REQUEST_ACTION;
use crm_component_support::{Db, now_ms, query_param};
use crm_domain::HttpsUrl;
use crm_http::{IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, Problem};
use crm_templates::{Personalisation, TemplateType};
use notification_rules::{
    AuthError, ErrorEntry, KeyType, NotificationStatus, NotifyError, Postage, ServiceId,
    bearer_token, estimated_delivery, notify_time, sanitise_personalisation_item, token_issuer,
    verify_notify_jwt,
};
use notification_store::messages::{self, Listing, ServiceView};
use notification_store::templates::Scope;
use notification_store::{Message, StoredTemplate};
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::Connection;

use crate::actor::Actor;
use crate::send::{self, Recipient, SendError, SendRequest, Sender};
use crate::services::{self, ServiceKey};
use crate::{config, delivery, store_problem, templates};

mod files;
mod letters;
mod received_texts;

/// An authenticated `/v2` caller.
struct Caller {
    service_id: ServiceId,
    key: ServiceKey,
    actor: Actor,
}

fn notify_response(error: &NotifyError) -> Response {
    let mut response = Response::builder()
        .status(error.status_code)
        .header("content-type", "application/json")
        .body(error.to_json())
        .build();
    if let Some(secs) = error.retry_after_secs {
        response.set_header("retry-after", secs.to_string());
    }
    response
}

fn ok(status: u16, body: &Json) -> Response {
    crm_component_support::json(status, body)
}

fn internal(problem: &Problem) -> NotifyError {
    NotifyError {
        status_code: problem.status,
        errors: vec![ErrorEntry {
            error: "Exception".into(),
            message: problem.detail.clone(),
        }],
        retry_after_secs: None,
    }
}

/// Serves one `/v2` operation; every answer is Notify-shaped.
pub fn serve(
    req: &Request,
    operation: &str,
    params: &[(&str, String)],
    request_id: &str,
) -> Response {
    let db = Db::default();
    let caller = match authenticated(req, &db, request_id) {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let db = db.get().expect("opened above");
    let result = match operation {
        "v2SendEmail" => send_route(req, db, &caller, TemplateType::Email),
        "v2SendSms" => send_route(req, db, &caller, TemplateType::Sms),
        "v2SendLetter" => letters::send_letter(req, db, &caller),
        "v2GetLetterPdf" => letters::letter_pdf(db, &caller, param("id")),
        "v2ListReceivedTexts" => received_texts::list(req, db, &caller),
        "v2GetNotification" => get_notification(req, db, &caller, param("id")),
        "v2ListNotifications" => list_notifications(req, db, &caller),
        "v2GetTemplate" => get_template(db, &caller, param("id"), None),
        "v2GetTemplateVersion" => get_template(db, &caller, param("id"), Some(param("version"))),
        "v2ListTemplates" => list_templates(req, db, &caller),
        "v2PreviewTemplate" => preview_template(req, db, &caller, param("id")),
        _ => Err(NotifyError::not_found()),
    };
    result.unwrap_or_else(|e| notify_response(&e))
}

/// A `/v2` request no operation takes (an unknown path, or a method its
/// path does not have), answered in Notify's error shape, not as a problem
/// document: authenticated and audited like any other attempt.
pub fn unrouted(req: &Request, missed: &Problem, request_id: &str) -> Response {
    let db = Db::default();
    let caller = match authenticated(req, &db, request_id) {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let kind = missed.kind.trim_start_matches(crm_http::PROBLEM_BASE);
    if let Err(error) = caller
        .actor
        .record(
            REQUEST_ACTION,
            req.path(),
            None,
            Outcome::Denied,
            Some(kind),
        )
        .map_err(|p| internal(&p))
    {
        return notify_response(&error);
    }
    let (error, message) = if missed.status == 405 {
        (
            "MethodNotAllowedError",
            "The method is not allowed for the requested URL.",
        )
    } else {
        (
            "ResourceNotFound",
            "The requested URL was not found on the server.",
        )
    };
    let mut response = notify_response(&NotifyError {
        status_code: missed.status,
        errors: vec![ErrorEntry {
            error: error.into(),
            message: message.into(),
        }],
        retry_after_secs: None,
    });
    for (name, value) in &missed.headers {
        response.set_header(name, value);
    }
    response
}

/// The caller, authenticated on the request's database; a failure is the
/// Notify-shaped answer.
fn authenticated(req: &Request, db: &Db, request_id: &str) -> Result<Caller, Response> {
    db.get()
        .map_err(|p| internal(&p))
        .and_then(|db| authenticate(req, db, request_id))
        .map_err(|error| notify_response(&error))
}

/// Notify's authentication; a failure is audited as `authenticate`.
fn authenticate(req: &Request, db: &Connection, request_id: &str) -> Result<Caller, NotifyError> {
    let header = req.header("authorization").and_then(|v| v.as_str());
    match verify(header, db) {
        Ok((service_id, key)) => Ok(Caller {
            actor: Actor {
                request_id: request_id.to_string(),
                id: format!("notify-key:{}", key.id),
                role: "service".into(),
                purpose: None,
            },
            service_id,
            key,
        }),
        Err(Err(problem)) => Err(internal(&problem)),
        Err(Ok(error)) => {
            let anonymous = Actor {
                request_id: request_id.to_string(),
                id: "anonymous".into(),
                role: "none".into(),
                purpose: None,
            };
            anonymous
                .record(
                    "authenticate",
                    req.path(),
                    None,
                    Outcome::Denied,
                    Some(&error.to_string()),
                )
                .map_err(|p| internal(&p))?;
            Err(error.into())
        }
    }
}

/// The service and key a request's token was signed with. The outer error
/// is the caller's fault, the inner one ours.
fn verify(
    header: Option<&str>,
    db: &Connection,
) -> Result<(ServiceId, ServiceKey), Result<AuthError, Problem>> {
    let token = bearer_token(header).map_err(Ok)?;
    let service = token_issuer(token).map_err(Ok)?;
    let keys = services::service_keys(db, &service)
        .map_err(Err)?
        .ok_or(Ok(AuthError::ServiceNotFound))?;
    if keys.is_empty() {
        return Err(Ok(AuthError::NoApiKeys));
    }
    let now_secs = now_ms() / 1000;
    for key in keys {
        let Some(secret) = &key.secret else { continue };
        match verify_notify_jwt(token, secret, &service, now_secs) {
            Err(AuthError::KeyNotFound) => continue,
            _ if key.revoked => return Err(Ok(AuthError::KeyRevoked)),
            Err(other) => return Err(Ok(other)),
            Ok(_) => return Ok((service, key)),
        }
    }
    Err(Ok(AuthError::KeyNotFound))
}

fn audit(
    caller: &Caller,
    action: &str,
    resource: &str,
    subject: Option<&str>,
) -> Result<(), NotifyError> {
    caller
        .actor
        .record(action, resource, subject, Outcome::Allowed, None)
        .map_err(|p| internal(&p))
}

fn is_uuid(raw: &str) -> bool {
    ServiceId::parse(raw).is_some()
}

/// The request body as a JSON object, with Notify's messages.
fn body_object(req: &Request) -> Result<Map<String, Json>, NotifyError> {
    match serde_json::from_slice::<Json>(req.body()) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(NotifyError::validation([
            "Request body must be a JSON object",
        ])),
        Err(_) => Err(NotifyError::bad_request(
            "Invalid JSON supplied in POST data",
        )),
    }
}

/// The longest `one_click_unsubscribe_url` accepted.
const MAX_UNSUBSCRIBE_URL_CHARS: usize = 2048;

/// Checks a send's fields as Notify's JSON schema does.
fn check_fields(body: &Map<String, Json>, channel: TemplateType) -> Result<(), NotifyError> {
    let (required, optional): (&[&str], &[&str]) = match channel {
        TemplateType::Email => (
            &["email_address", "template_id"],
            &[
                "personalisation",
                "reference",
                "email_reply_to_id",
                "one_click_unsubscribe_url",
                "scheduled_for",
                "sanitise_content_for",
            ],
        ),
        TemplateType::Sms => (
            &["phone_number", "template_id"],
            &[
                "personalisation",
                "reference",
                "sms_sender_id",
                "scheduled_for",
            ],
        ),
        // As Notify: a templated letter's postage is its template's, and
        // letters are not scheduled.
        _ => (&["template_id", "personalisation"], &["reference"]),
    };
    let mut messages = Vec::new();
    for field in required {
        if !body.contains_key(*field) {
            messages.push(format!("{field} is a required property"));
        }
    }
    for field in body.keys() {
        if !required.contains(&field.as_str()) && !optional.contains(&field.as_str()) {
            messages.push(format!(
                "Additional properties are not allowed ({field} was unexpected)"
            ));
        }
    }
    for field in [
        "email_address",
        "phone_number",
        "template_id",
        "reference",
        "scheduled_for",
        "email_reply_to_id",
        "sms_sender_id",
        "one_click_unsubscribe_url",
    ] {
        if body.get(field).is_some_and(|v| !v.is_string()) {
            messages.push(format!("{field} is not of type string"));
        }
    }
    for field in ["template_id", "email_reply_to_id", "sms_sender_id"] {
        if let Some(id) = body.get(field).and_then(Json::as_str)
            && !is_uuid(id)
        {
            messages.push(format!("{field} is not a valid UUID"));
        }
    }
    // Echoed back to the sender, so bounded as any other URL; a longer one
    // is refused in Notify's words too.
    if let Some(url) = body.get("one_click_unsubscribe_url").and_then(Json::as_str)
        && HttpsUrl::parse(url, MAX_UNSUBSCRIBE_URL_CHARS).is_err()
    {
        messages.push("one_click_unsubscribe_url is not a valid https url".to_string());
    }
    match body.get("sanitise_content_for") {
        None | Some(Json::Null) => {}
        Some(Json::Array(keys)) => {
            if keys.iter().any(|k| !k.is_string()) {
                messages.push("sanitise_content_for items are not of type string".to_string());
            }
        }
        Some(_) => messages.push("sanitise_content_for is not of type array, null".to_string()),
    }
    if body
        .get("personalisation")
        .is_some_and(|p| !p.is_object() && !p.is_null())
    {
        messages.push("personalisation is not of type object".to_string());
    }
    if messages.is_empty() {
        Ok(())
    } else {
        Err(NotifyError::validation(messages))
    }
}

/// The personalisation to send, with the values named (case-insensitively)
/// in `sanitise_content_for` sanitised as Notify does, and Notify's
/// `sanitised_content`: each value that changed, before and after.
fn sanitised(body: &Map<String, Json>) -> (Json, Map<String, Json>) {
    let personalisation = body.get("personalisation").cloned().unwrap_or(Json::Null);
    let keys: Vec<String> = body
        .get("sanitise_content_for")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_lowercase)
        .collect();
    let Json::Object(mut values) = personalisation else {
        return (personalisation, Map::new());
    };
    let mut changed = Map::new();
    for (key, value) in values.iter_mut() {
        let Some(text) = value
            .as_str()
            .filter(|_| keys.contains(&key.to_lowercase()))
        else {
            continue;
        };
        let clean = sanitise_personalisation_item(text);
        if clean != text {
            changed.insert(
                key.clone(),
                json!({"unsanitised": text, "sanitised": clean}),
            );
            *value = Json::String(clean);
        }
    }
    (Json::Object(values), changed)
}

fn string(body: &Map<String, Json>, field: &str) -> Option<String> {
    body.get(field).and_then(Json::as_str).map(str::to_string)
}

fn to_notify(error: SendError) -> NotifyError {
    match &error {
        // Notify's schema checks recipients with its format checkers, so a
        // bad address or number is a `ValidationError` naming the field.
        SendError::Invalid { field, .. } if field == "email_address" => {
            NotifyError::validation(["email_address Not a valid email address"])
        }
        SendError::Invalid { .. } => NotifyError::validation([error.to_string()]),
        SendError::Render(render) => NotifyError::from(render),
        SendError::InvalidPhone(reason) => {
            NotifyError::validation([format!("phone_number {reason}")])
        }
        SendError::RateLimited {
            per_minute,
            key_type,
            retry_after_secs,
        } => NotifyError::rate_limit(*key_type, *per_minute, 60).retry_after(*retry_after_secs),
        SendError::DailyLimit {
            channel,
            limit,
            retry_after_secs,
        } => NotifyError::too_many_requests(*channel, *limit).retry_after(*retry_after_secs),
        // Notify refuses a team key's letter as forbidden, not as invalid.
        SendError::TeamLetter => NotifyError {
            status_code: 403,
            errors: vec![ErrorEntry {
                error: "BadRequestError".into(),
                message: error.to_string(),
            }],
            retry_after_secs: None,
        },
        SendError::IdempotencyConflict => NotifyError {
            status_code: 409,
            errors: vec![ErrorEntry {
                error: "BadRequestError".into(),
                message: error.to_string(),
            }],
            retry_after_secs: None,
        },
        SendError::Internal(problem) => internal(problem),
        _ => NotifyError::bad_request(error.to_string()),
    }
}

fn base_url(req: &Request) -> String {
    req.header("spin-full-url")
        .and_then(|v| v.as_str())
        .and_then(|url| {
            let after_scheme = url.find("://")? + 3;
            let end = url[after_scheme..]
                .find('/')
                .map_or(url.len(), |i| after_scheme + i);
            Some(url[..end].to_string())
        })
        .unwrap_or_default()
}

fn template_ref(base: &str, message: &Message) -> Json {
    json!({
        "id": message.template_id,
        "version": message.template_version,
        "uri": format!("{base}/v2/template/{}/version/{}", message.template_id, message.template_version),
    })
}

/// Who a `/v2` caller sends as: its service, with its key's rules.
fn sender(db: &Connection, caller: &Caller) -> Result<Sender, SendError> {
    let guest_list = if caller.key.key_type == KeyType::Team {
        services::guest_list(db, caller.service_id.as_str())?
    } else {
        Vec::new()
    };
    Ok(Sender {
        actor: caller.actor.clone(),
        sender: format!("service:{}", caller.service_id),
        service_id: Some(caller.service_id.to_string()),
        api_key_id: Some(caller.key.id.clone()),
        key_type: caller.key.key_type,
        created_by_name: Some(caller.key.name.clone()),
        guest_list,
    })
}

/// Accepts the message a `/v2` send asks for, as `id`. Idempotency keys
/// are scoped by service and key type: a test key's message (never
/// delivered, and hidden from live keys) is never the answer to a live
/// key's retry.
fn enqueue(
    req: &Request,
    db: &Connection,
    caller: &Caller,
    channel: TemplateType,
    body: &Map<String, Json>,
    attached: files::Attached,
    id: String,
) -> Result<send::Sent, SendError> {
    let recipient = match channel {
        TemplateType::Email => Recipient::Email(string(body, "email_address").unwrap_or_default()),
        TemplateType::Sms => {
            Recipient::NotifyPhone(string(body, "phone_number").unwrap_or_default())
        }
        _ => Recipient::Address,
    };
    let sender = sender(db, caller)?;
    let request = SendRequest {
        id,
        template_ids: vec![string(body, "template_id").unwrap_or_default()],
        recipient,
        personalisation: attached.personalisation,
        reference: string(body, "reference"),
        scheduled_for: string(body, "scheduled_for"),
        idempotency_key: req
            .header(IDEMPOTENCY_KEY_HEADER)
            .and_then(|v| v.as_str())
            .map(|key| caller.key.key_type.scoped_idempotency_key(key)),
        request_hash: format!(
            "{:x}",
            Sha256::digest([req.path().as_bytes(), b"\n", req.body()].concat())
        ),
        channel: Some(channel),
        one_click_unsubscribe_url: string(body, "one_click_unsubscribe_url"),
        reply_to_id: string(body, "email_reply_to_id").or_else(|| string(body, "sms_sender_id")),
        documents: attached.documents,
    };
    send::send(db, &sender, request, now_ms())
}

/// `POST /v2/notifications/{email|sms|letter}`. As on the CRM's own
/// route, the audit trail fails closed: the `allowed` entry naming the new
/// message is written before anything is queued (so a message is never
/// queued for a request answered with an error, which a retry would send
/// again), and a later failure is recorded as `failed`, except a consent
/// refusal, which is recorded once, as `denied`, where it is decided.
fn send_route(
    req: &Request,
    db: &Connection,
    caller: &Caller,
    channel: TemplateType,
) -> Result<Response, NotifyError> {
    let body = body_object(req)?;
    check_fields(&body, channel)?;
    let (personalisation, sanitised_content) = sanitised(&body);
    let id = uuid::Uuid::new_v4().to_string();
    let attached = files::attach(
        &base_url(req),
        caller,
        &id,
        channel,
        &string(&body, "email_address").unwrap_or_default(),
        personalisation,
        now_ms(),
    )?;
    let resource = format!("notification/{id}");
    audit(caller, "notification.send", &resource, None)?;
    let failed = |detail: &str| {
        let _ = caller.actor.record(
            "notification.send",
            &resource,
            None,
            Outcome::Failed,
            Some(detail),
        );
    };
    let sent = match enqueue(req, db, caller, channel, &body, attached, id) {
        Ok(sent) => sent,
        Err(error) => {
            if !matches!(error, SendError::ConsentRefused { .. }) {
                failed(&error.to_string());
            }
            return Err(to_notify(error));
        }
    };
    let mut message = sent.message;
    if sent.replayed {
        caller
            .actor
            .record(
                "notification.send",
                &format!("notification/{}", message.id),
                message.contact_id.as_deref(),
                Outcome::Allowed,
                Some("idempotent-replay"),
            )
            .map_err(|p| internal(&p))?;
    } else if message.scheduled_for.is_none() {
        message = match delivery::deliver(db, &caller.actor, vec![message.clone()]) {
            Ok(mut delivered) => delivered.pop().unwrap_or(message),
            Err(problem) => {
                failed(&problem.detail);
                return Err(internal(&problem));
            }
        };
    }
    let base = base_url(req);
    let (from_email, from_number) = config::sender_identity();
    let content = match channel {
        TemplateType::Email => json!({
            "body": message.notify_body(), "subject": message.subject, "from_email": from_email,
            "one_click_unsubscribe_url": string(&body, "one_click_unsubscribe_url"),
        }),
        // From the sender chosen, else the service's default, else ours.
        TemplateType::Sms => json!({"body": message.body,
            "from_number": message.reply_to.clone().unwrap_or(from_number)}),
        _ => json!({"body": message.notify_body(), "subject": message.subject}),
    };
    let mut answer = json!({
        "id": message.id,
        "reference": message.reference,
        "content": content,
        "uri": format!("{base}/v2/notifications/{}", message.id),
        // A send names the template under its service, as Notify's does.
        "template": {
            "id": message.template_id,
            "version": message.template_version,
            "uri": format!("{base}/services/{}/templates/{}", caller.service_id, message.template_id),
        },
        "scheduled_for": message.scheduled_for.map(notify_time),
    });
    // As Notify: on every email send, empty when nothing was changed.
    if channel == TemplateType::Email {
        answer["sanitised_content"] = Json::Object(sanitised_content);
    }
    let mut response = ok(201, &answer);
    if sent.replayed {
        response.set_header(IDEMPOTENT_REPLAYED_HEADER, "true");
    }
    Ok(response)
}

/// Notify's notification view.
fn notification_view(base: &str, message: &Message) -> Json {
    // A letter's last line is its postcode or country, shown once.
    // A precompiled letter's one placeholder line is its `line_1`.
    let mut lines = message.address_lines();
    let postcode = if lines.len() > 1 { lines.pop() } else { None };
    let line = |i: usize| lines.get(i).cloned();
    let sent_to = || message.sent_to.clone().unwrap_or(message.recipient.clone());
    let (email, phone) = match message.channel {
        TemplateType::Email => (Some(sent_to()), None),
        TemplateType::Sms => (None, Some(sent_to())),
        _ => (None, None),
    };
    let mut view = json!({
        "id": message.id,
        "reference": message.reference,
        "email_address": email,
        "phone_number": phone,
        "line_1": line(0), "line_2": line(1), "line_3": line(2),
        "line_4": line(3), "line_5": line(4), "line_6": line(5),
        "postcode": postcode,
        "type": message.channel.as_str(),
        "status": shown_status(message).as_str(),
        "template": template_ref(base, message),
        "body": message.notify_body(),
        "subject": message.subject,
        "created_at": notify_time(message.created_at),
        // As Notify: the name of a person who sent it by hand; none for
        // an API send.
        "created_by_name": if message.api_key_id.is_some() { None } else { message.created_by_name.clone() },
        "sent_at": message.sent_at.map(notify_time),
        "completed_at": message.completed_at.map(notify_time),
        "scheduled_for": message.scheduled_for.map(notify_time),
        "postage": message.postage,
        "one_click_unsubscribe_url": message.one_click_unsubscribe_url,
        // No billing here: Notify's cost fields, saying so.
        "is_cost_data_ready": false,
        "cost_in_pounds": None::<f64>,
        "cost_details": {},
    });
    if message.channel == TemplateType::Letter {
        let postage = message
            .postage
            .as_deref()
            .and_then(Postage::parse)
            .unwrap_or(Postage::Second);
        view["estimated_delivery"] =
            json!(notify_time(estimated_delivery(message.created_at, postage)));
    }
    view
}

/// A message's status as Notify shows it: a letter's in letter terms.
fn shown_status(message: &Message) -> NotificationStatus {
    if message.channel == TemplateType::Letter {
        message.status.as_letter_status()
    } else {
        message.status
    }
}

/// Which messages a key lists: its service's, sent with keys of its own
/// type (live, team or test), as Notify lists them.
fn listed(caller: &Caller) -> ServiceView<'_> {
    ServiceView {
        service_id: caller.service_id.as_str(),
        key_type: caller.key.key_type.as_str(),
    }
}

/// The caller's service's message `id` (whatever key type sent it), or
/// Notify's 400 for an id that is not a UUID and 404 for one it has not.
fn service_message(db: &Connection, caller: &Caller, id: &str) -> Result<Message, NotifyError> {
    if !is_uuid(id) {
        return Err(NotifyError::validation([
            "notification_id is not a valid UUID",
        ]));
    }
    messages::of_service(db, caller.service_id.as_str(), id)
        .map_err(|e| internal(&store_problem(e)))?
        .ok_or_else(NotifyError::not_found)
}

/// `GET /v2/notifications/{id}`.
fn get_notification(
    req: &Request,
    db: &Connection,
    caller: &Caller,
    id: &str,
) -> Result<Response, NotifyError> {
    let message = service_message(db, caller, id)?;
    audit(
        caller,
        "notification.read",
        &format!("notification/{id}"),
        message.contact_id.as_deref(),
    )?;
    Ok(ok(200, &notification_view(&base_url(req), &message)))
}

/// One page of results.
const PAGE: usize = 250;

/// `GET /v2/notifications`: the caller's key type's messages, newest first,
/// 250 a page, `links.next` on every page that is not empty.
fn list_notifications(
    req: &Request,
    db: &Connection,
    caller: &Caller,
) -> Result<Response, NotifyError> {
    let mut listing = Listing {
        limit: PAGE,
        ..Listing::default()
    };
    let mut errors = Vec::new();
    if let Some(kind) = query_param(req, "template_type") {
        match TemplateType::parse(&kind).filter(|t| *t != TemplateType::Portal) {
            Some(kind) => listing.channel = Some(kind),
            None => errors.push(format!(
                "template_type {kind} is not one of [sms, email, letter]"
            )),
        }
    }
    let statuses: Vec<String> = req
        .query()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("status="))
        .flat_map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    for status in &statuses {
        // Notify's `failed` means every failure.
        if status == "failed" {
            listing.statuses.extend([
                NotificationStatus::TechnicalFailure,
                NotificationStatus::TemporaryFailure,
                NotificationStatus::PermanentFailure,
            ]);
        } else if let Some(s) = NotificationStatus::parse(status) {
            listing.statuses.push(s);
        } else {
            errors.push(format!(
                "status {status} is not one of [{}]",
                all_statuses()
            ));
        }
    }
    listing.reference = query_param(req, "reference");
    if let Some(older_than) = query_param(req, "older_than") {
        if !is_uuid(&older_than) {
            errors.push("older_than is not a valid UUID".into());
        }
        listing.older_than = Some(older_than);
    }
    if !errors.is_empty() {
        return Err(NotifyError::validation(errors));
    }
    let messages =
        messages::list(db, listed(caller), &listing).map_err(|e| internal(&store_problem(e)))?;
    audit(
        caller,
        "notification.read",
        &format!("notify-service/{}/notifications", caller.service_id),
        None,
    )?;
    let base = base_url(req);
    let current = format!(
        "{base}/v2/notifications{}",
        if req.query().is_empty() {
            String::new()
        } else {
            format!("?{}", req.query())
        }
    );
    let mut links = json!({ "current": current });
    // Whenever the page is not empty, as Notify: clients page until an
    // empty one.
    if let Some(last) = messages.last().map(|m| &m.id) {
        let kept: Vec<&str> = req
            .query()
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("older_than="))
            .collect();
        let mut query = kept.join("&");
        if !query.is_empty() {
            query.push('&');
        }
        links["next"] = json!(format!("{base}/v2/notifications?{query}older_than={last}"));
    }
    let views: Vec<Json> = messages
        .iter()
        .map(|m| notification_view(&base, m))
        .collect();
    Ok(ok(200, &json!({ "notifications": views, "links": links })))
}

fn all_statuses() -> String {
    NotificationStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One of the caller's service's templates: another service's is as
/// unknown as one that does not exist.
fn notify_template(
    db: &Connection,
    caller: &Caller,
    id: &str,
    version: Option<u32>,
) -> Result<StoredTemplate, NotifyError> {
    if !is_uuid(id) {
        return Err(NotifyError::validation(["template_id is not a valid UUID"]));
    }
    notification_store::templates::load(db, own(caller), id, version)
        .map_err(|e| internal(&store_problem(e)))?
        .filter(|t| t.kind != TemplateType::Portal)
        .ok_or_else(NotifyError::not_found)
}

/// The templates a caller sees: its service's.
fn own(caller: &Caller) -> Scope<'_> {
    Scope::Service(caller.service_id.as_str())
}

/// Notify's template view, whose `created_by` is an email address: the
/// author's (their token's `email` claim), else, for a template written
/// with an API key or a token without one, the address the CRM's emails
/// come from.
fn template_view(template: &StoredTemplate) -> Json {
    let mut view = templates::view(template);
    view["created_by"] = json!(
        template
            .created_by_email
            .clone()
            .unwrap_or_else(|| config::sender_identity().0)
    );
    view
}

/// `GET /v2/template/{id}` and `GET /v2/template/{id}/version/{version}`.
fn get_template(
    db: &Connection,
    caller: &Caller,
    id: &str,
    version: Option<&str>,
) -> Result<Response, NotifyError> {
    let version = match version {
        None => None,
        Some(raw) => Some(
            raw.parse::<u32>()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| NotifyError::validation(["version is not a valid integer"]))?,
        ),
    };
    let template = notify_template(db, caller, id, version)?;
    audit(caller, "template.read", &format!("template/{id}"), None)?;
    Ok(ok(200, &template_view(&template)))
}

/// `GET /v2/templates?type=`.
fn list_templates(
    req: &Request,
    db: &Connection,
    caller: &Caller,
) -> Result<Response, NotifyError> {
    let kind = match query_param(req, "type") {
        None => None,
        Some(raw) => Some(
            TemplateType::parse(&raw)
                .filter(|t| *t != TemplateType::Portal)
                .ok_or_else(|| {
                    NotifyError::validation([format!(
                        "type {raw} is not one of [sms, email, letter]"
                    )])
                })?,
        ),
    };
    let found = notification_store::templates::list(db, own(caller), kind)
        .map_err(|e| internal(&store_problem(e)))?;
    audit(caller, "template.read", "templates", None)?;
    let views: Vec<Json> = found
        .iter()
        .filter(|t| t.kind != TemplateType::Portal)
        .map(template_view)
        .collect();
    Ok(ok(200, &json!({ "templates": views })))
}

/// `POST /v2/template/{id}/preview`.
fn preview_template(
    req: &Request,
    db: &Connection,
    caller: &Caller,
    id: &str,
) -> Result<Response, NotifyError> {
    let body = body_object(req)?;
    let personalisation =
        Personalisation::from_json(body.get("personalisation").unwrap_or(&Json::Null))
            .map_err(|e| NotifyError::validation([e.to_string()]))?;
    let template = notify_template(db, caller, id, None)?;
    audit(caller, "template.read", &format!("template/{id}"), None)?;
    let parsed = templates::parsed(&template).map_err(|p| internal(&p))?;
    let view = templates::preview_view(&template, &parsed, &personalisation)
        .map_err(|e| NotifyError::from(&e))?;
    Ok(ok(200, &view))
}
