//! `interaction-log`: appends touchpoints through the interactions leaf and
//! reads them back (`/api/interactions/...`).

use crm_component_support::{
    Action, Ctx, FieldError, Target, created, integer, json, json_body, now_ms, query, serve, text,
};
use crm_domain::ShortText;
use crm_http::Problem;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/interaction-log",
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
    direction: String,
    occurred_at: Option<i64>,
    subject: String,
    notes: Option<String>,
}

#[derive(Serialize)]
struct Interaction {
    id: String,
    contact_id: String,
    channel: String,
    direction: String,
    occurred_at: i64,
    recorded_at: i64,
    subject: String,
    notes: Option<String>,
    notification_id: Option<String>,
}

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::INTERACTION_LOG,
        &req,
        &AuditTrail,
        |ctx, operation, params| match operation {
            "appendInteraction" => append(ctx, &req),
            "getInteraction" => read(ctx, &params[0].1),
            _ => Err(Problem::not_found(operation)),
        },
    )
}

fn append(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: Body = json_body(req)?;
    ctx.require(
        Action::InteractionAppend,
        Target::Contact(&body.contact_id),
        &format!("contact/{}/interactions", body.contact_id),
    )?;
    let mut errors = Vec::new();
    if body.contact_id.trim().is_empty() {
        errors.push(FieldError::new("contact_id", "must not be empty"));
    }
    let channel = parse_channel(&body.channel);
    if channel.is_none() {
        errors.push(FieldError::new(
            "channel",
            format!(
                "must be one of {}",
                crm_component_support::CHANNEL_NAMES.join(", ")
            ),
        ));
    }
    let direction = match body.direction.as_str() {
        "inbound" => Some(Direction::Inbound),
        "outbound" => Some(Direction::Outbound),
        _ => {
            errors.push(FieldError::new("direction", "must be inbound or outbound"));
            None
        }
    };
    let now = now_ms();
    if body.occurred_at.is_some_and(|t| t > now) {
        errors.push(FieldError::new("occurred_at", "must not be in the future"));
    }
    let subject = ShortText::parse(&body.subject, 300)
        .map_err(|e| errors.push(FieldError::new("subject", e.0)));
    let (Some(channel), Some(direction), Ok(subject)) = (channel, direction, subject) else {
        return Err(Problem::validation(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let id = crm::interactions::log::append(&NewInteraction {
        context: crm_component_support::request_context!(ctx),
        contact_id: body.contact_id.clone(),
        channel,
        direction,
        occurred_at: body.occurred_at.unwrap_or(now),
        subject: subject.into_string(),
        notes: body.notes,
        notification_id: None,
        case_reference: None,
        category: None,
        tags: Vec::new(),
        outcome: None,
    })
    .map_err(Problem::internal)?;
    let location = format!("/api/interactions/{id}");
    let interaction =
        load(ctx, &id)?.ok_or_else(|| Problem::internal("the appended interaction is missing"))?;
    Ok(created(&location, &interaction))
}

fn read(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    // Whose record it is decides who may see it; a missing one is answered
    // after the same check, so the answer reveals nothing more.
    let interaction = load(ctx, id)?;
    let target = interaction
        .as_ref()
        .map_or(Target::General, |i| Target::Contact(&i.contact_id));
    let resource = format!("interaction/{id}");
    ctx.require(Action::InteractionRead, target, &resource)?;
    match interaction {
        Some(interaction) => Ok(json(200, &interaction)),
        None => Err(Problem::not_found(format!("no {resource}"))),
    }
}

fn load(ctx: &Ctx, id: &str) -> Result<Option<Interaction>, Problem> {
    let found = query(
        ctx.db()?,
        "SELECT id, contact_id, channel, direction, occurred_at, recorded_at, subject, notes, notification_id FROM interactions WHERE id = ?",
        &[Value::Text(id.to_string())],
    )?;
    Ok(found.rows.first().map(|row| {
        let v = &row.values;
        Interaction {
            id: text(&v[0]).unwrap_or_default(),
            contact_id: text(&v[1]).unwrap_or_default(),
            channel: text(&v[2]).unwrap_or_default(),
            direction: text(&v[3]).unwrap_or_default(),
            occurred_at: integer(&v[4]).unwrap_or_default(),
            recorded_at: integer(&v[5]).unwrap_or_default(),
            subject: text(&v[6]).unwrap_or_default(),
            notes: text(&v[7]),
            notification_id: text(&v[8]),
        }
    }))
}
