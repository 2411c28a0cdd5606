//! The values a caller supplies for a template's placeholders.

use std::collections::HashMap;

use crm_domain::{Invalid, Lines, check_text};
use thiserror::Error;

use crate::field::lookup_key;

/// One personalisation value: text (numbers and booleans arrive as their
/// JSON spelling) or a list, which renders as bullets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    List(Vec<String>),
}

impl Value {
    /// Notify's truthiness for `((flag??text))`: yes, y, true, t, 1, include
    /// or show, in any case. A list is never truthy.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Text(text) => matches!(
                text.trim().to_lowercase().as_str(),
                "yes" | "y" | "true" | "t" | "1" | "include" | "show"
            ),
            Value::List(_) => false,
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_string())
    }
}

/// The most characters one value (or one list's items together) may hold.
pub const MAX_VALUE_CHARS: usize = 10_000;
/// The most characters all values together may hold.
pub const MAX_TOTAL_CHARS: usize = 100_000;
/// The longest placeholder name.
pub const MAX_KEY_CHARS: usize = 100;

/// Why a JSON personalisation object was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PersonalisationError {
    #[error("personalisation must be a JSON object")]
    NotAnObject,
    #[error("personalisation {key} must be a string, number, boolean or list of those")]
    UnsupportedValue { key: String },
    /// A name or value over its bound, or holding a control character.
    #[error("personalisation {key} {reason}")]
    Invalid { key: String, reason: String },
    #[error("personalisation must be at most {MAX_TOTAL_CHARS} characters in all")]
    TooLarge,
}

impl PersonalisationError {
    /// The field path that failed: `personalisation` or `personalisation.<key>`.
    pub fn field(&self) -> String {
        match self {
            Self::NotAnObject | Self::TooLarge => "personalisation".into(),
            Self::UnsupportedValue { key } | Self::Invalid { key, .. } => {
                format!("personalisation.{key}")
            }
        }
    }

    /// Why, without the field's name.
    pub fn reason(&self) -> String {
        match self {
            Self::NotAnObject => "must be a JSON object".into(),
            Self::UnsupportedValue { .. } => {
                "must be a string, number, boolean or list of those".into()
            }
            Self::Invalid { reason, .. } => reason.clone(),
            Self::TooLarge => format!("must be at most {MAX_TOTAL_CHARS} characters in all"),
        }
    }
}

/// Checks one value's text (a list's items as one) against [`check_text`]:
/// a value may run over several lines.
fn check_value(key: &str, texts: &[&str]) -> Result<usize, PersonalisationError> {
    let refused = |Invalid(reason)| PersonalisationError::Invalid {
        key: key.to_string(),
        reason,
    };
    check_text(key, MAX_KEY_CHARS, Lines::One).map_err(|Invalid(reason)| {
        PersonalisationError::Invalid {
            key: key.to_string(),
            reason: format!("(the name) {reason}"),
        }
    })?;
    let mut chars = 0;
    for text in texts {
        check_text(text, MAX_VALUE_CHARS, Lines::Many).map_err(refused)?;
        chars += text.chars().count();
    }
    if chars > MAX_VALUE_CHARS {
        return Err(refused(Invalid(format!(
            "must be at most {MAX_VALUE_CHARS} characters"
        ))));
    }
    Ok(chars)
}

/// Placeholder values keyed by their lookup form, so any spelling of a
/// name that Notify treats as the same finds the value. When two keys
/// collide the later one wins, as in Notify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Personalisation {
    values: HashMap<String, Value>,
}

impl Personalisation {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.insert(name, value.into());
        self
    }

    pub fn insert(&mut self, name: &str, value: Value) {
        let value = match value {
            // Notify drops blank items and trims the rest.
            Value::List(items) => Value::List(
                items
                    .iter()
                    .map(|item| item.trim())
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            text => text,
        };
        self.values.insert(lookup_key(name), value);
    }

    pub(crate) fn get_key(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// Reads a JSON object as Notify's `personalisation`. `null` (the whole
    /// object or one value) means "not supplied"; nulls inside lists are
    /// dropped.
    pub fn from_json(json: &serde_json::Value) -> Result<Self, PersonalisationError> {
        let object = match json {
            serde_json::Value::Null => return Ok(Self::new()),
            serde_json::Value::Object(object) => object,
            _ => return Err(PersonalisationError::NotAnObject),
        };
        let mut personalisation = Self::new();
        let mut total = 0;
        for (key, value) in object {
            let unsupported = || PersonalisationError::UnsupportedValue { key: key.clone() };
            let value = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::Array(items) => Value::List(
                    items
                        .iter()
                        .filter(|item| !item.is_null())
                        .map(|item| scalar_text(item).ok_or_else(unsupported))
                        .collect::<Result<_, _>>()?,
                ),
                scalar => Value::Text(scalar_text(scalar).ok_or_else(unsupported)?),
            };
            total += match &value {
                Value::Text(text) => check_value(key, &[text])?,
                Value::List(items) => {
                    check_value(key, &items.iter().map(String::as_str).collect::<Vec<_>>())?
                }
            };
            if total > MAX_TOTAL_CHARS {
                return Err(PersonalisationError::TooLarge);
            }
            personalisation.insert(key, value);
        }
        Ok(personalisation)
    }
}

fn scalar_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthy_values_follow_notify() {
        for yes in ["yes", "Y", "TRUE", "t", "1", "Include", "show", " yes "] {
            assert!(Value::from(yes).is_truthy(), "{yes}");
        }
        for no in ["no", "0", "false", "", "shown", "2"] {
            assert!(!Value::from(no).is_truthy(), "{no}");
        }
        assert!(!Value::List(vec!["yes".into()]).is_truthy());
    }

    #[test]
    fn lookups_ignore_spelling_differences() {
        let p = Personalisation::new().with("First Name", "Ann");
        assert_eq!(p.get_key("firstname"), Some(&Value::from("Ann")));
    }

    #[test]
    fn later_key_wins_when_spellings_collide() {
        let p = Personalisation::new()
            .with("first_name", "Ann")
            .with("First Name", "Bo");
        assert_eq!(p.get_key("firstname"), Some(&Value::from("Bo")));
    }

    #[test]
    fn lists_are_trimmed_and_blank_items_dropped() {
        let mut p = Personalisation::new();
        p.insert(
            "items",
            Value::List(vec![" a ".into(), "".into(), "  ".into(), "b".into()]),
        );
        assert_eq!(
            p.get_key("items"),
            Some(&Value::List(vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn reads_json_scalars_lists_and_nulls() {
        let p = Personalisation::from_json(&json!({
            "name": "Ann", "count": 3, "price": 1.5, "flag": true,
            "gone": null, "items": ["x", 2, null, false]
        }))
        .unwrap();
        assert_eq!(p.get_key("name"), Some(&Value::from("Ann")));
        assert_eq!(p.get_key("count"), Some(&Value::from("3")));
        assert_eq!(p.get_key("price"), Some(&Value::from("1.5")));
        assert_eq!(p.get_key("flag"), Some(&Value::from("true")));
        assert_eq!(p.get_key("gone"), None);
        assert_eq!(
            p.get_key("items"),
            Some(&Value::List(vec!["x".into(), "2".into(), "false".into()]))
        );
        assert_eq!(
            Personalisation::from_json(&json!(null)).unwrap(),
            Personalisation::new()
        );
    }

    #[test]
    fn values_are_bounded_and_free_of_control_characters() {
        let long = "x".repeat(MAX_VALUE_CHARS + 1);
        let refused = |value: serde_json::Value| Personalisation::from_json(&value).unwrap_err();
        let error = refused(json!({"name": long}));
        assert_eq!(error.field(), "personalisation.name");
        assert_eq!(error.reason(), "must be at most 10000 characters");
        let half = "x".repeat(MAX_VALUE_CHARS / 2 + 1);
        assert_eq!(
            refused(json!({"items": [half, half]})).field(),
            "personalisation.items"
        );
        let error = refused(json!({"name": "An\u{0}n"}));
        assert_eq!(error.field(), "personalisation.name");
        assert_eq!(
            error.reason(),
            "must not contain the control character U+0000"
        );
        assert_eq!(
            refused(json!({"na\u{7}me": "Ann"})).field(),
            "personalisation.na\u{7}me"
        );
        let many: serde_json::Map<_, _> = (0..11)
            .map(|i| (format!("k{i}"), json!("v".repeat(MAX_VALUE_CHARS))))
            .collect();
        let error = refused(serde_json::Value::Object(many));
        assert_eq!(error, PersonalisationError::TooLarge);
        assert_eq!(error.field(), "personalisation");
        // Lines and tabs are what a multi-line value is made of.
        let p = Personalisation::from_json(&json!({"address": "1 Test St\n\tCanberra"})).unwrap();
        assert_eq!(
            p.get_key("address"),
            Some(&Value::from("1 Test St\n\tCanberra"))
        );
    }

    #[test]
    fn refuses_other_json_shapes() {
        assert_eq!(
            Personalisation::from_json(&json!(["a"])),
            Err(PersonalisationError::NotAnObject)
        );
        for bad in [
            json!({"a": {"b": 1}}),
            json!({"a": [[1]]}),
            json!({"a": [{"file": "x"}]}),
        ] {
            assert_eq!(
                Personalisation::from_json(&bad),
                Err(PersonalisationError::UnsupportedValue { key: "a".into() })
            );
        }
    }
}
