//! Recording an interaction with a contact: the channel, who started it,
//! what it was about, and how it ended, as `POST /api/interactions` takes
//! them. The form carries its own `Idempotency-Key`, so sending it twice
//! records it once.

use askama::Template;
use serde_json::{Map, Value, json};

use crate::patterns::{Chrome, Errors, Field, Radios, Select, posted};

pub const CHANNELS: &[(&str, &str)] = &[
    ("phone", "Phone"),
    ("counter", "At a counter"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("sms", "Text message"),
    ("portal", "The online portal"),
    ("video", "Video call"),
    ("social", "Social media"),
    ("field-visit", "Field visit"),
];

pub const DIRECTIONS: &[(&str, &str)] = &[
    ("inbound", "They contacted us"),
    ("outbound", "We contacted them"),
];

pub const OUTCOMES: &[(&str, &str)] = &[
    ("", "Not recorded"),
    ("resolved", "Resolved"),
    ("information-provided", "Information provided"),
    ("referred", "Referred"),
    ("follow-up-required", "Follow-up required"),
    ("escalated", "Escalated"),
    ("no-response", "No response"),
];

/// The form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InteractionForm {
    pub channel: String,
    pub direction: String,
    pub category: String,
    pub subject: String,
    pub notes: String,
    pub outcome: String,
    pub case_reference: String,
    /// The `Idempotency-Key` the form was drawn with.
    pub key: String,
}

impl InteractionForm {
    pub fn from_form(form: &[(String, String)]) -> Self {
        let value = |name: &str| posted(form, name).to_string();
        Self {
            channel: value("channel"),
            direction: value("direction"),
            category: value("category"),
            subject: value("subject"),
            notes: value("notes"),
            outcome: value("outcome"),
            case_reference: value("case_reference"),
            key: value("key"),
        }
    }

    /// The API's `NewInteraction` about `contact_id`: blank optional
    /// values are left out, the rest sent as typed for the API to check.
    pub fn to_body(&self, contact_id: &str) -> Value {
        let mut body = Map::new();
        body.insert("contact_id".into(), json!(contact_id));
        for (name, value, required) in [
            ("channel", &self.channel, true),
            ("direction", &self.direction, true),
            ("category", &self.category, true),
            ("subject", &self.subject, true),
            ("notes", &self.notes, false),
            ("outcome", &self.outcome, false),
            ("case_reference", &self.case_reference, false),
        ] {
            let value = value.trim();
            if required || !value.is_empty() {
                body.insert(name.into(), json!(value));
            }
        }
        Value::Object(body)
    }

    pub fn page(
        &self,
        chrome: Chrome,
        csrf: String,
        name: String,
        record_href: String,
        errors: Errors,
    ) -> InteractionPage {
        let text =
            |name: &str, label: &str, value: &str| Field::text(name, label).filled(value, &errors);
        InteractionPage {
            channel: Radios::new(
                "channel",
                "How did it happen?",
                CHANNELS,
                Some(self.channel.as_str()),
                &errors,
            ),
            direction: Radios::new(
                "direction",
                "Who started it?",
                DIRECTIONS,
                Some(self.direction.as_str()),
                &errors,
            ),
            category: text("category", "Category", &self.category).hint(
                "A short name for the kind of contact, for example enquiry or hardship-payment",
            ),
            subject: text("subject", "What was it about?", &self.subject),
            notes: text("notes", "Notes (optional)", &self.notes),
            outcome: Select::new("outcome", "Outcome", OUTCOMES, &self.outcome, &errors),
            case_reference: text(
                "case_reference",
                "Case reference (optional)",
                &self.case_reference,
            )
            .hint("For example, CAS-2026-000123"),
            key: self.key.clone(),
            chrome,
            csrf,
            name,
            record_href,
            errors,
        }
    }
}

/// The box an API refusal of `field` is about; unknown fields go to the
/// first box, named as the API names them.
pub fn refusal(field: &str, reason: &str) -> (String, String) {
    let (id, label) = match field {
        "channel" => ("channel", "Channel"),
        "direction" => ("direction", "Who started it"),
        "category" => ("category", "Category"),
        "subject" => ("subject", "What it was about"),
        "notes" => ("notes", "Notes"),
        "outcome" => ("outcome", "Outcome"),
        "case_reference" => ("case_reference", "Case reference"),
        other => ("channel", other),
    };
    (id.to_string(), format!("{label} {reason}"))
}

#[derive(Template)]
#[template(path = "staff_interaction.html")]
pub struct InteractionPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub name: String,
    pub record_href: String,
    pub key: String,
    pub channel: Radios,
    pub direction: Radios,
    pub category: Field,
    pub subject: Field,
    pub notes: Field,
    pub outcome: Select,
    pub case_reference: Field,
}
