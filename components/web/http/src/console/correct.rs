//! `/staff/contacts/{id}/correct`: a correction is the fields changed
//! since the version the officer read, sent with that version's `ETag`
//! (`If-Match`). If the record changed meanwhile the API refuses it (412)
//! and the officer gets the conflict as a page: what changed, by whom, and
//! their own input kept, to send again on top of the current version.

use crm_auth::policy::Action;
use serde_json::{Value, json};
use web_pages::posted;
use web_pages::staff::correct::{Conflict, CorrectPage, changed_details};
use web_pages::staff::details::{self, ContactDetails, Identifying};
use web_pages::{Errors, Field, api, render};

use super::record::load;
use super::{Permissions, form_refused, here, permissions, with_purpose};
use crate::api::{ApiError, encode};
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html, redirect};

fn may_correct(visit: &mut Visit) -> Result<Permissions, Outcome> {
    with_purpose(visit, &here(visit))?;
    let permissions = permissions(visit)?;
    if permissions.may(Action::ContactUpdate) {
        Ok(permissions)
    } else {
        Err(Outcome::Forbidden(
            "Your role does not let you correct records.".to_string(),
        ))
    }
}

/// What the form was drawn or sent with.
struct Correction {
    /// The record's name, for the page.
    name: String,
    details: ContactDetails,
    reason: String,
    version: i64,
    etag: String,
}

fn page(
    visit: &mut Visit,
    status: u16,
    id: &str,
    correction: &Correction,
    errors: &Errors,
    conflict: Option<Conflict>,
    identifying: Identifying,
) -> Handled {
    let page = CorrectPage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/search"),
        errors: errors.clone(),
        name: correction.name.clone(),
        record_href: format!("/staff/contacts/{}", encode(id)),
        version: correction.version,
        etag: correction.etag.clone(),
        form: correction.details.form(errors, identifying),
        reason: Field::text("reason", "What was wrong?")
            .hint("Kept with the new version, and shown to the person if they ask")
            .filled(&correction.reason, errors),
        conflict,
    };
    Ok(html(status, &render(&page)))
}

fn name_of(record: &Value) -> String {
    record["display_name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `GET /staff/contacts/{id}/correct`: the record's details in the form.
pub fn form(visit: &mut Visit, id: &str) -> Handled {
    let permissions = may_correct(visit)?;
    let answer = load(visit, id)?;
    let correction = Correction {
        name: name_of(&answer.json),
        details: ContactDetails::from_record(&answer.json),
        reason: String::new(),
        version: answer.json["version"].as_i64().unwrap_or_default(),
        etag: answer.etag.unwrap_or_default(),
    };
    page(
        visit,
        200,
        id,
        &correction,
        &Errors::default(),
        None,
        permissions.identifying(),
    )
}

/// The record as it was at `version`, from its history.
fn at_version(history: &Value, version: i64) -> Option<ContactDetails> {
    history["versions"]
        .as_array()?
        .iter()
        .find(|v| v["version"] == version)
        .map(|v| ContactDetails::from_record(&v["record"]))
}

/// `POST /staff/contacts/{id}/correct`.
pub fn submit(visit: &mut Visit, id: &str) -> Handled {
    let form = visit.form()?;
    let permissions = may_correct(visit)?;
    let identifying = permissions.identifying();
    let history_path = format!("/api/contacts/{}/history", encode(id));
    let history = visit.api(Audience::Staff)?.get(&history_path)?;
    let correction = Correction {
        name: history["versions"]
            .as_array()
            .and_then(|v| v.last())
            .map(|v| name_of(&v["record"]))
            .unwrap_or_default(),
        details: ContactDetails::from_form(&form),
        reason: posted(&form, "reason").to_string(),
        version: posted(&form, "version").parse().unwrap_or_default(),
        etag: posted(&form, "etag").to_string(),
    };
    let seen = at_version(&history, correction.version).ok_or(Outcome::NotFound)?;
    let changes = match correction.details.changes_since(&seen, identifying) {
        Ok(changes) => changes,
        Err(errors) => {
            return page(visit, 400, id, &correction, &errors, None, identifying);
        }
    };
    if changes.is_empty() {
        let mut errors = Errors::default();
        errors.add("archetype", "You have not changed any details");
        return page(visit, 400, id, &correction, &errors, None, identifying);
    }
    let mut body = json!({"changes": changes, "reason": correction.reason.trim()});
    if !correction.details.given_by.trim().is_empty() {
        body["collection"] = correction.details.collection();
    }
    let corrected = visit.api(Audience::Staff)?.patch(
        &format!("/api/contacts/{}", encode(id)),
        &body,
        &correction.etag,
    );
    match corrected {
        Ok(record) => {
            visit.flash(format!(
                "The record was corrected: it is now version {}",
                record["version"]
            ));
            Ok(redirect(&format!("/staff/contacts/{}", encode(id))))
        }
        Err(ApiError::Problem { status: 412, .. }) => {
            conflict(visit, id, correction, &seen, identifying)
        }
        // Merged into another record meanwhile: that one is corrected now.
        Err(ApiError::Problem {
            status: 409,
            detail,
            ..
        }) => {
            visit.flash(detail);
            Ok(redirect(&format!("/staff/contacts/{}", encode(id))))
        }
        Err(e) => {
            let errors = form_refused(e, "archetype", |field, reason| {
                if field == "reason" {
                    ("reason".to_string(), format!("Reason {reason}"))
                } else {
                    details::refusal(field, reason)
                }
            })?;
            page(visit, 400, id, &correction, &errors, None, identifying)
        }
    }
}

/// Someone changed the record since the officer read it: what changed
/// and by whom, and the officer's input on top of the current version.
fn conflict(
    visit: &mut Visit,
    id: &str,
    correction: Correction,
    seen: &ContactDetails,
    identifying: Identifying,
) -> Handled {
    let current = load(visit, id)?;
    let history = visit
        .api(Audience::Staff)?
        .get(&format!("/api/contacts/{}/history", encode(id)))?;
    let seen_version = correction.version;
    let by = api::versions(&history)
        .into_iter()
        .filter(|v| v.version > seen_version)
        .map(|v| {
            let why = if v.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", v.reason)
            };
            format!(
                "Version {} was {} by {}, {}{why}",
                v.version, v.change, v.by, v.when
            )
        })
        .collect();
    let changes = changed_details(
        seen,
        &ContactDetails::from_record(&current.json),
        identifying,
    );
    let on_top = Correction {
        name: name_of(&current.json),
        version: current.json["version"].as_i64().unwrap_or_default(),
        etag: current.etag.unwrap_or_default(),
        ..correction
    };
    page(
        visit,
        409,
        id,
        &on_top,
        &Errors::default(),
        Some(Conflict {
            seen_version,
            changes,
            by,
        }),
        identifying,
    )
}
