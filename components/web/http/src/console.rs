//! The staff console: the purpose of use, search people, a contact record,
//! the case queue with take-next. Every read carries the stated purpose.

use serde_json::Value;
use web_pages::{
    ContactPage, Errors, Field, PurposePage, QueuePage, Radios, SearchPage, VersionsPage, api,
    render,
};

use crate::api::{ApiError, encode};
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html, redirect};

/// The purposes a staff member may state: the app's `purposes_of_use`.
fn purposes() -> Vec<String> {
    spin_sdk::variables::get("purposes_of_use")
        .unwrap_or_default()
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// A staff member with a stated purpose; else where to state it first.
fn with_purpose(visit: &mut Visit, here: &str) -> Result<(), Outcome> {
    visit.user(Audience::Staff)?;
    if visit.session.as_ref().is_some_and(|s| s.purpose.is_some()) {
        Ok(())
    } else {
        Err(Outcome::Redirect(format!(
            "/staff/purpose?next={}",
            encode(here)
        )))
    }
}

/// Where this request is, to come back to after stating a purpose.
fn here(visit: &Visit) -> String {
    match visit.req.query() {
        "" => visit.req.path().to_string(),
        query => format!("{}?{query}", visit.req.path()),
    }
}

pub fn start(visit: &mut Visit) -> Handled {
    visit.user(Audience::Staff)?;
    Ok(redirect("/staff/search"))
}

/// Only a console page may be come back to.
fn safe_next(next: &str) -> &str {
    if next.starts_with("/staff/") && !next.starts_with("/staff//") && !next.contains('\\') {
        next
    } else {
        "/staff/search"
    }
}

pub fn purpose_form(visit: &mut Visit) -> Handled {
    visit.user(Audience::Staff)?;
    let next = visit.query("next").unwrap_or_default();
    let chosen = visit.session.as_ref().and_then(|s| s.purpose.clone());
    Ok(purpose_page(
        visit,
        200,
        &next,
        chosen.as_deref(),
        &Errors::default(),
    ))
}

fn purpose_page(
    visit: &mut Visit,
    status: u16,
    next: &str,
    chosen: Option<&str>,
    errors: &Errors,
) -> spin_sdk::http::Response {
    let purposes = purposes();
    let options: Vec<(&str, &str)> = purposes.iter().map(|p| (p.as_str(), p.as_str())).collect();
    let page = PurposePage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/purpose"),
        errors: errors.clone(),
        next: safe_next(next).to_string(),
        purpose: Radios::new("purpose", "Purpose of use", &options, chosen, errors),
    };
    html(status, &render(&page))
}

pub fn state_purpose(visit: &mut Visit) -> Handled {
    visit.user(Audience::Staff)?;
    let form = visit.form()?;
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let (purpose, next) = (value("purpose"), value("next"));
    if !purposes().iter().any(|p| p == purpose) {
        let mut errors = Errors::default();
        errors.add("purpose", "Select why you are opening records");
        return Ok(purpose_page(visit, 400, next, None, &errors));
    }
    let next = safe_next(next).to_string();
    if let Some(session) = visit.session.as_mut() {
        session.purpose = Some(purpose.to_string());
    }
    Ok(redirect(&next))
}

/// `GET /staff/search?name=&email=&phone=`: one field is enough.
pub fn search(visit: &mut Visit) -> Handled {
    with_purpose(visit, &here(visit))?;
    let typed: Vec<(&'static str, String)> = ["name", "email", "phone"]
        .into_iter()
        .map(|name| {
            (
                name,
                visit.query(name).unwrap_or_default().trim().to_string(),
            )
        })
        .collect();
    let searched = typed.iter().any(|(name, _)| visit.query(name).is_some());
    let mut errors = Errors::default();
    let mut results = None;
    if searched {
        let criteria: Vec<String> = typed
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(name, v)| format!("{name}={}", encode(v)))
            .collect();
        if criteria.is_empty() {
            errors.add("name", "Enter a name, email address or phone number");
        } else {
            match visit
                .api(Audience::Staff)?
                .get(&format!("/api/contacts?limit=50&{}", criteria.join("&")))
            {
                Ok(page) => results = Some(api::people(&page)),
                Err(ApiError::Problem {
                    status: 400,
                    errors: fields,
                    ..
                }) => {
                    for (field, reason) in fields {
                        let field = if ["email", "phone"].contains(&field.as_str()) {
                            field
                        } else {
                            "name".to_string()
                        };
                        let message = format!("{} {reason}", label(&field));
                        errors.add(field, message);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let value = |name: &str| {
        typed
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let page = SearchPage {
        chrome: visit.chrome("/staff/search"),
        name: Field::text("name", "Name").filled(&value("name"), &errors),
        email: Field::text("email", "Email address")
            .input_type("email")
            .filled(&value("email"), &errors),
        phone: Field::text("phone", "Phone number")
            .input_type("tel")
            .filled(&value("phone"), &errors),
        results,
        errors,
    };
    let status = if page.errors.is_empty() { 200 } else { 400 };
    Ok(html(status, &render(&page)))
}

fn label(field: &str) -> &'static str {
    match field {
        "email" => "Email address",
        "phone" => "Phone number",
        _ => "Name",
    }
}

/// `GET /staff/contacts/{id}`: the record and the first page of its timeline
/// (a later one with `?cursor=`).
pub fn contact(visit: &mut Visit, id: &str) -> Handled {
    with_purpose(visit, &here(visit))?;
    let cursor = visit.query("cursor");
    let (record, timeline) = {
        let api = visit.api(Audience::Staff)?;
        let record = api.get(&format!("/api/contacts/{}", encode(id)))?;
        let mut path = format!("/api/interactions?page_size=20&contact_id={}", encode(id));
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={}", encode(cursor)));
        }
        (record, api.get(&path)?)
    };
    let page = ContactPage {
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        name: record["display_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        version: record["version"].as_i64().unwrap_or_default(),
        versions_href: format!("/staff/contacts/{}/versions", encode(id)),
        rows: api::contact_rows(&record),
        interactions: api::interactions(&timeline),
        next_page_href: timeline["next_cursor"]
            .as_str()
            .map(|c| format!("/staff/contacts/{}?cursor={}", encode(id), encode(c))),
    };
    Ok(html(200, &render(&page)))
}

/// `GET /staff/contacts/{id}/versions`: every version of the record.
pub fn versions(visit: &mut Visit, id: &str) -> Handled {
    with_purpose(visit, &here(visit))?;
    let api = visit.api(Audience::Staff)?;
    let record = api.get(&format!("/api/contacts/{}", encode(id)))?;
    let history = api.get(&format!("/api/contacts/{}/history", encode(id)))?;
    let page = VersionsPage {
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        name: record["display_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        record_href: format!("/staff/contacts/{}", encode(id)),
        versions: api::versions(&history),
    };
    Ok(html(200, &render(&page)))
}

/// `GET /staff/queue?queue_id=…`: the queue's open cases, soonest due first.
pub fn queue(visit: &mut Visit) -> Handled {
    with_purpose(visit, &here(visit))?;
    let queue_id = visit.query("queue_id").map(|q| q.trim().to_string());
    let mut errors = Errors::default();
    let mut cases = None;
    match queue_id.as_deref() {
        None => {}
        Some("") => errors.add("queue_id", "Enter the queue's id"),
        Some(queue) => {
            let path = format!(
                "/api/cases?category=open&order=due&queue_id={}",
                encode(queue)
            );
            match visit.api(Audience::Staff)?.get(&path) {
                Ok(page) => cases = Some(api::queue(&page)),
                Err(ApiError::Problem {
                    status: 400 | 404,
                    detail,
                    errors: fields,
                    ..
                }) => {
                    let reason = fields.into_iter().next().map_or(detail, |(_, r)| r);
                    errors.add("queue_id", format!("Queue {reason}"));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    queue_page(
        visit,
        queue_id.as_deref().unwrap_or_default(),
        cases,
        &errors,
    )
}

fn queue_page(
    visit: &mut Visit,
    queue_id: &str,
    cases: Option<Vec<web_pages::QueueLine>>,
    errors: &Errors,
) -> Handled {
    let page = QueuePage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/queue"),
        errors: errors.clone(),
        queue_id: Field::text("queue_id", "Queue").filled(queue_id, errors),
        cases,
    };
    Ok(html(
        if errors.is_empty() { 200 } else { 400 },
        &render(&page),
    ))
}

/// `POST /staff/queue/take-next`: assigns the queue's next case to the
/// staff member and says which it was.
pub fn take_next(visit: &mut Visit) -> Handled {
    visit.user(Audience::Staff)?;
    let form = visit.form()?;
    let queue = form
        .iter()
        .find(|(k, _)| k == "queue_id")
        .map_or(String::new(), |(_, v)| v.trim().to_string());
    let back = format!("/staff/queue?queue_id={}", encode(&queue));
    let taken = visit.api(Audience::Staff)?.post(
        &format!("/api/queues/{}/take-next", encode(&queue)),
        &Value::Object(Default::default()),
    );
    match taken {
        Ok(case) => {
            let reference = case["reference"].as_str().unwrap_or("a case").to_string();
            visit.flash(format!("You took {reference}"));
        }
        Err(ApiError::Problem {
            status: 404 | 409,
            detail,
            ..
        }) => {
            visit.flash(format!("No case was taken: {detail}"));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&back))
}
