//! HTTP plumbing shared by every component, in plain Rust so it is tested
//! natively: each component's route table ([`routes`]) and RFC 9457 problem
//! bodies ([`Problem`]).

mod idempotency;
pub mod json;
pub mod routes;

use serde::Serialize;

pub use idempotency::{IdempotencyKey, InvalidIdempotencyKey, MAX_IDEMPOTENCY_KEY_LEN};

/// The base of every problem `type` URI; the suffix is a stable kind.
pub const PROBLEM_BASE: &str = "https://crm.gov.au/problems/";

/// The request header a POST names its idempotency key in.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// The response header that marks an answer to a retried request.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";

pub use crm_domain::FieldError;

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
    /// Extension members (RFC 9457 section 3.2), such as the candidates of a
    /// possible duplicate.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// Response headers that belong with the problem (`WWW-Authenticate`,
    /// `Retry-After`, `Allow`).
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
}

impl Problem {
    fn new(kind: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("{PROBLEM_BASE}{kind}"),
            title: title.to_string(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: serde_json::Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds an extension member.
    pub fn with_extension(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(name.to_string(), value);
        self
    }

    /// The same problem with another status code (413, 415, 428, ...).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same problem under another stable kind and title.
    pub fn with_kind(mut self, kind: &str, title: &str) -> Self {
        self.kind = format!("{PROBLEM_BASE}{kind}");
        self.title = title.to_string();
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// No valid credential: 401 (the caller adds `WWW-Authenticate`).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new("unauthorized", "Authentication required", 401, detail)
    }

    /// A valid caller without permission: 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new("forbidden", "Not permitted", 403, detail)
    }

    /// The resource changed or exists already: 409.
    pub fn conflict(kind: &str, detail: impl Into<String>) -> Self {
        Self::new(kind, "Conflict", 409, detail)
    }

    /// `If-Match` names a version that is no longer current: 412.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new("stale-version", "Precondition failed", 412, detail)
    }

    /// Too many requests: 429 with `Retry-After` in seconds.
    pub fn too_many_requests(kind: &str, detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(kind, "Too many requests", 429, detail)
            .with_header("retry-after", retry_after_secs.to_string())
    }

    /// A dependency (audit trail, identity provider) cannot be reached: 503.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new("unavailable", "Service unavailable", 503, detail)
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

    /// A body that is not of the media type the operation reads: 415.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            "unsupported-media-type",
            "Unsupported media type",
            415,
            detail,
        )
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

    /// An `Idempotency-Key` sent again with a different request.
    pub fn idempotency_key_reused() -> Self {
        Self::refused(
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different request; use a new key for a new request",
        )
        .with_kind("idempotency-key-reused", "Idempotency key reused")
        .with_status(422)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new("internal", "Internal error", 500, detail)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("problems serialise")
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
        let with = p.with_extension("candidates", serde_json::json!([1]));
        let json: serde_json::Value = serde_json::from_str(&with.to_json()).unwrap();
        assert_eq!(json["candidates"], serde_json::json!([1]));
        assert!(
            json["detail"]
                .as_str()
                .unwrap()
                .contains("email: must contain @")
        );
    }
}
