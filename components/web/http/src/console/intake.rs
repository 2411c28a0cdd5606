//! `/staff/contacts/new`: a new contact, "tell us once". The details are
//! checked by `POST /api/contacts/match` (which writes nothing); possible
//! duplicates are shown with the API's reasons, and the officer uses one
//! of them or says why this is someone else; the answers are checked; only
//! then is the record made, under the draft's `Idempotency-Key`.

use crm_auth::policy::Action;
use serde_json::{Value, json};
use web_pages::posted;
use web_pages::render;
use web_pages::staff::details::{self, ContactDetails, Identifying};
use web_pages::staff::intake::{
    CheckContactPage, DuplicatesPage, NewContactDraft, NewContactPage, candidate_lines,
};
use web_pages::{Errors, Field};

use super::{Permissions, form_refused, permissions, with_purpose};
use crate::api::{ApiError, encode};
use crate::session::{Audience, random_token};
use crate::visit::{Handled, Outcome, Visit, html, redirect};

const DRAFT: &str = "new-contact";
const FORM: &str = "/staff/contacts/new";
const DUPLICATES: &str = "/staff/contacts/new/duplicates";
const CHECK: &str = "/staff/contacts/new/check";
/// The longest reason the API keeps for making a possible duplicate.
const REASON_MAX_CHARS: usize = 500;

/// A staff member who may add contacts (with a purpose: matching reads).
fn may_add(visit: &mut Visit) -> Result<Permissions, Outcome> {
    with_purpose(visit, FORM)?;
    let permissions = permissions(visit)?;
    if permissions.may(Action::ContactCreate) {
        Ok(permissions)
    } else {
        Err(Outcome::Forbidden(
            "Your role does not let you add contacts.".to_string(),
        ))
    }
}

fn draft(visit: &Visit) -> Option<NewContactDraft> {
    visit.session.as_ref()?.draft(DRAFT)
}

fn keep(visit: &mut Visit, draft: &NewContactDraft) {
    visit.session_mut().keep_draft(DRAFT, draft);
}

fn form_page(
    visit: &mut Visit,
    status: u16,
    details: &ContactDetails,
    errors: &Errors,
    identifying: Identifying,
) -> Handled {
    let page = NewContactPage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/search"),
        errors: errors.clone(),
        form: details.form(errors, identifying),
    };
    Ok(html(status, &render(&page)))
}

/// `GET /staff/contacts/new`: the form, with what was given before when
/// the officer comes back to change it.
pub fn form(visit: &mut Visit) -> Handled {
    let permissions = may_add(visit)?;
    let details = draft(visit).map(|d| d.details).unwrap_or_default();
    form_page(
        visit,
        200,
        &details,
        &Errors::default(),
        permissions.identifying(),
    )
}

/// `POST /staff/contacts/new`: asks who they may already be.
pub fn submit(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    let permissions = may_add(visit)?;
    let details = ContactDetails::from_form(&form);
    let fields = match details.to_fields(permissions.identifying()) {
        Ok(fields) => fields,
        Err(errors) => return form_page(visit, 400, &details, &errors, permissions.identifying()),
    };
    let matched = visit
        .api(Audience::Staff)?
        .post("/api/contacts/match", &Value::Object(fields));
    match matched {
        Ok(found) => {
            let draft = NewContactDraft {
                details,
                candidates: found["candidates"].clone(),
                duplicate_reason: None,
                idempotency_key: random_token(),
            };
            keep(visit, &draft);
            Ok(redirect(if draft.has_candidates() {
                DUPLICATES
            } else {
                CHECK
            }))
        }
        Err(e) => {
            let errors = form_refused(e, "archetype", details::refusal)?;
            form_page(visit, 400, &details, &errors, permissions.identifying())
        }
    }
}

fn duplicates_page(
    visit: &mut Visit,
    status: u16,
    draft: &NewContactDraft,
    reason: &str,
    errors: &Errors,
) -> Handled {
    let page = DuplicatesPage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/search"),
        errors: errors.clone(),
        candidates: candidate_lines(&draft.candidates),
        reason: Field::text("reason", "Why is this someone else?")
            .hint("For example, a parent and child at the same address with the same name")
            .filled(reason, errors),
    };
    Ok(html(status, &render(&page)))
}

/// `GET /staff/contacts/new/duplicates`: the possible duplicates.
pub fn duplicates(visit: &mut Visit) -> Handled {
    may_add(visit)?;
    match draft(visit).filter(NewContactDraft::has_candidates) {
        Some(draft) => {
            let reason = draft.duplicate_reason.clone().unwrap_or_default();
            duplicates_page(visit, 200, &draft, &reason, &Errors::default())
        }
        None => Ok(redirect(FORM)),
    }
}

/// `POST /staff/contacts/new/use`: the officer uses an existing record;
/// nothing is made.
pub fn use_existing(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    may_add(visit)?;
    let Some(draft) = draft(visit) else {
        return Ok(redirect(FORM));
    };
    let chosen = posted(&form, "contact_id");
    if !draft.is_candidate(chosen) {
        let mut errors = Errors::default();
        errors.add(
            "reason",
            "Choose one of the records shown, or make a new one",
        );
        return duplicates_page(visit, 400, &draft, "", &errors);
    }
    if let Some(session) = visit.session.as_mut() {
        session.drop_draft(DRAFT);
    }
    visit.flash("You used the record we already hold; no new record was made");
    Ok(redirect(&format!("/staff/contacts/{}", encode(chosen))))
}

/// `POST /staff/contacts/new/duplicates`: a new record after all, and why.
pub fn create_anyway(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    may_add(visit)?;
    let Some(mut draft) = draft(visit).filter(NewContactDraft::has_candidates) else {
        return Ok(redirect(FORM));
    };
    let reason = posted(&form, "reason");
    let mut errors = Errors::default();
    if reason.trim().is_empty() {
        errors.add("reason", "Say why this is someone else");
    } else if reason.chars().count() > REASON_MAX_CHARS {
        errors.add(
            "reason",
            format!("The reason must be {REASON_MAX_CHARS} characters or fewer"),
        );
    }
    if !errors.is_empty() {
        return duplicates_page(visit, 400, &draft, reason, &errors);
    }
    draft.duplicate_reason = Some(reason.trim().to_string());
    draft.idempotency_key = random_token();
    keep(visit, &draft);
    Ok(redirect(CHECK))
}

/// The draft ready to check: details given, and a reason if the API found
/// possible duplicates.
fn ready(visit: &Visit) -> Result<NewContactDraft, Outcome> {
    match draft(visit) {
        None => Err(Outcome::Redirect(FORM.to_string())),
        Some(draft) if draft.has_candidates() && draft.duplicate_reason.is_none() => {
            Err(Outcome::Redirect(DUPLICATES.to_string()))
        }
        Some(draft) => Ok(draft),
    }
}

/// `GET /staff/contacts/new/check`: the answers, to check.
pub fn check(visit: &mut Visit) -> Handled {
    let permissions = may_add(visit)?;
    let draft = ready(visit)?;
    let page = CheckContactPage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        rows: draft.details.rows(permissions.identifying()),
        duplicate_reason: draft.duplicate_reason.clone(),
    };
    Ok(html(200, &render(&page)))
}

/// `POST /staff/contacts/new/check`: makes the record.
pub fn create(visit: &mut Visit) -> Handled {
    visit.form()?;
    let permissions = may_add(visit)?;
    let mut draft = ready(visit)?;
    let mut body = match draft.details.to_fields(permissions.identifying()) {
        Ok(fields) => fields,
        Err(errors) => {
            return form_page(
                visit,
                400,
                &draft.details,
                &errors,
                permissions.identifying(),
            );
        }
    };
    if !draft.details.given_by.trim().is_empty() {
        body.insert("collection".into(), draft.details.collection());
    }
    if let Some(reason) = &draft.duplicate_reason {
        body.insert("on_duplicate".into(), json!("create"));
        body.insert("duplicate_reason".into(), json!(reason));
    }
    let created = visit.api(Audience::Staff)?.post_once(
        "/api/contacts",
        &Value::Object(body),
        &draft.idempotency_key,
    );
    match created {
        Ok(record) => {
            if let Some(session) = visit.session.as_mut() {
                session.drop_draft(DRAFT);
            }
            visit.flash("The contact was added");
            let id = record["id"].as_str().unwrap_or_default();
            Ok(redirect(&format!("/staff/contacts/{}", encode(id))))
        }
        // Someone like them was added since the check: show them.
        Err(ApiError::Problem {
            status: 409,
            kind,
            body,
            ..
        }) if kind == "possible-duplicate" => {
            draft.candidates = body["candidates"].clone();
            draft.duplicate_reason = None;
            draft.idempotency_key = random_token();
            keep(visit, &draft);
            Ok(redirect(DUPLICATES))
        }
        Err(e) => {
            let errors = form_refused(e, "archetype", details::refusal)?;
            form_page(
                visit,
                400,
                &draft.details,
                &errors,
                permissions.identifying(),
            )
        }
    }
}
