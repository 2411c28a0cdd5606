//! Field-level filtering: a response carries only the fields the caller may
//! see. Which fields need which action is data ([`FIELD_RULES`]), so the
//! matrix decides field visibility too.

use serde_json::Value;

use crate::policy::{Action, Principal, Target, may};

/// Kinds of record a response can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Contact,
    Interaction,
}

/// Fields of a record kind that only a holder of `needs` may see.
pub struct FieldRule {
    pub record: RecordKind,
    pub fields: &'static [&'static str],
    pub needs: Action,
}

pub const FIELD_RULES: &[FieldRule] = &[FieldRule {
    record: RecordKind::Contact,
    fields: &["date_of_birth", "identifiers", "relationships"],
    needs: Action::ContactReadIdentifiers,
}];

/// The fields of `record` (about `target`) that `caller` may not see.
pub fn hidden_fields(
    caller: &Principal,
    record: RecordKind,
    target: Target<'_>,
) -> Vec<&'static str> {
    FIELD_RULES
        .iter()
        .filter(|rule| rule.record == record && !may(caller, rule.needs, target).is_allowed())
        .flat_map(|rule| rule.fields.iter().copied())
        .collect()
}

/// The action a caller must hold to read `field` of `record`, if any: to
/// search or match on a field is to learn what it holds, so it needs the
/// same.
pub fn needed_to_read(record: RecordKind, field: &str) -> Option<Action> {
    FIELD_RULES
        .iter()
        .find(|rule| rule.record == record && rule.fields.contains(&field))
        .map(|rule| rule.needs)
}

/// Removes the `hidden` members from every object in `value`, at any depth
/// (so per-field provenance maps lose them too).
pub fn redact(value: &mut Value, hidden: &[&str]) {
    if hidden.is_empty() {
        return;
    }
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !hidden.contains(&key.as_str()));
            map.values_mut().for_each(|v| redact(v, hidden));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, hidden)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Role;
    use serde_json::json;

    #[test]
    fn communications_officers_do_not_see_identifiers_or_birth_dates() {
        let comms = Principal::Staff {
            subject: "s".into(),
            roles: vec![Role::CommunicationsOfficer],
        };
        let caseworker = Principal::Staff {
            subject: "s".into(),
            roles: vec![Role::CaseWorker],
        };
        let target = Target::Contact("con_1");
        let hidden = hidden_fields(&comms, RecordKind::Contact, target);
        assert_eq!(hidden, ["date_of_birth", "identifiers", "relationships"]);
        assert!(hidden_fields(&caseworker, RecordKind::Contact, target).is_empty());

        let mut contact = json!({
            "id": "con_1", "date_of_birth": "1990-01-02",
            "identifiers": [{"scheme": "abn"}],
            "provenance": {"date_of_birth": {"source": "portal"}, "emails": {"source": "portal"}},
            "emails": ["a@b.gov.au"]
        });
        assert_eq!(
            needed_to_read(RecordKind::Contact, "identifiers"),
            Some(Action::ContactReadIdentifiers)
        );
        assert_eq!(needed_to_read(RecordKind::Contact, "emails"), None);
        assert_eq!(needed_to_read(RecordKind::Interaction, "identifiers"), None);

        redact(&mut contact, &hidden);
        assert_eq!(
            contact,
            json!({"id": "con_1", "provenance": {"emails": {"source": "portal"}}, "emails": ["a@b.gov.au"]})
        );
    }
}
