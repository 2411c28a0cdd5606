//! Corrections and merges, both as a set of changed fields applied to a
//! stored contact: [`apply_changes`] merges the changes into the stored
//! fields (JSON merge-patch style, one level deep) for validation, and
//! [`fold`] says which of a duplicate's fields a survivor takes.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::contact::{Contact, derived_display_name};
use crate::fields::{ContactFields, FIELD_NAMES, has_value};

/// Why a set of changes cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChangeError {
    /// A member that is not a field: reported against `changes.<name>`.
    #[error("changes.{0}: is not a contact field")]
    UnknownField(String),
    /// A value of the wrong JSON type.
    #[error("changes: {0}")]
    Shape(String),
}

/// Fields a correction cannot name: the input-only shorthand.
const NOT_CORRECTABLE: [&str; 1] = ["email"];

/// `stored`'s fields with `changes` applied: each named field is replaced,
/// `null` clears it. A display name that was derived from the names is
/// derived again unless the changes set one.
pub fn apply_changes(
    stored: &Contact,
    changes: &Map<String, Value>,
) -> Result<ContactFields, ChangeError> {
    let mut merged = stored.to_fields().to_json();
    for (name, value) in changes {
        if !FIELD_NAMES.contains(&name.as_str()) || NOT_CORRECTABLE.contains(&name.as_str()) {
            return Err(ChangeError::UnknownField(name.clone()));
        }
        merged.insert(name.clone(), value.clone());
    }
    let derived = derived_display_name(stored.person.as_ref(), stored.organisation.as_ref());
    if !changes.contains_key("display_name") && derived.as_deref() == Some(&stored.display_name) {
        merged.insert("display_name".into(), Value::Null);
    }
    // Cleared lists are empty lists.
    for list in [
        "emails",
        "phones",
        "identifiers",
        "relationships",
        "tags",
        "categories",
    ] {
        if merged.get(list) == Some(&Value::Null) {
            merged.insert(list.into(), Value::Array(Vec::new()));
        }
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| ChangeError::Shape(e.to_string()))
}

/// The fields whose normalised values differ.
pub fn changed_fields(old: &ContactFields, new: &ContactFields) -> Vec<&'static str> {
    let (old, new) = (old.to_json(), new.to_json());
    FIELD_NAMES
        .iter()
        .copied()
        .filter(|name| old.get(*name) != new.get(*name))
        .collect()
}

/// Which contact's value a merge keeps for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prefer {
    Survivor,
    Duplicate,
    /// Lists only: the union, survivor's items first (the default for lists).
    Both,
}

/// List fields: merged as a union by default.
const LIST_FIELDS: [&str; 6] = [
    "emails",
    "phones",
    "identifiers",
    "relationships",
    "tags",
    "categories",
];

/// What a survivor takes from a duplicate.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// Changes to apply to the survivor with [`apply_changes`].
    pub changes: Map<String, Value>,
    /// Fields whose value now comes wholly from the duplicate (their
    /// provenance comes with them).
    pub from_duplicate: Vec<&'static str>,
}

/// Why a merge was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FoldError {
    #[error("prefer.{0}: is not a contact field")]
    UnknownField(String),
    #[error("prefer.{0}: `both` applies only to list fields")]
    BothForScalar(String),
    #[error("archetype: a {0} cannot be merged into a {1}")]
    Archetypes(String, String),
}

/// Folds `duplicate` into `survivor` field by field. A scalar field keeps
/// the survivor's value and takes the duplicate's only where the survivor
/// has none; a list field takes the union. `prefer` overrides either per
/// field. Relationships between the two are dropped.
pub fn fold(
    survivor: &ContactFields,
    duplicate: &ContactFields,
    duplicate_id: &str,
    survivor_id: &str,
    prefer: &BTreeMap<String, Prefer>,
) -> Result<Fold, FoldError> {
    for (name, choice) in prefer {
        if !FIELD_NAMES.contains(&name.as_str()) || name == "email" || name == "archetype" {
            return Err(FoldError::UnknownField(name.clone()));
        }
        if *choice == Prefer::Both && !LIST_FIELDS.contains(&name.as_str()) {
            return Err(FoldError::BothForScalar(name.clone()));
        }
    }
    if survivor.archetype != duplicate.archetype {
        return Err(FoldError::Archetypes(
            duplicate.archetype.clone().unwrap_or_default(),
            survivor.archetype.clone().unwrap_or_default(),
        ));
    }
    let (s, d) = (survivor.to_json(), duplicate.to_json());
    let mut changes = Map::new();
    let mut from_duplicate = Vec::new();
    for name in FIELD_NAMES {
        if matches!(name, "archetype" | "email") {
            continue;
        }
        let (sv, dv) = (&s[name], &d[name]);
        let is_list = LIST_FIELDS.contains(&name);
        let choice = prefer.get(name).copied().unwrap_or(if is_list {
            Prefer::Both
        } else {
            Prefer::Survivor
        });
        let take_duplicate = match choice {
            Prefer::Duplicate => has_value(dv),
            Prefer::Survivor => !has_value(sv) && has_value(dv),
            Prefer::Both => false,
        };
        if take_duplicate {
            changes.insert(name.into(), dv.clone());
            from_duplicate.push(name);
        } else if choice == Prefer::Both {
            let mut union: Vec<Value> = sv.as_array().cloned().unwrap_or_default();
            for item in dv.as_array().into_iter().flatten() {
                if !union.contains(item) {
                    union.push(item.clone());
                }
            }
            if union.len() != sv.as_array().map_or(0, Vec::len) {
                if !has_value(sv) {
                    from_duplicate.push(name);
                }
                changes.insert(name.into(), Value::Array(union));
            }
        }
    }
    // Neither contact relates to the other, or to itself, after the merge.
    let relationships = changes
        .get("relationships")
        .unwrap_or(&s["relationships"])
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kept: Vec<Value> = relationships
        .iter()
        .filter(|r| {
            let id = r["contact_id"].as_str();
            id != Some(duplicate_id) && id != Some(survivor_id)
        })
        .cloned()
        .collect();
    if kept.len() != relationships.len() {
        changes.insert("relationships".into(), Value::Array(kept));
    }
    Ok(Fold {
        changes,
        from_duplicate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::validate;
    use crm_domain::CalendarDate;
    use serde_json::json;

    fn today() -> CalendarDate {
        CalendarDate::parse("2026-11-24").unwrap()
    }

    fn contact(value: Value) -> Contact {
        validate(&serde_json::from_value(value).unwrap(), today()).unwrap()
    }

    fn changes(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn corrections_replace_named_fields_and_rederive_the_display_name() {
        let stored = contact(
            json!({"archetype": "individual", "given_name": "Ann", "family_name": "Lee",
            "emails": ["ann@x.au"], "tags": ["a"]}),
        );
        let new = apply_changes(
            &stored,
            &changes(json!({"family_name": "Smith", "tags": null, "phones": ["0412 345 678"]})),
        )
        .unwrap();
        let new = validate(&new, today()).unwrap().to_fields();
        assert_eq!(new.display_name.as_deref(), Some("Ann Smith"));
        assert_eq!(new.emails, ["ann@x.au"]);
        assert!(new.tags.is_empty());
        assert_eq!(
            changed_fields(&stored.to_fields(), &new),
            ["display_name", "family_name", "phones", "tags"]
        );

        // A display name that was set stays set.
        let named = contact(
            json!({"archetype": "individual", "family_name": "Lee", "display_name": "Dr A. Lee"}),
        );
        let new = apply_changes(&named, &changes(json!({"family_name": "Smith"}))).unwrap();
        assert_eq!(new.display_name.as_deref(), Some("Dr A. Lee"));
    }

    #[test]
    fn corrections_refuse_unknown_fields_and_wrong_shapes() {
        let stored = contact(json!({"archetype": "individual", "family_name": "Lee"}));
        assert_eq!(
            apply_changes(&stored, &changes(json!({"shoe_size": 9}))),
            Err(ChangeError::UnknownField("shoe_size".into()))
        );
        assert_eq!(
            apply_changes(&stored, &changes(json!({"email": "a@b.au"}))),
            Err(ChangeError::UnknownField("email".into()))
        );
        assert!(matches!(
            apply_changes(&stored, &changes(json!({"emails": "a@b.au"}))),
            Err(ChangeError::Shape(_))
        ));
    }

    #[test]
    fn a_merge_keeps_the_survivor_and_fills_gaps_from_the_duplicate() {
        let survivor = contact(json!({"archetype": "individual", "given_name": "Jon", "family_name": "Smith",
            "emails": ["jon@x.au"], "relationships": [{"kind": "household-member", "contact_id": "con_dup"}]}))
        .to_fields();
        let duplicate = contact(json!({"archetype": "individual", "given_name": "John", "family_name": "Smith",
            "date_of_birth": "1980-05-17", "emails": ["JON@x.au", "john@y.au"], "phones": ["0412 345 678"],
            "relationships": [{"kind": "partner-of", "contact_id": "con_other"}]}))
        .to_fields();
        let fold = fold(
            &survivor,
            &duplicate,
            "con_dup",
            "con_surv",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(fold.from_duplicate, ["date_of_birth", "phones"]);
        assert_eq!(fold.changes["date_of_birth"], "1980-05-17");
        assert_eq!(
            fold.changes["emails"],
            json!(["jon@x.au", "JON@x.au", "john@y.au"])
        );
        assert_eq!(
            fold.changes["relationships"],
            json!([{"kind": "partner-of", "contact_id": "con_other"}])
        );
        assert!(!fold.changes.contains_key("given_name"));
        let survivor_contact = validate(&survivor, today()).unwrap();
        let merged = apply_changes(&survivor_contact, &fold.changes).unwrap();
        let merged = validate(&merged, today()).unwrap().to_fields();
        // Case-insensitive repeats collapse on validation.
        assert_eq!(merged.emails, ["jon@x.au", "john@y.au"]);

        let prefer = BTreeMap::from([
            ("given_name".to_string(), Prefer::Duplicate),
            ("emails".to_string(), Prefer::Survivor),
        ]);
        let fold2 = super::fold(&survivor, &duplicate, "con_dup", "con_surv", &prefer).unwrap();
        assert_eq!(fold2.changes["given_name"], "John");
        assert!(!fold2.changes.contains_key("emails"));
    }

    #[test]
    fn merges_refuse_mismatches() {
        let person = contact(json!({"archetype": "individual", "family_name": "Lee"})).to_fields();
        let business =
            contact(json!({"archetype": "business", "organisation_name": "Lee Pty Ltd"}))
                .to_fields();
        assert!(matches!(
            fold(&person, &business, "d", "s", &BTreeMap::new()),
            Err(FoldError::Archetypes(..))
        ));
        let prefer = BTreeMap::from([("family_name".to_string(), Prefer::Both)]);
        assert!(matches!(
            fold(&person, &person, "d", "s", &prefer),
            Err(FoldError::BothForScalar(_))
        ));
    }
}
