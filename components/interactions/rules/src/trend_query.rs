//! A trends request as it arrives (query parameters), validated into a
//! [`TrendRange`] and what the rows of the table are.

use crm_domain::FieldError;
use crm_domain::parse_rfc3339_ms;
use serde::Deserialize;

use crate::field_errors::FieldErrors;
use crate::interaction::optional;
use crate::trends::{Bucketing, Granularity, RangeError, TrendRange, UtcOffset};

crm_domain::vocabulary!(
    /// What the rows of a trend table count by.
    Breakdown {
        Channel => "channel",
        Category => "category",
    }
);

/// `from` and `to` (RFC 3339, `to` exclusive) are required; `granularity`
/// is `day` unless given, `by` is `channel` unless given, and `offset` is
/// +10:00 (Canberra standard time) unless given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrendQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub granularity: Option<String>,
    pub by: Option<String>,
    pub offset: Option<String>,
}

/// A validated trends request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendQuery {
    pub range: TrendRange,
    pub breakdown: Breakdown,
}

impl TrendQuery {
    /// Reports every refused parameter; a range of more than `max_buckets`
    /// buckets is refused.
    pub fn parse(raw: &RawTrendQuery, max_buckets: usize) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let from_ms = errors
            .required("from", &raw.from)
            .and_then(|r| errors.check("from", parse_rfc3339_ms(r)));
        let to_ms = errors
            .required("to", &raw.to)
            .and_then(|r| errors.check("to", parse_rfc3339_ms(r)));
        let granularity = optional(&mut errors, "granularity", &raw.granularity, |r| {
            Granularity::parse(r.trim())
        })
        .map(|g| g.unwrap_or(Granularity::Day));
        let breakdown = optional(&mut errors, "by", &raw.by, |r| Breakdown::parse(r.trim()))
            .map(|b| b.unwrap_or(Breakdown::Channel));
        let offset = optional(&mut errors, "offset", &raw.offset, UtcOffset::parse)
            .map(Option::unwrap_or_default);
        if let (Some(from), Some(to)) = (from_ms, to_ms)
            && from >= to
        {
            errors.push("to", RangeError::Empty.to_string());
        }
        let range = match (from_ms, to_ms, granularity, offset) {
            (Some(from), Some(to), Some(granularity), Some(offset)) if from < to => {
                let bucketing = Bucketing {
                    granularity,
                    offset,
                };
                TrendRange::new(from, to, bucketing, max_buckets)
                    .map_err(|e| {
                        let field = match e {
                            RangeError::Empty | RangeError::OutOfBounds => "from",
                            RangeError::TooManyBuckets { .. } => "granularity",
                        };
                        errors.push(field, e.to_string());
                    })
                    .ok()
            }
            _ => None,
        };
        errors.finish(|| {
            Some(Self {
                range: range?,
                breakdown: breakdown?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(from: &str, to: &str) -> RawTrendQuery {
        RawTrendQuery {
            from: Some(from.into()),
            to: Some(to.into()),
            ..RawTrendQuery::default()
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn defaults_are_days_by_channel_in_canberra_standard_time() {
        let query = TrendQuery::parse(
            &raw("2026-11-01T00:00:00+10:00", "2026-11-08T00:00:00+10:00"),
            366,
        )
        .unwrap();
        assert_eq!(query.breakdown, Breakdown::Channel);
        assert_eq!(query.range.bucket_count(), 7);
        let labels: Vec<String> = query.range.buckets().map(|b| b.label).collect();
        assert_eq!(labels[0], "2026-11-01");
    }

    #[test]
    fn weeks_by_category_in_utc() {
        let query = TrendQuery::parse(
            &RawTrendQuery {
                granularity: Some("week".into()),
                by: Some("category".into()),
                offset: Some("Z".into()),
                ..raw("2026-11-02T00:00:00Z", "2026-11-16T00:00:00Z")
            },
            366,
        )
        .unwrap();
        assert_eq!(query.breakdown, Breakdown::Category);
        let labels: Vec<String> = query.range.buckets().map(|b| b.label).collect();
        assert_eq!(labels, ["2026-W45", "2026-W46"]);
    }

    #[test]
    fn every_bad_parameter_is_reported() {
        let errors = TrendQuery::parse(
            &RawTrendQuery {
                granularity: Some("fortnight".into()),
                by: Some("officer".into()),
                offset: Some("10:00".into()),
                ..RawTrendQuery::default()
            },
            366,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["from", "to", "granularity", "by", "offset"]
        );
        let empty = TrendQuery::parse(&raw("2026-11-08T00:00:00Z", "2026-11-01T00:00:00Z"), 366)
            .unwrap_err();
        assert_eq!(fields(&empty), ["to"]);
        let empty_and_bad = TrendQuery::parse(
            &RawTrendQuery {
                granularity: Some("fortnight".into()),
                ..raw("2026-11-08T00:00:00Z", "2026-11-01T00:00:00Z")
            },
            366,
        )
        .unwrap_err();
        assert_eq!(fields(&empty_and_bad), ["granularity", "to"]);
        let too_long = TrendQuery::parse(&raw("2020-01-01T00:00:00Z", "2026-01-01T00:00:00Z"), 366)
            .unwrap_err();
        assert_eq!(fields(&too_long), ["granularity"]);
    }
}
