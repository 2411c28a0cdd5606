//! The auditor's pages: the audit trail filtered (`GET /api/audit/entries`)
//! and the chain's verification (`GET /api/audit/verify`).

use askama::Template;
use crm_domain::{CalendarDate, days_from_civil, rfc3339_utc};
use serde_json::Value;

use crate::api::date_time;
use crate::patterns::{Chrome, DateInput, Errors, Field, Select};

const DAY_MS: i64 = 86_400_000;

pub const OUTCOMES: &[(&str, &str)] = &[
    ("", "Any outcome"),
    ("allowed", "Allowed"),
    ("denied", "Denied"),
    ("failed", "Failed"),
];

/// A day as typed in a date input's three boxes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypedDay {
    pub day: String,
    pub month: String,
    pub year: String,
}

impl TypedDay {
    fn is_blank(&self) -> bool {
        [&self.day, &self.month, &self.year]
            .iter()
            .all(|p| p.trim().is_empty())
    }

    /// The start of the day (UTC) in ms, `None` when blank.
    fn start_ms(&self) -> Result<Option<i64>, &'static str> {
        if self.is_blank() {
            return Ok(None);
        }
        let number = |p: &str| p.trim().parse::<u16>().ok();
        let date = match (number(&self.year), number(&self.month), number(&self.day)) {
            (Some(year), Some(month), Some(day)) if month <= 12 && day <= 31 => {
                CalendarDate::new(year, month as u8, day as u8).ok()
            }
            _ => None,
        }
        .ok_or("must be a real date, for example 27 3 2026")?;
        Ok(Some(
            days_from_civil(i64::from(date.year()), date.month(), date.day()) * DAY_MS,
        ))
    }
}

/// The trail's filters as chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilters {
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub subject_contact_id: String,
    pub outcome: String,
    pub since: TypedDay,
    pub until: TypedDay,
}

impl AuditFilters {
    pub fn from_query(pairs: &[(String, String)]) -> Self {
        let one = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map_or(String::new(), |(_, v)| v.trim().to_string())
        };
        let day = |prefix: &str| TypedDay {
            day: one(&format!("{prefix}-day")),
            month: one(&format!("{prefix}-month")),
            year: one(&format!("{prefix}-year")),
        };
        Self {
            actor: one("actor"),
            action: one("action"),
            resource: one("resource"),
            subject_contact_id: one("subject_contact_id"),
            outcome: one("outcome"),
            since: day("since"),
            until: day("until"),
        }
    }

    /// The API's query: `since` from the start of its day, `until` to the
    /// end of its (both UTC); or the date boxes' errors.
    pub fn api_query(&self) -> Result<Vec<(&'static str, String)>, Errors> {
        let mut query = Vec::new();
        for (name, value) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("resource", &self.resource),
            ("subject_contact_id", &self.subject_contact_id),
            ("outcome", &self.outcome),
        ] {
            if !value.is_empty() {
                query.push((name, value.clone()));
            }
        }
        let mut errors = Errors::default();
        match self.since.start_ms() {
            Ok(Some(ms)) => query.push(("since", ms.to_string())),
            Ok(None) => {}
            Err(reason) => errors.add("since-day", format!("From date {reason}")),
        }
        match self.until.start_ms() {
            Ok(Some(ms)) => query.push(("until", (ms + DAY_MS).to_string())),
            Ok(None) => {}
            Err(reason) => errors.add("until-day", format!("To date {reason}")),
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(errors)
        }
    }

    /// The filters as the page's query string pairs.
    pub fn page_query(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("resource", &self.resource),
            ("subject_contact_id", &self.subject_contact_id),
            ("outcome", &self.outcome),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        for (prefix, day) in [("since", &self.since), ("until", &self.until)] {
            if !day.is_blank() {
                pairs.push((format!("{prefix}-day"), day.day.clone()));
                pairs.push((format!("{prefix}-month"), day.month.clone()));
                pairs.push((format!("{prefix}-year"), day.year.clone()));
            }
        }
        pairs
    }

    pub fn any(&self) -> bool {
        *self != Self::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    pub sequence: i64,
    pub when: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub resource: String,
    pub outcome: String,
    pub tag: &'static str,
    pub purpose: String,
    pub detail: String,
}

/// `GET /api/audit/entries`'s `entries` as lines.
pub fn audit_lines(page: &Value) -> Vec<AuditLine> {
    page["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |name: &str| e[name].as_str().unwrap_or_default().to_string();
            let outcome = text("outcome");
            AuditLine {
                sequence: e["sequence"].as_i64().unwrap_or_default(),
                when: e["recorded_at"]
                    .as_i64()
                    .map_or(String::new(), |ms| date_time(&rfc3339_utc(ms))),
                actor: text("actor_id"),
                role: text("role"),
                action: text("action"),
                resource: text("resource"),
                tag: match outcome.as_str() {
                    "allowed" => "govuk-tag--green",
                    "denied" => "govuk-tag--red",
                    _ => "govuk-tag--orange",
                },
                outcome,
                purpose: text("purpose"),
                detail: text("detail"),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "staff_audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub actor: Field,
    pub action: Field,
    pub resource: Field,
    pub subject_contact_id: Field,
    pub outcome: Select,
    pub since: DateInput,
    pub until: DateInput,
    pub filtered: bool,
    pub entries: Vec<AuditLine>,
    pub first_href: Option<String>,
    pub next_href: Option<String>,
    pub can_verify: bool,
}

/// Where a page of the trail leads: back to its first page, on to its next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    pub first_href: Option<String>,
    pub next_href: Option<String>,
}

impl AuditPage {
    /// The trail's page: the filter boxes filled with `filters` and their
    /// errors, and the entries found.
    pub fn new(
        chrome: Chrome,
        filters: &AuditFilters,
        errors: Errors,
        entries: Vec<AuditLine>,
        paging: Paging,
        can_verify: bool,
    ) -> Self {
        let text =
            |name: &str, label: &str, value: &str| Field::text(name, label).filled(value, &errors);
        let date = |id: &'static str, legend: &'static str, typed: &TypedDay| DateInput {
            id,
            legend,
            hint: "For example, 27 3 2026",
            day: typed.day.clone(),
            month: typed.month.clone(),
            year: typed.year.clone(),
            error: errors.for_field(&format!("{id}-day")),
        };
        Self {
            actor: text("actor", "Who", &filters.actor).hint("For example, staff:alice"),
            action: text("action", "Action", &filters.action).hint("For example, contact.read"),
            resource: text("resource", "Record", &filters.resource)
                .hint("For example, contact/con_1"),
            subject_contact_id: text(
                "subject_contact_id",
                "About the contact",
                &filters.subject_contact_id,
            ),
            outcome: Select::new("outcome", "Outcome", OUTCOMES, &filters.outcome, &errors),
            since: date("since", "From (UTC)", &filters.since),
            until: date("until", "To (UTC)", &filters.until),
            filtered: filters.any(),
            entries,
            first_href: paging.first_href,
            next_href: paging.next_href,
            can_verify,
            chrome,
            errors,
        }
    }
}

#[derive(Template)]
#[template(path = "staff_audit_verify.html")]
pub struct VerifyPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub valid: bool,
    pub entries: i64,
    pub head_hash: String,
    pub first_broken: Option<i64>,
    pub reason: Option<String>,
    pub checkpoints: i64,
    pub signatures_checked: bool,
    pub failures: Vec<String>,
}

impl VerifyPage {
    /// `GET /api/audit/verify`'s verdict.
    pub fn new(chrome: Chrome, verdict: &Value) -> Self {
        Self {
            chrome,
            errors: Errors::default(),
            valid: verdict["valid"].as_bool().unwrap_or(false),
            entries: verdict["entries"].as_i64().unwrap_or_default(),
            head_hash: verdict["head_hash"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            first_broken: verdict["first_broken_sequence"].as_i64(),
            reason: verdict["reason"].as_str().map(str::to_string),
            checkpoints: verdict["checkpoints"]["count"].as_i64().unwrap_or_default(),
            signatures_checked: verdict["checkpoints"]["signatures_checked"] == true,
            failures: verdict["checkpoints"]["failures"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    format!(
                        "Checkpoint {} (of {} entries): {}",
                        f["checkpoint"],
                        f["size"],
                        f["reason"].as_str().unwrap_or_default()
                    )
                })
                .collect(),
        }
    }
}
