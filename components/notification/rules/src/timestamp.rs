//! Notify's timestamps: RFC 3339 in UTC with microseconds
//! (`2026-12-07T16:55:09.123000Z`), which its clients' schemas and parsers
//! expect. The CRM keeps milliseconds, so the last three digits are zeros.

/// `ms` since the epoch as Notify writes a time.
pub fn notify_time(ms: i64) -> String {
    let millis = crm_domain::rfc3339_utc(ms);
    let without_zone = millis.strip_suffix('Z').unwrap_or(&millis);
    format!("{without_zone}000Z")
}

#[cfg(test)]
mod tests {
    use super::notify_time;

    #[test]
    fn times_have_microseconds() {
        assert_eq!(notify_time(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            notify_time(1_796_662_509_123),
            "2026-12-07T16:55:09.123000Z"
        );
    }
}
