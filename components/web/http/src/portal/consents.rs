//! My consents (`/my-consents`): the citizen's consents through the consent
//! API with their own token: what they chose for each purpose and channel
//! and every decision before, giving or changing one, withdrawing one, and
//! a record's receipt, to read or to download.

use serde_json::{Value, json};
use spin_sdk::http::Response;
use web_pages::citizen::consents::{
    self as view, CONSENT_CHANNELS, ConsentChoicePage, ConsentReceiptPage, DECISIONS,
    MyConsentsPage,
};
use web_pages::{Errors, Radios, render};

use crate::api::{ApiError, encode};
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html, redirect};
use web_pages::posted;

/// The privacy notice a decision made in the portal is made under: its
/// newest version is the one the form shows.
const NOTICE_ID: &str = "general";
/// The form's version, recorded with each decision as its evidence.
const FORM_VERSION: &str = "portal-consents-1";
/// What a consent given in the portal lets the agency use: the details it
/// would contact the person by.
const DATA_CATEGORIES: [&str; 1] = ["contact-details"];

pub fn list(visit: &mut Visit) -> Handled {
    consents_page(visit, 200, &Errors::default())
}

fn consents_page(visit: &mut Visit, status: u16, errors: &Errors) -> Handled {
    let (consents, catalogue) = {
        let api = visit.api(Audience::Citizen)?;
        (
            api.get("/api/consents")?,
            api.get("/api/consents/purposes")?,
        )
    };
    let purposes = view::purposes(&catalogue, false);
    let page = MyConsentsPage {
        chrome: visit.chrome("/my-consents"),
        errors: errors.clone(),
        csrf: visit.csrf(),
        current: view::current(&consents, &purposes),
        history: view::history(&consents, &purposes),
    };
    Ok(html(status, &render(&page)))
}

/// What the choice form was filled in with.
#[derive(Default)]
struct Choice {
    purpose: String,
    channel: String,
    decision: String,
}

/// `GET /my-consents/choose`, with the purpose and channel of the consent
/// to change already chosen when a "Change" link names them.
pub fn choice_form(visit: &mut Visit) -> Handled {
    let choice = Choice {
        purpose: visit.query("purpose").unwrap_or_default(),
        channel: visit.query("channel").unwrap_or_default(),
        decision: String::new(),
    };
    choice_page(visit, 200, &choice, &Errors::default())
}

fn published_notice(notices: &Value) -> Result<view::NoticeLink, Outcome> {
    view::newest_notice(notices, NOTICE_ID).ok_or_else(|| {
        Outcome::Unavailable(format!(
            "privacy notice {NOTICE_ID} has no published version"
        ))
    })
}

fn chosen(value: &str) -> Option<&str> {
    Some(value).filter(|v| !v.is_empty())
}

fn choice_page(visit: &mut Visit, status: u16, choice: &Choice, errors: &Errors) -> Handled {
    let (catalogue, notices) = {
        let api = visit.api(Audience::Citizen)?;
        (
            api.get("/api/consents/purposes")?,
            api.get("/api/privacy-notices")?,
        )
    };
    let purposes = view::purposes(&catalogue, true);
    let purpose_options: Vec<(&str, &str)> = purposes
        .iter()
        .map(|(id, description)| (id.as_str(), description.as_str()))
        .collect();
    let channels = view::channel_choices();
    let channel_options: Vec<(&str, &str)> = channels
        .iter()
        .map(|(value, label)| (*value, label.as_str()))
        .collect();
    let page = ConsentChoicePage {
        chrome: visit.chrome("/my-consents"),
        csrf: visit.csrf(),
        purpose: Radios::new(
            "purpose",
            "What is it for?",
            &purpose_options,
            chosen(&choice.purpose),
            errors,
        ),
        channel: Radios::new(
            "channel",
            "Which way of contacting you does it cover?",
            &channel_options,
            chosen(&choice.channel),
            errors,
        ),
        decision: Radios::new(
            "decision",
            "Do you agree?",
            DECISIONS,
            chosen(&choice.decision),
            errors,
        ),
        notice: published_notice(&notices)?,
        errors: errors.clone(),
    };
    Ok(html(status, &render(&page)))
}

/// `POST /my-consents`: records the citizen's decision through the portal
/// form, under the newest privacy notice the form showed.
pub fn record(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    let choice = Choice {
        purpose: posted(&form, "purpose").to_string(),
        channel: posted(&form, "channel").to_string(),
        decision: posted(&form, "decision").to_string(),
    };
    let mut errors = Errors::default();
    if choice.purpose.is_empty() {
        errors.add("purpose", "Select what it is for");
    }
    if !CONSENT_CHANNELS
        .iter()
        .any(|c| c.as_str() == choice.channel)
    {
        errors.add("channel", "Select which way of contacting you it covers");
    }
    if !DECISIONS.iter().any(|(d, _)| *d == choice.decision) {
        errors.add("decision", "Select whether you agree");
    }
    if errors.is_empty() {
        let recorded = {
            let api = visit.api(Audience::Citizen)?;
            // The API files a decision under the contact it names, which
            // for a citizen must be their own.
            let contact = api.get("/api/consents")?["contact_id"].clone();
            let notice = published_notice(&api.get("/api/privacy-notices")?)?;
            api.post(
                "/api/consents",
                &json!({
                    "contact_id": contact,
                    "purpose": choice.purpose,
                    "data_categories": DATA_CATEGORIES,
                    "channel": choice.channel,
                    "decision": choice.decision,
                    "notice_id": notice.id,
                    "notice_version": notice.version,
                    "collection": {"method": "portal-form", "form_version": FORM_VERSION},
                    "given_at": crate::visit::now_ms(),
                }),
            )
        };
        match recorded {
            Ok(_) => {
                let verb = if choice.decision == "given" {
                    "agreed to"
                } else {
                    "did not agree to"
                };
                visit.flash(format!(
                    "You {verb} {}",
                    view::decision_words(&choice.purpose, &choice.channel)
                ));
                return Ok(redirect("/my-consents"));
            }
            Err(ApiError::Problem {
                status: 400,
                errors: fields,
                detail,
                ..
            }) => {
                for (name, reason) in &fields {
                    match name.as_str() {
                        "purpose" => errors.add("purpose", format!("That use {reason}")),
                        "channel" => errors.add("channel", format!("That way {reason}")),
                        "decision" => errors.add("decision", format!("Your choice {reason}")),
                        _ => {
                            return Err(Outcome::Unavailable(format!(
                                "the consent API refused the portal's decision: {name} {reason} ({detail})"
                            )));
                        }
                    }
                }
            }
            Err(ApiError::Problem { status: 409, .. }) => errors.add(
                "purpose",
                "Another decision for this use was recorded a moment ago: check your choices and try again",
            ),
            Err(e) => return Err(e.into()),
        }
    }
    choice_page(visit, 400, &choice, &errors)
}

/// `POST /my-consents/withdraw`: withdraws the consent in force for a
/// purpose and channel, through the portal.
pub fn withdraw(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    let (purpose, channel) = (posted(&form, "purpose"), posted(&form, "channel"));
    let button = view::withdraw_id(purpose, channel);
    let withdrawn = visit.api(Audience::Citizen)?.post(
        "/api/consents/withdrawals",
        &json!({"purpose": purpose, "channel": channel}),
    );
    let mut errors = Errors::default();
    let status = match withdrawn {
        Ok(_) => {
            visit.flash(format!(
                "You withdrew your consent to {}",
                view::decision_words(purpose, channel)
            ));
            return Ok(redirect("/my-consents"));
        }
        Err(ApiError::Problem { status: 409, .. }) => {
            errors.add(
                button,
                "There is no consent in force for that use and way of contacting you to withdraw",
            );
            409
        }
        Err(ApiError::Problem {
            status: 400,
            errors: fields,
            ..
        }) => {
            for (name, reason) in fields {
                errors.add(
                    &button,
                    format!("That consent cannot be withdrawn: {name} {reason}"),
                );
            }
            400
        }
        Err(e) => return Err(e.into()),
    };
    consents_page(visit, status, &errors)
}

/// The receipt of consent record `id`, as the API issues it (a 404 for a
/// record that is not the citizen's, as for one that does not exist).
fn fetch_receipt(visit: &Visit, id: &str) -> Result<Value, Outcome> {
    Ok(visit
        .api(Audience::Citizen)?
        .get(&format!("/api/consents/{}/receipt", encode(id)))?)
}

/// `GET /my-consents/{id}/receipt`: the receipt, readable.
pub fn receipt(visit: &mut Visit, id: &str) -> Handled {
    let receipt = fetch_receipt(visit, id)?;
    let (rows, events) = view::receipt_rows(&receipt);
    let page = ConsentReceiptPage {
        chrome: visit.chrome("/my-consents"),
        errors: Errors::default(),
        rows,
        events,
        digest: receipt["digest"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        download_href: format!("/my-consents/{}/receipt.json", encode(id)),
    };
    Ok(html(200, &render(&page)))
}

/// `GET /my-consents/{id}/receipt.json`: the receipt as a file to keep.
pub fn receipt_download(visit: &mut Visit, id: &str) -> Handled {
    let receipt = fetch_receipt(visit, id)?;
    // The record id names the file; only its safe characters, so the header
    // says nothing the API did not mean.
    let name: String = receipt["record_id"]
        .as_str()
        .unwrap_or("record")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let body = serde_json::to_vec_pretty(&receipt).expect("JSON values serialise");
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header(
            "content-disposition",
            format!("attachment; filename=\"consent-receipt-{name}.json\""),
        )
        .header("cache-control", "no-store")
        .body(body)
        .build())
}
