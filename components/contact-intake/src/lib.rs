//! `contact-intake`: creates and reads contact records (`/api/contacts/...`).

use crm_component_support::{FieldError, created, json, json_body, open_db, query, serve, text};
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

use crm::audit::trail::Outcome;

crm_component_support::audit_helper!();

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
        |operation, params, request_id| match operation {
            "createContact" => create(&req, request_id),
            "getContact" => read(&params[0].1, request_id),
            _ => Err(Problem::not_found(operation)),
        },
    )
}

fn create(req: &Request, request_id: &str) -> Result<Response, Problem> {
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
        id: crm_component_support::new_id("con"),
        archetype: archetype.as_str().to_string(),
        display_name: name.into_string(),
        email: email.map(|e| e.as_str().to_string()),
        created_at: crm_domain::rfc3339_utc(crm_component_support::now_ms()),
    };
    let db = open_db()?;
    query(
        &db,
        "INSERT INTO contacts (id, archetype, display_name, email, created_at) VALUES (?, ?, ?, ?, ?)",
        &[
            Value::Text(contact.id.clone()),
            Value::Text(contact.archetype.clone()),
            Value::Text(contact.display_name.clone()),
            contact.email.clone().map_or(Value::Null, Value::Text),
            Value::Text(contact.created_at.clone()),
        ],
    )?;
    audit(
        request_id,
        "contact.create",
        &format!("contact/{}", contact.id),
        Outcome::Allowed,
    );
    Ok(created(&format!("/api/contacts/{}", contact.id), &contact))
}

fn read(id: &str, request_id: &str) -> Result<Response, Problem> {
    let db = open_db()?;
    let found = query(
        &db,
        "SELECT id, archetype, display_name, email, created_at FROM contacts WHERE id = ?",
        &[Value::Text(id.to_string())],
    )?;
    let resource = format!("contact/{id}");
    let Some(row) = found.rows.first() else {
        audit(request_id, "contact.read", &resource, Outcome::Failed);
        return Err(Problem::not_found(format!("no contact {id}")));
    };
    audit(request_id, "contact.read", &resource, Outcome::Allowed);
    let v = &row.values;
    Ok(json(
        200,
        &Contact {
            id: text(&v[0]).unwrap_or_default(),
            archetype: text(&v[1]).unwrap_or_default(),
            display_name: text(&v[2]).unwrap_or_default(),
            email: text(&v[3]),
            created_at: text(&v[4]).unwrap_or_default(),
        },
    ))
}
