//! A contact's details as the console's forms take them (a new contact, a
//! correction): what was typed, kept as typed, and turned into the API's
//! contact fields. The API checks and normalises every value; this only
//! puts a date's three boxes and an address's lines together, and names the
//! box an API refusal is about.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::date;
use crate::patterns::{Checkboxes, DateInput, Errors, Field, Radios, SummaryRow, posted};

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

/// The accessibility needs a box is ticked for, as (value, label): the
/// values are the API's `accessibility_needs` flags.
pub const ACCESSIBILITY_NEEDS: &[(&str, &str)] = &[
    ("large_print", "Large print"),
    ("tty", "TTY or the National Relay Service"),
    ("auslan", "An Auslan interpreter"),
];

/// The date of birth boxes' id: `birth-day`, `birth-month`, `birth-year`.
const BIRTH: &str = "birth";

/// Whether the reader sees a contact's identifying details: the date of
/// birth and identifiers, which `contact.read-identifiers` guards. A form
/// neither shows nor sends what its reader may not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifying {
    Shown,
    Hidden,
}

/// One of a contact's addresses: its API field, its boxes' names and how
/// pages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressKind {
    api: &'static str,
    /// Before each box's name (the postal boxes, the form's first, have none).
    prefix: &'static str,
    legend: &'static str,
    /// Before each box's name in an error message.
    qualifier: &'static str,
}

pub const POSTAL: AddressKind = AddressKind {
    api: "postal_address",
    prefix: "",
    legend: "Postal address",
    qualifier: "",
};

pub const RESIDENTIAL: AddressKind = AddressKind {
    api: "residential_address",
    prefix: "residential_",
    legend: "Residential address",
    qualifier: "residential ",
};

/// An address's boxes as (box, label, name in an error message).
const ADDRESS_BOXES: [(&str, &str, &str); 6] = [
    ("address_line_1", "Address line 1", "address line 1"),
    (
        "address_line_2",
        "Address line 2 (optional)",
        "address line 2",
    ),
    ("locality", "Town or suburb", "town or suburb"),
    ("state", "State or territory", "state or territory"),
    ("postcode", "Postcode", "postcode"),
    ("country", "Country (if not Australia)", "country"),
];

impl AddressKind {
    fn box_name(&self, part: &str) -> String {
        format!("{}{part}", self.prefix)
    }

    /// The box a refusal of this address's `part` (`lines`, `postcode`,
    /// ...) is about, and how the error summary names it.
    fn refused(&self, part: &str, item: Option<usize>) -> (String, String) {
        let part = match (part, item) {
            ("lines", Some(1)) => "address_line_2",
            ("locality" | "state" | "postcode" | "country", _) => part,
            _ => "address_line_1",
        };
        let named = ADDRESS_BOXES
            .iter()
            .find(|(name, ..)| *name == part)
            .map_or(part, |(.., named)| *named);
        (
            self.box_name(part),
            capitalised(&format!("{}{named}", self.qualifier)),
        )
    }
}

/// An address as typed, box by box.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressDetails {
    pub line_1: String,
    pub line_2: String,
    pub locality: String,
    pub state: String,
    pub postcode: String,
    /// ISO 3166-1 alpha-2; blank for Australia, the API's default.
    pub country: String,
}

/// An address's boxes, filled, under their legend.
#[derive(Debug, Clone)]
pub struct AddressForm {
    pub legend: &'static str,
    pub boxes: Vec<Field>,
}

impl AddressDetails {
    fn from_form(kind: AddressKind, value: impl Fn(&str) -> String) -> Self {
        let value = |part: &str| value(&kind.box_name(part));
        Self {
            line_1: value("address_line_1"),
            line_2: value("address_line_2"),
            locality: value("locality"),
            state: value("state"),
            postcode: value("postcode"),
            country: value("country"),
        }
    }

    /// An address as the API answers it (`country` always given).
    fn from_record(address: &Value) -> Self {
        let text = |name: &str| address[name].as_str().unwrap_or_default().to_string();
        let line = |i: usize| address["lines"][i].as_str().unwrap_or_default().to_string();
        Self {
            line_1: line(0),
            line_2: line(1),
            locality: text("locality"),
            state: text("state"),
            postcode: text("postcode"),
            country: Some(text("country"))
                .filter(|c| c != "AU")
                .unwrap_or_default(),
        }
    }

    /// The address as the API takes it, or none when every box is blank.
    fn to_value(&self) -> Value {
        let lines = list(&format!("{}\n{}", self.line_1, self.line_2));
        let rest = [&self.locality, &self.state, &self.postcode, &self.country].map(|p| p.trim());
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
        let mut address = json!({
            "lines": lines,
            "locality": rest[0],
            "state": optional(rest[1]),
            "postcode": optional(rest[2]),
        });
        if !rest[3].is_empty() {
            address["country"] = json!(rest[3]);
        }
        address
    }

    fn form(&self, kind: AddressKind, errors: &Errors) -> AddressForm {
        let values = [
            &self.line_1,
            &self.line_2,
            &self.locality,
            &self.state,
            &self.postcode,
            &self.country,
        ];
        AddressForm {
            legend: kind.legend,
            boxes: ADDRESS_BOXES
                .iter()
                .zip(values)
                .map(|((part, label, _), value)| {
                    let field = Field::text(&kind.box_name(part), label);
                    match *part {
                        "state" => field.hint("For example, ACT"),
                        "country" => field.hint("Its two-letter code, for example NZ"),
                        _ => field,
                    }
                    .filled(value, errors)
                })
                .collect(),
        }
    }

    /// The address's lines as a summary list shows them.
    fn lines(&self) -> Vec<String> {
        list(&format!(
            "{}\n{}\n{}\n{}",
            self.line_1,
            self.line_2,
            [&self.locality, &self.state, &self.postcode]
                .map(|p| p.trim())
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            self.country
        ))
    }
}

/// The details as typed: every value a string, lists one item a line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
    /// `scheme: value`, one a line (`abn: 51 824 753 556`).
    pub identifiers: String,
    pub postal: AddressDetails,
    pub residential: AddressDetails,
    pub preferred_channel: String,
    /// A BCP 47 language tag.
    pub language: String,
    /// The needs ticked: values of [`ACCESSIBILITY_NEEDS`].
    pub accessibility: Vec<String>,
    /// The language an interpreter is needed for.
    pub interpreter: String,
    pub accessibility_other: String,
    pub tags: String,
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
    /// `None` for a role that may not see identifiers.
    pub identifiers: Option<Field>,
    pub postal: AddressForm,
    pub residential: AddressForm,
    pub preferred_channel: Radios,
    pub language: Field,
    pub accessibility: Checkboxes,
    pub interpreter: Field,
    pub accessibility_other: Field,
    pub tags: Field,
    pub given_by: Radios,
}

impl ContactDetails {
    /// What a posted form holds.
    pub fn from_form(form: &[(String, String)]) -> Self {
        let value = |name: &str| posted(form, name).to_string();
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
            identifiers: value("identifiers"),
            postal: AddressDetails::from_form(POSTAL, value),
            residential: AddressDetails::from_form(RESIDENTIAL, value),
            preferred_channel: value("preferred_channel"),
            language: value("language"),
            accessibility: ACCESSIBILITY_NEEDS
                .iter()
                .filter(|(need, _)| form.iter().any(|(k, v)| k == "accessibility" && v == need))
                .map(|(need, _)| need.to_string())
                .collect(),
            interpreter: value("interpreter"),
            accessibility_other: value("accessibility_other"),
            tags: value("tags"),
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
        let needs = &record["accessibility_needs"];
        let need = |name: &str| needs[name].as_str().unwrap_or_default().to_string();
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
            identifiers: record["identifiers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|id| {
                    format!(
                        "{}: {}",
                        id["scheme"].as_str().unwrap_or_default(),
                        id["value"].as_str().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            postal: AddressDetails::from_record(&record["postal_address"]),
            residential: AddressDetails::from_record(&record["residential_address"]),
            preferred_channel: text("preferred_channel"),
            language: text("language"),
            accessibility: ACCESSIBILITY_NEEDS
                .iter()
                .filter(|(flag, _)| needs[*flag] == true)
                .map(|(flag, _)| flag.to_string())
                .collect(),
            interpreter: need("interpreter"),
            accessibility_other: need("other"),
            tags: lines("tags"),
            given_by: String::new(),
        }
    }

    /// The API's contact fields for what was typed (a blank value is
    /// none), or the errors only the form can find: a date of birth that
    /// is not three numbers, an identifier without its scheme. What the
    /// reader may not see is left out.
    pub fn to_fields(&self, identifying: Identifying) -> Result<Map<String, Value>, Errors> {
        let mut fields = Map::new();
        fields.insert("archetype".into(), optional(&self.archetype));
        for (name, value) in [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("organisation_name", &self.organisation_name),
            ("preferred_channel", &self.preferred_channel),
            ("language", &self.language),
        ] {
            fields.insert(name.into(), optional(value));
        }
        fields.insert("emails".into(), json!(list(&self.emails)));
        fields.insert("phones".into(), json!(list(&self.phones)));
        fields.insert("postal_address".into(), self.postal.to_value());
        fields.insert("residential_address".into(), self.residential.to_value());
        fields.insert("accessibility_needs".into(), self.accessibility_needs());
        fields.insert("tags".into(), json!(list(&self.tags)));
        let mut errors = Errors::default();
        if identifying == Identifying::Shown {
            match self.birth_date() {
                Ok(date) => {
                    fields.insert(
                        "date_of_birth".into(),
                        date.map_or(Value::Null, |d| json!(d)),
                    );
                }
                Err(reason) => errors.add(format!("{BIRTH}-day"), reason),
            }
            match identifiers(&self.identifiers) {
                Ok(identifiers) => {
                    fields.insert("identifiers".into(), identifiers);
                }
                Err(reason) => errors.add("identifiers", reason),
            }
        }
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(errors)
        }
    }

    /// The fields that differ from `before` as a correction's `changes`
    /// (a cleared field is `null`).
    pub fn changes_since(
        &self,
        before: &ContactDetails,
        identifying: Identifying,
    ) -> Result<Map<String, Value>, Errors> {
        let now = self.to_fields(identifying)?;
        // What was there is read back as the API gave it: it parses.
        let was = before.to_fields(identifying).unwrap_or_default();
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

    /// The API's `accessibility_needs`, or none when nothing is needed.
    fn accessibility_needs(&self) -> Value {
        let ticked = |need: &str| self.accessibility.iter().any(|n| n == need);
        let (interpreter, other) = (
            optional(&self.interpreter),
            optional(&self.accessibility_other),
        );
        if self.accessibility.is_empty() && interpreter.is_null() && other.is_null() {
            return Value::Null;
        }
        json!({
            "interpreter": interpreter,
            "large_print": ticked("large_print"),
            "tty": ticked("tty"),
            "auslan": ticked("auslan"),
            "other": other,
        })
    }

    /// The form's fields, filled, without what the reader may not see.
    pub fn form(&self, errors: &Errors, identifying: Identifying) -> ContactForm {
        let text =
            |name: &str, label: &str, value: &str| Field::text(name, label).filled(value, errors);
        let shown = identifying == Identifying::Shown;
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
            birth: shown.then(|| DateInput {
                id: BIRTH,
                legend: "Date of birth (optional)",
                hint: "For example, 27 3 1985",
                day: self.birth_day.clone(),
                month: self.birth_month.clone(),
                year: self.birth_year.clone(),
                error: errors.for_field(&format!("{BIRTH}-day")),
            }),
            identifiers: shown.then(|| {
                Field::text("identifiers", "Identifiers (optional)")
                    .hint("One a line: the scheme, a colon, then the number, for example abn: 51 824 753 556")
                    .filled(&self.identifiers, errors)
            }),
            postal: self.postal.form(POSTAL, errors),
            residential: self.residential.form(RESIDENTIAL, errors),
            preferred_channel: Radios::new(
                "preferred_channel",
                "How do they prefer to be contacted?",
                PREFERRED_CHANNELS,
                Some(self.preferred_channel.as_str()),
                errors,
            ),
            language: text("language", "Preferred language (optional)", &self.language)
                .hint("Its language tag, for example en, vi or zh-Hant"),
            accessibility: Checkboxes::new(
                "accessibility",
                "Accessibility needs",
                ACCESSIBILITY_NEEDS,
                &self.accessibility,
            ),
            interpreter: text(
                "interpreter",
                "Interpreter needed for (optional)",
                &self.interpreter,
            )
            .hint("The language's tag, for example vi"),
            accessibility_other: text(
                "accessibility_other",
                "Other accessibility needs (optional)",
                &self.accessibility_other,
            ),
            tags: text("tags", "Tags (optional)", &self.tags).hint("One a line"),
            given_by: Radios::new(
                "given_by",
                "How were these details given?",
                GIVEN_BY,
                Some(self.given_by.as_str()),
                errors,
            ),
        }
    }

    /// The details as check-answers rows (a blank answer says so), without
    /// what the reader may not see.
    pub fn rows(&self, identifying: Identifying) -> Vec<SummaryRow> {
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
        if identifying == Identifying::Shown {
            let born = match self.birth_date() {
                Ok(Some(iso)) => vec![date(&iso)],
                _ => vec![],
            };
            rows.push(("Date of birth", answer(born)));
            rows.push(("Identifiers", one(&self.identifiers)));
        }
        rows.push(("Postal address", answer(self.postal.lines())));
        rows.push(("Residential address", answer(self.residential.lines())));
        rows.push((
            "Prefers to be contacted",
            vec![label_of(PREFERRED_CHANNELS, &self.preferred_channel)],
        ));
        rows.push(("Preferred language", one(&self.language)));
        let mut needs: Vec<String> = self
            .accessibility
            .iter()
            .map(|need| label_of(ACCESSIBILITY_NEEDS, need))
            .collect();
        if !self.interpreter.trim().is_empty() {
            needs.push(format!("An interpreter for {}", self.interpreter.trim()));
        }
        needs.extend(list(&self.accessibility_other));
        rows.push(("Accessibility needs", answer(needs)));
        rows.push(("Tags", one(&self.tags)));
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

/// A typed value, or none when blank.
fn optional(value: &str) -> Value {
    match value.trim() {
        "" => Value::Null,
        trimmed => json!(trimmed),
    }
}

/// The identifiers box's `scheme: value` lines as the API's identifiers.
fn identifiers(text: &str) -> Result<Value, String> {
    list(text)
        .iter()
        .enumerate()
        .map(|(i, line)| match line.split_once(':') {
            Some((scheme, value)) if !scheme.trim().is_empty() && !value.trim().is_empty() => {
                Ok(json!({"scheme": scheme.trim(), "value": value.trim()}))
            }
            _ => Err(format!(
                "Identifier {} must be a scheme, a colon and the number, for example abn: 51 824 753 556",
                i + 1
            )),
        })
        .collect()
}

/// `text` with its first letter a capital.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
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
    if let Some((kind, part)) = [POSTAL, RESIDENTIAL]
        .into_iter()
        .find_map(|kind| Some((kind, name.strip_prefix(kind.api)?)))
    {
        let (id, label) = kind.refused(part.trim_start_matches('.'), item);
        return (id, format!("{label} {reason}"));
    }
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
        "identifiers" => ("identifiers", nth("Identifier")),
        "preferred_channel" => ("preferred_channel", "Preferred way to be contacted".into()),
        "language" => ("language", "Preferred language".into()),
        "accessibility_needs.other" => ("accessibility_other", "Other accessibility needs".into()),
        "accessibility_needs" | "accessibility_needs.interpreter" => {
            ("interpreter", "Interpreter language".into())
        }
        "tags" => ("tags", nth("Tag")),
        "collection" | "collection.channel" => ("given_by", "How the details were given".into()),
        "archetype" => ("archetype", "Who they are".into()),
        _ => ("archetype", field.to_string()),
    };
    (id.to_string(), format!("{label} {reason}"))
}
