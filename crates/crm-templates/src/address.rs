//! The postal address of a letter, from `address_line_1` … `address_line_7`.

use crm_domain::CountryCode;
use thiserror::Error;

use crate::field::lookup_key;
use crate::personalisation::{Personalisation, Value};

/// Why an address was refused; the texts are Notify's where Notify has
/// the same rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    #[error("Address must be at least 3 lines")]
    TooFewLines,
    #[error("Address must be no more than 7 lines")]
    TooManyLines,
    #[error(
        "The first 2 lines of the address must both include at least one alphanumeric character"
    )]
    FirstLinesNotAlphanumeric,
    #[error(
        "Address lines must not start with any of the following characters: @ ( ) = [ ] ” \\ / , < >"
    )]
    InvalidFirstCharacter,
    #[error("Last line of address must be a real Australian or UK postcode, or another country")]
    InvalidLastLine,
}

/// What the last line of an address was recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The last line ends in an Australian postcode, as in
    /// `SYDNEY NSW 2000`.
    AustralianPostcode(String),
    /// The whole last line is a UK postcode, normalised (`SW1A 1AA`).
    UkPostcode(String),
    /// The last line names a country.
    Country(String),
}

/// An address of 3 to 7 non-blank lines whose last line is a postcode or a
/// country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    lines: Vec<String>,
    destination: Destination,
}

impl PostalAddress {
    /// The fewest lines an address may have.
    pub const MIN_LINES: usize = 3;
    /// The most lines an address may have (Notify's `address_line_1` …
    /// `address_line_7`).
    pub const MAX_LINES: usize = 7;

    /// Reads `address_line_1` … `address_line_7` (any spelling Notify
    /// accepts), then `postcode`, which older Notify clients send as the
    /// last line. Blank lines are dropped and whitespace is collapsed.
    pub fn from_personalisation(personalisation: &Personalisation) -> Result<Self, AddressError> {
        let keys = (1..=Self::MAX_LINES)
            .map(|n| format!("address_line_{n}"))
            .chain(["postcode".to_string()]);
        let lines = keys
            .filter_map(|key| match personalisation.get_key(&lookup_key(&key))? {
                Value::Text(text) => Some(text.split_whitespace().collect::<Vec<_>>().join(" ")),
                Value::List(items) => Some(items.join(" ")),
            })
            .filter(|line| !line.is_empty())
            .collect();
        Self::from_lines(lines)
    }

    pub fn from_lines(lines: Vec<String>) -> Result<Self, AddressError> {
        if lines.len() < Self::MIN_LINES {
            return Err(AddressError::TooFewLines);
        }
        if lines.len() > Self::MAX_LINES {
            return Err(AddressError::TooManyLines);
        }
        if !lines[..2]
            .iter()
            .all(|line| line.chars().any(char::is_alphanumeric))
        {
            return Err(AddressError::FirstLinesNotAlphanumeric);
        }
        if lines
            .iter()
            .any(|line| line.starts_with(|c| "@()=[]\"”\\/,<>~".contains(c)))
        {
            return Err(AddressError::InvalidFirstCharacter);
        }
        let last = lines.last().expect("at least 3 lines");
        let destination = australian_postcode(last)
            .map(Destination::AustralianPostcode)
            .or_else(|| uk_postcode(last).map(Destination::UkPostcode))
            .or_else(|| country(last).map(|c| Destination::Country(c.to_string())))
            .ok_or(AddressError::InvalidLastLine)?;
        Ok(Self { lines, destination })
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn destination(&self) -> &Destination {
        &self.destination
    }
}

/// The last word of `line` if it is an Australian postcode: four digits in
/// the ranges Australia Post allocates (0200–0299 ACT, 0800–0999 NT,
/// 1000–9999 the states). A last line like `SYDNEY NSW 2000` ends in one.
fn australian_postcode(line: &str) -> Option<String> {
    let word = line.split_whitespace().last()?;
    let number: u16 = word.parse().ok()?;
    let allocated = matches!(number, 200..=299 | 800..=9999);
    (word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit()) && allocated)
        .then(|| word.to_string())
}

/// `line` as a UK postcode in its normal form (outward code, space, inward
/// code), if its shape is one: `A9 9AA`, `A99 9AA`, `A9A 9AA`, `AA9 9AA`,
/// `AA99 9AA`, `AA9A 9AA`, or `GIR 0AA`. The shape only: whether the
/// postcode exists is the print provider's to say.
fn uk_postcode(line: &str) -> Option<String> {
    let compact: String = line
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if !compact.is_ascii() || !(5..=7).contains(&compact.len()) {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let inward_ok = inward.as_bytes()[0].is_ascii_digit()
        && inward.as_bytes()[1..].iter().all(u8::is_ascii_alphabetic);
    let o = outward.as_bytes();
    let letters = o.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let rest = &o[letters..];
    let outward_ok = outward == "GIR"
        || ((1..=2).contains(&letters)
            && match rest {
                [d] => d.is_ascii_digit(),
                [d, x] => d.is_ascii_digit() && x.is_ascii_alphanumeric(),
                _ => false,
            });
    (inward_ok && outward_ok).then(|| format!("{outward} {inward}"))
}

/// The country `line` names, compared without case, spaces or
/// punctuation.
fn country(line: &str) -> Option<&'static str> {
    let normal = |text: &str| -> String {
        text.replace('&', "and")
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = normal(line);
    CountryCode::names()
        .chain(OTHER_COUNTRY_NAMES.iter().copied())
        .find(|name| normal(name) == wanted)
}

/// The other names people write on envelopes for a country (ISO 3166 short
/// names are `crm_domain`'s). A list rather than a heuristic, so that a
/// street name on the last line is refused instead of being posted nowhere.
#[rustfmt::skip]
const OTHER_COUNTRY_NAMES: &[&str] = &[
    "Aotearoa New Zealand", "Bonaire", "Burma", "Cape Verde", "Cocos Islands", "Czech Republic",
    "East Timor", "England", "Great Britain", "Holland", "Holy See", "Ivory Coast", "Korea",
    "Macau", "Northern Ireland", "Russian Federation", "Scotland", "Swaziland", "The Bahamas",
    "The Gambia", "The Netherlands", "Turkey", "UAE", "UK", "United States of America", "USA",
    "Wales",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(lines: &[&str]) -> Result<PostalAddress, AddressError> {
        PostalAddress::from_lines(lines.iter().map(|s| s.to_string()).collect())
    }

    fn destination(last: &str) -> Result<Destination, AddressError> {
        lines(&["A Person", "1 Street", last]).map(|a| a.destination)
    }

    #[test]
    fn australian_postcodes_end_the_last_line() {
        assert_eq!(
            destination("SYDNEY NSW 2000"),
            Ok(Destination::AustralianPostcode("2000".into()))
        );
        assert_eq!(
            destination("Darwin NT 0800"),
            Ok(Destination::AustralianPostcode("0800".into()))
        );
        assert_eq!(
            destination("Canberra ACT 0200"),
            Ok(Destination::AustralianPostcode("0200".into()))
        );
        for bad in [
            "SYDNEY NSW 200",
            "SYDNEY NSW 20000",
            "Nowhere 0100",
            "Nowhere 0700",
            "2000 SYDNEY",
        ] {
            assert_eq!(
                destination(bad),
                Err(AddressError::InvalidLastLine),
                "{bad}"
            );
        }
    }

    #[test]
    fn uk_postcodes_are_normalised() {
        for (raw, normal) in [
            ("SW1A 1AA", "SW1A 1AA"),
            ("sw1a1aa", "SW1A 1AA"),
            ("M1 1AE", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("W1A 0AX", "W1A 0AX"),
            ("GIR 0AA", "GIR 0AA"),
        ] {
            assert_eq!(
                destination(raw),
                Ok(Destination::UkPostcode(normal.into())),
                "{raw}"
            );
        }
        for bad in ["SW1A", "1AA SW1", "SW1A 1A1", "ABC1 1AA", "Main Street"] {
            assert_eq!(
                destination(bad),
                Err(AddressError::InvalidLastLine),
                "{bad}"
            );
        }
    }

    #[test]
    fn countries_are_matched_loosely() {
        assert_eq!(
            destination("new zealand"),
            Ok(Destination::Country("New Zealand".into()))
        );
        assert_eq!(
            destination("Bosnia & Herzegovina"),
            Ok(Destination::Country("Bosnia and Herzegovina".into()))
        );
        assert_eq!(
            destination("U.S.A."),
            Ok(Destination::Country("USA".into()))
        );
    }

    #[test]
    fn three_to_seven_lines() {
        assert_eq!(lines(&["A", "B"]), Err(AddressError::TooFewLines));
        assert!(lines(&["A", "B", "C", "D", "E", "F", "2000"]).is_ok());
        assert_eq!(
            lines(&["A", "B", "C", "D", "E", "F", "G", "2000"]),
            Err(AddressError::TooManyLines)
        );
    }

    #[test]
    fn first_two_lines_need_a_letter_or_digit() {
        assert_eq!(
            lines(&["A", "--", "2000"]),
            Err(AddressError::FirstLinesNotAlphanumeric)
        );
    }

    #[test]
    fn lines_must_not_start_with_markup_characters() {
        for start in ["@", "(", "=", "[", "\"", "\\", "/", ",", "<", "~"] {
            assert_eq!(
                lines(&["A", &format!("{start}x"), "2000"]),
                Err(AddressError::InvalidFirstCharacter),
                "{start}"
            );
        }
    }

    #[test]
    fn from_personalisation_drops_blank_lines_and_reads_postcode() {
        let p = Personalisation::new()
            .with("address_line_1", "Ms  A  Person")
            .with("Address Line 2", "  ")
            .with("address line 3", "1 Street")
            .with("postcode", "Hobart TAS 7000");
        let address = PostalAddress::from_personalisation(&p).unwrap();
        assert_eq!(
            address.lines(),
            ["Ms A Person", "1 Street", "Hobart TAS 7000"]
        );
        assert_eq!(
            address.destination(),
            &Destination::AustralianPostcode("7000".into())
        );
        assert_eq!(
            PostalAddress::from_personalisation(&Personalisation::new()),
            Err(AddressError::TooFewLines)
        );
    }
}
