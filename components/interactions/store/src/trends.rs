//! Trend counts from the timeline projection, so disposed interactions
//! (whose facts stay) still count and amended facts count as corrected.

use interactions_rules::calendar::MS_PER_DAY;
use interactions_rules::values::Channel;
use interactions_rules::{Breakdown, CountTable, TrendRange};

use crate::StoreError;
use crm_sql::{Sql, Value};

/// Interactions that occurred in `range`, by `breakdown` and bucket. Every
/// channel has a row (zeros included); categories have one when counted.
/// Buckets start at local midnights, so the database counts per local day
/// from the range's start and the days are rolled up into buckets here.
pub fn counts(
    db: &impl Sql,
    range: &TrendRange,
    breakdown: Breakdown,
) -> Result<CountTable, StoreError> {
    let (column, rows) = match breakdown {
        Breakdown::Channel => (
            "channel",
            Channel::ALL
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
        ),
        Breakdown::Category => ("category", Vec::new()),
    };
    let counted = db.run(
        &format!(
            "SELECT {column}, (occurred_at - ?1) / {MS_PER_DAY} AS day, COUNT(*) FROM interaction_timeline \
             WHERE occurred_at >= ?1 AND occurred_at < ?2 GROUP BY {column}, day ORDER BY {column}, day"
        ),
        &[range.start_ms().into(), range.end_ms().into()],
    )?;
    let mut table = CountTable::for_range(rows, range);
    for row in &counted {
        let [
            Value::Text(label),
            Value::Integer(day),
            Value::Integer(count),
        ] = row.as_slice()
        else {
            return Err(StoreError::Inconsistent(
                "a trend count is malformed".into(),
            ));
        };
        let bucket = range
            .bucket_index(range.start_ms() + day * MS_PER_DAY)
            .ok_or_else(|| StoreError::Inconsistent(format!("day {day} is outside the range")))?;
        table
            .add(label, bucket, *count as u64)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
    }
    Ok(table)
}
