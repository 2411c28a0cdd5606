//! The citizen's own records in the portal, each module a page or two with
//! the view models its template draws and the reading of the API's answers
//! into them: [`consents`] (given, refused, withdrawn, changed, with
//! receipts), [`messages`] (the portal inbox, read and unread),
//! [`access_log`] (who looked at my record) and [`correction`] (asking for
//! a correction, APP 13).

pub mod access_log;
pub mod consents;
pub mod correction;
pub mod messages;

#[cfg(test)]
mod tests;

/// The portal's pages a signed-in citizen moves between, as (href, label):
/// the service navigation, and the start page's list.
pub const PORTAL_NAV: &[(&str, &str)] = &[
    ("/my-details", "My details"),
    ("/my-cases", "My cases"),
    ("/my-consents", "My consents"),
    ("/my-messages", "My messages"),
    ("/who-looked", "Who looked at my record"),
];

/// `case-management` as "Case management": a slug the API gives, as words.
pub fn sentence(slug: &str) -> String {
    let words = slug.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A time the API gives in ms since the epoch, as "7 December 2026, 14:05 UTC".
pub fn time_ms(ms: i64) -> String {
    crate::api::date_time(&crm_domain::rfc3339_utc(ms))
}
