//! Names of people and organisations.

use crate::error::{FieldErrors, Invalid, invalid};
use crate::text::clean_bounded;
use unicode_normalization::char::is_combining_mark;

/// One part of a person's name (given, family or preferred): cleaned text of
/// 1 to 100 characters in any script, with the apostrophes, hyphens, full
/// stops and spaces that real names use, and at least one letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamePart(String);

impl NamePart {
    pub const MAX: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = clean_bounded(raw, Self::MAX)?;
        if let Some(c) = text.chars().find(|&c| !is_name_char(c)) {
            return Err(invalid(format!(
                "must not contain {c:?}: names use letters, spaces, apostrophes, hyphens and full stops"
            )));
        }
        if !text.chars().any(char::is_alphabetic) {
            return Err(invalid("must contain a letter"));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphabetic()
        || is_combining_mark(c)
        || matches!(
            c,
            ' ' | '\'' | '\u{2019}' | '-' | '\u{2010}' | '.'
            // Zero-width (non-)joiners are part of correct spelling in Persian and Indic scripts.
            | '\u{200C}' | '\u{200D}'
        )
}

/// A person's name. A person with a single name records it as the family
/// name, as Australian passports and the Document Verification Service do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    given: Option<NamePart>,
    family: NamePart,
    preferred: Option<NamePart>,
}

impl PersonName {
    /// Field names in errors: `given_name`, `family_name`, `preferred_name`.
    pub fn parse(
        given: Option<&str>,
        family: &str,
        preferred: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let given = errors.check_optional("given_name", given, NamePart::parse);
        let family = errors.check(
            "family_name",
            NamePart::parse(family).map_err(|e| {
                if e.0 == "must not be empty" {
                    invalid("must not be empty (a person with one name records it here)")
                } else {
                    e
                }
            }),
        );
        let preferred = errors.check_optional("preferred_name", preferred, NamePart::parse);
        let (Some(given), Some(family), Some(preferred)) = (given, family, preferred) else {
            return Err(errors);
        };
        Ok(Self {
            given,
            family,
            preferred,
        })
    }

    pub fn given(&self) -> Option<&NamePart> {
        self.given.as_ref()
    }

    pub fn family(&self) -> &NamePart {
        &self.family
    }

    pub fn preferred(&self) -> Option<&NamePart> {
        self.preferred.as_ref()
    }
}

/// The name of a business, agency or partner: cleaned text of 1 to 200
/// characters with at least one letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganisationName(String);

impl OrganisationName {
    pub const MAX: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = clean_bounded(raw, Self::MAX)?;
        if !text.chars().any(char::is_alphanumeric) {
            return Err(invalid("must contain a letter or digit"));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_parts_keep_real_spellings() {
        for name in [
            "O'Brien",
            "O\u{2019}Brien",
            "Smith-Jones",
            "Nguyễn",
            "Zoë",
            "St. John",
            "van der Berg",
            "José María",
            "Ngũgĩ",
            "李",
            "محمد",
            "प्रिया",
            "Ta\u{2010}Nehisi",
        ] {
            assert_eq!(NamePart::parse(name).unwrap().as_str(), name, "{name}");
        }
    }

    #[test]
    fn name_parts_are_cleaned_and_composed() {
        // Decomposed input is stored composed, so equal names compare equal.
        let decomposed = NamePart::parse("  Nguye\u{302}\u{303}n   Van ").unwrap();
        assert_eq!(decomposed.as_str(), "Nguy\u{1ec5}n Van");
        assert_eq!(decomposed, NamePart::parse("Nguyễn Van").unwrap());
    }

    #[test]
    fn name_part_refusals_say_why() {
        let cases = [
            ("", "must not be empty"),
            ("   ", "must not be empty"),
            (
                "R2D2",
                "must not contain '2': names use letters, spaces, apostrophes, hyphens and full stops",
            ),
            (
                "Ann@",
                "must not contain '@': names use letters, spaces, apostrophes, hyphens and full stops",
            ),
            ("'-.", "must contain a letter"),
            ("Ann\u{0}", "must not contain the control character U+0000"),
        ];
        for (raw, reason) in cases {
            assert_eq!(NamePart::parse(raw).unwrap_err().0, reason, "{raw:?}");
        }
        assert!(NamePart::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            NamePart::parse(&"é".repeat(101)).unwrap_err().0,
            "must be at most 100 characters"
        );
    }

    #[test]
    fn person_names_report_every_field() {
        let name = PersonName::parse(Some("Zoë"), "Nguyễn", None).unwrap();
        assert_eq!(name.given().unwrap().as_str(), "Zoë");
        assert_eq!(name.family().as_str(), "Nguyễn");
        assert!(name.preferred().is_none());

        let mononym = PersonName::parse(None, "Sukarno", None).unwrap();
        assert!(mononym.given().is_none());

        let errors = PersonName::parse(Some("J0hn"), " ", Some("")).unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["given_name", "family_name", "preferred_name"]);
        assert_eq!(
            errors.0[1].reason,
            "must not be empty (a person with one name records it here)"
        );
    }

    #[test]
    fn organisation_names() {
        assert_eq!(
            OrganisationName::parse(" ACME  Pty   Ltd ")
                .unwrap()
                .as_str(),
            "ACME Pty Ltd"
        );
        assert_eq!(
            OrganisationName::parse("7-Eleven").unwrap().as_str(),
            "7-Eleven"
        );
        assert_eq!(
            OrganisationName::parse("&&").unwrap_err().0,
            "must contain a letter or digit"
        );
        assert!(OrganisationName::parse(&"a".repeat(201)).is_err());
    }
}
