//! Australian Business Numbers and Australian Company Numbers.

use crate::error::{Invalid, invalid};

/// The digits of `raw` with spaces dropped, if it is exactly `len` digits.
fn spaced_digits(raw: &str, len: usize, what: &str) -> Result<Vec<u8>, Invalid> {
    let digits: Vec<u8> = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<_>>()
        .ok_or_else(|| invalid(format!("an {what} contains only digits and spaces")))?;
    if digits.len() != len {
        return Err(invalid(format!(
            "an {what} has {len} digits, not {}",
            digits.len()
        )));
    }
    Ok(digits)
}

fn text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// Groups `digits` with spaces after the given group sizes.
fn grouped(digits: &str, groups: &[usize]) -> String {
    let mut out = String::with_capacity(digits.len() + groups.len());
    let mut start = 0;
    for (i, size) in groups.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&digits[start..start + size]);
        start += size;
    }
    out
}

/// An Australian Business Number: 11 digits passing the ATO's check (subtract
/// 1 from the first digit, weight the digits 10, 1, 3, 5, ..., 19, and the sum
/// divides by 89). Every single mistyped digit fails the check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Abn(String);

const ABN_WEIGHTS: [i32; 11] = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];

impl Abn {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits = spaced_digits(raw, 11, "ABN")?;
        // The first two digits are check digits from 10 to 99.
        if digits[0] == 0 {
            return Err(invalid("an ABN does not start with 0"));
        }
        let sum: i32 = digits
            .iter()
            .zip(ABN_WEIGHTS)
            .enumerate()
            .map(|(i, (&d, w))| (i32::from(d) - i32::from(i == 0)) * w)
            .sum();
        if sum % 89 != 0 {
            return Err(invalid(
                "is not a valid ABN (the check digits do not match); check for a mistyped digit",
            ));
        }
        Ok(Self(text(&digits)))
    }

    /// 11 digits, no spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As the ABR prints it: `51 824 753 556`.
    pub fn formatted(&self) -> String {
        grouped(&self.0, &[2, 3, 3, 3])
    }
}

/// An Australian Company Number: 9 digits whose last is ASIC's check digit
/// (weight the first eight 8 down to 1; the check digit is 10 minus the sum's
/// remainder by 10, with 10 written 0).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Acn(String);

impl Acn {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits = spaced_digits(raw, 9, "ACN")?;
        let sum: u32 = digits[..8]
            .iter()
            .zip((1..=8).rev())
            .map(|(&d, w)| u32::from(d) * w)
            .sum();
        if (10 - sum % 10) % 10 != u32::from(digits[8]) {
            return Err(invalid(
                "is not a valid ACN (the check digit does not match); check for a mistyped digit",
            ));
        }
        Ok(Self(text(&digits)))
    }

    /// 9 digits, no spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As ASIC prints it: `000 000 019`.
    pub fn formatted(&self) -> String {
        grouped(&self.0, &[3, 3, 3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn abns() {
        let abn = Abn::parse("51 824 753 556").unwrap();
        assert_eq!(abn.as_str(), "51824753556");
        assert_eq!(abn.formatted(), "51 824 753 556");
        assert_eq!(Abn::parse("51824753556").unwrap(), abn);
        assert_eq!(
            Abn::parse("51 824 753 557").unwrap_err().0,
            "is not a valid ABN (the check digits do not match); check for a mistyped digit"
        );
        // Swapping the first two digits changes the check.
        assert!(Abn::parse("15 824 753 556").is_err());
        assert_eq!(
            Abn::parse("5182475355").unwrap_err().0,
            "an ABN has 11 digits, not 10"
        );
        assert_eq!(
            Abn::parse("518247535566").unwrap_err().0,
            "an ABN has 11 digits, not 12"
        );
        assert_eq!(
            Abn::parse("51-824-753-556").unwrap_err().0,
            "an ABN contains only digits and spaces"
        );
        assert_eq!(Abn::parse("").unwrap_err().0, "an ABN has 11 digits, not 0");
        // 01 300 000 000 passes the arithmetic ((0-1)*10 + 1 + 3*3 = 0), but ABNs start at 10.
        assert_eq!(
            Abn::parse("01 300 000 000").unwrap_err().0,
            "an ABN does not start with 0"
        );
    }

    #[test]
    fn acns() {
        // ASIC's published examples.
        for raw in [
            "000 000 019",
            "000 250 000",
            "000 500 005",
            "001 000 004",
            "005 499 981",
            "010 499 966",
        ] {
            assert_eq!(Acn::parse(raw).unwrap().formatted(), raw);
        }
        assert_eq!(Acn::parse("000000019").unwrap().as_str(), "000000019");
        assert_eq!(
            Acn::parse("000 000 018").unwrap_err().0,
            "is not a valid ACN (the check digit does not match); check for a mistyped digit"
        );
        assert_eq!(
            Acn::parse("00 000 019").unwrap_err().0,
            "an ACN has 9 digits, not 8"
        );
        assert_eq!(
            Acn::parse("000 000 O19").unwrap_err().0,
            "an ACN contains only digits and spaces"
        );
    }

    /// The ABN whose last nine digits are `body`: exactly one prefix from 10
    /// to 98 satisfies the check, since the prefix adds `prefix - 10` to it.
    fn abn_with_body(body: &[u8]) -> String {
        (10..=98)
            .map(|prefix| format!("{prefix}{}", text(body)))
            .find(|candidate| Abn::parse(candidate).is_ok())
            .unwrap()
    }

    proptest! {
        #[test]
        fn every_single_digit_typo_in_an_abn_is_caught(
            body in proptest::collection::vec(0u8..10, 9),
            position in 0usize..11,
            delta in 1u8..10,
        ) {
            let valid = abn_with_body(&body);
            let mut typo: Vec<u8> = valid.bytes().map(|b| b - b'0').collect();
            typo[position] = (typo[position] + delta) % 10;
            prop_assert!(Abn::parse(&text(&typo)).is_err());
        }

        #[test]
        fn acn_check_digit_is_unique(body in proptest::collection::vec(0u8..10, 8)) {
            let valid: Vec<_> = (0..10u8)
                .filter(|check| {
                    let mut digits = body.clone();
                    digits.push(*check);
                    Acn::parse(&text(&digits)).is_ok()
                })
                .collect();
            prop_assert_eq!(valid.len(), 1);
        }
    }
}
