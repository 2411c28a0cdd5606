//! Identifiers that agencies issue, recorded by scheme.

use crate::error::{FieldErrors, Invalid, invalid};
use crate::text::Slug;

/// An identifier from a named scheme, e.g. `medicare` / `21234567011`.
///
/// Known schemes are checked as far as a public rule allows:
/// - `medicare`: the 10-digit card number (first digit 2 to 6, ninth digit
///   the check digit over the first eight weighted 1, 3, 7, 9, 1, 3, 7, 9)
///   and the person's 1-digit reference number (IRN, 1 to 9), so that the
///   value names one person rather than a family's card.
/// - `crn` (Centrelink Customer Reference Number): 9 digits and a letter;
///   its check character's rule is not published.
///
/// Other schemes take 1 to 40 upper-case letters, digits, hyphens and slashes,
/// after dropping spaces and upper-casing. ABNs and ACNs have their own types;
/// tax file numbers are refused, since only those authorised by law may
/// collect them (Privacy (Tax File Number) Rule 2015).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgencyIdentifier {
    scheme: Slug,
    value: String,
}

const GENERIC_MAX: usize = 40;

impl AgencyIdentifier {
    /// Field names in errors: `scheme`, `value`.
    pub fn parse(scheme: &str, value: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(scheme) = errors.check("scheme", Slug::parse(scheme).and_then(allowed_scheme))
        else {
            return Err(errors);
        };
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let value = match scheme.as_str() {
            "medicare" => medicare(&compact),
            "crn" => crn(&compact),
            _ => generic(&compact),
        };
        let value = errors.check("value", value);
        match value {
            Some(value) => Ok(Self { scheme, value }),
            None => Err(errors),
        }
    }

    pub fn scheme(&self) -> &str {
        self.scheme.as_str()
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

fn allowed_scheme(scheme: Slug) -> Result<Slug, Invalid> {
    match scheme.as_str() {
        "abn" | "acn" => Err(invalid("ABNs and ACNs have their own fields")),
        "tfn" => Err(invalid(
            "tax file numbers must not be recorded here (Privacy (Tax File Number) Rule 2015)",
        )),
        _ => Ok(scheme),
    }
}

const MEDICARE_WEIGHTS: [u32; 8] = [1, 3, 7, 9, 1, 3, 7, 9];

fn medicare(value: &str) -> Result<String, Invalid> {
    let digits: Vec<u32> = value
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()
        .ok_or_else(|| invalid("a Medicare number contains only digits and spaces"))?;
    if digits.len() != 11 {
        return Err(invalid(format!(
            "a Medicare number here is the 10-digit card number and the person's 1-digit reference number: 11 digits, not {}",
            digits.len()
        )));
    }
    if !(2..=6).contains(&digits[0]) {
        return Err(invalid("a Medicare card number starts with 2 to 6"));
    }
    let sum: u32 = digits
        .iter()
        .zip(MEDICARE_WEIGHTS)
        .map(|(d, w)| d * w)
        .sum();
    if sum % 10 != digits[8] {
        return Err(invalid(
            "is not a valid Medicare card number (the check digit does not match); check for a mistyped digit",
        ));
    }
    if digits[10] == 0 {
        return Err(invalid(
            "the individual reference number (last digit) is 1 to 9",
        ));
    }
    Ok(value.to_string())
}

fn crn(value: &str) -> Result<String, Invalid> {
    let bytes = value.as_bytes();
    if bytes.len() != 10
        || !bytes[..9].iter().all(u8::is_ascii_digit)
        || !bytes[9].is_ascii_uppercase()
    {
        return Err(invalid(
            "a Centrelink CRN is 9 digits and a letter, e.g. 123 456 789A",
        ));
    }
    Ok(value.to_string())
}

fn generic(value: &str) -> Result<String, Invalid> {
    if value.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if value.len() > GENERIC_MAX {
        return Err(invalid(format!("must be at most {GENERIC_MAX} characters")));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '/')
    {
        return Err(invalid(
            "must contain only letters, digits, hyphens and slashes",
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(scheme: &str, value: &str) -> (String, String) {
        let errors = AgencyIdentifier::parse(scheme, value).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        (errors.0[0].field.clone(), errors.0[0].reason.clone())
    }

    #[test]
    fn medicare_numbers() {
        // 2+3+14+27+4+15+42+63 = 170, so the check digit is 0.
        let id = AgencyIdentifier::parse("Medicare", "2123 45670 1 1").unwrap();
        assert_eq!((id.scheme(), id.value()), ("medicare", "21234567011"));
        assert_eq!(
            refusal("medicare", "2123 45671 1 1"),
            (
                "value".into(),
                "is not a valid Medicare card number (the check digit does not match); check for a mistyped digit".into()
            )
        );
        assert_eq!(
            refusal("medicare", "2123 45670 1").1,
            "a Medicare number here is the 10-digit card number and the person's 1-digit reference number: 11 digits, not 10"
        );
        assert_eq!(
            refusal("medicare", "7123 45670 1 1").1,
            "a Medicare card number starts with 2 to 6"
        );
        assert_eq!(
            refusal("medicare", "2123 45670 1 0").1,
            "the individual reference number (last digit) is 1 to 9"
        );
        assert_eq!(
            refusal("medicare", "2123-45670-1-1").1,
            "a Medicare number contains only digits and spaces"
        );
    }

    #[test]
    fn centrelink_reference_numbers() {
        assert_eq!(
            AgencyIdentifier::parse("crn", "123 456 789a")
                .unwrap()
                .value(),
            "123456789A"
        );
        assert_eq!(
            refusal("crn", "123456789").1,
            "a Centrelink CRN is 9 digits and a letter, e.g. 123 456 789A"
        );
    }

    #[test]
    fn other_schemes_are_conservative() {
        let id = AgencyIdentifier::parse("nsw-driver-licence", " ab 12 34 ").unwrap();
        assert_eq!((id.scheme(), id.value()), ("nsw-driver-licence", "AB1234"));
        assert_eq!(
            AgencyIdentifier::parse("dva-file", "NX123456")
                .unwrap()
                .value(),
            "NX123456"
        );
        assert_eq!(
            refusal("passport", "PA#1234567").1,
            "must contain only letters, digits, hyphens and slashes"
        );
        assert_eq!(refusal("passport", "  ").1, "must not be empty");
        assert_eq!(
            refusal("passport", &"A".repeat(41)).1,
            "must be at most 40 characters"
        );
    }

    #[test]
    fn schemes_are_slugs_and_some_are_refused() {
        assert_eq!(
            refusal("Driver Licence", "1"),
            (
                "scheme".into(),
                "must contain only letters, digits and hyphens, not ' '".into()
            )
        );
        assert_eq!(
            refusal("abn", "51824753556").1,
            "ABNs and ACNs have their own fields"
        );
        assert_eq!(
            refusal("TFN", "123456782").1,
            "tax file numbers must not be recorded here (Privacy (Tax File Number) Rule 2015)"
        );
    }
}
