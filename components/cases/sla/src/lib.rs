//! Service-level clocks for cases (issue 17), pure: no storage, no clock of
//! its own. A [`Calendar`] says when an agency works; a [`Clock`] measures
//! one target (first response, resolution, next update) in business
//! minutes on it, paused while the case waits on someone else.

mod calendar;
mod clock;
pub mod holidays;
mod zones;

pub use calendar::{Calendar, CalendarError, WorkingHours};
pub use clock::{Clock, ClockError, ClockParts, ClockState, StopKind, Target};
pub use jiff::Timestamp;
pub use jiff::civil::{Date, Time, Weekday};

#[cfg(test)]
mod tests;
