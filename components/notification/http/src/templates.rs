//! Templates: stored versions, the `/api/templates` routes, and the views
//! and previews both APIs answer with.

use crm_component_support::{
    Action, Ctx, FieldError, Target, created, integer, json, json_body, now_ms, query, query_param,
    text, transaction,
};
use crm_domain::{ShortText, Slug, rfc3339_utc};
use crm_http::Problem;
use crm_templates::{
    Personalisation, RenderError, Rendered, Template, TemplateError, TemplateType,
};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::{Connection, RowResult as Row, Value};

/// One version of a template.
#[derive(Debug, Clone)]
pub struct StoredTemplate {
    pub id: String,
    pub version: u32,
    pub kind: TemplateType,
    pub name: String,
    pub subject: Option<String>,
    pub body: String,
    pub purpose: String,
    pub letter_contact_block: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    /// When the first version was made (the template's `created_at`).
    pub first_created_at: i64,
}

const COLUMNS: &str = "t.id, t.version, t.type, t.name, t.subject, t.body, t.purpose, t.letter_contact_block, t.created_at, t.created_by, (SELECT MIN(created_at) FROM notification_templates f WHERE f.id = t.id)";

impl StoredTemplate {
    fn from_row(row: &Row) -> Result<Self, Problem> {
        let v = &row.values;
        Ok(Self {
            id: text(&v[0]).unwrap_or_default(),
            version: integer(&v[1]).unwrap_or(1) as u32,
            kind: text(&v[2])
                .as_deref()
                .and_then(TemplateType::parse)
                .ok_or_else(|| Problem::internal("stored template has a bad type"))?,
            name: text(&v[3]).unwrap_or_default(),
            subject: text(&v[4]),
            body: text(&v[5]).unwrap_or_default(),
            purpose: text(&v[6]).unwrap_or_default(),
            letter_contact_block: text(&v[7]),
            created_at: integer(&v[8]).unwrap_or_default(),
            created_by: text(&v[9]).unwrap_or_default(),
            first_created_at: integer(&v[10]).unwrap_or_default(),
        })
    }

    /// The parsed template (stored versions were valid when written).
    pub fn parsed(&self) -> Result<Template, Problem> {
        Template::new(self.kind, self.subject.as_deref(), &self.body)
            .map_err(|e| Problem::internal(format!("stored template {}: {e}", self.id)))
    }

    /// Notify's template view (`GET /v2/template/{id}`), plus the purpose.
    pub fn view(&self) -> Json {
        json!({
            "id": self.id,
            "name": self.name,
            "type": self.kind.as_str(),
            "created_at": rfc3339_utc(self.first_created_at),
            "updated_at": (self.version > 1).then(|| rfc3339_utc(self.created_at)),
            "version": self.version,
            "created_by": self.created_by,
            "subject": self.subject,
            "body": self.body,
            "letter_contact_block": self.letter_contact_block,
            "purpose": self.purpose,
        })
    }

    /// Notify's preview: the message as it would be sent.
    pub fn preview(
        &self,
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
            "id": self.id,
            "type": self.kind.as_str(),
            "version": self.version,
            "body": body,
            "subject": subject,
            "html": html,
        }))
    }
}

/// A template's newest version, or the one asked for.
pub fn load(
    db: &Connection,
    id: &str,
    version: Option<u32>,
) -> Result<Option<StoredTemplate>, Problem> {
    let rows = match version {
        Some(v) => query(
            db,
            &format!(
                "SELECT {COLUMNS} FROM notification_templates t WHERE t.id = ? AND t.version = ?"
            ),
            &[Value::Text(id.into()), Value::Integer(v.into())],
        )?,
        None => query(
            db,
            &format!(
                "SELECT {COLUMNS} FROM notification_templates t WHERE t.id = ? ORDER BY t.version DESC LIMIT 1"
            ),
            &[Value::Text(id.into())],
        )?,
    };
    rows.rows.first().map(StoredTemplate::from_row).transpose()
}

/// The newest version of every template (of one type), by name.
pub fn list(db: &Connection, kind: Option<TemplateType>) -> Result<Vec<StoredTemplate>, Problem> {
    let rows = query(
        db,
        &format!(
            "SELECT {COLUMNS} FROM notification_templates t
             WHERE t.version = (SELECT MAX(version) FROM notification_templates n WHERE n.id = t.id)
               AND (? IS NULL OR t.type = ?)
             ORDER BY t.name, t.id"
        ),
        &[
            kind.map_or(Value::Null, |k| Value::Text(k.as_str().into())),
            kind.map_or(Value::Null, |k| Value::Text(k.as_str().into())),
        ],
    )?;
    rows.rows.iter().map(StoredTemplate::from_row).collect()
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
}

const MAX_NAME_CHARS: usize = 200;
const MAX_BODY_BYTES: usize = 100_000;

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
    if t.body.len() > MAX_BODY_BYTES {
        errors.push(FieldError::new(
            "body",
            format!("must be at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    if t.body.trim().is_empty() {
        errors.push(FieldError::new("body", "must not be empty"));
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
    let found = query(
        db,
        "SELECT 1 FROM consent_purposes WHERE id = ? LIMIT 1",
        &[Value::Text(t.purpose.clone())],
    )?;
    if found.rows.is_empty() {
        errors.push(FieldError::new(
            "purpose",
            format!("`{}` is not in the consent purpose catalogue", t.purpose),
        ));
    }
    Ok(())
}

fn insert(db: &Connection, t: &StoredTemplate) -> Result<(), Problem> {
    query(
        db,
        "INSERT INTO notification_templates (id, version, type, name, subject, body, purpose, letter_contact_block, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(t.id.clone()),
            Value::Integer(t.version.into()),
            Value::Text(t.kind.as_str().into()),
            Value::Text(t.name.clone()),
            t.subject.clone().map_or(Value::Null, Value::Text),
            Value::Text(t.body.clone()),
            Value::Text(t.purpose.clone()),
            t.letter_contact_block.clone().map_or(Value::Null, Value::Text),
            Value::Integer(t.created_at),
            Value::Text(t.created_by.clone()),
        ],
    )
    .map(drop)
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
        first_created_at: now,
    };
    let db = ctx.db()?;
    let mut errors = validate(&template);
    check_purpose(db, &template, &mut errors)?;
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    insert(db, &template)?;
    Ok(created(
        &format!("/api/templates/{}", template.id),
        &template.view(),
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
    let template = transaction(db, |db| {
        let previous =
            load(db, id, None)?.ok_or_else(|| Problem::not_found(format!("no template/{id}")))?;
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
            created_at: now,
            created_by,
            ..previous
        };
        let mut errors = validate(&next);
        check_purpose(db, &next, &mut errors)?;
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        insert(db, &next)?;
        Ok(next)
    })?;
    Ok(created(
        &format!("/api/templates/{id}/versions/{}", template.version),
        &template.view(),
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
    let template = load(ctx.db()?, id, version)?
        .ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    Ok(json(200, &template.view()))
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
    let templates: Vec<Json> = list(ctx.db()?, kind)?
        .iter()
        .map(StoredTemplate::view)
        .collect();
    Ok(json(200, &json!({ "templates": templates })))
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
        .map_err(|e| Problem::validation(vec![FieldError::new("personalisation", e.to_string())]))
}

/// `POST /api/templates/{id}/preview`.
pub fn preview(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let resource = format!("template/{id}");
    ctx.require(Action::TemplateRead, Target::General, &resource)?;
    let body: PreviewBody = json_body(req)?;
    let personalisation = personalisation(&body.personalisation)?;
    let template = load(ctx.db()?, id, body.version)?
        .ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    let view = template
        .preview(&template.parsed()?, &personalisation)
        .map_err(render_problem)?;
    Ok(json(200, &view))
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
