//! The span of time the log records, in UTC milliseconds since the epoch
//! (RFC 3339 parsing and civil-calendar arithmetic are `crm_domain`'s).

pub const MS_PER_DAY: i64 = 86_400_000;

/// 1900-01-01T00:00:00Z: nothing the log records happened before it.
pub const MIN_MS: i64 = -2_208_988_800_000;
/// 9999-12-31T23:59:59.999Z: the last instant a four-digit year can name.
pub const MAX_MS: i64 = 253_402_300_799_999;

#[cfg(test)]
mod tests {
    use super::*;
    use crm_domain::parse_rfc3339_ms;

    #[test]
    fn the_bounds_are_the_named_instants() {
        assert_eq!(parse_rfc3339_ms("1900-01-01T00:00:00Z"), Ok(MIN_MS));
        assert_eq!(parse_rfc3339_ms("9999-12-31T23:59:59.999Z"), Ok(MAX_MS));
    }
}
