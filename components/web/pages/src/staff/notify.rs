//! Sending a message to a contact from a template: choose the template,
//! fill in its placeholders, then see the message as it will read and the
//! consent decision the send will get, and only then send it. The steps'
//! state is a [`MessageDraft`].

use std::collections::BTreeMap;

use askama::Template;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::patterns::{Chrome, Errors, Field, Radios};

/// What the officer has chosen so far, kept between the steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDraft {
    pub contact_id: String,
    pub template_id: String,
    /// Each placeholder's value, as typed.
    pub personalisation: BTreeMap<String, String>,
    /// The send's `Idempotency-Key`: sent twice, it is one message.
    pub idempotency_key: String,
}

/// A template as the choice offers it (`GET /api/templates`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateChoice {
    pub id: String,
    pub label: String,
}

/// `GET /api/templates`'s `templates` as choices.
pub fn template_choices(list: &Value) -> Vec<TemplateChoice> {
    list["templates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| TemplateChoice {
            id: t["id"].as_str().unwrap_or_default().to_string(),
            label: format!(
                "{} ({}, for {})",
                t["name"].as_str().unwrap_or_default(),
                channel_name(t["type"].as_str().unwrap_or_default()),
                t["purpose"].as_str().unwrap_or_default().replace('-', " ")
            ),
        })
        .collect()
}

/// A template's placeholders (its `personalisation`), in order.
pub fn placeholders(template: &Value) -> Vec<String> {
    template["personalisation"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The id of a placeholder's box, which its errors are reported against.
pub fn placeholder_id(name: &str) -> String {
    format!("personalisation-{name}")
}

pub fn channel_name(channel: &str) -> &str {
    match channel {
        "email" => "email",
        "sms" => "text message",
        "letter" => "letter",
        "portal" => "portal message",
        other => other,
    }
}

#[derive(Template)]
#[template(path = "staff_message_template.html")]
pub struct ChooseTemplatePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub name: String,
    pub record_href: String,
    pub template: Radios,
}

impl ChooseTemplatePage {
    pub fn template_radios(choices: &[TemplateChoice], chosen: &str, errors: &Errors) -> Radios {
        let options: Vec<(&str, &str)> = choices
            .iter()
            .map(|c| (c.id.as_str(), c.label.as_str()))
            .collect();
        Radios::new(
            "template_id",
            "Which message?",
            &options,
            Some(chosen),
            errors,
        )
    }
}

#[derive(Template)]
#[template(path = "staff_message_personalise.html")]
pub struct PersonalisePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub name: String,
    pub record_href: String,
    pub template_name: String,
    pub fields: Vec<Field>,
}

/// The boxes for `names`, filled with `values` and their errors.
pub fn placeholder_fields(
    names: &[String],
    values: &BTreeMap<String, String>,
    errors: &Errors,
) -> Vec<Field> {
    names
        .iter()
        .map(|name| {
            let id = placeholder_id(name);
            Field::text(&id, name).filled(values.get(name).map_or("", String::as_str), errors)
        })
        .collect()
}

/// The consent decision a send will get (`GET /api/consents/decision`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDecision {
    pub permitted: bool,
    pub explanation: String,
}

impl ConsentDecision {
    pub fn from_api(decision: &Value) -> Self {
        let purpose = decision["purpose"]
            .as_str()
            .unwrap_or_default()
            .replace('-', " ");
        let channel = channel_name(decision["channel"].as_str().unwrap_or_default()).to_string();
        let reason = decision["reason"].as_str().unwrap_or_default();
        let explanation = match reason {
            "consent-given" => format!("They have given consent to {purpose} by {channel}."),
            "no-consent" => format!("They have not given consent to {purpose} by {channel}."),
            "refused" => format!("They refused consent to {purpose} by {channel}."),
            "withdrawn" => format!("They withdrew their consent to {purpose} by {channel}."),
            "expired" => format!("Their consent to {purpose} by {channel} has expired."),
            "not-yet-valid" => {
                format!("Their consent to {purpose} by {channel} does not start yet.")
            }
            "suppressed" => format!("They asked not to be contacted by {channel}."),
            "unknown-purpose" => {
                format!("The message's purpose, {purpose}, is not in the consent catalogue.")
            }
            other => match other.strip_prefix("lawful-basis:") {
                Some(basis) => format!(
                    "No consent is needed: {purpose} rests on {}.",
                    basis.replace('-', " ")
                ),
                None => other.replace('-', " "),
            },
        };
        Self {
            permitted: decision["permitted"].as_bool().unwrap_or(false),
            explanation,
        }
    }
}

#[derive(Template)]
#[template(path = "staff_message_check.html")]
pub struct CheckMessagePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub name: String,
    pub record_href: String,
    pub template_name: String,
    pub channel: String,
    pub subject: Option<String>,
    pub body: String,
    pub decision: ConsentDecision,
}
