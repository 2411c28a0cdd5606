//! When a letter should arrive, as Notify estimates it (notifications-utils'
//! `LetterTimings`): anything after 17:30 UK time is processed the next
//! day, printed on the next working day (Monday to Friday), then in the
//! post for its postage's days (first class 0, second 3 to 4, economy 3 to
//! 6; Royal Mail delivers first class on Saturdays too); the estimate is
//! the latest delivery day at 16:00 UK time. Notify also skips the UK's
//! bank holidays; this does not (it has no holiday calendar), so around a
//! bank holiday it may say a day early.

use crm_domain::{civil_from_days, days_from_civil};

/// A letter's class of post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Postage {
    First,
    Second,
    Economy,
}

impl Postage {
    pub const ALL: [Self; 3] = [Self::First, Self::Second, Self::Economy];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Second => "second",
            Self::Economy => "economy",
        }
    }

    /// The most whole days a letter spends in the post.
    fn max_days_in_transit(self) -> i64 {
        match self {
            Self::First => 0,
            Self::Second => 4,
            Self::Economy => 6,
        }
    }
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The day (since the epoch) of the last Sunday of `month` in `year`.
fn last_sunday(year: i64, month: u8) -> i64 {
    let last = days_from_civil(year, month + 1, 1) - 1;
    last - (weekday(last) + 1) % 7
}

/// Whether British Summer Time is in force at `ms` (from 01:00 UTC on the
/// last Sunday of March to 01:00 UTC on the last Sunday of October).
fn is_bst(ms: i64) -> bool {
    let (year, _, _) = civil_from_days(ms.div_euclid(DAY_MS));
    let starts = last_sunday(year, 3) * DAY_MS + HOUR_MS;
    let ends = last_sunday(year, 10) * DAY_MS + HOUR_MS;
    (starts..ends).contains(&ms)
}

/// UK local time as ms since the epoch, as if it were UTC.
fn uk_local(ms: i64) -> i64 {
    ms + if is_bst(ms) { HOUR_MS } else { 0 }
}

/// The day after `day` that `works`, `count` times over.
fn working_days_after(mut day: i64, count: i64, works: impl Fn(i64) -> bool) -> i64 {
    for _ in 0..count {
        day += 1;
        while !works(day) {
            day += 1;
        }
    }
    day
}

/// The latest a letter accepted at `created_at` (ms since the epoch)
/// should arrive, as ms since the epoch.
pub fn estimated_delivery(created_at: i64, postage: Postage) -> i64 {
    let processing_day = (uk_local(created_at) + 6 * HOUR_MS + 30 * 60_000).div_euclid(DAY_MS);
    let print_day = working_days_after(processing_day, 1, |d| weekday(d) < 5);
    let delivers = |d: i64| match postage {
        Postage::First => weekday(d) < 6,
        _ => weekday(d) < 5,
    };
    let delivery_day = working_days_after(print_day, 1 + postage.max_days_in_transit(), delivers);
    // 16:00 UK time that day.
    let local_four_pm = delivery_day * DAY_MS + 16 * HOUR_MS;
    local_four_pm
        - if is_bst(local_four_pm - HOUR_MS) {
            HOUR_MS
        } else {
            0
        }
}

#[cfg(test)]
mod tests {
    use super::{Postage, estimated_delivery};
    use crate::timestamp::notify_time;

    fn ms(rfc3339: &str) -> i64 {
        crm_domain::parse_rfc3339_ms(rfc3339).expect("a time")
    }

    #[test]
    fn the_latest_delivery_day_follows_notifys_timings() {
        for (created, postage, expected) in [
            // A Monday morning in winter: printed Tuesday, second class
            // delivered 1 + 4 working days later (the next Tuesday), 16:00 GMT.
            (
                "2026-12-07T09:00:00Z",
                Postage::Second,
                "2026-12-15T16:00:00.000000Z",
            ),
            // First class: the day after printing, Saturdays included.
            (
                "2026-12-07T09:00:00Z",
                Postage::First,
                "2026-12-09T16:00:00.000000Z",
            ),
            (
                "2026-12-10T09:00:00Z",
                Postage::First,
                "2026-12-12T16:00:00.000000Z",
            ),
            (
                "2026-12-07T09:00:00Z",
                Postage::Economy,
                "2026-12-17T16:00:00.000000Z",
            ),
            // After 17:30 it is processed the next day.
            (
                "2026-12-07T17:31:00Z",
                Postage::First,
                "2026-12-10T16:00:00.000000Z",
            ),
            // A Friday evening: printed Monday.
            (
                "2026-12-11T18:00:00Z",
                Postage::First,
                "2026-12-15T16:00:00.000000Z",
            ),
            // Summer: 17:30 BST is 16:30 UTC, and 16:00 BST is 15:00 UTC.
            (
                "2026-07-06T16:31:00Z",
                Postage::First,
                "2026-07-09T15:00:00.000000Z",
            ),
            (
                "2026-07-06T16:29:00Z",
                Postage::First,
                "2026-07-08T15:00:00.000000Z",
            ),
        ] {
            assert_eq!(
                notify_time(estimated_delivery(ms(created), postage)),
                expected,
                "{created} {postage:?}"
            );
        }
    }

    #[test]
    fn postage_names_are_notifys() {
        for postage in Postage::ALL {
            assert_eq!(Postage::parse(postage.as_str()), Some(postage));
        }
        assert_eq!(Postage::parse("europe"), None);
    }
}
