//! HTTP plumbing shared by every component, in plain Rust so it is tested
//! natively: each component's route table ([`routes`]) and RFC 9457 problem
//! bodies ([`Problem`]).

pub mod routes;

use serde::Serialize;

/// The base of every problem `type` URI; the suffix is a stable kind.
pub const PROBLEM_BASE: &str = "https://crm.gov.au/problems/";

/// One field that failed validation, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// An `application/problem+json` body (RFC 9457).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    fn new(kind: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("{PROBLEM_BASE}{kind}"),
            title: title.to_string(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A validation failure: 400 with the fields that failed.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.reason))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors,
            ..Self::new("validation", "Invalid request", 400, detail)
        }
    }

    pub fn invalid_json(detail: impl Into<String>) -> Self {
        Self::new("invalid-json", "Malformed JSON body", 400, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new("not-found", "Not found", 404, detail)
    }

    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new("method-not-allowed", "Method not allowed", 405, detail)
    }

    /// The request was valid but a rule refused it (for example no consent).
    pub fn refused(kind: &str, detail: impl Into<String>) -> Self {
        Self::new(kind, "Request refused", 400, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new("internal", "Internal error", 500, detail)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("problems serialise")
    }
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problems_name_each_field() {
        let p = Problem::validation(vec![FieldError::new("email", "must contain @")]);
        let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(json["type"], "https://crm.gov.au/problems/validation");
        assert_eq!(json["status"], 400);
        assert_eq!(json["errors"][0]["field"], "email");
        assert!(
            json["detail"]
                .as_str()
                .unwrap()
                .contains("email: must contain @")
        );
    }
}
