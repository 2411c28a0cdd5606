//! The fields of a contact as JSON: what a caller sends, and (normalised)
//! what is stored and returned. One shape serves both, so a stored record
//! can be corrected by merging changes into it and validating the result.

use serde::{Deserialize, Serialize};

/// Every field of a contact record. Unknown members are refused.
///
/// As input every member is optional; [`crate::validate`] says which are
/// required. As stored and returned, values are normalised (E.164 phones,
/// canonical language tags, 11-digit ABNs, ...) and `display_name` is always
/// present (derived from the names when not given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactFields {
    pub archetype: Option<String>,
    /// How the contact is addressed in lists and letters.
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub preferred_name: Option<String>,
    /// Businesses, government bodies and partners.
    pub organisation_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// Input shorthand for a single email address; never stored or returned.
    #[serde(default, skip_serializing)]
    pub email: Option<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    pub postal_address: Option<AddressFields>,
    pub residential_address: Option<AddressFields>,
    /// `portal`, `email`, `sms`, `letter` or `phone`.
    pub preferred_channel: Option<String>,
    /// BCP 47 language tag.
    pub language: Option<String>,
    pub accessibility_needs: Option<AccessibilityFields>,
    /// ABN, ACN and agency identifiers.
    #[serde(default)]
    pub identifiers: Vec<IdentifierFields>,
    #[serde(default)]
    pub relationships: Vec<RelationshipFields>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
}

/// An address: Australian addresses need `state` and `postcode`; overseas
/// ones (`country` other than `AU`) may give a region in `state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressFields {
    #[serde(default)]
    pub lines: Vec<String>,
    #[serde(default)]
    pub locality: String,
    pub state: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2; `AU` when absent.
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessibilityFields {
    /// The language a spoken-language interpreter is needed for.
    pub interpreter: Option<String>,
    #[serde(default)]
    pub large_print: bool,
    /// Calls through TTY or the National Relay Service.
    #[serde(default)]
    pub tty: bool,
    /// An Auslan interpreter.
    #[serde(default)]
    pub auslan: bool,
    /// Anything else, in the contact's words.
    pub other: Option<String>,
}

/// `abn`, `acn`, or an agency's scheme such as `medicare` or `crn`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierFields {
    pub scheme: String,
    pub value: String,
}

/// "This contact is `kind` of `contact_id`".
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationshipFields {
    pub kind: String,
    pub contact_id: String,
}

/// The names of the fields, in the order errors and provenance list them.
pub const FIELD_NAMES: [&str; 19] = [
    "archetype",
    "display_name",
    "given_name",
    "family_name",
    "preferred_name",
    "organisation_name",
    "date_of_birth",
    "emails",
    "phones",
    "postal_address",
    "residential_address",
    "preferred_channel",
    "language",
    "accessibility_needs",
    "identifiers",
    "relationships",
    "tags",
    "categories",
    // Input only, folded into `emails`.
    "email",
];

impl ContactFields {
    /// The fields as a JSON object (every member present, `null` or `[]`
    /// when empty).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => unreachable!("a struct of strings and lists serialises to an object"),
        }
    }

    /// Which fields hold a value (names from [`FIELD_NAMES`]).
    pub fn present(&self) -> Vec<&'static str> {
        let json = self.to_json();
        FIELD_NAMES
            .iter()
            .copied()
            .filter(|name| json.get(*name).is_some_and(has_value))
            .collect()
    }
}

/// Whether a JSON value holds something: not null, not an empty list.
pub fn has_value(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_members_are_refused_and_the_shorthand_is_not_returned() {
        let err =
            serde_json::from_str::<ContactFields>(r#"{"archetype":"individual","shoe_size":9}"#)
                .unwrap_err();
        assert!(err.to_string().contains("shoe_size"), "{err}");
        let fields: ContactFields =
            serde_json::from_str(r#"{"archetype":"individual","email":"a@b.au"}"#).unwrap();
        assert_eq!(fields.email.as_deref(), Some("a@b.au"));
        let json = fields.to_json();
        assert!(!json.contains_key("email"));
        assert_eq!(json["emails"], serde_json::json!([]));
        assert_eq!(json["date_of_birth"], serde_json::Value::Null);
        // The shorthand is folded into `emails` on validation.
        assert_eq!(fields.present(), ["archetype"]);
    }
}
