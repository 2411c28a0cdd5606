//! Notify's v2 error body:
//! `{"status_code": 400, "errors": [{"error": "BadRequestError", "message": "…"}]}`.

use crm_templates::{RenderError, TemplateType};
use serde::{Deserialize, Serialize};

use crate::api_key::KeyType;
use crate::jwt::AuthError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEntry {
    pub error: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NotifyError {
    pub status_code: u16,
    pub errors: Vec<ErrorEntry>,
    /// A 429's `Retry-After`, in seconds: a header, not part of the body.
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl NotifyError {
    fn one(status_code: u16, error: &str, message: impl Into<String>) -> Self {
        Self {
            status_code,
            errors: vec![ErrorEntry {
                error: error.to_string(),
                message: message.into(),
            }],
            retry_after_secs: None,
        }
    }

    /// 400 `BadRequestError`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::one(400, "BadRequestError", message)
    }

    /// 400 `ValidationError`, one per invalid field (Notify lists each).
    pub fn validation(messages: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            status_code: 400,
            retry_after_secs: None,
            errors: messages
                .into_iter()
                .map(|message| ErrorEntry {
                    error: "ValidationError".to_string(),
                    message: message.into(),
                })
                .collect(),
        }
    }

    /// 401 or 403 `AuthError`.
    pub fn auth(error: AuthError) -> Self {
        Self::one(error.status_code(), "AuthError", error.to_string())
    }

    /// 429 `RateLimitError`: over the per-interval request limit of a key
    /// type.
    pub fn rate_limit(key_type: KeyType, limit: u32, interval_secs: u32) -> Self {
        Self::one(
            429,
            "RateLimitError",
            format!(
                "Exceeded rate limit for key type {} of {limit} requests per {interval_secs} seconds",
                key_type.as_str().to_uppercase()
            ),
        )
    }

    /// 429 `TooManyRequestsError`: over the daily limit of a channel.
    pub fn too_many_requests(channel: TemplateType, limit: u64) -> Self {
        Self::one(
            429,
            "TooManyRequestsError",
            format!("Exceeded send limits ({channel}: {limit}) for today"),
        )
    }

    /// The same error, telling the client when to try again.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// 404 `NoResultFound`.
    pub fn not_found() -> Self {
        Self::one(404, "NoResultFound", "No result found")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("strings and numbers serialise")
    }
}

impl From<AuthError> for NotifyError {
    fn from(error: AuthError) -> Self {
        Self::auth(error)
    }
}

/// As Notify answers a template that cannot be sent with the request's
/// personalisation: address problems are validation errors, the rest bad
/// requests.
impl From<&RenderError> for NotifyError {
    fn from(error: &RenderError) -> Self {
        match error {
            RenderError::Address(address) => Self::validation([address.to_string()]),
            other => Self::bad_request(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_templates::AddressError;
    use serde_json::json;

    fn body(error: &NotifyError) -> serde_json::Value {
        serde_json::from_str(&error.to_json()).unwrap()
    }

    #[test]
    fn bodies_have_notify_field_names() {
        assert_eq!(
            body(&NotifyError::bad_request("Template not found")),
            json!({"status_code": 400, "errors": [{"error": "BadRequestError", "message": "Template not found"}]})
        );
        assert_eq!(
            body(&NotifyError::not_found()),
            json!({"status_code": 404, "errors": [{"error": "NoResultFound", "message": "No result found"}]})
        );
    }

    #[test]
    fn validation_lists_every_message() {
        let error = NotifyError::validation([
            "phone_number is a required property",
            "template_id is not a valid UUID",
        ]);
        assert_eq!(error.status_code, 400);
        assert_eq!(error.errors.len(), 2);
        assert!(error.errors.iter().all(|e| e.error == "ValidationError"));
    }

    #[test]
    fn auth_errors_keep_their_status() {
        assert_eq!(
            body(&AuthError::MissingToken.into()),
            json!({"status_code": 401, "errors": [{"error": "AuthError",
                "message": "Unauthorized: authentication token must be provided"}]})
        );
        assert_eq!(NotifyError::from(AuthError::KeyRevoked).status_code, 403);
    }

    #[test]
    fn limit_messages_are_notifys() {
        let error = NotifyError::rate_limit(KeyType::Live, 3000, 60);
        assert_eq!(error.status_code, 429);
        assert_eq!(error.errors[0].error, "RateLimitError");
        assert_eq!(
            error.errors[0].message,
            "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"
        );
        let error = NotifyError::too_many_requests(TemplateType::Sms, 250_000);
        assert_eq!(error.errors[0].error, "TooManyRequestsError");
        assert_eq!(
            error.errors[0].message,
            "Exceeded send limits (sms: 250000) for today"
        );
    }

    #[test]
    fn render_errors_map_as_notify_answers_them() {
        let missing = RenderError::MissingPersonalisation {
            names: vec!["name".into(), "ref".into()],
        };
        assert_eq!(
            body(&NotifyError::from(&missing)),
            json!({"status_code": 400, "errors": [{"error": "BadRequestError",
                "message": "Missing personalisation: name, ref"}]})
        );
        let address = RenderError::Address(AddressError::TooManyLines);
        assert_eq!(
            body(&NotifyError::from(&address)),
            json!({"status_code": 400, "errors": [{"error": "ValidationError",
                "message": "Address must be no more than 7 lines"}]})
        );
    }

    #[test]
    fn bodies_read_back() {
        let error = NotifyError::too_many_requests(TemplateType::Email, 5);
        let read: NotifyError = serde_json::from_str(&error.to_json()).unwrap();
        assert_eq!(read, error);
    }
}
