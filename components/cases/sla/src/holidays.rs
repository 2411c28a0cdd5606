//! Australia's national public holidays, 2026 to 2028, as data: the days
//! every state and territory observes on their dates. Substitute days for a
//! holiday on a weekend, the King's Birthday and Labour Day differ between
//! states, so administrators add them (and agency close-downs) to a
//! calendar with [`Calendar::with_holidays`](crate::Calendar::with_holidays).

use jiff::civil::{Date, date};

/// (date, name) in date order.
pub const AUSTRALIA_NATIONAL: &[(Date, &str)] = &[
    (date(2026, 1, 1), "New Year's Day"),
    (date(2026, 1, 26), "Australia Day"),
    (date(2026, 4, 3), "Good Friday"),
    (date(2026, 4, 6), "Easter Monday"),
    (date(2026, 4, 25), "Anzac Day"),
    (date(2026, 12, 25), "Christmas Day"),
    (date(2026, 12, 26), "Boxing Day"),
    (date(2027, 1, 1), "New Year's Day"),
    (date(2027, 1, 26), "Australia Day"),
    (date(2027, 3, 26), "Good Friday"),
    (date(2027, 3, 29), "Easter Monday"),
    (date(2027, 4, 25), "Anzac Day"),
    (date(2027, 12, 25), "Christmas Day"),
    (date(2027, 12, 26), "Boxing Day"),
    (date(2028, 1, 1), "New Year's Day"),
    (date(2028, 1, 26), "Australia Day"),
    (date(2028, 4, 14), "Good Friday"),
    (date(2028, 4, 17), "Easter Monday"),
    (date(2028, 4, 25), "Anzac Day"),
    (date(2028, 12, 25), "Christmas Day"),
    (date(2028, 12, 26), "Boxing Day"),
];

/// The dates of [`AUSTRALIA_NATIONAL`].
pub fn australia_national() -> impl Iterator<Item = Date> {
    AUSTRALIA_NATIONAL.iter().map(|(day, _)| *day)
}
