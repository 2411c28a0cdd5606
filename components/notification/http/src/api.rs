//! The CRM's own notification routes: send, read one, and a citizen's
//! portal inbox.

use crm_component_support::audit::Outcome;
use crm_component_support::{
    Action, Ctx, FieldError, Target, created, json, json_body, now_ms, query_param,
};
use crm_domain::rfc3339_utc;
use crm_http::{IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, Problem};
use crm_templates::TemplateType;
use notification_rules::KeyType;
use notification_store::{Message, messages};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};

use crate::actor::Actor;
use crate::send::{self, Recipient, SendError, SendRequest, Sender};
use crate::templates::render_problem;
use crate::{delivery, store_problem};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    template_id: Option<String>,
    #[serde(default)]
    template_ids: Vec<String>,
    contact_id: Option<String>,
    email_address: Option<String>,
    phone_number: Option<String>,
    #[serde(default)]
    personalisation: Json,
    reference: Option<String>,
    scheduled_for: Option<String>,
}

/// The CRM's view of a message.
pub fn view(message: &Message) -> Json {
    let recipient = if message.channel == TemplateType::Letter {
        json!(message.address_lines())
    } else {
        json!(message.recipient)
    };
    json!({
        "id": message.id,
        "status": message.status.as_str(),
        "channel": message.channel.as_str(),
        "template": {"id": message.template_id, "version": message.template_version},
        "purpose": message.purpose,
        "contact_id": message.contact_id,
        "recipient": recipient,
        "subject": message.subject,
        "body": message.body,
        "reference": message.reference,
        "consent_id": message.consent_id,
        "created_by": message.sender_role,
        "created_at": rfc3339_utc(message.created_at),
        "scheduled_for": message.scheduled_for.map(rfc3339_utc),
        "sent_at": message.sent_at.map(rfc3339_utc),
        "completed_at": message.completed_at.map(rfc3339_utc),
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.filter(|_| !message.status.is_final()).map(rfc3339_utc),
        "provider": message.provider,
        "failure_reason": message.failure_reason,
        "interaction_id": message.interaction_id,
    })
}

fn to_problem(error: SendError) -> Problem {
    let detail = error.to_string();
    match error {
        SendError::TemplateNotFound => {
            Problem::validation(vec![FieldError::new("template_id", "no such template")])
        }
        SendError::WrongType { .. } => {
            Problem::validation(vec![FieldError::new("template_id", detail)])
        }
        SendError::ContactNotFound(_) => {
            Problem::validation(vec![FieldError::new("contact_id", "no such contact")])
        }
        SendError::NoAddress(_) => Problem::refused("no-address", detail),
        // The contact's record, not the request, holds the address.
        SendError::ContactAddress { .. } => {
            Problem::validation(vec![FieldError::new("contact_id", detail)])
        }
        SendError::Invalid { field, reason } => {
            Problem::validation(vec![FieldError::new(&field, reason)])
        }
        SendError::Render(render) => render_problem(render),
        SendError::InvalidPhone(_) => {
            Problem::validation(vec![FieldError::new("phone_number", detail)])
        }
        SendError::TeamRecipient | SendError::TeamLetter => Problem::refused("team-key", detail),
        SendError::ConsentRefused { .. } => Problem::refused("consent-refused", detail),
        SendError::RateLimited {
            retry_after_secs, ..
        } => Problem::too_many_requests("rate-limited", detail, retry_after_secs),
        SendError::DailyLimit {
            retry_after_secs, ..
        } => Problem::too_many_requests("daily-limit", detail, retry_after_secs),
        SendError::IdempotencyConflict => Problem::conflict("idempotency-key-reused", detail),
        // Only Notify services have senders to name.
        SendError::UnknownSender { field, .. } => {
            Problem::validation(vec![FieldError::new(field, detail)])
        }
        SendError::Internal(problem) => problem,
    }
}

/// `POST /api/notifications`: to a contact (the address from their record,
/// the template for their preferred channel among `template_ids`) or to a
/// raw address; `Idempotency-Key` makes a retry return the first message.
pub fn send_route(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: SendBody = json_body(req)?;
    let target = body
        .contact_id
        .as_deref()
        .map_or(Target::General, Target::Contact);
    // The allowed entry names the message this request makes.
    let id = uuid::Uuid::new_v4().to_string();
    ctx.require(
        Action::NotificationSend,
        target,
        &format!("notification/{id}"),
    )?;
    let mut template_ids = body.template_ids;
    if let Some(id) = body.template_id {
        template_ids.insert(0, id);
    }
    let recipients = [
        body.contact_id.map(Recipient::Contact),
        body.email_address.map(Recipient::Email),
        body.phone_number.map(Recipient::Phone),
    ];
    let mut recipients: Vec<Recipient> = recipients.into_iter().flatten().collect();
    let mut errors = Vec::new();
    if template_ids.is_empty() {
        errors.push(FieldError::new("template_id", "is required"));
    }
    if template_ids.len() > 4 {
        errors.push(FieldError::new(
            "template_ids",
            "at most one template per channel",
        ));
    }
    if recipients.len() > 1 {
        errors.push(FieldError::new(
            "contact_id",
            "name one recipient: contact_id, email_address or phone_number",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let recipient = recipients.pop().unwrap_or(Recipient::Address);
    let actor = Actor::of(ctx);
    let sender = Sender {
        actor: actor.clone(),
        sender: "crm".into(),
        service_id: None,
        api_key_id: None,
        key_type: KeyType::Live,
        created_by_name: Some(actor.id.clone()),
        guest_list: Vec::new(),
    };
    let idempotency_key = req
        .header(IDEMPOTENCY_KEY_HEADER)
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let request = SendRequest {
        id,
        template_ids,
        recipient,
        personalisation: body.personalisation,
        reference: body.reference,
        scheduled_for: body.scheduled_for,
        // Keys are the caller's own: another caller's key is another key.
        idempotency_key: idempotency_key.map(|k| format!("{}:{k}", actor.id)),
        request_hash: format!("{:x}", Sha256::digest(req.body())),
        channel: None,
        one_click_unsubscribe_url: None,
        reply_to_id: None,
        documents: Vec::new(),
    };
    let db = ctx.db()?;
    let sent = send::send(db, &sender, request, now_ms()).map_err(|error| {
        // A consent refusal was recorded as a denial where it was made.
        if matches!(error, SendError::ConsentRefused { .. }) {
            ctx.outcome_recorded();
        }
        to_problem(error)
    })?;
    let mut message = sent.message;
    if sent.replayed {
        actor.record(
            "notification.send",
            &format!("notification/{}", message.id),
            message.contact_id.as_deref(),
            Outcome::Allowed,
            Some("idempotent-replay"),
        )?;
    } else if message.scheduled_for.is_none() {
        message = delivery::deliver(db, &actor, vec![message.clone()])?
            .pop()
            .unwrap_or(message);
    }
    let mut response = created(
        &format!("/api/notifications/{}", message.id),
        &view(&message),
    );
    if sent.replayed {
        response.set_header(IDEMPOTENT_REPLAYED_HEADER, "true");
    }
    Ok(response)
}

/// The most messages one page of a contact's list holds.
const LIST_MAX: usize = 200;

/// `GET /api/notifications?contact_id=`: the messages sent to a contact,
/// newest first, `limit` a page (50 unless asked), the next page after
/// `older_than` (a message id: the last one shown).
pub fn list_route(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let contact = query_param(req, "contact_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Problem::validation(vec![FieldError::new("contact_id", "is required")]))?;
    ctx.require(
        Action::NotificationRead,
        Target::Contact(&contact),
        &format!("contact/{contact}/notifications"),
    )?;
    let limit = match query_param(req, "limit") {
        None => 50,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=LIST_MAX).contains(n))
            .ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {LIST_MAX}"),
                )])
            })?,
    };
    let older_than = query_param(req, "older_than").filter(|id| !id.is_empty());
    let mut found = messages::of_contact(ctx.db()?, &contact, older_than.as_deref(), limit + 1)
        .map_err(store_problem)?;
    let more = found.len() > limit;
    found.truncate(limit);
    let next = more.then(|| found.last().map(|m| m.id.clone())).flatten();
    Ok(json(
        200,
        &json!({
            "notifications": found.iter().map(view).collect::<Vec<_>>(),
            "next_older_than": next,
        }),
    ))
}

/// `GET /api/notifications/{id}`, with its status history.
pub fn read(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let found = messages::load(ctx.db()?, id).map_err(store_problem)?;
    let resource = format!("notification/{id}");
    let target = found
        .as_ref()
        .and_then(|m| m.contact_id.as_deref())
        .map_or(Target::General, Target::Contact);
    ctx.require(Action::NotificationRead, target, &resource)?;
    let message = found.ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    let mut body = view(&message);
    let events: Vec<Json> = messages::events(ctx.db()?, id)
        .map_err(store_problem)?
        .into_iter()
        .map(|event| {
            json!({
                "status": event.status,
                "at": rfc3339_utc(event.at),
                "detail": event.detail,
            })
        })
        .collect();
    body["events"] = json!(events);
    Ok(json(200, &body))
}

/// The contact whose inbox a citizen's request is about; anyone else is
/// refused `action` as a caller without an inbox.
fn own_inbox(ctx: &mut Ctx, action: Action) -> Result<String, Problem> {
    let Some(contact) = ctx.own_contact().map(str::to_string) else {
        ctx.require(action, Target::General, "inbox")?;
        return Err(Problem::forbidden(
            "only a citizen linked to a contact has an inbox",
        ));
    };
    Ok(contact)
}

/// `GET /api/notifications/inbox`: a citizen's portal messages, newest
/// first, each with when they read it.
pub fn inbox(ctx: &mut Ctx) -> Result<Response, Problem> {
    let contact = own_inbox(ctx, Action::InboxRead)?;
    ctx.require(
        Action::InboxRead,
        Target::Contact(&contact),
        &format!("contact/{contact}/inbox"),
    )?;
    let items: Vec<Json> = messages::inbox(ctx.db()?, &contact)
        .map_err(store_problem)?
        .iter()
        .map(|entry| {
            let m = &entry.message;
            json!({
                "id": m.id,
                "subject": m.subject,
                "body": m.body,
                "html": m.html,
                "reference": m.reference,
                "sent_at": m.sent_at.map(rfc3339_utc),
                "read_at": entry.read_at.map(rfc3339_utc),
            })
        })
        .collect();
    Ok(json(200, &json!({ "messages": items })))
}

/// `POST /api/notifications/inbox/{id}/read` (`read`) and `/unread`: a
/// citizen marks one of their portal messages read (the first reading's
/// time is kept) or unread again. Answers only the mark, which discloses
/// nothing the caller did not send.
pub fn mark_inbox(ctx: &mut Ctx, id: &str, read: bool) -> Result<Response, Problem> {
    let contact = own_inbox(ctx, Action::InboxUpdate)?;
    ctx.require(
        Action::InboxUpdate,
        Target::Contact(&contact),
        &format!("notification/{id}"),
    )?;
    let db = ctx.db()?;
    let read_at = read.then(now_ms);
    let marked = crate::in_transaction(db, || {
        messages::mark_inbox(db, &contact, id, read_at).map_err(store_problem)
    })?
    .ok_or_else(|| Problem::not_found(format!("no notification/{id} in your inbox")))?;
    Ok(json(
        200,
        &json!({"id": marked.message.id, "read_at": marked.read_at.map(rfc3339_utc)}),
    ))
}
