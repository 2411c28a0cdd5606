//! The staff console: the purpose of use and search here; contact records,
//! new contacts, corrections, interactions, messages and cases in its
//! modules. Every read carries the stated purpose, and a page offers only
//! what the staff member's roles allow ([`access`]).

mod access;
mod audit;
mod cases;
mod correct;
mod intake;
mod interaction;
mod messages;
mod record;
mod reports;

use crm_auth::policy::Action;
use web_pages::{Errors, Field, PurposePage, Radios, SearchPage, api, posted, render};

use crate::api::{ApiError, encode};
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html, redirect};
use access::Permissions;

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

/// The console's pages beyond the purpose and search: `rest` is the path
/// after `/staff/`.
pub fn route(visit: &mut Visit, method: &str, rest: &[&str]) -> Handled {
    match (method, rest) {
        (_, ["contacts", "new", steps @ ..]) => intake_route(visit, method, steps),
        (_, ["contacts", id, rest @ ..]) => record_route(visit, method, id, rest),
        ("GET", ["queue"]) => cases::queue(visit),
        ("POST", ["queue", "take-next"]) => cases::take_next(visit),
        ("GET", ["cases", id]) => cases::case(visit, id),
        ("POST", ["cases", id, "transition"]) => cases::transition(visit, id),
        ("POST", ["cases", id, "activities"]) => cases::add_activity(visit, id),
        ("POST", ["cases", id, "participants"]) => cases::add_participant(visit, id),
        ("GET", ["audit"]) => audit::trail(visit),
        ("GET", ["audit", "verify"]) => audit::verify(visit),
        ("GET", ["reports"]) => reports::reports(visit),
        _ => Err(Outcome::NotFound),
    }
}

/// `/staff/contacts/new/...`: adding a contact, "tell us once".
fn intake_route(visit: &mut Visit, method: &str, steps: &[&str]) -> Handled {
    match (method, steps) {
        ("GET", []) => intake::form(visit),
        ("POST", []) => intake::submit(visit),
        ("GET", ["duplicates"]) => intake::duplicates(visit),
        ("POST", ["duplicates"]) => intake::create_anyway(visit),
        ("POST", ["use"]) => intake::use_existing(visit),
        ("GET", ["check"]) => intake::check(visit),
        ("POST", ["check"]) => intake::create(visit),
        _ => Err(Outcome::NotFound),
    }
}

/// `/staff/contacts/{id}/...`: a record's pages and what is done to it.
fn record_route(visit: &mut Visit, method: &str, id: &str, rest: &[&str]) -> Handled {
    match (method, rest) {
        ("GET", []) => record::contact(visit, id),
        ("GET", ["versions"]) => record::versions(visit, id),
        ("GET", ["consents"]) => record::consents(visit, id),
        ("GET", ["messages"]) => record::messages(visit, id),
        ("GET", ["cases"]) => record::cases(visit, id),
        ("GET", ["correct"]) => correct::form(visit, id),
        ("POST", ["correct"]) => correct::submit(visit, id),
        ("GET", ["interactions", "new"]) => interaction::form(visit, id),
        ("POST", ["interactions", "new"]) => interaction::submit(visit, id),
        ("GET", ["messages", "new"]) => messages::choose(visit, id),
        ("POST", ["messages", "new"]) => messages::chose(visit, id),
        ("GET", ["messages", "new", "personalise"]) => messages::personalise(visit, id),
        ("POST", ["messages", "new", "personalise"]) => messages::personalised(visit, id),
        ("GET", ["messages", "new", "check"]) => messages::check(visit, id),
        ("POST", ["messages", "new", "check"]) => messages::send(visit, id),
        _ => Err(Outcome::NotFound),
    }
}

/// The console's navigation, as (page, label).
pub const NAV: &[(&str, &str)] = &[
    ("/staff/search", "Search people"),
    ("/staff/queue", "Case queue"),
    ("/staff/reports", "Reports"),
    ("/staff/audit", "Audit trail"),
];

/// Which of the navigation's pages the holder of `token` can use: their
/// roles hold the action each page reads with.
pub fn offered(token: &str) -> impl Fn(&str) -> bool {
    let permissions = Permissions::of(token);
    move |href| match href {
        "/staff/search" => permissions.may(Action::ContactSearch),
        "/staff/queue" => permissions.may(Action::CaseRead),
        "/staff/reports" => {
            permissions.may(Action::InteractionStats) || permissions.may(Action::CaseSlaRead)
        }
        "/staff/audit" => permissions.may(Action::AuditRead),
        _ => true,
    }
}

/// `/staff/`: the first page the staff member's roles can use.
pub fn start(visit: &mut Visit) -> Handled {
    let offered = offered(&visit.user(Audience::Staff)?.token);
    let first = NAV
        .iter()
        .map(|(href, _)| *href)
        .find(|href| offered(href))
        .unwrap_or("/staff/search");
    Ok(redirect(first))
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
    let (purpose, next) = (posted(&form, "purpose"), posted(&form, "next"));
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
    let can_add = permissions(visit)?.may(Action::ContactCreate);
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
        can_add,
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

/// The signed-in staff member's permissions.
fn permissions(visit: &Visit) -> Result<Permissions, Outcome> {
    Ok(Permissions::of(&visit.user(Audience::Staff)?.token))
}

/// A form the API refused (400) as the page's errors, through
/// [`add_refusals`]; any other failure as the outcome it is.
fn form_refused(
    error: ApiError,
    first_box: &str,
    refusal: impl Fn(&str, &str) -> (String, String),
) -> Result<Errors, Outcome> {
    match error {
        ApiError::Problem {
            status: 400,
            errors: refused,
            detail,
            ..
        } => {
            let mut errors = Errors::default();
            add_refusals(&mut errors, refused, &detail, first_box, refusal);
            Ok(errors)
        }
        other => Err(other.into()),
    }
}

/// The API's refusal as the page's errors: each field through `refusal`
/// (which names the box and says why); a refusal naming no field goes to
/// `first_box` in the API's words.
fn add_refusals(
    errors: &mut Errors,
    fields: Vec<(String, String)>,
    detail: &str,
    first_box: &str,
    refusal: impl Fn(&str, &str) -> (String, String),
) {
    if fields.is_empty() {
        let mut sentence = detail.to_string();
        if let Some(first) = sentence.get(..1) {
            sentence.replace_range(..1, &first.to_uppercase());
        }
        errors.add(first_box, sentence);
    }
    for (field, reason) in fields {
        let (id, message) = refusal(&field, &reason);
        errors.add(id, message);
    }
}
