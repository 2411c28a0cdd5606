//! `scheduled_for`: when a caller asks for a message to go later.

use std::fmt;

use crm_domain::parse_rfc3339_ms_lenient;

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

/// A requested schedule checked against the clock: a time up to a minute
/// in the past counts as now (clocks differ); later than
/// [`MAX_SCHEDULE_AHEAD_MS`] is refused.
pub fn check_schedule(raw: &str, now_ms: i64) -> Result<i64, ScheduleError> {
    let at = parse_rfc3339_ms_lenient(raw).map_err(|_| ScheduleError::Format)?;
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
        // Notify's clients write these: a space for the T, no seconds.
        assert_eq!(check_schedule("2026-01-01 10:00+10:00", now), Ok(now));
        assert_eq!(
            check_schedule("2026-01-01", now),
            Err(ScheduleError::Format)
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
