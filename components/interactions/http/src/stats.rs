//! `GET /api/interactions/stats`: interaction counts by channel or category
//! per day, week or month, with small cells suppressed before they leave.

use crm_component_support::{Action, Ctx, Target, json};
use crm_domain::rfc3339_utc;
use crm_http::Problem;
use interactions_rules::{RawTrendQuery, SuppressedTable, TrendQuery, TrendRange, suppress};
use serde::Serialize;
use spin_sdk::http::{Request, Response};

use crate::{query, store_problem, variable};

/// Cells counting fewer interactions than this are suppressed.
const MIN_CELL: &str = "interaction_stats_min_cell";

#[derive(Serialize)]
struct Stats {
    by: &'static str,
    /// The range widened to whole buckets: `from` inclusive, `to` exclusive.
    from: String,
    to: String,
    buckets: Vec<Bucket>,
    #[serde(flatten)]
    table: SuppressedTable,
}

#[derive(Serialize)]
struct Bucket {
    label: String,
    start: String,
}

fn min_cell() -> Result<u64, Problem> {
    let text = variable(MIN_CELL)?;
    text.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        Problem::internal(format!("`{MIN_CELL}` must be a whole number of at least 1"))
    })
}

pub fn stats(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(
        Action::InteractionStats,
        Target::General,
        "interactions/stats",
    )?;
    let raw: RawTrendQuery = query(req)?;
    let query =
        TrendQuery::parse(&raw, TrendRange::DEFAULT_MAX_BUCKETS).map_err(Problem::validation)?;
    let counts = interactions_store::counts(ctx.db()?, &query.range, query.breakdown)
        .map_err(store_problem)?;
    let range = &query.range;
    let body = Stats {
        by: query.breakdown.as_str(),
        from: rfc3339_utc(range.start_ms()),
        to: rfc3339_utc(range.end_ms()),
        buckets: range
            .buckets()
            .map(|b| Bucket {
                label: b.label,
                start: rfc3339_utc(b.start_ms),
            })
            .collect(),
        table: suppress(&counts, min_cell()?),
    };
    Ok(json(200, &body))
}
