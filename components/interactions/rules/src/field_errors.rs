//! Collects every field's refusal, so a caller hears about all of them at once.

use crm_domain::FieldError;
use crm_domain::{Invalid, parse_rfc3339_ms};

use crate::calendar::MIN_MS;

#[derive(Default)]
pub(crate) struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            reason: reason.into(),
        });
    }

    /// The value, or `None` after recording why `field` was refused.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, Invalid>) -> Option<T> {
        parsed.map_err(|e| self.push(field, e.0)).ok()
    }

    /// The raw text of a required field, or `None` after recording its absence.
    pub fn required<'a>(&mut self, field: &str, raw: &'a Option<String>) -> Option<&'a str> {
        if raw.is_none() {
            self.push(field, "is required");
        }
        raw.as_deref()
    }

    /// `build` runs only when no field was refused; it sees every value
    /// present, because each absent one recorded an error.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldError>> {
        if !self.0.is_empty() {
            return Err(self.0);
        }
        build().ok_or_else(|| {
            vec![FieldError {
                field: String::new(),
                reason: "a value was missing without a reason".into(),
            }]
        })
    }
}

/// How far ahead of the recording clock an occurred-at may be, for clocks
/// that disagree a little (a field officer's tablet, a telephony system).
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// When something happened: RFC 3339 with any offset, normalised to UTC
/// milliseconds; not before 1900 and not after it was recorded (plus skew).
pub fn parse_occurred_at(raw: &str, recorded_at_ms: i64) -> Result<i64, Invalid> {
    let ms = parse_rfc3339_ms(raw)?;
    if ms < MIN_MS {
        return Err(Invalid("must not be before 1900-01-01T00:00:00Z".into()));
    }
    if ms > recorded_at_ms.saturating_add(CLOCK_SKEW_MS) {
        return Err(Invalid(
            "must not be later than when it is recorded (5 minutes of clock skew allowed)".into(),
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDED: i64 = 1_795_416_000_000; // 2026-11-23T06:40:00Z

    #[test]
    fn occurred_at_allows_five_minutes_of_skew() {
        assert_eq!(
            parse_occurred_at("2026-11-23T06:45:00Z", RECORDED),
            Ok(RECORDED + CLOCK_SKEW_MS)
        );
        assert!(parse_occurred_at("2026-11-23T06:45:00.001Z", RECORDED).is_err());
        assert!(parse_occurred_at("2026-11-23T16:45:00.001+10:00", RECORDED).is_err());
        assert!(parse_occurred_at("1899-12-31T23:59:59Z", RECORDED).is_err());
        assert!(parse_occurred_at("1900-01-01T10:00:00+10:00", RECORDED).is_ok());
        assert!(parse_occurred_at("1900-01-01T09:59:59+10:00", RECORDED).is_err());
    }
}
