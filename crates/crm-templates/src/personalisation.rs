//! The values a caller supplies for a template's placeholders.

use std::collections::HashMap;

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

/// Why a JSON personalisation object was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PersonalisationError {
    #[error("personalisation must be a JSON object")]
    NotAnObject,
    #[error("personalisation {key} must be a string, number, boolean or list of those")]
    UnsupportedValue { key: String },
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
