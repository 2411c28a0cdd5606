//! Ask for a correction (`/my-details/correction`, APP 13): the citizen
//! names the detail that is wrong and what it should say; the portal opens
//! a correction-request case about them through the cases API, which staff
//! decide and the citizen follows in my cases.

use serde_json::json;
use web_pages::citizen::correction::{self as view, CorrectionPage, Detail, OTHER};
use web_pages::{Errors, Field, Radios, render};

use crate::api::ApiError;
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html, redirect};
use web_pages::posted;

/// The case type a correction request opens (seeded by migration 0012,
/// open to citizens since 0019).
const CASE_TYPE: &str = "correction-request";
/// The longest correction the form takes: with what we hold, it stays well
/// inside a case's details.
const CORRECTION_MAX_CHARS: usize = 2000;

fn held_details(visit: &Visit) -> Result<Vec<Detail>, Outcome> {
    let record = visit.api(Audience::Citizen)?.get("/api/contacts/me")?;
    Ok(view::details(&record))
}

/// `GET /my-details/correction[?item=field]`.
pub fn form(visit: &mut Visit) -> Handled {
    let details = held_details(visit)?;
    let item = visit.query("item").unwrap_or_default();
    Ok(correction_page(
        visit,
        200,
        &details,
        &item,
        "",
        &Errors::default(),
    ))
}

fn correction_page(
    visit: &mut Visit,
    status: u16,
    details: &[Detail],
    item: &str,
    typed: &str,
    errors: &Errors,
) -> spin_sdk::http::Response {
    let page = CorrectionPage {
        chrome: visit.chrome("/my-details"),
        csrf: visit.csrf(),
        item: Radios::new(
            "item",
            "Which detail is wrong?",
            &view::choices(details),
            Some(item).filter(|i| !i.is_empty()),
            errors,
        ),
        correction: Field::text("correction", "What should it say?").filled(typed, errors),
        errors: errors.clone(),
    };
    html(status, &render(&page))
}

/// `POST /my-details/correction`: the request, as a case about the citizen.
pub fn submit(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    let (item, typed) = (posted(&form, "item"), posted(&form, "correction"));
    let details = held_details(visit)?;
    let detail = details.iter().find(|d| d.field == item);
    let mut errors = Errors::default();
    if detail.is_none() && item != OTHER.0 {
        errors.add("item", "Select which detail is wrong");
    }
    if typed.trim().is_empty() {
        errors.add("correction", "Enter what it should say");
    } else if typed.chars().count() > CORRECTION_MAX_CHARS {
        errors.add(
            "correction",
            format!("What it should say must be {CORRECTION_MAX_CHARS} characters or fewer"),
        );
    }
    if errors.is_empty() {
        let (subject, text) = view::case_text(detail, typed.trim());
        let opened = visit.api(Audience::Citizen)?.post(
            "/api/cases",
            &json!({"case_type": CASE_TYPE, "subject": subject, "details": text}),
        );
        match opened {
            Ok(case) => {
                visit.flash(format!(
                    "We have your request for a correction, reference {}. We will tell you what we decide.",
                    case["reference"].as_str().unwrap_or_default()
                ));
                return Ok(redirect("/my-cases"));
            }
            // Only the typed text can make the details unacceptable (a
            // control character): anything else is the portal's fault.
            Err(ApiError::Problem {
                status: 400,
                errors: fields,
                ..
            }) if !fields.is_empty() && fields.iter().all(|(name, _)| name == "details") => {
                for (_, reason) in fields {
                    errors.add("correction", format!("What it should say {reason}"));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(correction_page(visit, 400, &details, item, typed, &errors))
}
