//! Reading and checking what a request says: JSON bodies (bounded),
//! contact fields, the collection, relationships to other contacts, and the
//! consent rule for optional fields.

use contacts_rules::collection::{Collection, CollectionDefaults, CollectionFields, needs_consent};
use contacts_rules::{Contact, ContactFields};
use crm_component_support::{Ctx, FieldError, json_body, now_ms};
use crm_domain::{Archetype, FieldErrors, ShortText};
use crm_http::Problem;
use crm_sql::Sql;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use spin_sdk::http::Request;

use crate::crm::consent::decisions;
use crate::records::today;

/// The largest JSON body read: far above any one contact, far below what
/// would strain a component's memory.
pub const MAX_JSON_BYTES: usize = 256 * 1024;

pub fn too_large(limit: usize) -> Problem {
    Problem::refused(
        "payload-too-large",
        format!("the body is larger than {limit} bytes"),
    )
    .with_kind("payload-too-large", "Payload too large")
    .with_status(413)
}

/// The body as a JSON object.
pub fn object_body(req: &Request) -> Result<Map<String, Value>, Problem> {
    if req.body().len() > MAX_JSON_BYTES {
        return Err(too_large(MAX_JSON_BYTES));
    }
    match json_body::<Value>(req)? {
        Value::Object(map) => Ok(map),
        _ => Err(Problem::invalid_json("the body must be a JSON object")),
    }
}

/// The body's member `at` (or, for "", the rest of the body) as `T`, or a
/// 400 naming the path that is wrong.
pub fn typed<T: DeserializeOwned>(at: &str, value: Value) -> Result<T, Problem> {
    Ok(crm_http::json::from_value(at, value)?)
}

/// Takes `names` out of `body` (members that are not contact fields).
pub fn take(body: &mut Map<String, Value>, name: &str) -> Option<Value> {
    body.remove(name).filter(|v| !v.is_null())
}

/// The longest reason (for a correction, a merge, a duplicate) kept.
const REASON_MAX: usize = 500;

/// A reason given in `field`: cleaned, or the error to report (`missing`
/// says why one is needed).
pub fn reason(field: &str, given: Option<&str>, missing: &str) -> Result<String, FieldError> {
    let given = given.ok_or_else(|| FieldError::new(field, format!("is required: {missing}")))?;
    ShortText::parse(given, REASON_MAX)
        .map(ShortText::into_string)
        .map_err(|e| FieldError::new(field, e.0))
}

/// Query parameters other than `known`, as field errors.
pub fn unknown_params(req: &Request, known: &[&str], what: &str) -> Vec<FieldError> {
    req.query()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name))
        .filter(|name| !known.contains(name))
        .map(|name| FieldError::new(name, format!("is not {what}")))
        .collect()
}

pub fn field_errors(errors: FieldErrors) -> Vec<FieldError> {
    errors
        .0
        .into_iter()
        .map(|e| FieldError::new(&e.field, e.reason))
        .collect()
}

/// Checks `fields`, reporting `more` (errors found in other members) with
/// the fields' own.
pub fn check_fields(fields: &ContactFields, mut more: Vec<FieldError>) -> Result<Contact, Problem> {
    match contacts_rules::validate(fields, today()) {
        Ok(contact) if more.is_empty() => Ok(contact),
        Ok(_) => Err(Problem::validation(more)),
        Err(errors) => {
            let mut all = field_errors(errors);
            all.append(&mut more);
            Err(Problem::validation(all))
        }
    }
}

/// What a collection defaults to for this caller: the source by kind of
/// caller, the primary purpose, and the notice in the `collection_notice`
/// variable (`<notice id>:<version>`).
pub fn collection_defaults(ctx: &Ctx, source: Option<&str>) -> Result<CollectionDefaults, Problem> {
    let notice = spin_sdk::variables::get("collection_notice").map_err(|e| {
        Problem::internal(format!("configuration variable `collection_notice`: {e}"))
    })?;
    let (notice_id, version) = notice
        .trim()
        .split_once(':')
        .and_then(|(id, v)| Some((id.to_string(), v.parse::<i64>().ok()?)))
        .ok_or_else(|| {
            Problem::internal("`collection_notice` must be <notice id>:<version>, e.g. general:1")
        })?;
    let citizen = ctx.own_contact().is_some();
    let service = ctx.caller.primary_role() == "service";
    Ok(CollectionDefaults {
        source: source
            .unwrap_or(match (citizen, service) {
                (true, _) => "self-service",
                (_, true) => "service-client",
                _ => "staff-entry",
            })
            .to_string(),
        purpose: contacts_rules::collection::SERVICE_DELIVERY.into(),
        notice_id,
        notice_version: version,
        channel: if citizen || service {
            "portal"
        } else {
            "counter"
        }
        .into(),
    })
}

/// The request's collection (member `collection`), checked.
pub fn collection(
    ctx: &Ctx,
    given: Option<Value>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Collection>, Problem> {
    let fields: Option<CollectionFields> = given.map(|v| typed("collection", v)).transpose()?;
    let defaults = collection_defaults(ctx, None)?;
    Ok(match Collection::parse(fields.as_ref(), &defaults) {
        Ok(collection) => Some(collection),
        Err(e) => {
            errors.extend(field_errors(e));
            None
        }
    })
}

/// Checks that each related contact exists, fits the relationship and is
/// not `self_id`; a merged contact's id is replaced by its survivor's.
pub fn check_relationships(
    db: &impl Sql,
    self_id: &str,
    contact: &mut Contact,
) -> Result<(), Problem> {
    let mut errors = Vec::new();
    for (i, relationship) in contact.relationships.iter_mut().enumerate() {
        let field = format!("relationships[{i}]");
        match contacts_store::resolve(db, &relationship.contact_id)? {
            None => errors.push(FieldError::new(
                &format!("{field}.contact_id"),
                "no such contact",
            )),
            Some(other) if other.id == self_id => errors.push(FieldError::new(
                &format!("{field}.contact_id"),
                "a contact cannot be related to itself",
            )),
            Some(other) => {
                let kind = other
                    .fields
                    .archetype
                    .as_deref()
                    .and_then(|a| Archetype::parse(a).ok());
                if let Some(object) = kind
                    && let Err(e) = relationship.kind.check_parties(contact.archetype, object)
                {
                    errors.push(FieldError::new(&format!("{field}.kind"), e.0));
                }
                relationship.contact_id = other.id;
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

/// Refuses setting optional fields (`set`) whose collection purpose the
/// consent interface does not permit for `contact_id` (the rule is in
/// `contacts_rules::collection`).
pub fn check_consent(
    contact_id: &str,
    collection: &Collection,
    set: &[&str],
) -> Result<(), Problem> {
    let purpose = collection.purpose();
    let optional: Vec<&str> = set
        .iter()
        .copied()
        .filter(|field| needs_consent(field, purpose))
        .collect();
    if optional.is_empty() {
        return Ok(());
    }
    let decision = decisions::check(contact_id, purpose, collection.channel.into(), now_ms())
        .map_err(|e| Problem::unavailable(format!("the consent check failed: {e}")))?;
    if decision.permitted {
        return Ok(());
    }
    Err(Problem::validation(
        optional
            .iter()
            .map(|field| {
                FieldError::new(
                    field,
                    format!(
                        "is optional for `{purpose}` and needs the contact's consent to it ({}); record consent over `{}` first, or leave it out",
                        decision.reason, collection.channel
                    ),
                )
            })
            .collect(),
    )
    .with_kind("consent-required", "Consent required"))
}
