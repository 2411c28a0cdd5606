//! Retrying a delivery to a provider, or a status callback to a service:
//! which outcomes are worth another try, and when.

/// What came of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    TimedOut,
    /// No HTTP answer at all (DNS, refused, reset).
    ConnectionFailed,
    /// An HTTP answer with this status.
    Http(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The other side took the message (2xx). For a provider this means
    /// handed over, not yet delivered: the delivery receipt says the rest.
    Accepted,
    /// Worth another try: timeouts, connection failures, 408, 429 and 5xx.
    Retry,
    /// Trying again would get the same answer (other 4xx, or an answer
    /// that makes no sense here such as a redirect).
    GiveUp,
}

impl AttemptOutcome {
    pub fn verdict(self) -> Verdict {
        match self {
            Self::TimedOut | Self::ConnectionFailed => Verdict::Retry,
            Self::Http(200..=299) => Verdict::Accepted,
            Self::Http(408 | 429 | 500..=599) => Verdict::Retry,
            Self::Http(_) => Verdict::GiveUp,
        }
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Done,
    RetryAt(i64),
    /// Stop. A message no provider took becomes `technical-failure`; a
    /// callback is dropped.
    GiveUp,
}

/// Exponential backoff, `base_delay_ms` doubling per attempt up to
/// `max_delay_ms`, for at most `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: i64,
    pub max_delay_ms: i64,
}

const FIVE_MINUTES_MS: i64 = 5 * 60 * 1000;

impl RetryPolicy {
    /// Notify's delivery to providers: the first try and 48 retries, 5
    /// minutes apart.
    pub const PROVIDER: Self = Self {
        max_attempts: 49,
        base_delay_ms: FIVE_MINUTES_MS,
        max_delay_ms: FIVE_MINUTES_MS,
    };

    /// Notify's status callbacks: the first try and 5 retries, 5 minutes
    /// apart.
    pub const CALLBACK: Self = Self {
        max_attempts: 6,
        base_delay_ms: FIVE_MINUTES_MS,
        max_delay_ms: FIVE_MINUTES_MS,
    };

    /// When to make the next attempt after `attempt` attempts (1 after the
    /// first) have failed at `now_ms`, or `None` when none are left.
    ///
    /// The wait is shortened by up to a fifth, chosen by `jitter_seed`
    /// (the caller's randomness, for example from a message id), so that
    /// messages that failed together do not all come back together.
    pub fn next_attempt_at(&self, attempt: u32, now_ms: i64, jitter_seed: u64) -> Option<i64> {
        if attempt >= self.max_attempts {
            return None;
        }
        let base = self.base_delay_ms.max(0);
        let max = self.max_delay_ms.max(base);
        let doublings = attempt.saturating_sub(1).min(62);
        let delay = base.saturating_mul(1 << doublings).min(max);
        let spread = u64::try_from(delay / 5).expect("delay is not negative");
        let jitter = i64::try_from(mix(jitter_seed ^ u64::from(attempt)) % (spread + 1))
            .expect("jitter is at most the delay");
        Some(now_ms.saturating_add(delay - jitter))
    }

    /// The next step after attempt number `attempt` ended in `outcome`.
    pub fn after(
        &self,
        outcome: AttemptOutcome,
        attempt: u32,
        now_ms: i64,
        jitter_seed: u64,
    ) -> NextStep {
        match outcome.verdict() {
            Verdict::Accepted => NextStep::Done,
            Verdict::GiveUp => NextStep::GiveUp,
            Verdict::Retry => self
                .next_attempt_at(attempt, now_ms, jitter_seed)
                .map_or(NextStep::GiveUp, NextStep::RetryAt),
        }
    }
}

/// SplitMix64's finaliser: spreads nearby seeds across the range.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 1_000,
        max_delay_ms: 5_000,
    };

    #[test]
    fn verdicts() {
        use AttemptOutcome::*;
        assert_eq!(TimedOut.verdict(), Verdict::Retry);
        assert_eq!(ConnectionFailed.verdict(), Verdict::Retry);
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(Http(status).verdict(), Verdict::Accepted, "{status}");
        }
        for status in [408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(Http(status).verdict(), Verdict::Retry, "{status}");
        }
        for status in [100, 301, 400, 401, 403, 404, 410, 422, 600] {
            assert_eq!(Http(status).verdict(), Verdict::GiveUp, "{status}");
        }
    }

    #[test]
    fn delays_double_up_to_the_cap_within_a_fifth() {
        for (attempt, full) in [(1, 1_000), (2, 2_000), (3, 4_000), (4, 5_000)] {
            for seed in 0..200 {
                let at = POLICY.next_attempt_at(attempt, 10_000, seed).unwrap();
                let delay = at - 10_000;
                assert!(
                    delay <= full && delay >= full - full / 5,
                    "{attempt} {seed} {delay}"
                );
            }
        }
    }

    #[test]
    fn jitter_varies_with_the_seed() {
        let delays: std::collections::HashSet<_> = (0..50)
            .map(|seed| POLICY.next_attempt_at(1, 0, seed).unwrap())
            .collect();
        assert!(delays.len() > 10);
        assert_eq!(
            POLICY.next_attempt_at(2, 0, 7),
            POLICY.next_attempt_at(2, 0, 7)
        );
    }

    #[test]
    fn attempts_run_out() {
        assert!(POLICY.next_attempt_at(4, 0, 1).is_some());
        assert_eq!(POLICY.next_attempt_at(5, 0, 1), None);
        assert_eq!(POLICY.next_attempt_at(u32::MAX, 0, 1), None);
        assert!(RetryPolicy::PROVIDER.next_attempt_at(48, 0, 1).is_some());
        assert_eq!(RetryPolicy::PROVIDER.next_attempt_at(49, 0, 1), None);
        assert!(RetryPolicy::CALLBACK.next_attempt_at(5, 0, 1).is_some());
        assert_eq!(RetryPolicy::CALLBACK.next_attempt_at(6, 0, 1), None);
    }

    #[test]
    fn notify_policies_wait_four_to_five_minutes() {
        let at = RetryPolicy::PROVIDER.next_attempt_at(30, 0, 99).unwrap();
        assert!((240_000..=300_000).contains(&at), "{at}");
    }

    #[test]
    fn next_steps() {
        use AttemptOutcome::*;
        assert_eq!(POLICY.after(Http(202), 1, 0, 0), NextStep::Done);
        assert_eq!(POLICY.after(Http(400), 1, 0, 0), NextStep::GiveUp);
        assert!(matches!(POLICY.after(Http(503), 1, 0, 0), NextStep::RetryAt(at) if at > 0));
        assert_eq!(POLICY.after(TimedOut, 5, 0, 0), NextStep::GiveUp);
    }

    proptest! {
        #[test]
        fn next_attempt_is_never_earlier_and_never_past_the_cap(
            attempt in 0u32..100,
            now in -1_000_000_000_000i64..4_000_000_000_000,
            seed in any::<u64>(),
            base in 0i64..1_000_000,
            extra in 0i64..10_000_000,
        ) {
            let policy = RetryPolicy { max_attempts: 50, base_delay_ms: base, max_delay_ms: base + extra };
            match policy.next_attempt_at(attempt, now, seed) {
                Some(at) => {
                    prop_assert!(attempt < 50);
                    prop_assert!(at >= now);
                    prop_assert!(at - now <= base + extra);
                }
                None => prop_assert!(attempt >= 50),
            }
        }
    }
}
