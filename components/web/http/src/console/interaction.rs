//! `/staff/contacts/{id}/interactions/new`: recording an interaction, once
//! (the form's own `Idempotency-Key`), through `POST /api/interactions`.

use crm_auth::policy::Action;
use web_pages::staff::interaction::{self, InteractionForm};
use web_pages::{Errors, render};

use super::record::load;
use super::{form_refused, here, permissions, with_purpose};
use crate::api::encode;
use crate::session::{Audience, random_token};
use crate::visit::{Handled, Outcome, Visit, html, redirect};

fn may_record(visit: &mut Visit) -> Result<(), Outcome> {
    with_purpose(visit, &here(visit))?;
    if permissions(visit)?.may(Action::InteractionAppend) {
        Ok(())
    } else {
        Err(Outcome::Forbidden(
            "Your role does not let you record interactions.".to_string(),
        ))
    }
}

fn page(
    visit: &mut Visit,
    status: u16,
    id: &str,
    form: &InteractionForm,
    errors: Errors,
) -> Handled {
    let record = load(visit, id)?.json;
    let page = form.page(
        visit.chrome("/staff/search"),
        visit.csrf(),
        record["display_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        format!("/staff/contacts/{}", encode(id)),
        errors,
    );
    Ok(html(status, &render(&page)))
}

/// `GET /staff/contacts/{id}/interactions/new`.
pub fn form(visit: &mut Visit, id: &str) -> Handled {
    may_record(visit)?;
    let form = InteractionForm {
        key: random_token(),
        ..InteractionForm::default()
    };
    page(visit, 200, id, &form, Errors::default())
}

/// `POST /staff/contacts/{id}/interactions/new`.
pub fn submit(visit: &mut Visit, id: &str) -> Handled {
    let posted = visit.form()?;
    may_record(visit)?;
    let mut form = InteractionForm::from_form(&posted);
    if form.key.is_empty() {
        form.key = random_token();
    }
    let recorded =
        visit
            .api(Audience::Staff)?
            .post_once("/api/interactions", &form.to_body(id), &form.key);
    match recorded {
        Ok(_) => {
            visit.flash("The interaction was recorded");
            Ok(redirect(&format!("/staff/contacts/{}", encode(id))))
        }
        Err(e) => {
            let errors = form_refused(e, "channel", interaction::refusal)?;
            page(visit, 400, id, &form, errors)
        }
    }
}
