//! A new contact, "tell us once": the details, then the people the API
//! says they may already be (with its reasons), where the officer uses one
//! of them or says why this is someone else, then the answers to check,
//! then the record. The steps' state is a [`NewContactDraft`].

use askama::Template;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::patterns::{Chrome, Errors, Field, SummaryRow};
use crate::staff::details::{ContactDetails, ContactForm};

/// What the officer has given so far, kept between the steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewContactDraft {
    pub details: ContactDetails,
    /// The API's candidates (`/api/contacts/match`, or a 409's), as given.
    pub candidates: Value,
    /// Why this is not one of the candidates, once the officer said.
    pub duplicate_reason: Option<String>,
    /// The intake's `Idempotency-Key`: a form sent twice makes one record.
    pub idempotency_key: String,
}

impl NewContactDraft {
    pub fn has_candidates(&self) -> bool {
        self.candidates.as_array().is_some_and(|c| !c.is_empty())
    }

    /// Whether `contact_id` is one of the candidates shown.
    pub fn is_candidate(&self, contact_id: &str) -> bool {
        self.candidates
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["contact_id"] == contact_id)
    }
}

#[derive(Template)]
#[template(path = "staff_new_contact.html")]
pub struct NewContactPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub form: ContactForm,
}

/// A possible duplicate, as the API disclosed it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateLine {
    pub contact_id: String,
    /// `None` for a role the API does not name candidates to.
    pub name: Option<String>,
    pub href: String,
    pub reasons: Vec<String>,
    /// "Certain" for a shared identifier, else how close, as a percentage.
    pub strength: String,
}

#[derive(Template)]
#[template(path = "staff_duplicates.html")]
pub struct DuplicatesPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub candidates: Vec<CandidateLine>,
    pub reason: Field,
}

#[derive(Template)]
#[template(path = "staff_check_contact.html")]
pub struct CheckContactPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub rows: Vec<SummaryRow>,
    pub duplicate_reason: Option<String>,
}

/// The API's candidates as lines.
pub fn candidate_lines(candidates: &Value) -> Vec<CandidateLine> {
    candidates
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let id = c["contact_id"].as_str().unwrap_or_default().to_string();
            let score = c["score"].as_f64().unwrap_or_default();
            CandidateLine {
                href: format!("/staff/contacts/{id}"),
                name: c["display_name"].as_str().map(str::to_string),
                reasons: c["reasons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(reason)
                    .collect(),
                strength: if score >= 1.0 {
                    "Certain: they share an identifier".to_string()
                } else {
                    format!("{:.0}% alike", score * 100.0)
                },
                contact_id: id,
            }
        })
        .collect()
}

/// One of the API's match reasons (`{"rule": "similar-name", ...}`) in words.
pub fn reason(reason: &Value) -> String {
    let percent = |name: &str| {
        reason[name]
            .as_f64()
            .map_or(String::new(), |s| format!(" ({:.0}% alike)", s * 100.0))
    };
    match reason["rule"].as_str().unwrap_or_default() {
        "same-email" => "Same email address".to_string(),
        "same-phone" => "Same phone number".to_string(),
        "same-abn" => "Same ABN".to_string(),
        "same-acn" => "Same ACN".to_string(),
        "same-identifier" => format!(
            "Same {} number",
            reason["scheme"].as_str().unwrap_or("agency")
        ),
        "similar-name" => format!("Similar name{}", percent("similarity")),
        "swapped-names" => "Same names, given and family swapped".to_string(),
        "phonetic-name" => "Names that sound alike".to_string(),
        "similar-organisation-name" => {
            format!("Similar organisation name{}", percent("similarity"))
        }
        "same-date-of-birth" => "Same date of birth".to_string(),
        "near-date-of-birth" => match reason["difference"].as_str() {
            Some("day-month-swapped") => "Date of birth with the day and month swapped".to_string(),
            _ => "Date of birth one digit apart".to_string(),
        },
        "different-date-of-birth" => "A different date of birth".to_string(),
        "same-postcode" => "Same postcode".to_string(),
        other => other.replace('-', " "),
    }
}
