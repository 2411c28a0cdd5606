//! `/staff/contacts/{id}/messages/new`: a message from a template. The
//! officer chooses the template, fills in its placeholders (checked by
//! `POST /api/templates/{id}/preview`), then sees the message and the
//! consent decision the send will get (`GET /api/consents/decision`)
//! before sending it once (`POST /api/notifications` under the draft's
//! `Idempotency-Key`).

use std::collections::BTreeMap;

use crm_auth::policy::Action;
use serde_json::{Value, json};
use web_pages::posted;
use web_pages::staff::notify::{
    CheckMessagePage, ChooseTemplatePage, ConsentDecision, MessageDraft, PersonalisePage,
    channel_name, placeholder_fields, placeholder_id, placeholders, template_choices,
};
use web_pages::{Errors, render};

use super::record::load;
use super::{add_refusals, here, permissions, with_purpose};
use crate::api::{ApiError, encode};
use crate::session::{Audience, random_token};
use crate::visit::{Handled, Outcome, Visit, html, redirect};

const DRAFT: &str = "message";

fn may_send(visit: &mut Visit) -> Result<(), Outcome> {
    with_purpose(visit, &here(visit))?;
    let permissions = permissions(visit)?;
    if permissions.may(Action::NotificationSend) && permissions.may(Action::TemplateRead) {
        Ok(())
    } else {
        Err(Outcome::Forbidden(
            "Your role does not let you send messages.".to_string(),
        ))
    }
}

fn base(id: &str) -> String {
    format!("/staff/contacts/{}", encode(id))
}

/// The draft for this contact, if the officer has begun one.
fn draft(visit: &Visit, id: &str) -> Option<MessageDraft> {
    visit
        .session
        .as_ref()?
        .draft::<MessageDraft>(DRAFT)
        .filter(|d| d.contact_id == id)
}

/// The draft with a template chosen, else back to choosing one.
fn chosen(visit: &Visit, id: &str) -> Result<MessageDraft, Outcome> {
    draft(visit, id)
        .filter(|d| !d.template_id.is_empty())
        .ok_or_else(|| Outcome::Redirect(format!("{}/messages/new", base(id))))
}

fn name(record: &Value) -> String {
    record["display_name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn template(visit: &Visit, template_id: &str) -> Result<Value, Outcome> {
    Ok(visit
        .api(Audience::Staff)?
        .get(&format!("/api/templates/{}", encode(template_id)))?)
}

fn choose_page(visit: &mut Visit, status: u16, id: &str, chosen: &str, errors: &Errors) -> Handled {
    let record = load(visit, id)?.json;
    let templates = visit.api(Audience::Staff)?.get("/api/templates")?;
    let choices = template_choices(&templates);
    let page = ChooseTemplatePage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/search"),
        errors: errors.clone(),
        name: name(&record),
        record_href: base(id),
        template: ChooseTemplatePage::template_radios(&choices, chosen, errors),
    };
    Ok(html(status, &render(&page)))
}

/// `GET /staff/contacts/{id}/messages/new`: which template.
pub fn choose(visit: &mut Visit, id: &str) -> Handled {
    may_send(visit)?;
    let chosen = draft(visit, id).map(|d| d.template_id).unwrap_or_default();
    choose_page(visit, 200, id, &chosen, &Errors::default())
}

/// `POST /staff/contacts/{id}/messages/new`.
pub fn chose(visit: &mut Visit, id: &str) -> Handled {
    let form = visit.form()?;
    may_send(visit)?;
    let template_id = posted(&form, "template_id").to_string();
    let known = !template_id.is_empty()
        && match template(visit, &template_id) {
            Ok(_) => true,
            Err(Outcome::NotFound) => false,
            Err(other) => return Err(other),
        };
    if !known {
        let mut errors = Errors::default();
        errors.add("template_id", "Select the message to send");
        return choose_page(visit, 400, id, "", &errors);
    }
    let personalisation = draft(visit, id)
        .filter(|d| d.template_id == template_id)
        .map(|d| d.personalisation)
        .unwrap_or_default();
    let draft = MessageDraft {
        contact_id: id.to_string(),
        template_id,
        personalisation,
        idempotency_key: random_token(),
    };
    visit.session_mut().keep_draft(DRAFT, &draft);
    Ok(redirect(&format!("{}/messages/new/personalise", base(id))))
}

fn personalise_page(
    visit: &mut Visit,
    status: u16,
    id: &str,
    template: &Value,
    values: &BTreeMap<String, String>,
    errors: &Errors,
) -> Handled {
    let record = load(visit, id)?.json;
    let page = PersonalisePage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/search"),
        errors: errors.clone(),
        name: name(&record),
        record_href: base(id),
        template_name: template["name"].as_str().unwrap_or_default().to_string(),
        fields: placeholder_fields(&placeholders(template), values, errors),
    };
    Ok(html(status, &render(&page)))
}

/// `GET /staff/contacts/{id}/messages/new/personalise`: its placeholders.
pub fn personalise(visit: &mut Visit, id: &str) -> Handled {
    may_send(visit)?;
    let draft = chosen(visit, id)?;
    let template = template(visit, &draft.template_id)?;
    personalise_page(
        visit,
        200,
        id,
        &template,
        &draft.personalisation,
        &Errors::default(),
    )
}

/// `POST /staff/contacts/{id}/messages/new/personalise`: the values,
/// checked by rendering the template with them.
pub fn personalised(visit: &mut Visit, id: &str) -> Handled {
    let form = visit.form()?;
    may_send(visit)?;
    let mut draft = chosen(visit, id)?;
    let template = template(visit, &draft.template_id)?;
    let names = placeholders(&template);
    let values: BTreeMap<String, String> = names
        .iter()
        .map(|n| (n.clone(), posted(&form, &placeholder_id(n)).to_string()))
        .collect();
    let mut errors = Errors::default();
    for (name, typed) in &values {
        if typed.trim().is_empty() {
            errors.add(placeholder_id(name), format!("Enter {name}"));
        }
    }
    if errors.is_empty() {
        let previewed = visit.api(Audience::Staff)?.post(
            &format!("/api/templates/{}/preview", encode(&draft.template_id)),
            &json!({ "personalisation": values }),
        );
        match previewed {
            Ok(_) => {
                draft.personalisation = values;
                draft.idempotency_key = random_token();
                visit.session_mut().keep_draft(DRAFT, &draft);
                return Ok(redirect(&format!("{}/messages/new/check", base(id))));
            }
            Err(ApiError::Problem {
                status: 400,
                errors: refused,
                detail,
                ..
            }) => {
                let first = names
                    .first()
                    .map_or("submit".to_string(), |n| placeholder_id(n));
                add_refusals(&mut errors, refused, &detail, &first, |_, reason| {
                    (first.clone(), capitalised(reason))
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    personalise_page(visit, 400, id, &template, &values, &errors)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn check_page(visit: &mut Visit, status: u16, id: &str, errors: &Errors) -> Handled {
    let draft = chosen(visit, id)?;
    let record = load(visit, id)?.json;
    let template = template(visit, &draft.template_id)?;
    let api = visit.api(Audience::Staff)?;
    let preview = api.post(
        &format!("/api/templates/{}/preview", encode(&draft.template_id)),
        &json!({ "personalisation": draft.personalisation }),
    )?;
    let channel = template["type"].as_str().unwrap_or_default();
    let decision = api.get(&format!(
        "/api/consents/decision?contact_id={}&purpose={}&channel={}",
        encode(id),
        encode(template["purpose"].as_str().unwrap_or_default()),
        encode(channel)
    ))?;
    let page = CheckMessagePage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/staff/search"),
        errors: errors.clone(),
        name: name(&record),
        record_href: base(id),
        template_name: template["name"].as_str().unwrap_or_default().to_string(),
        channel: channel_name(channel).to_string(),
        subject: preview["subject"].as_str().map(str::to_string),
        body: preview["body"].as_str().unwrap_or_default().to_string(),
        decision: ConsentDecision::from_api(&decision),
    };
    Ok(html(status, &render(&page)))
}

/// `GET /staff/contacts/{id}/messages/new/check`: the message as it will
/// read, and whether consent lets it go.
pub fn check(visit: &mut Visit, id: &str) -> Handled {
    may_send(visit)?;
    check_page(visit, 200, id, &Errors::default())
}

/// `POST /staff/contacts/{id}/messages/new/check`: sends it.
pub fn send(visit: &mut Visit, id: &str) -> Handled {
    visit.form()?;
    may_send(visit)?;
    let draft = chosen(visit, id)?;
    let sent = visit.api(Audience::Staff)?.post_once(
        "/api/notifications",
        &json!({
            "template_id": draft.template_id,
            "contact_id": id,
            "personalisation": draft.personalisation,
        }),
        &draft.idempotency_key,
    );
    match sent {
        Ok(message) => {
            if let Some(session) = visit.session.as_mut() {
                session.drop_draft(DRAFT);
            }
            visit.flash(format!(
                "The message was sent: it is {}",
                message["status"]
                    .as_str()
                    .unwrap_or("queued")
                    .replace('-', " ")
            ));
            Ok(redirect(&format!("{}/messages", base(id))))
        }
        // Consent changed since the check, or the record cannot be written
        // to: the check page again, saying why.
        Err(ApiError::Problem {
            status: 400,
            detail,
            ..
        }) => {
            let mut errors = Errors::default();
            errors.add("consent-decision", capitalised(&detail));
            check_page(visit, 400, id, &errors)
        }
        Err(e) => Err(e.into()),
    }
}
