//! Telephone numbers in E.164 form.
//!
//! Australian numbers follow the ACMA Telecommunications Numbering Plan 2015:
//! a national significant number of 9 digits after the trunk 0 or the country
//! code 61; 2, 3, 7 and 8 are the geographic areas (with an 8-digit local
//! number starting 2 to 9), 4 is mobile, 500 and 550 are location-independent
//! numbers. Freephone and local-rate numbers (13, 1300, 1800) cannot be dialled
//! from outside Australia, so they have no E.164 form.

use crate::error::{Invalid, invalid};
use crate::text::{Lines, check_text};

/// A telephone number as E.164: `+` and 7 to 15 digits, e.g. `+61412345678`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhoneE164(String);

/// The prefix Australians dial before an overseas number.
const AUSTRALIAN_INTERNATIONAL_PREFIX: &str = "0011";

impl PhoneE164 {
    /// Australian national formats (`0412 345 678`, `(02) 6123 4567`), the
    /// same with the country code (`+61 412 345 678`, `61412345678`,
    /// `+61 (0)2 6123 4567`) and international numbers (`+44 20 7946 0958`,
    /// `0011 44 20 7946 0958`). Spaces, hyphens, dots and brackets are ignored.
    /// The longest number as typed, separators and all.
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid("must not be empty"));
        }
        check_text(raw, Self::MAX_CHARS, Lines::One)?;
        let mut digits = String::with_capacity(raw.len());
        for (i, c) in raw.char_indices() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '\u{a0}' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(invalid(
                        "must contain only digits, spaces, hyphens, dots, brackets and a leading +",
                    ));
                }
            }
        }
        let international = if raw.starts_with('+') {
            Some(digits.as_str())
        } else if let Some(rest) = digits.strip_prefix(AUSTRALIAN_INTERNATIONAL_PREFIX) {
            Some(rest)
        } else if digits.len() == 11 && digits.starts_with("61") {
            Some(digits.as_str())
        } else {
            None
        };
        match international {
            Some(number) => match number.strip_prefix("61") {
                // "+61 (0)2 ..." keeps a trunk 0 that the E.164 form drops.
                Some(national) => australian(national.strip_prefix('0').unwrap_or(national)),
                None => overseas(number),
            },
            None => match digits.strip_prefix('0') {
                Some(national) => australian(national),
                None if digits.starts_with('1') => australian(&digits),
                None if digits.len() == 8 => {
                    Err(invalid("include the area code, e.g. (02) 6123 4567"))
                }
                None => Err(invalid(
                    "start an Australian number with 0 and an overseas number with +",
                )),
            },
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether SMS can reach it: an Australian mobile number.
    pub fn is_australian_mobile(&self) -> bool {
        self.0.starts_with("+614")
    }
}

/// `national`: the national significant number, after the trunk 0 or 61.
fn australian(national: &str) -> Result<PhoneE164, Invalid> {
    if national.starts_with('1') {
        return Err(invalid(
            "13, 1300 and 1800 numbers cannot be dialled from overseas, so they cannot be stored; give a direct number",
        ));
    }
    if national.len() != 9 {
        return Err(invalid(format!(
            "an Australian number has 10 digits including the leading 0, not {}",
            national.len() + 1
        )));
    }
    let bytes = national.as_bytes();
    match bytes[0] {
        b'2' | b'3' | b'7' | b'8' if !matches!(bytes[1], b'2'..=b'9') => Err(invalid(
            "an Australian landline's 8-digit local number starts with 2 to 9",
        )),
        b'2' | b'3' | b'7' | b'8' | b'4' => Ok(PhoneE164(format!("+61{national}"))),
        b'5' if national.starts_with("500") || national.starts_with("550") => {
            Ok(PhoneE164(format!("+61{national}")))
        }
        b'5' => Err(invalid("Australian 05 numbers start 0500 or 0550")),
        _ => Err(invalid(
            "an Australian number starts with 02, 03, 07 or 08 (landline), 04 (mobile) or 0500/0550",
        )),
    }
}

fn overseas(digits: &str) -> Result<PhoneE164, Invalid> {
    if digits.starts_with('0') {
        return Err(invalid("a country code does not start with 0"));
    }
    // E.164 allows at most 15 digits; the shortest in use (e.g. Niue, +683 and
    // 4 digits) have 7.
    if !(7..=15).contains(&digits.len()) {
        return Err(invalid(format!(
            "an international number has 7 to 15 digits after the +, not {}",
            digits.len()
        )));
    }
    Ok(PhoneE164(format!("+{digits}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str) -> String {
        PhoneE164::parse(raw)
            .unwrap_or_else(|e| panic!("{raw}: {e}"))
            .as_str()
            .to_string()
    }

    fn refusal(raw: &str) -> String {
        PhoneE164::parse(raw).unwrap_err().0
    }

    #[test]
    fn australian_formats_normalise_to_e164() {
        for raw in [
            "0412 345 678",
            "0412345678",
            "0412-345-678",
            "+61 412 345 678",
            "+61412345678",
            "61412345678",
            "+61 (0)412 345 678",
            "0011 61 412 345 678",
            " 04.12.34.56.78 ",
        ] {
            assert_eq!(e164(raw), "+61412345678", "{raw}");
        }
        assert_eq!(e164("(02) 6123 4567"), "+61261234567");
        assert_eq!(e164("+61 2 6123 4567"), "+61261234567");
        assert_eq!(e164("03 9876 5432"), "+61398765432");
        assert_eq!(e164("(07) 3123 4567"), "+61731234567");
        assert_eq!(e164("08 8123 4567"), "+61881234567");
        assert_eq!(e164("0550 123 456"), "+61550123456");
    }

    #[test]
    fn international_numbers() {
        assert_eq!(e164("+44 20 7946 0958"), "+442079460958");
        assert_eq!(e164("0011 44 20 7946 0958"), "+442079460958");
        assert_eq!(e164("+64 21 123 4567"), "+64211234567");
        assert_eq!(e164("+683 4002"), "+6834002");
        assert_eq!(e164("+1 202 555 0143"), "+12025550143");
    }

    #[test]
    fn wrong_lengths_and_prefixes_are_refused() {
        let padded = format!("0412{}345678", " ".repeat(30));
        assert_eq!(refusal(&padded), "must be at most 32 characters");
        assert_eq!(
            refusal("0412 345 67"),
            "an Australian number has 10 digits including the leading 0, not 9"
        );
        assert_eq!(
            refusal("+61 412 345 6789"),
            "an Australian number has 10 digits including the leading 0, not 11"
        );
        assert_eq!(
            refusal("6123 4567"),
            "include the area code, e.g. (02) 6123 4567"
        );
        assert_eq!(
            refusal("(02) 0123 4567"),
            "an Australian landline's 8-digit local number starts with 2 to 9"
        );
        assert_eq!(
            refusal("0612345678"),
            "an Australian number starts with 02, 03, 07 or 08 (landline), 04 (mobile) or 0500/0550"
        );
        assert_eq!(
            refusal("0912345678"),
            "an Australian number starts with 02, 03, 07 or 08 (landline), 04 (mobile) or 0500/0550"
        );
        assert_eq!(
            refusal("0512 345 678"),
            "Australian 05 numbers start 0500 or 0550"
        );
        for freecall in [
            "1800 123 456",
            "1300 123 456",
            "13 12 34",
            "+61 1800 123 456",
        ] {
            assert!(
                refusal(freecall).starts_with("13, 1300 and 1800"),
                "{freecall}"
            );
        }
        assert_eq!(
            refusal("+44 1234 5678 901234"),
            "an international number has 7 to 15 digits after the +, not 16"
        );
        assert_eq!(
            refusal("+683 400"),
            "an international number has 7 to 15 digits after the +, not 6"
        );
        assert_eq!(
            refusal("+0 123 4567"),
            "a country code does not start with 0"
        );
        assert_eq!(
            refusal("412345678"),
            "start an Australian number with 0 and an overseas number with +"
        );
        assert_eq!(
            refusal("0412 345 678 ext 2"),
            "must contain only digits, spaces, hyphens, dots, brackets and a leading +"
        );
        assert_eq!(
            refusal("04+12345678"),
            "must contain only digits, spaces, hyphens, dots, brackets and a leading +"
        );
        assert_eq!(refusal("  "), "must not be empty");
    }

    proptest::proptest! {
        #[test]
        fn e164_form_parses_to_itself(
            // Australian landlines and mobiles, and overseas numbers (not +61).
            number in "(0[2378][2-9][0-9]{7}|04[0-9]{8}|\\+([1-57-9][0-9]|6[02-9])[0-9]{5,13})",
            separator in proptest::sample::select(vec!["", " ", "-", "."]),
        ) {
            // Spread the digits with separators, as people type them.
            let typed: String = number
                .chars()
                .enumerate()
                .map(|(i, c)| if i > 0 && i % 3 == 0 { format!("{separator}{c}") } else { c.to_string() })
                .collect();
            let phone = PhoneE164::parse(&typed).unwrap();
            proptest::prop_assert_eq!(PhoneE164::parse(phone.as_str()).unwrap(), phone.clone());
            proptest::prop_assert!(phone.as_str().starts_with('+'));
            proptest::prop_assert!((8..=16).contains(&phone.as_str().len()));
        }
    }

    #[test]
    fn mobiles_are_told_apart() {
        assert!(
            PhoneE164::parse("0412 345 678")
                .unwrap()
                .is_australian_mobile()
        );
        assert!(
            !PhoneE164::parse("(02) 6123 4567")
                .unwrap()
                .is_australian_mobile()
        );
        assert!(
            !PhoneE164::parse("+44 7700 900123")
                .unwrap()
                .is_australian_mobile()
        );
    }
}
