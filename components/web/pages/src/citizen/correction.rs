//! Ask for a correction (APP 13): the citizen says which detail we hold is
//! wrong and what it should be; the portal opens a `correction-request`
//! case about them, which staff decide and the citizen follows in my cases.

use askama::Template;
use serde_json::Value;

use crate::api::{CONTACT_FIELDS, value_lines};
use crate::patterns::{Chrome, Errors, Field, Radios};

/// The choice for a detail the record does not hold, or none of these.
pub const OTHER: (&str, &str) = ("other", "Something else");

#[derive(Template)]
#[template(path = "correction.html")]
pub struct CorrectionPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub item: Radios,
    pub correction: Field,
}

/// A detail the record holds, which the citizen may say is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub field: &'static str,
    pub label: &'static str,
    /// What we hold now, as its lines.
    pub held: Vec<String>,
}

/// The details the record (`GET /api/contacts/me`) holds, in the order my
/// details shows them.
pub fn details(record: &Value) -> Vec<Detail> {
    CONTACT_FIELDS
        .iter()
        .filter_map(|&(field, label)| {
            let held = value_lines(&record[field]);
            (!held.is_empty()).then_some(Detail { field, label, held })
        })
        .collect()
}

/// The radios' choices: each detail held, then [`OTHER`].
pub fn choices(details: &[Detail]) -> Vec<(&'static str, &'static str)> {
    details
        .iter()
        .map(|d| (d.field, d.label))
        .chain([OTHER])
        .collect()
}

/// The case the request becomes: its subject, and details that tell staff
/// what we hold and what the citizen says it should be.
pub fn case_text(detail: Option<&Detail>, should_be: &str) -> (String, String) {
    match detail {
        Some(d) => (
            format!("Correct my {}", d.label.to_lowercase()),
            format!(
                "Detail: {}\nWe hold: {}\nIt should be: {should_be}",
                d.label,
                d.held.join(", ")
            ),
        ),
        None => (
            "Correct my details".to_string(),
            format!("Detail: {}\nIt should be: {should_be}", OTHER.1),
        ),
    }
}
