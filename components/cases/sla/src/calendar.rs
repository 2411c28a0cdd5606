//! Business calendars: when, in an IANA time zone, an agency works.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    #[error("`{0}` is not an IANA time zone")]
    UnknownZone(String),
    #[error("{day:?}: a working interval must end after it starts ({start} to {end})")]
    EmptyInterval {
        day: Weekday,
        start: Time,
        end: Time,
    },
    #[error("{day:?}: working intervals must be in order and not overlap")]
    Overlapping { day: Weekday },
    #[error("a calendar needs some working time in its week")]
    NoWorkingTime,
    #[error("no working time for a year after {0}: the calendar's holidays cannot be right")]
    YearWithoutWork(Date),
    #[error(
        "the time falls more than {HORIZON_DAYS} days after {0}, past any date a clock counts to"
    )]
    BeyondHorizon(Date),
}

/// One working interval of a weekday, in local time: from `start` up to
/// (not including) `end`, within one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    pub start: Time,
    pub end: Time,
}

/// The longest stretch without working time a calendar can have: a year of
/// holidays would be an error in its data, not a due time.
const MAX_DAYS_WITHOUT_WORK: i32 = 366;

/// How far ahead a due time may fall: a century. Past it a target is a
/// mistake in its data, and the walk day by day must end somewhere well
/// before the last date there is.
const HORIZON_DAYS: i32 = 36_525;

/// When an agency works: a time zone, working intervals per weekday (split
/// shifts are several), and dated holidays on which nobody works.
#[derive(Debug, Clone)]
pub struct Calendar {
    zone: TimeZone,
    /// Monday first.
    week: [Vec<WorkingHours>; 7],
    holidays: BTreeSet<Date>,
}

impl Calendar {
    /// A calendar in `zone` working `week` (Monday first), closed on
    /// `holidays`.
    pub fn new(
        zone: &str,
        week: [Vec<WorkingHours>; 7],
        holidays: impl IntoIterator<Item = Date>,
    ) -> Result<Self, CalendarError> {
        let zone =
            crate::zones::time_zone(zone).ok_or_else(|| CalendarError::UnknownZone(zone.into()))?;
        for (index, hours) in week.iter().enumerate() {
            let day = weekday(index);
            for h in hours {
                if h.end <= h.start {
                    return Err(CalendarError::EmptyInterval {
                        day,
                        start: h.start,
                        end: h.end,
                    });
                }
            }
            if hours.windows(2).any(|w| w[1].start < w[0].end) {
                return Err(CalendarError::Overlapping { day });
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NoWorkingTime);
        }
        Ok(Self {
            zone,
            week,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// The same calendar closed on `more` days too (state and agency days).
    pub fn with_holidays(mut self, more: impl IntoIterator<Item = Date>) -> Self {
        self.holidays.extend(more);
        self
    }

    /// Refuses holidays that leave more than a year without working time,
    /// which a clock would otherwise only find when it ran into them. Each
    /// run of days off is walked once, from the holiday that starts it.
    pub fn works_every_year(&self) -> Result<(), CalendarError> {
        let off = |date: Date| {
            self.holidays.contains(&date)
                || self.week[date.weekday().to_monday_zero_offset() as usize].is_empty()
        };
        let mut walked_to = None;
        for &holiday in &self.holidays {
            if walked_to.is_some_and(|to| holiday <= to) {
                continue;
            }
            let mut first = holiday;
            while let Ok(before) = first.yesterday()
                && off(before)
            {
                first = before;
            }
            let (mut last, mut days) = (first, 1);
            while let Ok(after) = last.tomorrow()
                && off(after)
            {
                last = after;
                days += 1;
                if days > MAX_DAYS_WITHOUT_WORK {
                    return Err(CalendarError::YearWithoutWork(first));
                }
            }
            walked_to = Some(last);
        }
        Ok(())
    }

    /// The instant `minutes` business minutes after `start`: at `start`
    /// itself for zero, and at the end of the last minute otherwise (so a
    /// target that uses a day's last minute falls due as the day closes).
    pub fn add_business_minutes(
        &self,
        start: Timestamp,
        minutes: u64,
    ) -> Result<Timestamp, CalendarError> {
        let mut remaining = SignedDuration::from_secs(minutes as i64 * 60);
        if remaining.is_zero() {
            return Ok(start);
        }
        let first = self.local_date(start);
        let mut date = first;
        let mut idle_days = 0;
        for _ in 0..=HORIZON_DAYS {
            let mut worked = false;
            for (open, close) in self.spans(date) {
                worked = true;
                if close <= start {
                    continue;
                }
                let from = open.max(start);
                let available = close.duration_since(from);
                if remaining <= available {
                    // Checked: past the last instant there is, it is past the horizon.
                    return from
                        .checked_add(remaining)
                        .map_err(|_| CalendarError::BeyondHorizon(first));
                }
                remaining -= available;
            }
            idle_days = if worked { 0 } else { idle_days + 1 };
            if idle_days > MAX_DAYS_WITHOUT_WORK {
                return Err(CalendarError::YearWithoutWork(date));
            }
            date = date
                .tomorrow()
                .map_err(|_| CalendarError::BeyondHorizon(first))?;
        }
        Err(CalendarError::BeyondHorizon(first))
    }

    /// Whole business minutes from `from` to `to` (none if `to` is not
    /// after `from`).
    pub fn business_minutes_between(&self, from: Timestamp, to: Timestamp) -> u64 {
        if to <= from {
            return 0;
        }
        let mut seconds = 0;
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last {
            for (open, close) in self.spans(date) {
                let (a, b) = (open.max(from), close.min(to));
                if b > a {
                    seconds += b.duration_since(a).as_secs();
                }
            }
            date = date
                .tomorrow()
                .unwrap_or_else(|_| panic!("a date before the year 9999"));
        }
        (seconds / 60) as u64
    }

    /// Whether `at` is inside working hours.
    pub fn is_working(&self, at: Timestamp) -> bool {
        self.spans(self.local_date(at))
            .any(|(open, close)| open <= at && at < close)
    }

    fn local_date(&self, at: Timestamp) -> Date {
        self.zone.to_datetime(at).date()
    }

    /// `date`'s working intervals as instants. A local time that a change
    /// of clocks skips is read as the moment after the gap, and one it
    /// repeats as its first occurrence (RFC 5545's and Temporal's choice).
    fn spans(&self, date: Date) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let hours: &[WorkingHours] = if self.holidays.contains(&date) {
            &[]
        } else {
            &self.week[date.weekday().to_monday_zero_offset() as usize]
        };
        hours
            .iter()
            .map(move |h| (self.instant(date, h.start), self.instant(date, h.end)))
    }

    fn instant(&self, date: Date, time: Time) -> Timestamp {
        self.zone
            .to_timestamp(date.to_datetime(time))
            .unwrap_or_else(|_| panic!("a working day's time is in range"))
    }
}

fn weekday(monday_zero: usize) -> Weekday {
    Weekday::from_monday_zero_offset(monday_zero as i8).unwrap_or_else(|_| panic!("0 to 6"))
}
