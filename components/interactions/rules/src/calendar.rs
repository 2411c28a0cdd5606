//! RFC 3339 timestamps to UTC milliseconds, and the civil-calendar arithmetic
//! beneath them and the trend buckets (proleptic Gregorian, days counted from
//! 1970-01-01). Hand-written because one format and two conversions do not
//! justify a date-time crate in every component.

use crm_domain::Invalid;

pub const MS_PER_DAY: i64 = 86_400_000;

/// 1900-01-01T00:00:00Z: nothing the log records happened before it.
pub const MIN_MS: i64 = -2_208_988_800_000;
/// 9999-12-31T23:59:59.999Z: the last instant a four-digit year can name.
pub const MAX_MS: i64 = 253_402_300_799_999;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number: `(year, month, day)`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const FORMAT_HINT: &str = "must be an RFC 3339 timestamp such as 2026-11-23T16:30:00+10:00";

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to milliseconds since the
/// epoch in UTC. Fractions beyond milliseconds are truncated; leap seconds
/// (`:60`) are refused rather than silently moved.
pub fn parse_rfc3339_ms(raw: &str) -> Result<i64, Invalid> {
    let malformed = || Invalid(FORMAT_HINT.to_string());
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
    punct(10, b"Tt")?;
    let hour = number(11..13)?;
    punct(13, b":")?;
    let minute = number(14..16)?;
    punct(16, b":")?;
    let second = number(17..19)?;

    let mut at = 19;
    let mut millis = 0;
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
    let offset_minutes = match s.get(at) {
        Some(b'Z' | b'z') if s.len() == at + 1 => 0,
        Some(sign @ (b'+' | b'-')) if s.len() == at + 6 => {
            punct(at + 3, b":")?;
            let (h, m) = (number(at + 1..at + 3)?, number(at + 4..at + 6)?);
            if h > 23 || m > 59 {
                return Err(Invalid("the UTC offset must be at most ±23:59".into()));
            }
            let minutes = i64::from(h * 60 + m);
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return Err(malformed()),
    };

    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(Invalid(format!(
            "{year:04}-{month:02}-{day:02} is not a calendar date"
        )));
    }
    if second == 60 {
        return Err(Invalid("leap seconds (:60) are not accepted".into()));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(Invalid(format!(
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
    fn the_bounds_are_the_named_instants() {
        assert_eq!(parse_rfc3339_ms("1900-01-01T00:00:00Z"), Ok(MIN_MS));
        assert_eq!(parse_rfc3339_ms("9999-12-31T23:59:59.999Z"), Ok(MAX_MS));
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

    proptest! {
        #[test]
        fn civil_days_round_trip(days in -800_000i64..3_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn formatted_instants_parse_back(ms in MIN_MS..=MAX_MS) {
            prop_assert_eq!(parse_rfc3339_ms(&crm_domain::rfc3339_utc(ms)), Ok(ms));
        }
    }
}
