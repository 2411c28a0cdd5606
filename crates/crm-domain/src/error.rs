//! Refusals: one reason for one value, or the reasons for several named fields.

use serde::Serialize;
use thiserror::Error;

/// Why a value was refused; the text is shown to the caller per field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct Invalid(pub String);

pub(crate) fn invalid(reason: impl Into<String>) -> Invalid {
    Invalid(reason.into())
}

/// One field that failed its check, and why; `field` is a path such as
/// `postcode`, `postal_address.lines[1]` or `collection.call_reference`.
/// Problem bodies list these as they serialise.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

/// Every refused field of a composite value, so a form can show them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records `result`'s refusal under `field`; the value if it passed.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        result
            .map_err(|Invalid(reason)| self.0.push(FieldError::new(field, reason)))
            .ok()
    }

    /// As [`check`](Self::check) for a value that may be absent: `Some(None)`
    /// when it is, `None` when it is present and refused.
    pub fn check_optional<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        self.check(field, raw.map(parse).transpose())
    }

    /// Records a composite's refusals with their field names under `prefix`.
    pub fn check_nested<T>(&mut self, prefix: &str, result: Result<T, FieldErrors>) -> Option<T> {
        result
            .map_err(|errors| {
                self.0.extend(errors.0.into_iter().map(|error| FieldError {
                    field: format!("{prefix}.{}", error.field),
                    reason: error.reason,
                }))
            })
            .ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields_are_prefixed() {
        let mut inner = FieldErrors::default();
        assert_eq!(inner.check("postcode", Ok::<_, Invalid>(2600)), Some(2600));
        assert!(inner.is_empty());
        assert_eq!(
            inner.check::<u16>("postcode", Err(invalid("must be 4 digits"))),
            None
        );
        let mut outer = FieldErrors::default();
        assert_eq!(outer.check_nested::<()>("postal_address", Err(inner)), None);
        assert_eq!(outer.0[0].field, "postal_address.postcode");
        assert_eq!(
            outer.to_string(),
            "postal_address.postcode: must be 4 digits"
        );
        outer.check::<()>("email", Err(invalid("must contain @")));
        assert_eq!(
            outer.to_string(),
            "postal_address.postcode: must be 4 digits; email: must contain @"
        );
    }
}
