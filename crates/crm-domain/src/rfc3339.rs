//! RFC 3339 timestamps to and from UTC milliseconds since the Unix epoch.
//! Hand-written because one format and two conversions do not justify a
//! date-time crate in every component.

use crate::date::{civil_from_days, days_from_civil, days_in_month};
use crate::error::{Invalid, invalid};

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-11-23T06:30:00.000Z`).
pub fn rfc3339_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses RFC 3339's `date-time` (§5.6),
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, to milliseconds since the
/// epoch in UTC. Fractions beyond milliseconds are truncated; leap seconds
/// (`:60`) are refused rather than silently moved.
pub fn parse_rfc3339_ms(raw: &str) -> Result<i64, Invalid> {
    parse(raw, Reading::Strict)
}

/// As [`parse_rfc3339_ms`], but also reading what people and older clients
/// write for a moment to come: a space for the `T`, no seconds
/// (`2026-01-01 10:00+10:00`), a leap second (read as `:59`), and any
/// two-digit offset. Only the reason for a refusal is less specific.
pub fn parse_rfc3339_ms_lenient(raw: &str) -> Result<i64, Invalid> {
    parse(raw, Reading::Lenient)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    Strict,
    Lenient,
}

const FORMAT_HINT: &str = "must be an RFC 3339 timestamp such as 2026-11-23T16:30:00+10:00";

fn parse(raw: &str, reading: Reading) -> Result<i64, Invalid> {
    let lenient = reading == Reading::Lenient;
    let malformed = || invalid(FORMAT_HINT);
    let s = raw.trim().as_bytes();
    let number = |range: std::ops::Range<usize>| -> Result<u32, Invalid> {
        let digits = s.get(range).ok_or_else(malformed)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(malformed());
        }
        Ok(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let punct = |at: usize, allowed: &[u8]| match s.get(at) {
        Some(b) if allowed.contains(b) => Ok(()),
        _ => Err(malformed()),
    };
    let year = i64::from(number(0..4)?);
    punct(4, b"-")?;
    let month = number(5..7)?;
    punct(7, b"-")?;
    let day = number(8..10)?;
    punct(10, if lenient { b"Tt " } else { b"Tt" })?;
    let hour = number(11..13)?;
    punct(13, b":")?;
    let minute = number(14..16)?;

    let mut at = 16;
    let mut second = 0;
    let mut millis = 0;
    if !lenient || s.get(at) == Some(&b':') {
        punct(16, b":")?;
        second = number(17..19)?;
        at = 19;
        if s.get(at) == Some(&b'.') {
            let digits = s[at + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == 0 {
                return Err(malformed());
            }
            // Pad or truncate the fraction to three digits.
            millis = (0..3).fold(0, |n, i| {
                n * 10
                    + s.get(at + 1 + i)
                        .filter(|_| i < digits)
                        .map_or(0, |d| i64::from(d - b'0'))
            });
            at += 1 + digits;
        }
    }
    let offset_minutes = match s.get(at) {
        Some(b'Z' | b'z') if s.len() == at + 1 => 0,
        Some(sign @ (b'+' | b'-')) if s.len() == at + 6 => {
            punct(at + 3, b":")?;
            let (h, m) = (number(at + 1..at + 3)?, number(at + 4..at + 6)?);
            if !lenient && (h > 23 || m > 59) {
                return Err(invalid("the UTC offset must be at most ±23:59"));
            }
            let minutes = i64::from(h * 60 + m);
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return Err(malformed()),
    };

    // Both fit in u8: two digits are at most 99.
    let (month, day) = (month as u8, day as u8);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(invalid(format!(
            "{year:04}-{month:02}-{day:02} is not a calendar date"
        )));
    }
    if second == 60 {
        if !lenient {
            return Err(invalid("leap seconds (:60) are not accepted"));
        }
        second = 59;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(invalid(format!(
            "{hour:02}:{minute:02}:{second:02} is not a time of day"
        )));
    }
    let local_seconds =
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Ok((local_seconds - offset_minutes * 60) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc3339_formats_utc_milliseconds() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339_utc(1_795_416_000_000), "2026-11-23T06:40:00.000Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339_ms("1970-01-01T10:00:00+10:00"), Ok(0));
        assert_eq!(parse_rfc3339_ms("1969-12-31T14:30:00-09:30"), Ok(0));
        assert_eq!(
            parse_rfc3339_ms("2026-11-23t16:40:00.5z"),
            Ok(1_795_416_000_000 + 10 * 3_600_000 + 500)
        );
        assert_eq!(
            parse_rfc3339_ms("2000-02-29T00:00:00.123987+00:00"),
            Ok(951_782_400_123)
        );
    }

    #[test]
    fn malformed_and_impossible_timestamps_are_refused() {
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23T16:40:00",
            "2026-11-23 16:40:00Z",
            "2026-11-23T16:40Z",
            "2026-11-23T16:40:00.Z",
            "2026-11-23T16:40:00+1000",
            "2026-11-23T16:40:00+10:00Z",
            "2026-1-23T16:40:00Z",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T23:59:60Z",
            "2026-11-23T16:40:00+24:00",
            "+2026-11-23T16:40:00Z",
            "２026-11-23T16:40:00Z",
        ] {
            assert!(parse_rfc3339_ms(bad).is_err(), "{bad:?}");
        }
        assert!(parse_rfc3339_ms("2024-02-29T00:00:00Z").is_ok());
        assert!(parse_rfc3339_ms("2000-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn lenient_reading_takes_spaces_minutes_and_leap_seconds() {
        let lenient = parse_rfc3339_ms_lenient;
        assert_eq!(lenient("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(lenient("2026-01-01T00:00:00Z"), Ok(1_767_225_600_000));
        assert_eq!(lenient("2026-01-01 10:00+10:00"), Ok(1_767_225_600_000));
        assert_eq!(
            lenient("2025-12-31T23:00:00.5-01:00"),
            Ok(1_767_225_600_500)
        );
        assert_eq!(lenient("2024-02-29T12:34:56.789Z"), Ok(1_709_210_096_789));
        assert_eq!(
            lenient("2016-12-31T23:59:60Z"),
            lenient("2016-12-31T23:59:59Z")
        );
        for ms in [0, 1_767_225_600_123, 951_782_400_000, 4_102_444_799_999] {
            assert_eq!(lenient(&rfc3339_utc(ms)), Ok(ms), "{ms}");
        }
    }

    #[test]
    fn lenient_reading_still_refuses_what_is_not_a_date_time() {
        for bad in [
            "",
            "tomorrow",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+1000",
            "2026-01-01T00:00:00Zjunk",
            "2026-01-01T00:00.5Z",
            "２026-01-01T00:00:00Z",
        ] {
            assert!(parse_rfc3339_ms_lenient(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn formatted_instants_parse_back(ms in -2_208_988_800_000i64..=253_402_300_799_999) {
            prop_assert_eq!(parse_rfc3339_ms(&rfc3339_utc(ms)), Ok(ms));
            prop_assert_eq!(parse_rfc3339_ms_lenient(&rfc3339_utc(ms)), Ok(ms));
        }
    }
}
