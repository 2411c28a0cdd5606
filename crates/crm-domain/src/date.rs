//! Calendar dates, dates of birth, and the proleptic Gregorian arithmetic
//! beneath them and every timestamp (days counted from 1970-01-01).

use crate::error::{Invalid, invalid};
use std::fmt;

/// A day of the proleptic Gregorian calendar. Field order makes the derived
/// ordering chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CalendarDate {
    /// A real date from year 1 to 9999.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, Invalid> {
        if !(1..=9999).contains(&year) {
            return Err(invalid("year must be 0001 to 9999"));
        }
        if !(1..=12).contains(&month) {
            return Err(invalid("month must be 01 to 12"));
        }
        let last = days_in_month(i64::from(year), month);
        if !(1..=last).contains(&day) {
            return Err(invalid(format!(
                "{year:04}-{month:02}-{day:02} is not a real date: {} {year} has {last} days",
                MONTH_NAMES[usize::from(month) - 1]
            )));
        }
        Ok(Self { year, month, day })
    }

    /// `YYYY-MM-DD`, exactly.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bytes = raw.trim().as_bytes();
        let digits_at = |range: std::ops::Range<usize>| {
            bytes[range].iter().try_fold(0u16, |n, b| {
                b.is_ascii_digit().then(|| n * 10 + u16::from(b - b'0'))
            })
        };
        let shaped = bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-';
        let (Some(year), Some(month), Some(day)) = (
            shaped.then(|| digits_at(0..4)).flatten(),
            shaped.then(|| digits_at(5..7)).flatten(),
            shaped.then(|| digits_at(8..10)).flatten(),
        ) else {
            return Err(invalid("must be a date written YYYY-MM-DD"));
        };
        // Both fit in u8: two digits are at most 99.
        Self::new(year, month as u8, day as u8)
    }

    /// The UTC day of `ms` milliseconds since the Unix epoch. For the day in
    /// another zone, add its offset first (AEST: `ms + 10 * 3_600_000`).
    pub fn from_unix_ms(ms: i64) -> Self {
        let (year, month, day) = civil_from_days(ms.div_euclid(86_400_000));
        Self {
            year: year.clamp(1, 9999) as u16,
            month,
            day,
        }
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// As a letter is dated: `7 December 2026`.
    pub fn long_form(self) -> String {
        format!(
            "{} {} {}",
            self.day,
            MONTH_NAMES[usize::from(self.month) - 1],
            self.year
        )
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Whether `year` of the proleptic Gregorian calendar has a 29 February.
pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// How many days `month` (1 to 12) of `year` has.
pub fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A date of birth: a real date, not after `today` and at most
/// [`DateOfBirth::MAX_AGE_YEARS`] years before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateOfBirth(CalendarDate);

impl DateOfBirth {
    /// Older than any verified human lifespan (122 years), with a margin.
    pub const MAX_AGE_YEARS: u16 = 130;

    /// `today` is supplied by the caller (see [`CalendarDate::from_unix_ms`]).
    pub fn parse(raw: &str, today: CalendarDate) -> Result<Self, Invalid> {
        let date = CalendarDate::parse(raw)?;
        if date > today {
            return Err(invalid(format!("must not be after today ({today})")));
        }
        let earliest = (
            today.year.saturating_sub(Self::MAX_AGE_YEARS),
            today.month,
            today.day,
        );
        if (date.year, date.month, date.day) < earliest {
            return Err(invalid(format!(
                "must be within the last {} years (on or after {:04}-{:02}-{:02})",
                Self::MAX_AGE_YEARS,
                earliest.0,
                earliest.1,
                earliest.2
            )));
        }
        Ok(Self(date))
    }

    pub fn date(self) -> CalendarDate {
        self.0
    }
}

impl fmt::Display for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> CalendarDate {
        CalendarDate::parse(raw).unwrap()
    }

    #[test]
    fn calendar_dates_are_real() {
        assert_eq!(date("2024-02-29").to_string(), "2024-02-29");
        assert_eq!(date("2026-12-07").long_form(), "7 December 2026");
        assert_eq!(date(" 2000-02-29 ").day(), 29);
        assert_eq!(
            CalendarDate::parse("2023-02-29").unwrap_err().0,
            "2023-02-29 is not a real date: February 2023 has 28 days"
        );
        assert_eq!(
            CalendarDate::parse("1900-02-29").unwrap_err().0,
            "1900-02-29 is not a real date: February 1900 has 28 days"
        );
        assert_eq!(
            CalendarDate::parse("2024-04-31").unwrap_err().0,
            "2024-04-31 is not a real date: April 2024 has 30 days"
        );
        assert_eq!(
            CalendarDate::parse("2024-13-01").unwrap_err().0,
            "month must be 01 to 12"
        );
        assert_eq!(
            CalendarDate::parse("0000-01-01").unwrap_err().0,
            "year must be 0001 to 9999"
        );
        for bad in [
            "24-02-01",
            "2024/02/01",
            "2024-2-01",
            "2024-02-1",
            "２０２４-02-01",
            "",
            "2024-02-01T00",
        ] {
            assert_eq!(
                CalendarDate::parse(bad).unwrap_err().0,
                "must be a date written YYYY-MM-DD",
                "{bad}"
            );
        }
    }

    #[test]
    fn calendar_dates_from_unix_time() {
        assert_eq!(CalendarDate::from_unix_ms(0), date("1970-01-01"));
        assert_eq!(CalendarDate::from_unix_ms(-1), date("1969-12-31"));
        assert_eq!(
            CalendarDate::from_unix_ms(951_782_400_123),
            date("2000-02-29")
        );
        // 2026-11-23T14:00Z is already the 24th in Canberra (AEDT, +11).
        let ms = 1_795_442_400_000;
        assert_eq!(CalendarDate::from_unix_ms(ms), date("2026-11-23"));
        assert_eq!(
            CalendarDate::from_unix_ms(ms + 11 * 3_600_000),
            date("2026-11-24")
        );
        assert!(date("2026-11-24") > date("2026-11-23"));
        assert!(date("2026-01-31") < date("2026-02-01"));
    }

    #[test]
    fn dates_of_birth_are_plausible() {
        let today = date("2026-11-24");
        assert_eq!(
            DateOfBirth::parse("2026-11-24", today).unwrap().to_string(),
            "2026-11-24"
        );
        assert_eq!(
            DateOfBirth::parse("2026-11-25", today).unwrap_err().0,
            "must not be after today (2026-11-24)"
        );
        assert!(DateOfBirth::parse("1896-11-24", today).is_ok());
        assert_eq!(
            DateOfBirth::parse("1896-11-23", today).unwrap_err().0,
            "must be within the last 130 years (on or after 1896-11-24)"
        );
        // The earliest allowed day need not exist: 130 years before a 29 February.
        let leap_today = date("2028-02-29");
        assert!(DateOfBirth::parse("1898-03-01", leap_today).is_ok());
        assert!(DateOfBirth::parse("1898-02-28", leap_today).is_err());
        assert_eq!(
            DateOfBirth::parse("1990-02-30", today).unwrap_err().0,
            "1990-02-30 is not a real date: February 1990 has 28 days"
        );
    }

    proptest::proptest! {
        #[test]
        fn civil_days_round_trip(days in -800_000i64..3_000_000) {
            let (y, m, d) = civil_from_days(days);
            proptest::prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            proptest::prop_assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
