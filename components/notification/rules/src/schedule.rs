//! `scheduled_for`: when a caller asks for a message to go later.

use std::fmt;

/// How far ahead a message may be scheduled.
pub const MAX_SCHEDULE_AHEAD_MS: i64 = 366 * 24 * 60 * 60 * 1000;

/// Why a `scheduled_for` was refused. Displayed as Notify words it, with the
/// field first (`scheduled_for must not be in the past`); [`Self::reason`]
/// is the same without the field, for errors that name it themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleError {
    Format,
    Past,
    TooFar,
}

impl ScheduleError {
    /// What is wrong with the value, without the field's name.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Format => "must be an RFC 3339 date-time such as 2026-05-01T09:00:00Z",
            Self::Past => "must not be in the past",
            Self::TooFar => "must be within 366 days",
        }
    }
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scheduled_for {}", self.reason())
    }
}

impl std::error::Error for ScheduleError {}

/// Milliseconds since the epoch of an RFC 3339 date-time
/// (`YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`; a space may stand for `T`).
pub fn parse_rfc3339_ms(raw: &str) -> Result<i64, ScheduleError> {
    let raw = raw.trim();
    let bytes = raw.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Result<i64, ScheduleError> {
        let part = raw.get(range).ok_or(ScheduleError::Format)?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ScheduleError::Format);
        }
        part.parse().map_err(|_| ScheduleError::Format)
    };
    let at = |i: usize, c: u8| bytes.get(i) == Some(&c);
    if !(at(4, b'-')
        && at(7, b'-')
        && (at(10, b'T') || at(10, b't') || at(10, b' '))
        && at(13, b':'))
    {
        return Err(ScheduleError::Format);
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute) = (digits(11..13)?, digits(14..16)?);
    let mut i = 16;
    let mut second = 0;
    let mut millis = 0;
    if at(i, b':') {
        second = digits(i + 1..i + 3)?;
        i += 3;
        if at(i, b'.') {
            let end = (i + 1..bytes.len())
                .find(|&j| !bytes[j].is_ascii_digit())
                .unwrap_or(bytes.len());
            let fraction = raw.get(i + 1..end).ok_or(ScheduleError::Format)?;
            if fraction.is_empty() {
                return Err(ScheduleError::Format);
            }
            millis = format!("{fraction:0<3}")[..3]
                .parse::<i64>()
                .map_err(|_| ScheduleError::Format)?;
            i = end;
        }
    }
    let offset_minutes = match raw.get(i..) {
        Some("Z" | "z") => 0,
        Some(zone) if zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) => {
            if !at(i + 3, b':') {
                return Err(ScheduleError::Format);
            }
            let minutes = digits(i + 1..i + 3)? * 60 + digits(i + 4..i + 6)?;
            if zone.starts_with('-') {
                -minutes
            } else {
                minutes
            }
        }
        _ => return Err(ScheduleError::Format),
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return Err(ScheduleError::Format),
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return Err(ScheduleError::Format);
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second.min(59) - offset_minutes * 60;
    Ok(seconds * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A requested schedule checked against the clock: a time up to a minute
/// in the past counts as now (clocks differ); later than
/// [`MAX_SCHEDULE_AHEAD_MS`] is refused.
pub fn check_schedule(raw: &str, now_ms: i64) -> Result<i64, ScheduleError> {
    let at = parse_rfc3339_ms(raw)?;
    if at < now_ms - 60_000 {
        return Err(ScheduleError::Past);
    }
    if at > now_ms + MAX_SCHEDULE_AHEAD_MS {
        return Err(ScheduleError::TooFar);
    }
    Ok(at.max(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_domain::rfc3339_utc;

    #[test]
    fn reads_utc_and_offsets() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_rfc3339_ms("2026-01-01T00:00:00Z"),
            Ok(1_767_225_600_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-01-01 10:00+10:00"),
            Ok(1_767_225_600_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2025-12-31T23:00:00.5-01:00"),
            Ok(1_767_225_600_500)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T12:34:56.789Z"),
            Ok(1_709_210_096_789)
        );
    }

    #[test]
    fn round_trips_what_the_crm_writes() {
        for ms in [0, 1_767_225_600_123, 951_782_400_000, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339_ms(&rfc3339_utc(ms)), Ok(ms), "{ms}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_date_time() {
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
            "２026-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), Err(ScheduleError::Format), "{bad}");
        }
    }

    #[test]
    fn schedules_are_now_or_later_within_a_year() {
        let now = 1_767_225_600_000;
        assert_eq!(check_schedule("2026-01-01T00:00:00Z", now), Ok(now));
        assert_eq!(check_schedule("2025-12-31T23:59:30Z", now), Ok(now));
        assert_eq!(
            check_schedule("2025-12-31T23:58:00Z", now),
            Err(ScheduleError::Past)
        );
        assert_eq!(
            check_schedule("2027-06-01T00:00:00Z", now),
            Err(ScheduleError::TooFar)
        );
        assert_eq!(
            check_schedule("2026-01-02T00:00:00Z", now),
            Ok(now + 86_400_000)
        );
    }

    #[test]
    fn errors_name_the_field_once() {
        assert_eq!(
            ScheduleError::Past.to_string(),
            "scheduled_for must not be in the past"
        );
        for error in [
            ScheduleError::Format,
            ScheduleError::Past,
            ScheduleError::TooFar,
        ] {
            assert!(!error.reason().contains("scheduled_for"), "{error}");
            assert_eq!(
                error.to_string(),
                format!("scheduled_for {}", error.reason())
            );
        }
    }
}
