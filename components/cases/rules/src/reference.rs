//! Human case references: `CAS-<year>-<six or more digits>`, gapless per
//! year (the store hands out the numbers inside the write that opens the
//! case; this only formats and reads them).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{0}` is not a case reference like CAS-2026-000123")]
pub struct ReferenceError(pub String);

/// A case's reference: its year and its number in that year, from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseReference {
    year: u16,
    number: u32,
}

impl CaseReference {
    const PREFIX: &'static str = "CAS";

    /// The `number`th case opened in `year` (both from 1; years 2000 to 9999).
    pub fn new(year: u16, number: u32) -> Option<Self> {
        ((2000..=9999).contains(&year) && number >= 1).then_some(Self { year, number })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn number(self) -> u32 {
        self.number
    }

    /// The next reference in the same year.
    pub fn next(self) -> Option<Self> {
        self.number
            .checked_add(1)
            .and_then(|n| Self::new(self.year, n))
    }
}

impl fmt::Display for CaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", Self::PREFIX, self.year, self.number)
    }
}

impl FromStr for CaseReference {
    type Err = ReferenceError;

    /// Reads what [`Display`](fmt::Display) writes, in any letter case.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let error = || ReferenceError(raw.chars().take(40).collect());
        let mut parts = raw.trim().splitn(3, '-');
        let (Some(prefix), Some(year), Some(number)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(error());
        };
        let digits = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !prefix.eq_ignore_ascii_case(Self::PREFIX)
            || !digits(year, 4, 4)
            || !digits(number, 6, 9)
        {
            return Err(error());
        }
        let year = year.parse().map_err(|_| error())?;
        let number = number.parse().map_err(|_| error())?;
        Self::new(year, number).ok_or_else(error)
    }
}
