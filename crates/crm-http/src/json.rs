//! Reading a JSON request body: only a body labelled JSON (else 415), and a
//! value of the wrong shape is refused naming its path (`emails[1]`,
//! `postal_address.postcode`), as validation errors name fields.

use serde::de::DeserializeOwned;

use thiserror::Error;

use crate::{FieldError, Problem};

/// Whether `content_type` labels JSON: `application/json` or a structured
/// syntax suffix (`application/merge-patch+json`, RFC 6839), in any case,
/// with parameters; a charset, if given, must be UTF-8 (RFC 8259 §8.1).
pub fn is_json_media_type(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.len() > "+json".len() && subtype.ends_with("+json"));
    json && parts.all(|parameter| {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        !name.trim().eq_ignore_ascii_case("charset")
            || value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
    })
}

/// Why a JSON body was refused; each becomes a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BodyError {
    /// 415: the body is labelled otherwise (or not at all).
    #[error("the body must be sent as application/json, not {0}")]
    NotJson(String),
    /// 400: not JSON, or not the kind of value the operation reads; no
    /// field to name.
    #[error("{0}")]
    Malformed(String),
    /// 400: a value of the wrong shape at `field`.
    #[error("{field}: {reason}")]
    Shape { field: String, reason: String },
}

impl From<BodyError> for Problem {
    fn from(error: BodyError) -> Self {
        let detail = error.to_string();
        match error {
            BodyError::NotJson(_) => Problem::unsupported_media_type(detail),
            BodyError::Malformed(_) => Problem::invalid_json(detail),
            BodyError::Shape { field, reason } => {
                let mut problem = Problem::invalid_json(detail);
                problem.errors = vec![FieldError::new(&field, reason)];
                problem
            }
        }
    }
}

/// Refuses a body whose `content_type` does not label JSON.
pub fn require_json(content_type: Option<&str>) -> Result<(), BodyError> {
    match content_type {
        Some(given) if is_json_media_type(given) => Ok(()),
        Some(given) => Err(BodyError::NotJson(format!("`{given}`"))),
        None => Err(BodyError::NotJson("without a content-type".into())),
    }
}

/// A body labelled `content_type` as `T`.
pub fn parse_body<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, BodyError> {
    require_json(content_type)?;
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| refusal("", e))?;
    json.end()
        .map_err(|e| BodyError::Malformed(e.to_string()))?;
    Ok(value)
}

/// A member `at` (a path such as `collection`, or "" for a whole body)
/// already read as JSON, as `T`.
pub fn from_value<T: DeserializeOwned>(at: &str, value: serde_json::Value) -> Result<T, BodyError> {
    serde_path_to_error::deserialize(value).map_err(|e| refusal(at, e))
}

/// A body that is not JSON, or not of `T`'s shape: the latter names the
/// path that failed under `prefix`.
fn refusal(prefix: &str, error: serde_path_to_error::Error<serde_json::Error>) -> BodyError {
    let reason = error.inner().to_string();
    if error.inner().is_syntax() || error.inner().is_eof() {
        return BodyError::Malformed(reason);
    }
    let mut path = error.path().to_string();
    if path == "." {
        path.clear();
    }
    let field = join(prefix, &path);
    if field.is_empty() {
        return BodyError::Malformed(reason);
    }
    BodyError::Shape {
        field,
        reason: strip_position(&reason),
    }
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (_, true) => prefix.to_string(),
        (true, false) => path.to_string(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// serde_json's reasons end with where in the text they arose, which means
/// nothing to a caller once the field is named.
fn strip_position(reason: &str) -> String {
    match reason.rsplit_once(" at line ") {
        Some((reason, position)) if position.contains(" column ") => reason.to_string(),
        _ => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Address {
        postcode: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Contact {
        #[serde(default)]
        emails: Vec<String>,
        postal_address: Option<Address>,
    }

    fn refused(body: &str) -> Problem {
        parse_body::<Contact>(Some("application/json"), body.as_bytes())
            .unwrap_err()
            .into()
    }

    fn fields(problem: &Problem) -> Vec<&str> {
        problem.errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn json_media_types() {
        for json in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "application/merge-patch+json",
            "application/problem+json",
        ] {
            assert!(is_json_media_type(json), "{json}");
        }
        for other in [
            "text/plain",
            "text/json",
            "application/x-www-form-urlencoded",
            "application/json; charset=iso-8859-1",
            "application/+json",
            "application/jsonp",
            "",
        ] {
            assert!(!is_json_media_type(other), "{other}");
        }
    }

    #[test]
    fn a_body_not_labelled_json_is_415() {
        for content_type in [Some("text/plain"), None] {
            let problem = Problem::from(parse_body::<Contact>(content_type, b"{}").unwrap_err());
            assert_eq!(problem.status, 415);
            assert_eq!(
                problem.kind,
                "https://crm.gov.au/problems/unsupported-media-type"
            );
        }
        assert!(parse_body::<Contact>(Some("application/json"), b"{}").is_ok());
    }

    #[test]
    fn a_body_of_the_right_shape_is_read() {
        let contact: Contact = parse_body(
            Some("application/json"),
            br#"{"emails": ["a@b.au"], "postal_address": {"postcode": "2600"}}"#,
        )
        .unwrap();
        assert_eq!(contact.emails, ["a@b.au"]);
        assert_eq!(contact.postal_address.unwrap().postcode.unwrap(), "2600");
    }

    #[test]
    fn shape_errors_name_their_path() {
        let problem = refused(r#"{"emails": ["a@b.au", {"x": 1}]}"#);
        assert_eq!(problem.status, 400);
        assert_eq!(problem.kind, "https://crm.gov.au/problems/invalid-json");
        assert_eq!(fields(&problem), ["emails[1]"]);
        assert_eq!(
            problem.errors[0].reason,
            "invalid type: map, expected a string"
        );
        assert_eq!(
            fields(&refused(r#"{"postal_address": {"postcode": 2600}}"#)),
            ["postal_address.postcode"]
        );
        assert_eq!(
            fields(&refused(r#"{"postal_address": {"shoe": 1}}"#)),
            ["postal_address.shoe"]
        );
        assert_eq!(fields(&refused(r#"{"shoe": 1}"#)), ["shoe"]);
        // Syntax errors and a body of the wrong kind name no field.
        assert!(refused("{not json").errors.is_empty());
        assert!(refused("[]").errors.is_empty());
        assert!(refused("{} {}").errors.is_empty());
    }

    #[test]
    fn members_read_apart_keep_their_names() {
        let value = serde_json::json!({"postcode": ["2600"]});
        let problem = Problem::from(from_value::<Address>("postal_address", value).unwrap_err());
        assert_eq!(fields(&problem), ["postal_address.postcode"]);
        let problem =
            Problem::from(from_value::<Vec<String>>("emails", serde_json::json!([1])).unwrap_err());
        assert_eq!(fields(&problem), ["emails[0]"]);
    }
}
