//! Templates: stored versions, the `/api/templates` routes, and the views
//! and previews both APIs answer with.

use crm_component_support::{
    Action, Ctx, FieldError, Target, created, json, json_body, now_ms, query_param,
};
use crm_domain::{Lines, ShortText, Slug, check_text};
use crm_http::Problem;
use crm_templates::{
    Personalisation, RenderError, Rendered, Template, TemplateError, TemplateType,
};
use notification_store::templates::Scope;
use notification_store::{StoredTemplate, services, templates};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::Connection;

use notification_rules::{Postage, notify_time};

use crate::{in_transaction, store_problem};

/// The parsed template (stored versions were valid when written).
pub fn parsed(t: &StoredTemplate) -> Result<Template, Problem> {
    Template::new(t.kind, t.subject.as_deref(), &t.body)
        .map_err(|e| Problem::internal(format!("stored template {}: {e}", t.id)))
}

/// Notify's template view (`GET /v2/template/{id}`), plus the purpose.
pub fn view(t: &StoredTemplate) -> Json {
    // Notify's: each placeholder, and all are required.
    let personalisation: serde_json::Map<String, Json> = parsed(t)
        .map(|template| {
            template
                .placeholders()
                .into_iter()
                .map(|name| (name.to_string(), json!({ "required": true })))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": t.id,
        "name": t.name,
        "type": t.kind.as_str(),
        "created_at": notify_time(t.first_created_at),
        "updated_at": (t.version > 1).then(|| notify_time(t.created_at)),
        "version": t.version,
        "created_by": t.created_by,
        "created_by_email": t.created_by_email,
        "subject": t.subject,
        "body": t.body,
        "letter_contact_block": t.letter_contact_block,
        "personalisation": personalisation,
        "postage": t.postage,
        "purpose": t.purpose,
    })
}

/// Notify's preview: the message as it would be sent.
pub fn preview_view(
    t: &StoredTemplate,
    template: &Template,
    personalisation: &Personalisation,
) -> Result<Json, RenderError> {
    let (body, subject, html) = match template.render(personalisation)? {
        Rendered::Sms(sms) => (sms.body, None, None),
        Rendered::Email(m) | Rendered::Portal(m) => (m.text, Some(m.subject), Some(m.html)),
        Rendered::Letter(letter) => (
            letter.content.text,
            Some(letter.content.subject),
            Some(letter.content.html),
        ),
    };
    Ok(json!({
        "id": t.id,
        "type": t.kind.as_str(),
        "version": t.version,
        "body": body,
        "subject": subject,
        "html": html,
        // As Notify's: a letter's postage, null for the rest.
        "postage": t.postage,
    }))
}

/// A new template, or a new version's changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateBody {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    purpose: Option<String>,
    letter_contact_block: Option<String>,
    postage: Option<String>,
}

const MAX_NAME_CHARS: usize = 200;
const MAX_SUBJECT_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 100_000;
const MAX_CONTACT_BLOCK_CHARS: usize = 1_000;

/// Checks a whole template (a new one, or a previous version with the
/// changes applied) and turns its syntax errors into field errors.
fn validate(t: &StoredTemplate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(e) = ShortText::parse(&t.name, MAX_NAME_CHARS) {
        errors.push(FieldError::new("name", e.0));
    }
    match Slug::parse(&t.purpose) {
        Ok(slug) if slug.as_str() == t.purpose => {}
        Ok(_) => errors.push(FieldError::new("purpose", "must be lower case")),
        Err(e) => errors.push(FieldError::new("purpose", e.0)),
    }
    let texts = [
        (
            "subject",
            t.subject.as_deref(),
            MAX_SUBJECT_CHARS,
            Lines::One,
        ),
        ("body", Some(t.body.as_str()), MAX_BODY_CHARS, Lines::Many),
        (
            "letter_contact_block",
            t.letter_contact_block.as_deref(),
            MAX_CONTACT_BLOCK_CHARS,
            Lines::Many,
        ),
    ];
    for (field, text, max, lines) in texts {
        if let Some(Err(e)) = text.map(|text| check_text(text, max, lines)) {
            errors.push(FieldError::new(field, e.0));
        }
    }
    if t.body.trim().is_empty() {
        errors.push(FieldError::new("body", "must not be empty"));
    }
    match (&t.postage, t.kind) {
        (Some(postage), TemplateType::Letter) if Postage::parse(postage).is_none() => errors.push(
            FieldError::new("postage", "must be one of first, second, economy"),
        ),
        (Some(_), kind) if kind != TemplateType::Letter => {
            errors.push(FieldError::new("postage", "only letters have one"))
        }
        _ => {}
    }
    if t.letter_contact_block.is_some() && t.kind != TemplateType::Letter {
        errors.push(FieldError::new(
            "letter_contact_block",
            "only letters have one",
        ));
    }
    match Template::new(t.kind, t.subject.as_deref(), &t.body) {
        Ok(_) => {}
        Err(TemplateError::SubjectRequired(kind)) => errors.push(FieldError::new(
            "subject",
            format!("{kind} templates need a subject"),
        )),
        Err(TemplateError::SubjectNotAllowed) => {
            errors.push(FieldError::new("subject", "sms templates have no subject"))
        }
        Err(TemplateError::Syntax(found)) => errors.extend(
            found
                .iter()
                .map(|e| FieldError::new(&e.field.to_string(), e.error.to_string())),
        ),
    }
    errors
}

/// Adds an error unless the template's purpose is in the consent purpose
/// catalogue (`consent_purposes`, in the same database; purposes are
/// revised, never removed): every send for a purpose consent does not know
/// would be refused. Skipped when the purpose is already in error.
fn check_purpose(
    db: &Connection,
    t: &StoredTemplate,
    errors: &mut Vec<FieldError>,
) -> Result<(), Problem> {
    if errors.iter().any(|e| e.field == "purpose") {
        return Ok(());
    }
    if !templates::purpose_known(db, &t.purpose).map_err(store_problem)? {
        errors.push(FieldError::new(
            "purpose",
            format!("`{}` is not in the consent purpose catalogue", t.purpose),
        ));
    }
    Ok(())
}

/// `POST /api/templates`.
pub fn create(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let id = uuid::Uuid::new_v4().to_string();
    ctx.require(
        Action::TemplateManage,
        Target::General,
        &format!("template/{id}"),
    )?;
    let body: TemplateBody = json_body(req)?;
    let mut errors = Vec::new();
    let kind = match body.kind.as_deref().map(TemplateType::parse) {
        Some(Some(kind)) => Some(kind),
        Some(None) => {
            errors.push(FieldError::new(
                "type",
                "must be one of email, sms, letter, portal",
            ));
            None
        }
        None => {
            errors.push(FieldError::new("type", "is required"));
            None
        }
    };
    for (field, value) in [
        ("name", &body.name),
        ("body", &body.body),
        ("purpose", &body.purpose),
    ] {
        if value.is_none() {
            errors.push(FieldError::new(field, "is required"));
        }
    }
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let now = now_ms();
    let template = StoredTemplate {
        id,
        version: 1,
        kind,
        name: body.name.unwrap_or_default().trim().to_string(),
        subject: body.subject,
        body: body.body.unwrap_or_default(),
        purpose: body.purpose.unwrap_or_default(),
        letter_contact_block: body.letter_contact_block,
        created_at: now,
        created_by: ctx.actor_id(),
        created_by_email: ctx.email.as_ref().map(|e| e.as_str().to_string()),
        first_created_at: now,
        // Notify's default for a letter.
        postage: body.postage.or_else(|| {
            (kind == TemplateType::Letter).then(|| Postage::Second.as_str().to_string())
        }),
    };
    let db = ctx.db()?;
    let mut errors = validate(&template);
    check_purpose(db, &template, &mut errors)?;
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    templates::insert(db, &template).map_err(store_problem)?;
    Ok(created(
        &format!("/api/templates/{}", template.id),
        &view(&template),
    ))
}

/// `POST /api/templates/{id}/versions`: a new version with the changes;
/// the type never changes.
pub fn revise(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    ctx.require(
        Action::TemplateManage,
        Target::General,
        &format!("template/{id}"),
    )?;
    let body: TemplateBody = json_body(req)?;
    if body.kind.is_some() {
        return Err(Problem::validation(vec![FieldError::new(
            "type",
            "a template's type never changes: make a new template",
        )]));
    }
    let db = ctx.db()?;
    let created_by = ctx.actor_id();
    let created_by_email = ctx.email.as_ref().map(|e| e.as_str().to_string());
    let template = in_transaction(db, || {
        let previous = templates::load(db, Scope::All, id, None)
            .map_err(store_problem)?
            .ok_or_else(|| Problem::not_found(format!("no template/{id}")))?;
        let now = now_ms();
        let next = StoredTemplate {
            version: previous.version + 1,
            name: body
                .name
                .map_or(previous.name.clone(), |n| n.trim().to_string()),
            subject: body.subject.or(previous.subject.clone()),
            body: body.body.unwrap_or(previous.body.clone()),
            purpose: body.purpose.unwrap_or(previous.purpose.clone()),
            letter_contact_block: body
                .letter_contact_block
                .or(previous.letter_contact_block.clone()),
            postage: body.postage.or(previous.postage.clone()),
            created_at: now,
            created_by,
            created_by_email,
            ..previous
        };
        let mut errors = validate(&next);
        check_purpose(db, &next, &mut errors)?;
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        templates::insert(db, &next).map_err(store_problem)?;
        Ok(next)
    })?;
    Ok(created(
        &format!("/api/templates/{id}/versions/{}", template.version),
        &view(&template),
    ))
}

fn parse_version(raw: &str) -> Result<u32, Problem> {
    raw.parse::<u32>().ok().filter(|v| *v >= 1).ok_or_else(|| {
        Problem::validation(vec![FieldError::new(
            "version",
            "must be a whole number from 1",
        )])
    })
}

/// `GET /api/templates/{id}` and `GET /api/templates/{id}/versions/{v}`.
pub fn read(ctx: &mut Ctx, id: &str, version: Option<&str>) -> Result<Response, Problem> {
    let resource = format!("template/{id}");
    ctx.require(Action::TemplateRead, Target::General, &resource)?;
    let version = version.map(parse_version).transpose()?;
    let db = ctx.db()?;
    let template = templates::load(db, Scope::All, id, version)
        .map_err(store_problem)?
        .ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    let mut answer = view(&template);
    answer["services"] = json!(templates::services(db, id).map_err(store_problem)?);
    Ok(json(200, &answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesBody {
    services: Vec<String>,
}

/// `PUT /api/templates/{id}/services`: the Notify services whose `/v2`
/// keys may see and send the template (every version of it), replacing
/// those it had.
pub fn set_services(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let resource = format!("template/{id}");
    ctx.require(Action::TemplateManage, Target::General, &resource)?;
    let body: ServicesBody = json_body(req)?;
    let db = ctx.db()?;
    let linked = in_transaction(db, || {
        let template = templates::load(db, Scope::All, id, None)
            .map_err(store_problem)?
            .ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
        let mut errors = Vec::new();
        if template.kind == TemplateType::Portal {
            errors.push(FieldError::new(
                "services",
                "portal templates are the CRM's own: no Notify service sends them",
            ));
        }
        for (i, service) in body.services.iter().enumerate() {
            if !services::exists(db, service).map_err(store_problem)? {
                errors.push(FieldError::new(
                    &format!("services[{i}]"),
                    "is not a Notify service",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        templates::set_services(db, id, &body.services).map_err(store_problem)?;
        templates::services(db, id).map_err(store_problem)
    })?;
    Ok(json(200, &json!({ "id": id, "services": linked })))
}

/// `GET /api/templates?type=`.
pub fn list_route(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(Action::TemplateRead, Target::General, "templates")?;
    let kind = match query_param(req, "type") {
        None => None,
        Some(raw) => Some(TemplateType::parse(&raw).ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "type",
                "must be one of email, sms, letter, portal",
            )])
        })?),
    };
    let found: Vec<Json> = templates::list(ctx.db()?, Scope::All, kind)
        .map_err(store_problem)?
        .iter()
        .map(view)
        .collect();
    Ok(json(200, &json!({ "templates": found })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    #[serde(default)]
    personalisation: Json,
    version: Option<u32>,
}

/// Personalisation from a request, or the 400 saying what is wrong.
pub fn personalisation(json: &Json) -> Result<Personalisation, Problem> {
    Personalisation::from_json(json)
        .map_err(|e| Problem::validation(vec![FieldError::new(&e.field(), e.reason())]))
}

/// `POST /api/templates/{id}/preview`.
pub fn preview(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let resource = format!("template/{id}");
    ctx.require(Action::TemplateRead, Target::General, &resource)?;
    let body: PreviewBody = json_body(req)?;
    let personalisation = personalisation(&body.personalisation)?;
    let template = templates::load(ctx.db()?, Scope::All, id, body.version)
        .map_err(store_problem)?
        .ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    let preview =
        preview_view(&template, &parsed(&template)?, &personalisation).map_err(render_problem)?;
    Ok(json(200, &preview))
}

/// A template that cannot be rendered with the caller's values: 400
/// naming what is missing or wrong.
pub fn render_problem(error: RenderError) -> Problem {
    let field = match &error {
        RenderError::Address(_) => "personalisation.address",
        _ => "personalisation",
    };
    Problem::validation(vec![FieldError::new(field, error.to_string())])
        .with_kind("template-render", "Template cannot be rendered")
}
