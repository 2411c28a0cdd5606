//! Contacts as CSV rows, for import and export: one column per simple
//! field, lists separated by `;`, and each address spread over five
//! columns. Export writes the import's columns (after the record's id,
//! version and times), so an export can be imported elsewhere; accessibility
//! needs and relationships are not carried in CSV (NDJSON export carries
//! whole records).
//!
//! Text people typed ([`free_text`] columns) is exported
//! [`formula_safe`](crate::csv::formula_safe), so a spreadsheet cannot run
//! a name such as `=HYPERLINK(...)`; import drops that guard again, so an
//! export still imports as it was.

use thiserror::Error;

use crate::fields::{AddressFields, ContactFields, IdentifierFields};

/// The separator of list values inside one cell.
pub const LIST_SEPARATOR: char = ';';

/// The columns an import may have (`archetype` is required), in export order.
pub const COLUMNS: [&str; 27] = [
    "archetype",
    "display_name",
    "given_name",
    "family_name",
    "preferred_name",
    "organisation_name",
    "date_of_birth",
    "emails",
    "phones",
    "postal_lines",
    "postal_locality",
    "postal_state",
    "postal_postcode",
    "postal_country",
    "residential_lines",
    "residential_locality",
    "residential_state",
    "residential_postcode",
    "residential_country",
    "preferred_channel",
    "language",
    "abn",
    "acn",
    // Agency identifiers as `scheme:value;scheme:value`.
    "identifiers",
    "tags",
    "categories",
    // Ignored on import; export fills it.
    "id",
];

/// Columns before the importable ones in an export.
pub const EXPORT_LEADING: [&str; 4] = ["id", "version", "created_at", "updated_at"];

/// The record field each column belongs to (for leaving out hidden fields).
pub fn column_field(column: &str) -> &str {
    match column {
        "abn" | "acn" => "identifiers",
        c if c.starts_with("postal_") => "postal_address",
        c if c.starts_with("residential_") => "residential_address",
        c => c,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    #[error("unknown column `{0}`; the columns are: {known}", known = COLUMNS.join(", "))]
    Unknown(String),
    #[error("column `{0}` appears twice")]
    Repeated(String),
    #[error("the header must name an `archetype` column")]
    NoArchetype,
}

/// Whether `column` holds text people typed (names, email addresses,
/// addresses, tags and categories), which a spreadsheet could take for a
/// formula; the others hold values of a checked shape (ids, versions, times,
/// dates, E.164 phones, codes, ABNs and identifiers).
pub fn free_text(column: &str) -> bool {
    matches!(
        column,
        "display_name"
            | "given_name"
            | "family_name"
            | "preferred_name"
            | "organisation_name"
            | "emails"
            | "tags"
            | "categories"
    ) || column.starts_with("postal_")
        || column.starts_with("residential_")
}

/// A checked header: the column of each position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header(Vec<&'static str>);

impl Header {
    pub fn parse(names: &[String]) -> Result<Self, HeaderError> {
        let mut columns: Vec<&'static str> = Vec::new();
        for name in names {
            let name = name.trim();
            let column = COLUMNS
                .iter()
                .copied()
                .find(|c| c.eq_ignore_ascii_case(name))
                .ok_or_else(|| HeaderError::Unknown(name.to_string()))?;
            if columns.contains(&column) {
                return Err(HeaderError::Repeated(column.to_string()));
            }
            columns.push(column);
        }
        if !columns.contains(&"archetype") {
            return Err(HeaderError::NoArchetype);
        }
        Ok(Self(columns))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A row's fields; an empty cell is an absent value.
    pub fn fields(&self, row: &[String]) -> ContactFields {
        let mut fields = ContactFields::default();
        let mut postal = AddressFields::default();
        let mut residential = AddressFields::default();
        let (mut has_postal, mut has_residential) = (false, false);
        for (column, value) in self.0.iter().zip(row) {
            let value = value.trim();
            let value = if free_text(column) {
                crate::csv::formula_unguarded(value)
            } else {
                value
            };
            if value.is_empty() {
                continue;
            }
            let text = Some(value.to_string());
            let list = || split_list(value);
            match *column {
                "archetype" => fields.archetype = text,
                "display_name" => fields.display_name = text,
                "given_name" => fields.given_name = text,
                "family_name" => fields.family_name = text,
                "preferred_name" => fields.preferred_name = text,
                "organisation_name" => fields.organisation_name = text,
                "date_of_birth" => fields.date_of_birth = text,
                "emails" => fields.emails = list(),
                "phones" => fields.phones = list(),
                "preferred_channel" => fields.preferred_channel = text,
                "language" => fields.language = text,
                "abn" | "acn" => fields.identifiers.push(IdentifierFields {
                    scheme: column.to_string(),
                    value: value.to_string(),
                }),
                "identifiers" => fields.identifiers.extend(list().into_iter().map(|item| {
                    let (scheme, value) = item.split_once(':').unwrap_or(("", &item));
                    IdentifierFields {
                        scheme: scheme.trim().to_string(),
                        value: value.trim().to_string(),
                    }
                })),
                "tags" => fields.tags = list(),
                "categories" => fields.categories = list(),
                "id" => {}
                address_column => {
                    let (address, has) = if let Some(part) = address_column.strip_prefix("postal_")
                    {
                        (&mut postal, (&mut has_postal, part))
                    } else {
                        let part = address_column.trim_start_matches("residential_");
                        (&mut residential, (&mut has_residential, part))
                    };
                    *has.0 = true;
                    match has.1 {
                        "lines" => address.lines = list(),
                        "locality" => address.locality = value.to_string(),
                        "state" => address.state = text,
                        "postcode" => address.postcode = text,
                        _ => address.country = text,
                    }
                }
            }
        }
        fields.postal_address = has_postal.then_some(postal);
        fields.residential_address = has_residential.then_some(residential);
        fields
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(LIST_SEPARATOR)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// The export columns for a caller who may not see `hidden` fields.
pub fn export_columns(hidden: &[&str]) -> Vec<&'static str> {
    EXPORT_LEADING
        .iter()
        .copied()
        .chain(COLUMNS.iter().copied().filter(|c| *c != "id"))
        .filter(|c| !hidden.contains(&column_field(c)))
        .collect()
}

/// One export row: `leading` fills [`EXPORT_LEADING`]; [`free_text`]
/// cells are [`formula_safe`](crate::csv::formula_safe).
pub fn export_row(columns: &[&str], leading: [&str; 4], fields: &ContactFields) -> Vec<String> {
    let join = |items: &[String]| items.join(&LIST_SEPARATOR.to_string());
    let address_part = |address: &Option<AddressFields>, part: &str| {
        address.as_ref().map_or(String::new(), |a| match part {
            "lines" => join(&a.lines),
            "locality" => a.locality.clone(),
            "state" => a.state.clone().unwrap_or_default(),
            "postcode" => a.postcode.clone().unwrap_or_default(),
            _ => a.country.clone().unwrap_or_default(),
        })
    };
    let scheme = |s: &str| {
        fields
            .identifiers
            .iter()
            .find(|id| id.scheme == s)
            .map_or(String::new(), |id| id.value.clone())
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let cell = |column: &str| match column {
        "id" => leading[0].to_string(),
        "version" => leading[1].to_string(),
        "created_at" => leading[2].to_string(),
        "updated_at" => leading[3].to_string(),
        "archetype" => text(&fields.archetype),
        "display_name" => text(&fields.display_name),
        "given_name" => text(&fields.given_name),
        "family_name" => text(&fields.family_name),
        "preferred_name" => text(&fields.preferred_name),
        "organisation_name" => text(&fields.organisation_name),
        "date_of_birth" => text(&fields.date_of_birth),
        "emails" => join(&fields.emails),
        "phones" => join(&fields.phones),
        "preferred_channel" => text(&fields.preferred_channel),
        "language" => text(&fields.language),
        "abn" | "acn" => scheme(column),
        "identifiers" => join(
            &fields
                .identifiers
                .iter()
                .filter(|id| id.scheme != "abn" && id.scheme != "acn")
                .map(|id| format!("{}:{}", id.scheme, id.value))
                .collect::<Vec<_>>(),
        ),
        "tags" => join(&fields.tags),
        "categories" => join(&fields.categories),
        c => match c.split_once('_') {
            Some(("postal", part)) => address_part(&fields.postal_address, part),
            Some(("residential", part)) => address_part(&fields.residential_address, part),
            _ => String::new(),
        },
    };
    columns
        .iter()
        .map(|column| {
            let value = cell(column);
            if free_text(column) {
                crate::csv::formula_safe(&value).into_owned()
            } else {
                value
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::validate;
    use crm_domain::CalendarDate;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_are_checked() {
        assert!(Header::parse(&strings(&["Archetype", "family_name"])).is_ok());
        assert_eq!(
            Header::parse(&strings(&["family_name"])),
            Err(HeaderError::NoArchetype)
        );
        assert_eq!(
            Header::parse(&strings(&["archetype", "shoe_size"])),
            Err(HeaderError::Unknown("shoe_size".into()))
        );
        assert_eq!(
            Header::parse(&strings(&["archetype", "tags", "TAGS"])),
            Err(HeaderError::Repeated("tags".into()))
        );
    }

    #[test]
    fn rows_become_fields_and_export_reads_back() {
        let header = Header::parse(&strings(&[
            "archetype",
            "given_name",
            "family_name",
            "date_of_birth",
            "emails",
            "phones",
            "postal_lines",
            "postal_locality",
            "postal_state",
            "postal_postcode",
            "identifiers",
            "tags",
        ]))
        .unwrap();
        let row = strings(&[
            "individual",
            "Zoë",
            "Nguyễn",
            "1990-01-02",
            "zoe@x.au; z@y.au",
            "0412 345 678",
            "Unit 1;2 Main St",
            "Canberra",
            "ACT",
            "2600",
            "crn:123456789A",
            "",
        ]);
        let fields = header.fields(&row);
        assert_eq!(fields.emails, ["zoe@x.au", "z@y.au"]);
        assert_eq!(
            fields.postal_address.as_ref().unwrap().lines,
            ["Unit 1", "2 Main St"]
        );
        assert!(fields.residential_address.is_none());
        assert!(fields.tags.is_empty());
        let today = CalendarDate::parse("2026-11-24").unwrap();
        let stored = validate(&fields, today).unwrap().to_fields();

        let columns = export_columns(&[]);
        let exported = export_row(&columns, ["con_1", "1", "t0", "t1"], &stored);
        assert_eq!(exported[0], "con_1");
        let importable: Vec<String> = columns
            .iter()
            .filter(|c| !EXPORT_LEADING.contains(c))
            .map(|c| c.to_string())
            .collect();
        let header = Header::parse(&importable).unwrap();
        let again = header.fields(&exported[EXPORT_LEADING.len()..]);
        assert_eq!(validate(&again, today).unwrap().to_fields(), stored);

        let hidden = export_columns(&["date_of_birth", "identifiers", "relationships"]);
        assert!(!hidden.contains(&"date_of_birth"));
        assert!(!hidden.contains(&"abn"));
        assert!(!hidden.contains(&"identifiers"));
        assert!(hidden.contains(&"emails"));
    }

    /// CSV injection: typed text that a spreadsheet would run is exported
    /// behind a `'`; checked values (E.164 phones, ids, dates) are not
    /// touched; and the export still imports as the same record.
    #[test]
    fn typed_text_is_exported_formula_safe() {
        let today = CalendarDate::parse("2026-11-24").unwrap();
        let fields: ContactFields = serde_json::from_value(serde_json::json!({
            "archetype": "business",
            "organisation_name": "=HYPERLINK(\"http://evil.example\",\"Click\")",
            "display_name": "-2+3 Trading",
            "emails": ["=cmd@evil.example", "ok@example.com"],
            "phones": ["0412 345 678"],
            "identifiers": [{"scheme": "abn", "value": "51 824 753 556"}],
            "postal_address": {"lines": ["@Level 2", "1 Main St"], "locality": "Canberra", "state": "ACT", "postcode": "2600"},
            "tags": ["vip"],
        }))
        .unwrap();
        let stored = validate(&fields, today).unwrap().to_fields();
        let columns = export_columns(&[]);
        let exported = export_row(&columns, ["con_1", "1", "t0", "t1"], &stored);
        let cell = |name: &str| {
            let i = columns.iter().position(|c| *c == name).unwrap();
            exported[i].as_str()
        };
        assert_eq!(
            cell("organisation_name"),
            "'=HYPERLINK(\"http://evil.example\",\"Click\")"
        );
        assert_eq!(cell("display_name"), "'-2+3 Trading");
        assert_eq!(cell("emails"), "'=cmd@evil.example;ok@example.com");
        assert_eq!(cell("postal_lines"), "'@Level 2;1 Main St");
        assert_eq!(cell("postal_locality"), "Canberra");
        assert_eq!(cell("tags"), "vip");
        // Normalised values keep their shape: `+61...` is a phone, not a formula.
        assert_eq!(cell("phones"), "+61412345678");
        assert_eq!(cell("abn"), "51824753556");
        assert_eq!(cell("id"), "con_1");
        for (column, value) in columns.iter().zip(&exported) {
            if value.starts_with(crate::csv::FORMULA_TRIGGERS) {
                assert!(!free_text(column), "{column} = {value:?}");
            }
        }

        let importable: Vec<String> = columns
            .iter()
            .filter(|c| !EXPORT_LEADING.contains(c))
            .map(|c| c.to_string())
            .collect();
        let line = crate::csv::record(&exported[EXPORT_LEADING.len()..]);
        let read = crate::csv::parse(&line).unwrap();
        let again = Header::parse(&importable).unwrap().fields(&read[0].fields);
        assert_eq!(validate(&again, today).unwrap().to_fields(), stored);
    }
}
