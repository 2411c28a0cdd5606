//! `contact-intake`: creates and reads contact records (`/api/contacts/...`).

use crm_component_support::{
    Action, Ctx, FieldError, RecordKind, Target, created, json, json_body, query, serve, text,
};
use crm_domain::{Archetype, Email, ShortText};
use crm_http::Problem;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/contact-intake",
    generate_all,
});

crm_component_support::audit_sink!();

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewContact {
    archetype: String,
    display_name: String,
    email: Option<String>,
}

#[derive(Serialize)]
struct Contact {
    id: String,
    archetype: String,
    display_name: String,
    email: Option<String>,
    created_at: String,
}

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::CONTACT_INTAKE,
        &req,
        &AuditTrail,
        |ctx, operation, params| match operation {
            "createContact" => create(ctx, &req),
            "getContact" => read(ctx, &params[0].1),
            _ => Err(Problem::not_found(operation)),
        },
    )
}

fn create(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    // The id comes first so the audit entry names the record it creates.
    let id = crm_component_support::new_id("con");
    ctx.require_new_contact(Action::ContactCreate, &id, &format!("contact/{id}"))?;
    let body: NewContact = json_body(req)?;
    let mut errors = Vec::new();
    let archetype = Archetype::parse(&body.archetype)
        .map_err(|e| errors.push(FieldError::new("archetype", e.0)));
    let name = ShortText::parse(&body.display_name, 200)
        .map_err(|e| errors.push(FieldError::new("display_name", e.0)));
    let email = body
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|e| errors.push(FieldError::new("email", e.0)));
    let (Ok(archetype), Ok(name), Ok(email)) = (archetype, name, email) else {
        return Err(Problem::validation(errors));
    };
    let contact = Contact {
        id,
        archetype: archetype.as_str().to_string(),
        display_name: name.into_string(),
        email: email.map(|e| e.as_str().to_string()),
        created_at: crm_domain::rfc3339_utc(crm_component_support::now_ms()),
    };
    query(
        ctx.db()?,
        "INSERT INTO contacts (id, archetype, display_name, email, created_at) VALUES (?, ?, ?, ?, ?)",
        &[
            Value::Text(contact.id.clone()),
            Value::Text(contact.archetype.clone()),
            Value::Text(contact.display_name.clone()),
            contact.email.clone().map_or(Value::Null, Value::Text),
            Value::Text(contact.created_at.clone()),
        ],
    )?;
    Ok(created(&format!("/api/contacts/{}", contact.id), &contact))
}

fn read(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let resource = format!("contact/{id}");
    ctx.require(Action::ContactRead, Target::Contact(id), &resource)?;
    let found = query(
        ctx.db()?,
        "SELECT id, archetype, display_name, email, created_at FROM contacts WHERE id = ?",
        &[Value::Text(id.to_string())],
    )?;
    let Some(row) = found.rows.first() else {
        return Err(Problem::not_found(format!("no {resource}")));
    };
    let v = &row.values;
    let mut body = serde_json::to_value(Contact {
        id: text(&v[0]).unwrap_or_default(),
        archetype: text(&v[1]).unwrap_or_default(),
        display_name: text(&v[2]).unwrap_or_default(),
        email: text(&v[3]),
        created_at: text(&v[4]).unwrap_or_default(),
    })
    .map_err(|e| Problem::internal(e.to_string()))?;
    ctx.redact(&mut body, RecordKind::Contact, Target::Contact(id));
    Ok(json(200, &body))
}
