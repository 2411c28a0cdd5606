//! One service-level clock: a case's target (first response, resolution,
//! next update) counted in business minutes, paused while the case waits on
//! the citizen or a third party.

use jiff::Timestamp;
use thiserror::Error;

use crate::calendar::{Calendar, CalendarError};

/// What a clock measures against: business minutes to meet it, and how
/// many business minutes before it falls due the clock warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub minutes: u64,
    pub warn_before_minutes: u64,
}

/// Where a clock stands. `Succeeded`, `Breached` after completion and
/// `Cancelled` are final: the clock no longer moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockState {
    InProgress,
    Warning,
    Breached,
    Succeeded,
    Paused,
    Cancelled,
}

impl ClockState {
    pub const ALL: [ClockState; 6] = [
        Self::InProgress,
        Self::Warning,
        Self::Breached,
        Self::Succeeded,
        Self::Paused,
        Self::Cancelled,
    ];

    /// Reads what [`as_str`](Self::as_str) writes.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in-progress",
            Self::Warning => "warning",
            Self::Breached => "breached",
            Self::Succeeded => "succeeded",
            Self::Paused => "paused",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClockError {
    #[error("the clock has stopped ({0}); it no longer changes")]
    Frozen(&'static str),
    #[error("the clock is already paused")]
    AlreadyPaused,
    #[error("the clock is not paused")]
    NotPaused,
    #[error("{0} is before the clock's last change")]
    BeforeLastChange(Timestamp),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// Stored parts that no clock could have reached.
    #[error("inconsistent clock: {0}")]
    Inconsistent(&'static str),
}

/// How a stopped clock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// The target was met (in time or late).
    Met,
    Cancelled,
}

impl StopKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads what [`as_str`](Self::as_str) writes.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Met, Self::Cancelled]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// How a stopped clock ended, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Met at this instant (in time or late).
    Met(Timestamp),
    Cancelled(Timestamp),
}

/// Everything a clock is, as a store keeps it: [`Clock::parts`] and
/// [`Clock::from_parts`] round-trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockParts {
    pub started_at: Timestamp,
    pub target: Target,
    pub paused_minutes: u64,
    /// A pause still running, since then.
    pub paused_since: Option<Timestamp>,
    pub stopped: Option<(StopKind, Timestamp)>,
    pub last_change: Timestamp,
}

/// One clock. Due = start + target + paused business minutes, on the
/// case's calendar; a pause adds only the business minutes it covered, so
/// a pause wholly outside working hours adds nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    started_at: Timestamp,
    target: Target,
    paused_minutes: u64,
    paused_since: Option<Timestamp>,
    stopped: Option<Stop>,
    /// The latest instant any change was made at: changes come in order.
    last_change: Timestamp,
}

impl Clock {
    pub fn start(at: Timestamp, target: Target) -> Self {
        Self {
            started_at: at,
            target,
            paused_minutes: 0,
            paused_since: None,
            stopped: None,
            last_change: at,
        }
    }

    /// A clock as stored; refuses parts no sequence of changes could have
    /// made (a change dated before the start, a stop or a pause after the
    /// last change).
    pub fn from_parts(parts: ClockParts) -> Result<Self, ClockError> {
        let ClockParts {
            started_at,
            target,
            paused_minutes,
            paused_since,
            stopped,
            last_change,
        } = parts;
        if last_change < started_at {
            return Err(ClockError::Inconsistent("last change before the start"));
        }
        let within = |at: Timestamp| started_at <= at && at <= last_change;
        if paused_since.is_some_and(|at| !within(at)) {
            return Err(ClockError::Inconsistent(
                "pause outside the start and the last change",
            ));
        }
        if stopped.is_some_and(|(_, at)| !within(at)) {
            return Err(ClockError::Inconsistent(
                "stop outside the start and the last change",
            ));
        }
        if paused_since.is_some() && stopped.is_some() {
            // Stopping ends a running pause first.
            return Err(ClockError::Inconsistent("stopped while paused"));
        }
        Ok(Self {
            started_at,
            target,
            paused_minutes,
            paused_since,
            stopped: stopped.map(|(kind, at)| match kind {
                StopKind::Met => Stop::Met(at),
                StopKind::Cancelled => Stop::Cancelled(at),
            }),
            last_change,
        })
    }

    /// What [`from_parts`](Self::from_parts) reads back.
    pub fn parts(&self) -> ClockParts {
        ClockParts {
            started_at: self.started_at,
            target: self.target,
            paused_minutes: self.paused_minutes,
            paused_since: self.paused_since,
            stopped: self.stopped.map(|stop| match stop {
                Stop::Met(at) => (StopKind::Met, at),
                Stop::Cancelled(at) => (StopKind::Cancelled, at),
            }),
            last_change: self.last_change,
        }
    }

    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// Business minutes the clock has been paused, not counting a pause
    /// still running.
    pub fn paused_minutes(&self) -> u64 {
        self.paused_minutes
    }

    /// When the target falls due, as of the clock's last change (a running
    /// pause moves it further when it ends).
    pub fn due(&self, calendar: &Calendar) -> Result<Timestamp, ClockError> {
        Ok(calendar.add_business_minutes(
            self.started_at,
            self.target.minutes.saturating_add(self.paused_minutes),
        )?)
    }

    /// When the clock starts warning, as of its last change: its target
    /// less the warning, plus the pauses, in business minutes from the
    /// start (at the start when the warning is as long as the target).
    pub fn warn_at(&self, calendar: &Calendar) -> Result<Timestamp, ClockError> {
        let minutes = self
            .target
            .minutes
            .saturating_sub(self.target.warn_before_minutes)
            .saturating_add(self.paused_minutes);
        Ok(calendar.add_business_minutes(self.started_at, minutes)?)
    }

    /// Where the clock stands at `now`.
    pub fn state_at(&self, now: Timestamp, calendar: &Calendar) -> Result<ClockState, ClockError> {
        let due = self.due(calendar)?;
        Ok(match (self.stopped, self.paused_since) {
            (Some(Stop::Cancelled(_)), _) => ClockState::Cancelled,
            (Some(Stop::Met(at)), _) if at <= due => ClockState::Succeeded,
            (Some(Stop::Met(_)), _) => ClockState::Breached,
            (None, Some(_)) => ClockState::Paused,
            (None, None) if now >= due => ClockState::Breached,
            // Compared as instants: counting whole business minutes left
            // would warn up to a minute before `warn_at`, the time the
            // store indexes for the sweep.
            (None, None) if now >= self.warn_at(calendar)? => ClockState::Warning,
            (None, None) => ClockState::InProgress,
        })
    }

    /// Stops counting at `at` (the case now waits on someone else).
    pub fn pause(&mut self, at: Timestamp) -> Result<(), ClockError> {
        if self.paused_since.is_some() && self.stopped.is_none() {
            return Err(ClockError::AlreadyPaused);
        }
        self.change(at)?;
        self.paused_since = Some(at);
        Ok(())
    }

    /// Counts again from `at`; the pause's business minutes move the due
    /// time on.
    pub fn resume(&mut self, at: Timestamp, calendar: &Calendar) -> Result<(), ClockError> {
        if self.paused_since.is_none() && self.stopped.is_none() {
            return Err(ClockError::NotPaused);
        }
        self.change(at)?;
        let since = self.paused_since.take().ok_or(ClockError::NotPaused)?;
        self.paused_minutes = self
            .paused_minutes
            .saturating_add(calendar.business_minutes_between(since, at));
        Ok(())
    }

    /// A new target (the case's priority or policy changed): the pauses so
    /// far still count, and a running pause goes on.
    pub fn retarget(&mut self, at: Timestamp, target: Target) -> Result<(), ClockError> {
        self.change(at)?;
        self.target = target;
        Ok(())
    }

    /// The target was met at `at` (in time or late); a running pause ends
    /// first. The clock is frozen from then on.
    pub fn complete(&mut self, at: Timestamp, calendar: &Calendar) -> Result<(), ClockError> {
        self.end_pause(at, calendar)?;
        self.stopped = Some(Stop::Met(at));
        Ok(())
    }

    /// The target no longer applies (the case was withdrawn, say). Frozen.
    pub fn cancel(&mut self, at: Timestamp, calendar: &Calendar) -> Result<(), ClockError> {
        self.end_pause(at, calendar)?;
        self.stopped = Some(Stop::Cancelled(at));
        Ok(())
    }

    fn end_pause(&mut self, at: Timestamp, calendar: &Calendar) -> Result<(), ClockError> {
        if self.paused_since.is_some() {
            self.resume(at, calendar)
        } else {
            self.change(at)
        }
    }

    /// Refuses a change to a stopped clock or one dated before the last.
    fn change(&mut self, at: Timestamp) -> Result<(), ClockError> {
        match self.stopped {
            Some(Stop::Met(_)) => return Err(ClockError::Frozen("met")),
            Some(Stop::Cancelled(_)) => return Err(ClockError::Frozen("cancelled")),
            None => {}
        }
        if at < self.last_change {
            return Err(ClockError::BeforeLastChange(at));
        }
        self.last_change = at;
        Ok(())
    }
}
