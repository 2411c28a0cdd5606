//! Stored contacts: reading them, resolving merged ids, and the record as
//! the API returns it (filtered to the fields the caller may see).

use contacts_rules::collection::{ProvenanceMap, from_stored};
use contacts_rules::{Contact, ContactFields};
use crm_component_support::{Action, Ctx, RecordKind, Target, integer, query, text};
use crm_domain::CalendarDate;
use crm_http::{FieldError, Problem};
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::{Connection, Value as SqlValue};

/// A contact as stored (any state).
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub fields: ContactFields,
    pub provenance: ProvenanceMap,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub merged_into: Option<String>,
    pub search_rowid: i64,
}

impl Stored {
    /// A row of `store::CONTACT_COLUMNS`.
    pub fn from_row(v: &[SqlValue]) -> Result<Self, Problem> {
        let id = text(&v[0]).unwrap_or_default();
        let unreadable = |what: &str, e: serde_json::Error| {
            Problem::internal(format!("contact {id}: unreadable {what}: {e}"))
        };
        let fields = serde_json::from_str(&text(&v[1]).unwrap_or_default())
            .map_err(|e| unreadable("record", e))?;
        let provenance = from_stored(&text(&v[2]).unwrap_or_else(|| "{}".into()))
            .map_err(|e| Problem::internal(format!("contact {id}: unreadable provenance: {e}")))?;
        Ok(Self {
            id: id.clone(),
            fields,
            provenance,
            version: integer(&v[3]).unwrap_or(1),
            created_at: text(&v[4]).unwrap_or_default(),
            updated_at: text(&v[5]).unwrap_or_default(),
            merged_into: text(&v[6]),
            search_rowid: integer(&v[7]).unwrap_or_default(),
        })
    }

    pub fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }

    /// The stored fields as domain values.
    pub fn contact(&self, today: CalendarDate) -> Result<Contact, Problem> {
        contacts_rules::validate(&self.fields, today).map_err(|e| {
            Problem::internal(format!(
                "contact {} no longer passes validation ({e}); correct it field by field",
                self.id
            ))
        })
    }
}

pub fn today() -> CalendarDate {
    CalendarDate::from_unix_ms(crm_component_support::now_ms())
}

pub fn now_text() -> String {
    crm_domain::rfc3339_utc(crm_component_support::now_ms())
}

pub fn load(db: &Connection, id: &str) -> Result<Option<Stored>, Problem> {
    let found = query(
        db,
        contacts_rules::store::SELECT_CONTACT,
        &[SqlValue::Text(id.to_string())],
    )?;
    found
        .rows
        .first()
        .map(|row| Stored::from_row(&row.values))
        .transpose()
}

/// Merges can chain; a longer chain than this is a fault.
const MAX_MERGE_HOPS: usize = 16;

/// The contact `id` resolves to: itself, or the survivor of its merges.
pub fn resolve(db: &Connection, id: &str) -> Result<Option<Stored>, Problem> {
    let mut next = id.to_string();
    for _ in 0..MAX_MERGE_HOPS {
        let Some(stored) = load(db, &next)? else {
            return Ok(None);
        };
        match &stored.merged_into {
            Some(survivor) => next = survivor.clone(),
            None => return Ok(Some(stored)),
        }
    }
    Err(Problem::internal(format!(
        "contact {id}: merges chain too far"
    )))
}

/// The current (not merged) contact `id`, or the problem to answer: 404, or
/// 409 with a pointer to the survivor.
pub fn load_current(db: &Connection, id: &str) -> Result<Stored, Problem> {
    let stored = load(db, id)?.ok_or_else(|| Problem::not_found(format!("no contact/{id}")))?;
    if stored.merged_into.is_some() {
        let survivor = resolve(db, id)?.map_or_else(String::new, |s| s.id);
        return Err(Problem::conflict(
            "contact-merged",
            format!("contact/{id} was merged into contact/{survivor}; act on the survivor"),
        )
        .with_extension("merged_into", json!(survivor))
        .with_extension("location", json!(format!("/api/contacts/{survivor}"))));
    }
    Ok(stored)
}

/// The record as returned to `ctx`'s caller.
pub fn view(ctx: &Ctx, stored: &Stored) -> Value {
    let mut body = json!({"id": stored.id});
    body.as_object_mut()
        .expect("an object")
        .extend(stored.fields.to_json());
    body["provenance"] = serde_json::to_value(&stored.provenance).unwrap_or_default();
    body["version"] = json!(stored.version);
    body["created_at"] = json!(stored.created_at);
    body["updated_at"] = json!(stored.updated_at);
    ctx.redact(&mut body, RecordKind::Contact, Target::Contact(&stored.id));
    body
}

/// `If-Match` against the contact's current version: 428 when required and
/// absent, 412 when stale.
pub fn check_if_match(req: &Request, stored: &Stored, required: bool) -> Result<(), Problem> {
    let Some(given) = req.header("if-match").and_then(|v| v.as_str()) else {
        if required {
            return Err(Problem::validation(vec![FieldError::new(
                "If-Match",
                format!(
                    "is required: send the ETag of the version you are changing ({})",
                    stored.etag()
                ),
            )])
            .with_kind("if-match-required", "Precondition required")
            .with_status(428));
        }
        return Ok(());
    };
    let current = stored.etag();
    if given
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current)
    {
        Ok(())
    } else {
        Err(Problem::precondition_failed(format!(
            "contact/{} is at version {} ({current}), not {given}; read it again and reapply the change",
            stored.id, stored.version
        ))
        .with_extension("current_etag", json!(current)))
    }
}

/// `GET /api/contacts/{id}`: the record, or for a merged id a 308 to the
/// survivor.
pub fn get(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let resource = format!("contact/{id}");
    ctx.require(Action::ContactRead, Target::Contact(id), &resource)?;
    let db = ctx.db()?;
    let stored = load(db, id)?.ok_or_else(|| Problem::not_found(format!("no {resource}")))?;
    if stored.merged_into.is_some() {
        let survivor = resolve(db, id)?
            .ok_or_else(|| Problem::internal(format!("{resource}: its survivor is missing")))?;
        let location = format!("/api/contacts/{}", survivor.id);
        let mut response = crm_component_support::json(
            308,
            &json!({"id": id, "merged_into": survivor.id, "location": location}),
        );
        response.set_header("location", location);
        return Ok(response);
    }
    let mut response = crm_component_support::json(200, &view(ctx, &stored));
    response.set_header("etag", stored.etag());
    Ok(response)
}

/// `GET /api/contacts/{id}/history`: every version, oldest first (a merged
/// id keeps its own history).
pub fn history(ctx: &mut Ctx, id: &str) -> Result<Response, Problem> {
    let resource = format!("contact/{id}/history");
    ctx.require(Action::ContactRead, Target::Contact(id), &resource)?;
    let db = ctx.db()?;
    let stored = load(db, id)?.ok_or_else(|| Problem::not_found(format!("no contact/{id}")))?;
    let rows = query(
        db,
        contacts_rules::store::SELECT_VERSIONS,
        &[SqlValue::Text(id.to_string())],
    )?;
    // Citizens see the role that changed their record, not the person.
    let staff_view = ctx.own_contact().is_none();
    let versions: Vec<Value> = rows
        .rows
        .iter()
        .map(|row| {
            let v = &row.values;
            let parse = |i: usize| {
                serde_json::from_str::<Value>(&text(&v[i]).unwrap_or_default()).unwrap_or_default()
            };
            let mut actor = json!({"role": text(&v[4])});
            if staff_view {
                actor["id"] = json!(text(&v[3]));
            }
            json!({
                "version": integer(&v[0]),
                "change": text(&v[1]),
                "recorded_at": text(&v[2]),
                "actor": actor,
                "request_id": text(&v[5]),
                "reason": text(&v[6]),
                "record": parse(7),
                "provenance": from_stored(&text(&v[8]).unwrap_or_default())
                    .ok()
                    .and_then(|p| serde_json::to_value(p).ok()),
                "related_contact": text(&v[9]),
            })
        })
        .collect();
    let mut body = json!({
        "contact_id": id,
        "current_version": stored.version,
        "merged_into": stored.merged_into,
        "versions": versions,
    });
    ctx.redact(&mut body, RecordKind::Contact, Target::Contact(id));
    Ok(crm_component_support::json(200, &body))
}
