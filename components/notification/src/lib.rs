//! `notification`: sends a message to a contact only when the consent leaf
//! permits it, and records each send as an outbound interaction
//! (`/api/notifications/...`).

use crm_component_support::{
    Action, Ctx, FieldError, Target, created, integer, json, json_body, new_id, now_ms, query,
    serve, text,
};
use crm_domain::ShortText;
use crm_http::Problem;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/notification",
    generate_all,
});

use crm::interactions::log::{Direction, NewInteraction};
use crm::types::types::Channel;

crm_component_support::audit_sink!();
crm_component_support::channel_names!(Channel);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    contact_id: String,
    channel: String,
    purpose: String,
    body: String,
}

#[derive(Serialize)]
struct Notification {
    id: String,
    contact_id: String,
    channel: String,
    purpose: String,
    body: String,
    status: String,
    consent_id: Option<String>,
    created_at: i64,
}

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::NOTIFICATION,
        &req,
        &AuditTrail,
        |ctx, operation, params| match operation {
            "sendNotification" => send(ctx, &req),
            "getNotification" => read(ctx, &params[0].1),
            _ => Err(Problem::not_found(operation)),
        },
    )
}

fn send(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: Body = json_body(req)?;
    let id = new_id("ntf");
    let resource = format!("contact/{}/notification/{id}", body.contact_id);
    ctx.require(
        Action::NotificationSend,
        Target::Contact(&body.contact_id),
        &resource,
    )?;
    let mut errors = Vec::new();
    if body.contact_id.trim().is_empty() {
        errors.push(FieldError::new("contact_id", "must not be empty"));
    }
    if body.purpose.trim().is_empty() {
        errors.push(FieldError::new("purpose", "must not be empty"));
    }
    let channel = parse_channel(&body.channel);
    if !matches!(
        channel,
        Some(Channel::Portal | Channel::Email | Channel::Sms | Channel::Letter)
    ) {
        errors.push(FieldError::new(
            "channel",
            "must be one of portal, email, sms, letter",
        ));
    }
    let text_body =
        ShortText::parse(&body.body, 10_000).map_err(|e| errors.push(FieldError::new("body", e.0)));
    let (Some(channel), Ok(text_body), true) = (channel, text_body, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };

    let now = now_ms();
    let decision = crm::consent::decisions::check(&body.contact_id, &body.purpose, channel, now)
        .map_err(Problem::internal)?;
    if !decision.permitted {
        return Err(Problem::refused(
            "consent-refused",
            format!(
                "no consent to contact {} for `{}` by {}: {}",
                body.contact_id, body.purpose, body.channel, decision.reason
            ),
        ));
    }

    let notification = Notification {
        id,
        contact_id: body.contact_id,
        channel: body.channel,
        purpose: body.purpose,
        body: text_body.into_string(),
        status: "created".to_string(),
        consent_id: decision.consent_id,
        created_at: now,
    };
    query(
        ctx.db()?,
        "INSERT INTO notifications (id, contact_id, channel, purpose, body, status, consent_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(notification.id.clone()),
            Value::Text(notification.contact_id.clone()),
            Value::Text(notification.channel.clone()),
            Value::Text(notification.purpose.clone()),
            Value::Text(notification.body.clone()),
            Value::Text(notification.status.clone()),
            notification
                .consent_id
                .clone()
                .map_or(Value::Null, Value::Text),
            Value::Integer(notification.created_at),
        ],
    )?;
    let interaction_id = crm::interactions::log::append(&NewInteraction {
        context: crm_component_support::request_context!(ctx),
        contact_id: notification.contact_id.clone(),
        channel,
        direction: Direction::Outbound,
        occurred_at: now,
        subject: format!("Notification ({})", notification.purpose),
        notes: None,
        notification_id: Some(notification.id.clone()),
        case_reference: None,
        category: Some("notification".into()),
        tags: Vec::new(),
        outcome: None,
    })
    .map_err(Problem::internal)?;
    Ok(created(
        &format!("/api/notifications/{}", notification.id),
        &serde_json::json!({ "notification": notification, "interaction_id": interaction_id }),
    ))
}

fn read(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let found = query(
        ctx.db()?,
        "SELECT id, contact_id, channel, purpose, body, status, consent_id, created_at FROM notifications WHERE id = ?",
        &[Value::Text(id.to_string())],
    )?;
    let resource = format!("notification/{id}");
    let row = found.rows.first();
    let contact = row.and_then(|r| text(&r.values[1]));
    let target = contact.as_deref().map_or(Target::General, Target::Contact);
    ctx.require(Action::NotificationRead, target, &resource)?;
    let Some(row) = row else {
        return Err(Problem::not_found(format!("no {resource}")));
    };
    let v = &row.values;
    Ok(json(
        200,
        &Notification {
            id: text(&v[0]).unwrap_or_default(),
            contact_id: text(&v[1]).unwrap_or_default(),
            channel: text(&v[2]).unwrap_or_default(),
            purpose: text(&v[3]).unwrap_or_default(),
            body: text(&v[4]).unwrap_or_default(),
            status: text(&v[5]).unwrap_or_default(),
            consent_id: text(&v[6]),
            created_at: integer(&v[7]).unwrap_or_default(),
        },
    ))
}
