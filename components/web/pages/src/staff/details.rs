//! A contact's details as the console's forms take them (a new contact, a
//! correction): what was typed, kept as typed, and turned into the API's
//! contact fields. The API checks and normalises every value; this only
//! puts a date's three boxes and an address's lines together, and names the
//! box an API refusal is about.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::date;
use crate::patterns::{DateInput, Errors, Field, Radios, SummaryRow};

/// What the archetype radios offer.
pub const ARCHETYPES: &[(&str, &str)] = &[
    ("individual", "A person"),
    ("business", "A business"),
    ("government", "A government body"),
    ("partner", "A partner organisation"),
];

/// How the details reached the agency (the collection's channel).
pub const GIVEN_BY: &[(&str, &str)] = &[
    ("phone", "By phone"),
    ("counter", "At a counter"),
    ("email", "By email"),
    ("letter", "By letter"),
    ("video", "By video call"),
    ("field-visit", "On a field visit"),
];

/// The channels a contact may prefer (`preferred_channel`).
pub const PREFERRED_CHANNELS: &[(&str, &str)] = &[
    ("", "No preference"),
    ("email", "Email"),
    ("sms", "Text message"),
    ("letter", "Letter"),
    ("phone", "Phone"),
    ("portal", "The online portal"),
];

/// The date of birth boxes' id: `birth-day`, `birth-month`, `birth-year`.
const BIRTH: &str = "birth";

/// The details as typed: every value a string, lists one item a line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactDetails {
    pub archetype: String,
    pub given_name: String,
    pub family_name: String,
    pub organisation_name: String,
    pub emails: String,
    pub phones: String,
    pub birth_day: String,
    pub birth_month: String,
    pub birth_year: String,
    pub address_line_1: String,
    pub address_line_2: String,
    pub locality: String,
    pub state: String,
    pub postcode: String,
    pub preferred_channel: String,
    /// How the details were given: the collection's channel, not a field.
    pub given_by: String,
}

/// The form's fields, filled with what was typed and its errors.
#[derive(Debug, Clone)]
pub struct ContactForm {
    pub archetype: Radios,
    pub given_name: Field,
    pub family_name: Field,
    pub organisation_name: Field,
    pub emails: Field,
    pub phones: Field,
    /// `None` for a role that may not see dates of birth.
    pub birth: Option<DateInput>,
    pub address_line_1: Field,
    pub address_line_2: Field,
    pub locality: Field,
    pub state: Field,
    pub postcode: Field,
    pub preferred_channel: Radios,
    pub given_by: Radios,
}

impl ContactDetails {
    /// What a posted form holds.
    pub fn from_form(form: &[(String, String)]) -> Self {
        let value = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map_or(String::new(), |(_, v)| v.clone())
        };
        Self {
            archetype: value("archetype"),
            given_name: value("given_name"),
            family_name: value("family_name"),
            organisation_name: value("organisation_name"),
            emails: value("emails"),
            phones: value("phones"),
            birth_day: value("birth-day"),
            birth_month: value("birth-month"),
            birth_year: value("birth-year"),
            address_line_1: value("address_line_1"),
            address_line_2: value("address_line_2"),
            locality: value("locality"),
            state: value("state"),
            postcode: value("postcode"),
            preferred_channel: value("preferred_channel"),
            given_by: value("given_by"),
        }
    }

    /// A contact record (`GET /api/contacts/{id}`) as its form shows it.
    pub fn from_record(record: &Value) -> Self {
        let text = |name: &str| record[name].as_str().unwrap_or_default().to_string();
        let lines = |name: &str| {
            record[name]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let birth: Vec<&str> = record["date_of_birth"]
            .as_str()
            .map(|d| d.split('-').collect())
            .unwrap_or_default();
        let part = |i: usize| birth.get(i).map_or(String::new(), |p| p.to_string());
        let address = &record["postal_address"];
        let address_line = |i: usize| address["lines"][i].as_str().unwrap_or_default().to_string();
        let address_text = |name: &str| address[name].as_str().unwrap_or_default().to_string();
        Self {
            archetype: text("archetype"),
            given_name: text("given_name"),
            family_name: text("family_name"),
            organisation_name: text("organisation_name"),
            emails: lines("emails"),
            phones: lines("phones"),
            birth_day: part(2),
            birth_month: part(1),
            birth_year: part(0),
            address_line_1: address_line(0),
            address_line_2: address_line(1),
            locality: address_text("locality"),
            state: address_text("state"),
            postcode: address_text("postcode"),
            preferred_channel: text("preferred_channel"),
            given_by: String::new(),
        }
    }

    /// The API's contact fields for what was typed (a blank value is
    /// none), or the errors only the form can find: a date of birth that
    /// is not three numbers.
    pub fn to_fields(&self) -> Result<Map<String, Value>, Errors> {
        let mut fields = Map::new();
        let optional = |value: &str| match value.trim() {
            "" => Value::Null,
            trimmed => json!(trimmed),
        };
        fields.insert("archetype".into(), optional(&self.archetype));
        for (name, value) in [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("organisation_name", &self.organisation_name),
            ("preferred_channel", &self.preferred_channel),
        ] {
            fields.insert(name.into(), optional(value));
        }
        fields.insert("emails".into(), json!(list(&self.emails)));
        fields.insert("phones".into(), json!(list(&self.phones)));
        fields.insert("postal_address".into(), self.address());
        let mut errors = Errors::default();
        match self.birth_date() {
            Ok(date) => {
                fields.insert(
                    "date_of_birth".into(),
                    date.map_or(Value::Null, |d| json!(d)),
                );
            }
            Err(reason) => errors.add(format!("{BIRTH}-day"), reason),
        }
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(errors)
        }
    }

    /// The fields that differ from `before` as a correction's `changes`
    /// (a cleared field is `null`).
    pub fn changes_since(&self, before: &ContactDetails) -> Result<Map<String, Value>, Errors> {
        let now = self.to_fields()?;
        // What was there is read back as the API gave it: it parses.
        let was = before.to_fields().unwrap_or_default();
        Ok(now
            .into_iter()
            .filter(|(name, value)| was.get(name) != Some(value))
            .collect())
    }

    /// How the details were given, as the API's `collection`.
    pub fn collection(&self) -> Value {
        json!({"channel": self.given_by.trim()})
    }

    /// `YYYY-MM-DD` from the three boxes; none when all are blank.
    fn birth_date(&self) -> Result<Option<String>, &'static str> {
        let parts = [&self.birth_day, &self.birth_month, &self.birth_year].map(|p| p.trim());
        if parts.iter().all(|p| p.is_empty()) {
            return Ok(None);
        }
        if parts.iter().any(|p| p.is_empty()) {
            return Err("Date of birth must include a day, month and year");
        }
        let numbers: Vec<u32> = parts.iter().filter_map(|p| p.parse::<u32>().ok()).collect();
        match numbers[..] {
            [day, month, year] if parts[2].len() == 4 => {
                Ok(Some(format!("{year:04}-{month:02}-{day:02}")))
            }
            _ => Err("Date of birth must be a real date, for example 27 3 1985"),
        }
    }

    /// The postal address, or none when every box is blank.
    fn address(&self) -> Value {
        let lines = list(&format!("{}\n{}", self.address_line_1, self.address_line_2));
        let rest = [&self.locality, &self.state, &self.postcode].map(|p| p.trim());
        if lines.is_empty() && rest.iter().all(|p| p.is_empty()) {
            return Value::Null;
        }
        let optional = |value: &str| {
            if value.is_empty() {
                Value::Null
            } else {
                json!(value)
            }
        };
        json!({
            "lines": lines,
            "locality": rest[0],
            "state": optional(rest[1]),
            "postcode": optional(rest[2]),
        })
    }

    /// The form's fields, filled; `show_birth` for roles that may see
    /// dates of birth.
    pub fn form(&self, errors: &Errors, show_birth: bool) -> ContactForm {
        let text =
            |name: &str, label: &str, value: &str| Field::text(name, label).filled(value, errors);
        ContactForm {
            archetype: Radios::new(
                "archetype",
                "Who are they?",
                ARCHETYPES,
                Some(self.archetype.as_str()),
                errors,
            ),
            given_name: text("given_name", "Given names", &self.given_name).autocomplete("off"),
            family_name: text("family_name", "Family name", &self.family_name).autocomplete("off"),
            organisation_name: text(
                "organisation_name",
                "Organisation name (not for a person)",
                &self.organisation_name,
            ),
            emails: text("emails", "Email addresses", &self.emails).hint("One a line"),
            phones: text("phones", "Phone numbers", &self.phones).hint("One a line"),
            birth: show_birth.then(|| DateInput {
                id: BIRTH,
                legend: "Date of birth (optional)",
                hint: "For example, 27 3 1985",
                day: self.birth_day.clone(),
                month: self.birth_month.clone(),
                year: self.birth_year.clone(),
                error: errors.for_field(&format!("{BIRTH}-day")),
            }),
            address_line_1: text("address_line_1", "Address line 1", &self.address_line_1),
            address_line_2: text(
                "address_line_2",
                "Address line 2 (optional)",
                &self.address_line_2,
            ),
            locality: text("locality", "Town or suburb", &self.locality),
            state: text("state", "State or territory", &self.state).hint("For example, ACT"),
            postcode: text("postcode", "Postcode", &self.postcode),
            preferred_channel: Radios::new(
                "preferred_channel",
                "How do they prefer to be contacted?",
                PREFERRED_CHANNELS,
                Some(self.preferred_channel.as_str()),
                errors,
            ),
            given_by: Radios::new(
                "given_by",
                "How were these details given?",
                GIVEN_BY,
                Some(self.given_by.as_str()),
                errors,
            ),
        }
    }

    /// The details as check-answers rows (a blank answer says so).
    pub fn rows(&self, show_birth: bool) -> Vec<SummaryRow> {
        let label_of = |options: &[(&str, &str)], value: &str| {
            options
                .iter()
                .find(|(v, _)| *v == value)
                .map_or(value.to_string(), |(_, l)| l.to_string())
        };
        let answer = |lines: Vec<String>| {
            if lines.is_empty() {
                vec!["Not provided".to_string()]
            } else {
                lines
            }
        };
        let one = |value: &str| answer(list(value));
        let mut rows = vec![
            ("Who they are", vec![label_of(ARCHETYPES, &self.archetype)]),
            ("Given names", one(&self.given_name)),
            ("Family name", one(&self.family_name)),
            ("Organisation name", one(&self.organisation_name)),
            ("Email addresses", one(&self.emails)),
            ("Phone numbers", one(&self.phones)),
        ];
        if show_birth {
            let born = match self.birth_date() {
                Ok(Some(iso)) => vec![date(&iso)],
                _ => vec![],
            };
            rows.push(("Date of birth", answer(born)));
        }
        let address = list(&format!(
            "{}\n{}\n{}",
            self.address_line_1,
            self.address_line_2,
            [&self.locality, &self.state, &self.postcode]
                .map(|p| p.trim())
                .join(" ")
        ));
        rows.push(("Postal address", answer(address)));
        rows.push((
            "Prefers to be contacted",
            vec![label_of(PREFERRED_CHANNELS, &self.preferred_channel)],
        ));
        rows.push((
            "How the details were given",
            vec![label_of(GIVEN_BY, &self.given_by)],
        ));
        rows.into_iter()
            .map(|(key, lines)| SummaryRow {
                key: key.to_string(),
                lines,
                source: None,
            })
            .collect()
    }
}

/// The non-blank lines of a box, trimmed.
fn list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form box an API refusal of `field` is about, and how the error
/// summary names it: `emails[1]` is the second email address, a
/// correction's `changes.family_name` the family name, an address part its
/// own box. A field the form has no box for is reported against the first
/// box by its API name.
pub fn refusal(field: &str, reason: &str) -> (String, String) {
    let field = field.strip_prefix("changes.").unwrap_or(field);
    let (name, item) = match field.split_once('[') {
        Some((name, rest)) => (
            name,
            rest.split(']').next().and_then(|i| i.parse::<usize>().ok()),
        ),
        None => (field, None),
    };
    let nth = |label: &str| match item {
        Some(i) => format!("{label} {}", i + 1),
        None => label.to_string(),
    };
    let (id, label) = match name {
        "given_name" => ("given_name", nth("Given names")),
        "family_name" | "display_name" => ("family_name", nth("Family name")),
        "organisation_name" => ("organisation_name", nth("Organisation name")),
        "email" | "emails" => ("emails", nth("Email address")),
        "phones" => ("phones", nth("Phone number")),
        "date_of_birth" => ("birth-day", nth("Date of birth")),
        "postal_address.lines" if item == Some(1) => ("address_line_2", "Address line 2".into()),
        "postal_address" | "postal_address.lines" => ("address_line_1", "Address line 1".into()),
        "postal_address.locality" => ("locality", "Town or suburb".into()),
        "postal_address.state" => ("state", "State or territory".into()),
        "postal_address.postcode" => ("postcode", "Postcode".into()),
        "preferred_channel" => ("preferred_channel", "Preferred way to be contacted".into()),
        "collection" | "collection.channel" => ("given_by", "How the details were given".into()),
        "archetype" => ("archetype", "Who they are".into()),
        _ => ("archetype", field.to_string()),
    };
    (id.to_string(), format!("{label} {reason}"))
}
