//! Sending limits: a per-service request rate (a token bucket kept in a
//! key-value store) and a daily count per channel.

use std::fmt;

use crm_templates::TemplateType;
use thiserror::Error;

use crate::api_key::{KeyType, ServiceId};
use crate::error::NotifyError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RateLimitError {
    #[error("a rate must be a positive number of requests per second")]
    Rate,
    #[error("a burst must allow at least one request")]
    Burst,
}

/// Requests refill at `per_sec` a second, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    per_sec: f64,
    burst: u32,
}

/// Notify's largest burst, whatever the rate.
const MAX_BURST: u32 = 1_000;

impl RateLimit {
    pub fn new(per_sec: f64, burst: u32) -> Result<Self, RateLimitError> {
        if !(per_sec.is_finite() && per_sec > 0.0) {
            return Err(RateLimitError::Rate);
        }
        if burst == 0 {
            return Err(RateLimitError::Burst);
        }
        Ok(Self { per_sec, burst })
    }

    /// Notify's shape for a limit of `per_minute` requests a minute (3,000
    /// by default): bursts of a third of a minute's requests plus one, at
    /// most 1,000.
    pub fn per_minute(per_minute: u32) -> Result<Self, RateLimitError> {
        let burst = (per_minute.div_ceil(3) + 1).min(MAX_BURST);
        Self::new(f64::from(per_minute) / 60.0, burst)
    }

    pub fn per_sec(&self) -> f64 {
        self.per_sec
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }
}

/// How long until a request would be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfterMs(pub i64);

impl RetryAfterMs {
    /// Whole seconds, rounded up, for a `Retry-After` header.
    pub fn secs(self) -> i64 {
        (self.0 + 999).div_euclid(1000)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("stored token bucket {0:?} is not `tokens:updated_ms`")]
pub struct BucketDecodeError(pub String);

/// Far below any token or millisecond that matters, far above the error of
/// one refill computation.
const ROUNDING: f64 = 1e-6;

/// A token bucket's state: tokens left when last updated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    updated_ms: i64,
}

impl TokenBucket {
    /// A bucket for a service not seen before: full.
    pub fn full(limit: &RateLimit, now_ms: i64) -> Self {
        Self {
            tokens: f64::from(limit.burst),
            updated_ms: now_ms,
        }
    }

    pub fn tokens(&self) -> f64 {
        self.tokens
    }

    pub fn updated_ms(&self) -> i64 {
        self.updated_ms
    }

    /// Refills for the time since the last update, then takes one token:
    /// the bucket to store, or how long to wait. A clock that went back
    /// refills nothing.
    pub fn try_take(self, now_ms: i64, limit: &RateLimit) -> Result<Self, RetryAfterMs> {
        let elapsed_ms = now_ms.saturating_sub(self.updated_ms).max(0) as f64;
        let tokens =
            (self.tokens + elapsed_ms * limit.per_sec / 1000.0).min(f64::from(limit.burst));
        // Refills are computed in floating point; a token short by a
        // rounding error is a whole token, so waiting as told is enough.
        if tokens >= 1.0 - ROUNDING {
            Ok(Self {
                tokens: (tokens - 1.0).max(0.0),
                updated_ms: self.updated_ms.max(now_ms),
            })
        } else {
            let wait_ms = ((1.0 - tokens) * 1000.0 / limit.per_sec - ROUNDING).ceil();
            Err(RetryAfterMs((wait_ms as i64).max(1)))
        }
    }

    /// The stored form: `tokens:updated_ms`, tokens written so that they
    /// read back exactly.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.tokens, self.updated_ms)
    }

    pub fn decode(raw: &str) -> Result<Self, BucketDecodeError> {
        let error = || BucketDecodeError(raw.to_string());
        let (tokens, updated_ms) = raw.split_once(':').ok_or_else(error)?;
        let tokens: f64 = tokens.parse().map_err(|_| error())?;
        if !(tokens.is_finite() && tokens >= 0.0) {
            return Err(error());
        }
        Ok(Self {
            tokens,
            updated_ms: updated_ms.parse().map_err(|_| error())?,
        })
    }
}

/// A UTC calendar day; daily limits reset at midnight UTC, as Notify's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDay(i64);

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl UtcDay {
    pub fn of(ms: i64) -> Self {
        Self(ms.div_euclid(DAY_MS))
    }

    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }
}

impl fmt::Display for UtcDay {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crm_domain::rfc3339_utc(self.start_ms())[..10])
    }
}

/// The key-value key counting a service's messages on a channel on a day,
/// as Notify names it: test keys count apart, so testing never uses up a
/// live allowance.
pub fn daily_limit_key(
    service_id: &ServiceId,
    channel: TemplateType,
    day: UtcDay,
    key_type: KeyType,
) -> String {
    let test = if key_type == KeyType::Test {
        "-test"
    } else {
        ""
    };
    format!("{service_id}{test}-{channel}-{day}-count")
}

/// Messages a service may send each day, per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyLimits {
    pub email: u64,
    pub sms: u64,
    pub letter: u64,
    pub portal: u64,
}

impl Default for DailyLimits {
    /// Notify's defaults for a live service (portal messages as email).
    fn default() -> Self {
        Self {
            email: 250_000,
            sms: 250_000,
            letter: 20_000,
            portal: 250_000,
        }
    }
}

impl DailyLimits {
    pub fn limit(&self, channel: TemplateType) -> u64 {
        match channel {
            TemplateType::Email => self.email,
            TemplateType::Sms => self.sms,
            TemplateType::Letter => self.letter,
            TemplateType::Portal => self.portal,
        }
    }

    /// Whether `adding` more messages fit after `sent_today`; if not,
    /// Notify's 429 `TooManyRequestsError`.
    pub fn check(
        &self,
        channel: TemplateType,
        sent_today: u64,
        adding: u64,
    ) -> Result<(), NotifyError> {
        let limit = self.limit(channel);
        if sent_today.saturating_add(adding) > limit {
            Err(NotifyError::too_many_requests(channel, limit))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limit(per_sec: f64, burst: u32) -> RateLimit {
        RateLimit::new(per_sec, burst).unwrap()
    }

    #[test]
    fn rate_limits_must_allow_something() {
        assert_eq!(RateLimit::new(0.0, 1), Err(RateLimitError::Rate));
        assert_eq!(RateLimit::new(-1.0, 1), Err(RateLimitError::Rate));
        assert_eq!(RateLimit::new(f64::NAN, 1), Err(RateLimitError::Rate));
        assert_eq!(RateLimit::new(f64::INFINITY, 1), Err(RateLimitError::Rate));
        assert_eq!(RateLimit::new(1.0, 0), Err(RateLimitError::Burst));
        assert_eq!(RateLimit::per_minute(0), Err(RateLimitError::Rate));
    }

    #[test]
    fn notify_default_is_50_a_second_bursting_to_1000() {
        let notify = RateLimit::per_minute(3000).unwrap();
        assert_eq!(notify.per_sec(), 50.0);
        assert_eq!(notify.burst(), 1000);
        assert_eq!(RateLimit::per_minute(60).unwrap().burst(), 21);
        assert_eq!(RateLimit::per_minute(1).unwrap().burst(), 2);
    }

    #[test]
    fn a_full_bucket_allows_a_burst_then_waits() {
        let limit = limit(2.0, 3);
        let mut bucket = TokenBucket::full(&limit, 0);
        for _ in 0..3 {
            bucket = bucket.try_take(0, &limit).unwrap();
        }
        assert_eq!(bucket.try_take(0, &limit), Err(RetryAfterMs(500)));
        assert_eq!(bucket.try_take(200, &limit), Err(RetryAfterMs(300)));
        let bucket = bucket.try_take(500, &limit).unwrap();
        assert_eq!(bucket.tokens(), 0.0);
        assert_eq!(bucket.updated_ms(), 500);
    }

    #[test]
    fn refills_no_further_than_the_burst() {
        let limit = limit(10.0, 5);
        let empty = TokenBucket {
            tokens: 0.0,
            updated_ms: 0,
        };
        let bucket = empty.try_take(3_600_000, &limit).unwrap();
        assert_eq!(bucket.tokens(), 4.0);
    }

    #[test]
    fn slow_rates_keep_their_fractions() {
        // One a minute: half a minute refills half a token, not enough.
        let limit = limit(1.0 / 60.0, 1);
        let bucket = TokenBucket::full(&limit, 0).try_take(0, &limit).unwrap();
        assert_eq!(bucket.try_take(30_000, &limit), Err(RetryAfterMs(30_000)));
        assert!(bucket.try_take(60_000, &limit).is_ok());
    }

    #[test]
    fn a_clock_that_goes_back_refills_nothing() {
        let limit = limit(1.0, 2);
        let bucket = TokenBucket {
            tokens: 1.5,
            updated_ms: 10_000,
        };
        let after = bucket.try_take(5_000, &limit).unwrap();
        assert_eq!(after.tokens(), 0.5);
        assert_eq!(after.updated_ms(), 10_000);
    }

    #[test]
    fn retry_after_rounds_up_to_seconds() {
        assert_eq!(RetryAfterMs(1).secs(), 1);
        assert_eq!(RetryAfterMs(1000).secs(), 1);
        assert_eq!(RetryAfterMs(1001).secs(), 2);
    }

    #[test]
    fn encodes_compactly_and_reads_back() {
        let bucket = TokenBucket {
            tokens: 12.5,
            updated_ms: 1_767_225_600_123,
        };
        assert_eq!(bucket.encode(), "12.5:1767225600123");
        assert_eq!(TokenBucket::decode("12.5:1767225600123"), Ok(bucket));
        for bad in ["", "12.5", "x:1", "1:x", "NaN:1", "inf:1", "-1:1", "1:1:1"] {
            assert!(TokenBucket::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn utc_days() {
        assert_eq!(UtcDay::of(0).to_string(), "1970-01-01");
        assert_eq!(UtcDay::of(-1).to_string(), "1969-12-31");
        let midnight = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        assert_eq!(UtcDay::of(midnight - 1).to_string(), "2025-12-31");
        assert_eq!(UtcDay::of(midnight).to_string(), "2026-01-01");
        assert_eq!(UtcDay::of(midnight + DAY_MS - 1).start_ms(), midnight);
    }

    #[test]
    fn daily_keys_as_notify_names_them() {
        let service = ServiceId::parse("26785a09-ab16-4eb0-8407-a37497a57506").unwrap();
        let day = UtcDay::of(1_767_225_600_000);
        assert_eq!(
            daily_limit_key(&service, TemplateType::Sms, day, KeyType::Live),
            "26785a09-ab16-4eb0-8407-a37497a57506-sms-2026-01-01-count"
        );
        assert_eq!(
            daily_limit_key(&service, TemplateType::Email, day, KeyType::Team),
            "26785a09-ab16-4eb0-8407-a37497a57506-email-2026-01-01-count"
        );
        assert_eq!(
            daily_limit_key(&service, TemplateType::Letter, day, KeyType::Test),
            "26785a09-ab16-4eb0-8407-a37497a57506-test-letter-2026-01-01-count"
        );
    }

    #[test]
    fn daily_limits_per_channel() {
        let limits = DailyLimits {
            sms: 10,
            ..DailyLimits::default()
        };
        assert!(limits.check(TemplateType::Sms, 9, 1).is_ok());
        let error = limits.check(TemplateType::Sms, 10, 1).unwrap_err();
        assert_eq!(error.status_code, 429);
        assert_eq!(
            error.errors[0].message,
            "Exceeded send limits (sms: 10) for today"
        );
        assert!(limits.check(TemplateType::Email, 10, 1).is_ok());
        assert!(limits.check(TemplateType::Letter, 20_000, 0).is_ok());
        assert!(limits.check(TemplateType::Portal, u64::MAX, 1).is_err());
    }

    proptest! {
        /// However requests arrive, no more are allowed in a window than
        /// the burst plus what the rate refills in it.
        #[test]
        fn never_allows_more_than_burst_plus_refill(
            per_sec in 0.1f64..100.0,
            burst in 1u32..50,
            gaps in prop::collection::vec(0i64..2_000, 1..200),
        ) {
            let limit = RateLimit::new(per_sec, burst).unwrap();
            let mut bucket = TokenBucket::full(&limit, 0);
            let mut now = 0;
            let mut allowed = 0u32;
            for gap in gaps {
                now += gap;
                let stored = TokenBucket::decode(&bucket.encode()).unwrap();
                prop_assert_eq!(stored, bucket);
                match stored.try_take(now, &limit) {
                    Ok(next) => { bucket = next; allowed += 1; }
                    Err(RetryAfterMs(wait)) => {
                        prop_assert!(wait >= 1);
                        // Waiting as told is enough.
                        prop_assert!(stored.try_take(now + wait, &limit).is_ok());
                    }
                }
                prop_assert!(bucket.tokens() >= 0.0 && bucket.tokens() <= f64::from(burst));
            }
            let most = f64::from(burst) + now as f64 * per_sec / 1000.0;
            prop_assert!(f64::from(allowed) <= most + 1e-9);
        }
    }
}
