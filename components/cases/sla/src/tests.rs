use jiff::civil::{Time, date, time};
use proptest::prelude::*;

use crate::holidays::{AUSTRALIA_NATIONAL, australia_national};
use crate::{
    Calendar, CalendarError, Clock, ClockError, ClockParts, ClockState, StopKind, Target,
    Timestamp, WorkingHours,
};

fn at(text: &str) -> Timestamp {
    text.parse().expect("an RFC 3339 instant")
}

fn hours(start: Time, end: Time) -> WorkingHours {
    WorkingHours { start, end }
}

/// Monday to Friday with `day` each, in Sydney, closed on the national holidays.
fn sydney(day: &[WorkingHours]) -> Calendar {
    let weekday = day.to_vec();
    let week = [
        weekday.clone(),
        weekday.clone(),
        weekday.clone(),
        weekday.clone(),
        weekday,
        Vec::new(),
        Vec::new(),
    ];
    Calendar::new("Australia/Sydney", week, australia_national()).unwrap()
}

fn nine_to_five() -> Calendar {
    sydney(&[hours(time(9, 0, 0, 0), time(17, 0, 0, 0))])
}

/// Holidays that leave more than a year without work are found when the
/// calendar is checked, however they fall among its days off.
#[test]
fn a_year_of_holidays_is_found_by_the_check() {
    let calendar = nine_to_five();
    assert_eq!(calendar.works_every_year(), Ok(()));
    let weekdays_of = |from: jiff::civil::Date, days: i32| {
        (0..days)
            .map(move |n| from + jiff::Span::new().days(n))
            .filter(|d| d.weekday().to_monday_zero_offset() < 5)
    };
    // Every weekday of 367 days from a Saturday: off from that Saturday on.
    let year_off = nine_to_five().with_holidays(weekdays_of(date(2029, 1, 6), 367));
    assert_eq!(
        year_off.works_every_year(),
        Err(CalendarError::YearWithoutWork(date(2029, 1, 6)))
    );
    // A year less a day leaves a working day: accepted.
    let almost = nine_to_five().with_holidays(weekdays_of(date(2029, 1, 8), 360));
    assert_eq!(almost.works_every_year(), Ok(()));
}

/// A target no calendar reaches within a century is an error, not a walk
/// to the end of time (nor past it).
#[test]
fn a_due_time_past_the_horizon_is_an_error() {
    let calendar = nine_to_five();
    let start = at("2026-03-02T00:00:00Z");
    assert_eq!(
        calendar.add_business_minutes(start, u64::from(u32::MAX)),
        Err(CalendarError::BeyondHorizon(date(2026, 3, 2)))
    );
    // Some 86 years of working days are within it.
    assert!(calendar.add_business_minutes(start, 90 * 250 * 480).is_ok());
}

/// Due times worked out by hand, across a change of clocks and holidays.
#[test]
fn due_times_land_where_a_hand_computation_says() {
    let calendar = nine_to_five();
    let split = sydney(&[
        hours(time(9, 0, 0, 0), time(12, 0, 0, 0)),
        hours(time(13, 0, 0, 0), time(17, 0, 0, 0)),
    ]);
    let cases = [
        // Friday 16:00 AEST; 60 minutes that day; daylight saving starts on
        // Sunday 4 October; 60 more on Monday from 09:00 AEDT (UTC+11).
        (
            &calendar,
            "2026-10-02T06:00:00Z",
            120,
            "2026-10-04T23:00:00Z",
        ),
        // Thursday 16:00 AEDT; Good Friday, the weekend (daylight saving
        // ends on Sunday 5 April) and Easter Monday are closed; Tuesday
        // 10:00 AEST (UTC+10).
        (
            &calendar,
            "2026-04-02T05:00:00Z",
            120,
            "2026-04-07T00:00:00Z",
        ),
        // A split shift: 11:30 to 12:00, then 13:00 to 13:30 AEST.
        (&split, "2026-06-01T01:30:00Z", 60, "2026-06-01T03:30:00Z"),
        // Saturday: the first minute is Monday's first.
        (&calendar, "2026-06-06T00:00:00Z", 1, "2026-06-07T23:01:00Z"),
        // A day's last minute falls due as the day closes.
        (
            &calendar,
            "2026-06-01T06:00:00Z",
            60,
            "2026-06-01T07:00:00Z",
        ),
        // Nothing to count: now.
        (&calendar, "2026-06-06T00:00:00Z", 0, "2026-06-06T00:00:00Z"),
        // Christmas and Boxing Day 2026 are Friday and Saturday: Thursday
        // 24 December 16:30 AEDT, then Monday 28 December 09:30 AEDT.
        (
            &calendar,
            "2026-12-24T05:30:00Z",
            60,
            "2026-12-27T22:30:00Z",
        ),
    ];
    for (calendar, start, minutes, due) in cases {
        assert_eq!(
            calendar.add_business_minutes(at(start), minutes).unwrap(),
            at(due),
            "{start} + {minutes}"
        );
        assert_eq!(
            calendar.business_minutes_between(at(start), at(due)),
            minutes,
            "{start} to {due}"
        );
    }
}

#[test]
fn the_national_holidays_are_in_order_and_on_the_days_they_are_kept() {
    assert!(AUSTRALIA_NATIONAL.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(AUSTRALIA_NATIONAL.len(), 21, "seven a year, 2026 to 2028");
    // Good Friday is two days before Easter Sunday, Easter Monday the day after.
    for (day, name) in AUSTRALIA_NATIONAL {
        match *name {
            "Good Friday" => assert_eq!(day.weekday(), jiff::civil::Weekday::Friday),
            "Easter Monday" => assert_eq!(day.weekday(), jiff::civil::Weekday::Monday),
            _ => {}
        }
    }
    let calendar = nine_to_five();
    assert!(
        !calendar.is_working(at("2027-03-26T00:00:00Z")),
        "Good Friday 2027, 11:00 AEDT"
    );
    assert!(
        calendar.is_working(at("2027-03-25T00:00:00Z")),
        "the Thursday before"
    );
    // Administrators add state days: the King's Birthday in NSW, 8 June 2026.
    let nsw = nine_to_five().with_holidays([date(2026, 6, 8)]);
    assert!(calendar.is_working(at("2026-06-08T00:00:00Z")));
    assert!(!nsw.is_working(at("2026-06-08T00:00:00Z")));
}

#[test]
fn calendars_refuse_what_cannot_be_worked() {
    let week = |day: Vec<WorkingHours>| {
        let mut week: [Vec<WorkingHours>; 7] = Default::default();
        week[0] = day;
        week
    };
    let nine = time(9, 0, 0, 0);
    let five = time(17, 0, 0, 0);
    assert!(matches!(
        Calendar::new("Australia/Atlantis", week(vec![hours(nine, five)]), []),
        Err(CalendarError::UnknownZone(_))
    ));
    assert!(matches!(
        Calendar::new("UTC", week(vec![hours(five, nine)]), []),
        Err(CalendarError::EmptyInterval { .. })
    ));
    assert!(matches!(
        Calendar::new(
            "UTC",
            week(vec![
                hours(nine, five),
                hours(time(16, 0, 0, 0), time(18, 0, 0, 0))
            ]),
            []
        ),
        Err(CalendarError::Overlapping { .. })
    ));
    assert_eq!(
        Calendar::new("UTC", Default::default(), []).unwrap_err(),
        CalendarError::NoWorkingTime
    );
    // Mondays only, and every Monday of the year a holiday: an error, not a loop.
    let mondays = (0..60).map(|w| {
        date(2026, 1, 5)
            .checked_add(jiff::Span::new().weeks(w))
            .unwrap()
    });
    let closed = Calendar::new("UTC", week(vec![hours(nine, five)]), mondays).unwrap();
    assert!(matches!(
        closed.add_business_minutes(at("2026-01-01T00:00:00Z"), 1),
        Err(CalendarError::YearWithoutWork(_))
    ));
}

const TWO_HOURS: Target = Target {
    minutes: 120,
    warn_before_minutes: 30,
};

#[test]
fn a_pause_counts_only_the_business_minutes_it_covered() {
    let calendar = nine_to_five();
    // Friday 5 June 16:00 AEST: due Monday 10:00.
    let mut clock = Clock::start(at("2026-06-05T06:00:00Z"), TWO_HOURS);
    let due = clock.due(&calendar).unwrap();
    assert_eq!(due, at("2026-06-08T00:00:00Z"));
    // Friday 18:00 to Saturday 10:00: wholly outside working hours.
    clock.pause(at("2026-06-05T08:00:00Z")).unwrap();
    assert_eq!(
        clock
            .state_at(at("2026-06-05T09:00:00Z"), &calendar)
            .unwrap(),
        ClockState::Paused
    );
    clock.resume(at("2026-06-06T00:00:00Z"), &calendar).unwrap();
    assert_eq!(clock.paused_minutes(), 0);
    assert_eq!(clock.due(&calendar).unwrap(), due);
    // Monday 09:15 to 09:45 (AEST, UTC+10): thirty minutes later.
    clock.pause(at("2026-06-07T23:15:00Z")).unwrap();
    assert_eq!(
        clock.pause(at("2026-06-07T23:20:00Z")),
        Err(ClockError::AlreadyPaused)
    );
    clock.resume(at("2026-06-07T23:45:00Z"), &calendar).unwrap();
    assert_eq!(
        clock.resume(at("2026-06-07T23:50:00Z"), &calendar),
        Err(ClockError::NotPaused)
    );
    assert_eq!(clock.paused_minutes(), 30);
    assert_eq!(clock.due(&calendar).unwrap(), at("2026-06-08T00:30:00Z"));
    // A new priority's target keeps the pause.
    clock
        .retarget(
            at("2026-06-07T23:50:00Z"),
            Target {
                minutes: 60,
                warn_before_minutes: 15,
            },
        )
        .unwrap();
    assert_eq!(clock.paused_minutes(), 30);
    assert_eq!(clock.due(&calendar).unwrap(), at("2026-06-07T23:30:00Z"));
    assert_eq!(
        clock
            .state_at(at("2026-06-07T23:50:00Z"), &calendar)
            .unwrap(),
        ClockState::Breached
    );
}

#[test]
fn states_move_from_in_progress_to_warning_to_breached_and_stop_when_done() {
    let calendar = nine_to_five();
    // Monday 1 June 09:00 AEST, due 11:00, warning from 10:30.
    let start = at("2026-05-31T23:00:00Z");
    let clock = Clock::start(start, TWO_HOURS);
    let state = |now: &str| clock.state_at(at(now), &calendar).unwrap();
    assert_eq!(state("2026-06-01T00:00:00Z"), ClockState::InProgress);
    assert_eq!(state("2026-06-01T00:30:00Z"), ClockState::Warning);
    assert_eq!(state("2026-06-01T01:00:00Z"), ClockState::Breached);

    let mut met = clock.clone();
    met.complete(at("2026-06-01T00:45:00Z"), &calendar).unwrap();
    assert_eq!(
        met.state_at(at("2026-06-09T00:00:00Z"), &calendar).unwrap(),
        ClockState::Succeeded
    );
    assert_eq!(
        met.pause(at("2026-06-01T00:50:00Z")),
        Err(ClockError::Frozen("met"))
    );
    let mut late = clock.clone();
    late.complete(at("2026-06-01T02:00:00Z"), &calendar)
        .unwrap();
    assert_eq!(
        late.state_at(at("2026-06-01T02:00:00Z"), &calendar)
            .unwrap(),
        ClockState::Breached
    );
    let mut cancelled = clock.clone();
    cancelled.pause(at("2026-06-01T00:10:00Z")).unwrap();
    cancelled
        .cancel(at("2026-06-01T00:20:00Z"), &calendar)
        .unwrap();
    assert_eq!(
        cancelled.paused_minutes(),
        10,
        "the running pause ends first"
    );
    assert_eq!(
        cancelled
            .state_at(at("2026-06-02T00:00:00Z"), &calendar)
            .unwrap(),
        ClockState::Cancelled
    );
    assert_eq!(
        cancelled.resume(at("2026-06-01T00:30:00Z"), &calendar),
        Err(ClockError::Frozen("cancelled"))
    );
    let mut backwards = clock.clone();
    backwards.pause(at("2026-06-01T00:10:00Z")).unwrap();
    assert!(matches!(
        backwards.resume(at("2026-06-01T00:05:00Z"), &calendar),
        Err(ClockError::BeforeLastChange(_))
    ));
}

#[test]
fn a_clock_round_trips_through_its_parts_and_refuses_impossible_ones() {
    let calendar = nine_to_five();
    let start = at("2026-05-31T23:00:00Z");
    let mut clock = Clock::start(start, TWO_HOURS);
    assert_eq!(Clock::from_parts(clock.parts()), Ok(clock.clone()));
    clock.pause(at("2026-06-01T00:10:00Z")).unwrap();
    assert_eq!(Clock::from_parts(clock.parts()), Ok(clock.clone()));
    clock
        .complete(at("2026-06-01T00:40:00Z"), &calendar)
        .unwrap();
    let parts = clock.parts();
    assert_eq!(
        parts.stopped,
        Some((StopKind::Met, at("2026-06-01T00:40:00Z")))
    );
    assert_eq!(parts.paused_minutes, 30);
    assert_eq!(Clock::from_parts(parts), Ok(clock.clone()));
    for kind in [StopKind::Met, StopKind::Cancelled] {
        assert_eq!(StopKind::parse(kind.as_str()), Some(kind));
    }
    for state in ClockState::ALL {
        assert_eq!(ClockState::parse(state.as_str()), Some(state));
    }
    assert_eq!(ClockState::parse("late"), None);

    let before_start = at("2026-05-31T22:00:00Z");
    let impossible = [
        ClockParts {
            last_change: before_start,
            ..parts
        },
        ClockParts {
            paused_since: Some(before_start),
            stopped: None,
            ..parts
        },
        ClockParts {
            stopped: Some((StopKind::Cancelled, before_start)),
            ..parts
        },
        ClockParts {
            paused_since: Some(start),
            ..parts
        },
    ];
    for parts in impossible {
        assert!(
            matches!(Clock::from_parts(parts), Err(ClockError::Inconsistent(_))),
            "{parts:?}"
        );
    }
}

#[test]
fn the_warning_starts_at_warn_at_and_a_pause_moves_it() {
    let calendar = nine_to_five();
    // Monday 1 June 09:00 AEST, due 11:00, warning from 10:30.
    let mut clock = Clock::start(at("2026-05-31T23:00:00Z"), TWO_HOURS);
    assert_eq!(
        clock.warn_at(&calendar).unwrap(),
        at("2026-06-01T00:30:00Z")
    );
    clock.pause(at("2026-06-01T00:00:00Z")).unwrap();
    clock.resume(at("2026-06-01T00:20:00Z"), &calendar).unwrap();
    assert_eq!(
        clock.warn_at(&calendar).unwrap(),
        at("2026-06-01T00:50:00Z")
    );
    // A warning as long as the target warns from the start.
    let always = Clock::start(
        at("2026-05-31T23:00:00Z"),
        Target {
            minutes: 10,
            warn_before_minutes: 30,
        },
    );
    assert_eq!(
        always.warn_at(&calendar).unwrap(),
        at("2026-05-31T23:00:00Z")
    );
}

/// Instants from 2026 to the end of 2028, to the second.
fn instant() -> impl Strategy<Value = Timestamp> {
    (1_767_225_600i64..1_861_920_000).prop_map(|s| Timestamp::from_second(s).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn due_is_never_before_start_and_counts_back_to_its_minutes(start in instant(), minutes in 0u64..20_000) {
        let calendar = nine_to_five();
        let due = calendar.add_business_minutes(start, minutes).unwrap();
        prop_assert!(due >= start);
        prop_assert_eq!(calendar.business_minutes_between(start, due), minutes);
    }

    #[test]
    fn due_is_monotonic_in_the_target(start in instant(), a in 0u64..20_000, b in 0u64..20_000) {
        let calendar = nine_to_five();
        let (low, high) = (a.min(b), a.max(b));
        prop_assert!(
            calendar.add_business_minutes(start, low).unwrap()
                <= calendar.add_business_minutes(start, high).unwrap()
        );
    }

    #[test]
    fn pausing_never_moves_a_due_time_earlier(
        start in instant(),
        minutes in 1u64..5_000,
        pause_after in 0i64..1_000_000,
        pause_for in 0i64..1_000_000,
    ) {
        let calendar = nine_to_five();
        let mut clock = Clock::start(start, Target { minutes, warn_before_minutes: 0 });
        let before = clock.due(&calendar).unwrap();
        let paused = start + jiff::SignedDuration::from_secs(pause_after);
        let resumed = paused + jiff::SignedDuration::from_secs(pause_for);
        clock.pause(paused).unwrap();
        clock.resume(resumed, &calendar).unwrap();
        let after = clock.due(&calendar).unwrap();
        prop_assert!(after >= before);
        prop_assert_eq!(clock.paused_minutes(), calendar.business_minutes_between(paused, resumed));
    }

    #[test]
    fn a_running_clock_warns_exactly_from_warn_at(
        start in instant(),
        minutes in 2u64..5_000,
        warn in 1u64..5_000,
        paused in 0u64..2_000,
    ) {
        prop_assume!(warn < minutes);
        let calendar = nine_to_five();
        let clock = Clock::from_parts(ClockParts {
            started_at: start,
            target: Target { minutes, warn_before_minutes: warn },
            paused_minutes: paused,
            paused_since: None,
            stopped: None,
            last_change: start,
        }).unwrap();
        let warn_at = clock.warn_at(&calendar).unwrap();
        let just_before = warn_at - jiff::SignedDuration::from_millis(1);
        prop_assert_eq!(clock.state_at(just_before, &calendar).unwrap(), ClockState::InProgress);
        prop_assert_eq!(clock.state_at(warn_at, &calendar).unwrap(), ClockState::Warning);
    }
}
