//! Trends: interaction counts by channel or category and by day, ISO week or
//! month, with small cells suppressed so that small groups cannot be singled
//! out.
//!
//! # Buckets
//!
//! Buckets are whole days, weeks (ISO 8601: Monday to Sunday, labelled by
//! ISO week-year, e.g. `2026-W53`) or calendar months in a *fixed* UTC
//! offset, +10:00 (Australia/Canberra standard time) unless the caller picks
//! another. The offset is fixed on purpose: a bucket is then always 24 hours
//! (or 7 × 24), and counts never shift when daylight saving starts or ends;
//! during daylight saving a Canberra "day" runs 01:00 to 01:00 local clock
//! time. A range is widened to whole buckets, so the first and last are not
//! partial.
//!
//! # Store
//!
//! Every bucket starts at a local midnight, so the component counts per
//! local day from the widened start and rolls days up into buckets with
//! [`TrendRange::bucket_index`]:
//!
//! ```sql
//! SELECT channel, (occurred_at - :start) / 86400000 AS day, COUNT(*)
//! FROM interaction_timeline
//! WHERE occurred_at >= :start AND occurred_at < :end
//! GROUP BY channel, day;
//! -- served by (occurred_at, channel, category) as a covering index
//! ```
//!
//! Disposed interactions still count: disposal removes content, not facts.
//!
//! # Suppression
//!
//! See [`suppress`]: primary suppression of every count from 1 to
//! `min_cell − 1` (totals included), then complementary suppression until no
//! suppressed count can be worked out exactly from what is shown.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use crm_domain::{Invalid, civil_from_days, days_from_civil};
use serde::Serialize;
use thiserror::Error;

use crate::calendar::{MAX_MS, MIN_MS, MS_PER_DAY};

crm_domain::vocabulary!(
    /// How wide each trend bucket is.
    Granularity {
        Day => "day",
        Week => "week",
        Month => "month",
    }
);

/// A fixed offset from UTC, at most ±14:00 (the widest in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset {
    minutes: i32,
}

impl UtcOffset {
    pub const UTC: UtcOffset = UtcOffset { minutes: 0 };
    /// AEST, the default for trends.
    pub const CANBERRA_STANDARD: UtcOffset = UtcOffset { minutes: 600 };
    const MAX_MINUTES: i32 = 14 * 60;

    pub fn from_minutes(minutes: i32) -> Result<Self, Invalid> {
        if minutes.abs() > Self::MAX_MINUTES {
            return Err(Invalid("must be between -14:00 and +14:00".into()));
        }
        Ok(Self { minutes })
    }

    /// `Z`, `+10:00`, `-09:30`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw == "Z" {
            return Ok(Self::UTC);
        }
        let hint = || Invalid("must be Z or an offset such as +10:00".into());
        let (sign, rest) = match raw.as_bytes().first() {
            Some(b'+') => (1, &raw[1..]),
            Some(b'-') => (-1, &raw[1..]),
            _ => return Err(hint()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(hint)?;
        let two_digits = |s: &str| {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i32>().ok())
                .flatten()
        };
        match (two_digits(h), two_digits(m)) {
            (Some(h), Some(m)) if m < 60 => Self::from_minutes(sign * (h * 60 + m)),
            _ => Err(hint()),
        }
    }

    fn ms(self) -> i64 {
        i64::from(self.minutes) * 60_000
    }
}

impl Default for UtcOffset {
    fn default() -> Self {
        Self::CANBERRA_STANDARD
    }
}

/// How instants fall into buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucketing {
    pub granularity: Granularity,
    pub offset: UtcOffset,
}

impl Bucketing {
    /// The local day number (days since 1970-01-01 in the offset) of `ms`.
    fn local_day(self, ms: i64) -> i64 {
        (ms + self.offset.ms()).div_euclid(MS_PER_DAY)
    }

    fn start_of_day(self, day: i64) -> i64 {
        day * MS_PER_DAY - self.offset.ms()
    }

    fn first_day_of_bucket(self, day: i64) -> i64 {
        match self.granularity {
            Granularity::Day => day,
            // 1970-01-01 was a Thursday: (day + 3) mod 7 counts from Monday.
            Granularity::Week => day - (day + 3).rem_euclid(7),
            Granularity::Month => {
                let (year, month, _) = civil_from_days(day);
                days_from_civil(year, month, 1)
            }
        }
    }

    /// The UTC instant the bucket holding `ms` starts at.
    pub fn bucket_start(self, ms: i64) -> i64 {
        self.start_of_day(self.first_day_of_bucket(self.local_day(ms)))
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next_start(self, start: i64) -> i64 {
        let day = self.local_day(start);
        let next = match self.granularity {
            Granularity::Day => day + 1,
            Granularity::Week => day + 7,
            Granularity::Month => {
                let (year, month, _) = civil_from_days(day);
                if month == 12 {
                    days_from_civil(year + 1, 1, 1)
                } else {
                    days_from_civil(year, month + 1, 1)
                }
            }
        };
        self.start_of_day(next)
    }

    /// `2026-12-31`, `2026-W53` or `2026-12` for the bucket starting at `start`.
    pub fn label(self, start: i64) -> String {
        let day = self.local_day(start);
        let (year, month, dom) = civil_from_days(day);
        match self.granularity {
            Granularity::Day => format!("{year:04}-{month:02}-{dom:02}"),
            Granularity::Month => format!("{year:04}-{month:02}"),
            Granularity::Week => {
                // The ISO week-year is the year of the week's Thursday.
                let thursday = day + 3;
                let (week_year, _, _) = civil_from_days(thursday);
                let week = (thursday - days_from_civil(week_year, 1, 1)) / 7 + 1;
                format!("{week_year:04}-W{week:02}")
            }
        }
    }
}

/// Why a trend range was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RangeError {
    #[error("the range must end after it starts")]
    Empty,
    #[error("the range must lie between 1900 and 9999")]
    OutOfBounds,
    #[error(
        "the range spans more than {max} buckets; choose a wider granularity or a shorter range"
    )]
    TooManyBuckets { max: usize },
}

/// One bucket of a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub start_ms: i64,
    pub label: String,
}

/// `[from, to)` widened to whole buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendRange {
    bucketing: Bucketing,
    starts: Vec<i64>,
    end_ms: i64,
}

impl TrendRange {
    pub const DEFAULT_MAX_BUCKETS: usize = 366;

    pub fn new(
        from_ms: i64,
        to_ms: i64,
        bucketing: Bucketing,
        max_buckets: usize,
    ) -> Result<Self, RangeError> {
        if from_ms >= to_ms {
            return Err(RangeError::Empty);
        }
        if from_ms < MIN_MS || to_ms > MAX_MS + 1 {
            return Err(RangeError::OutOfBounds);
        }
        let mut starts = Vec::new();
        let mut start = bucketing.bucket_start(from_ms);
        while start < to_ms {
            if starts.len() == max_buckets {
                return Err(RangeError::TooManyBuckets { max: max_buckets });
            }
            starts.push(start);
            start = bucketing.next_start(start);
        }
        Ok(Self {
            bucketing,
            starts,
            end_ms: start,
        })
    }

    /// Where the widened range starts (inclusive).
    pub fn start_ms(&self) -> i64 {
        self.starts[0]
    }

    /// Where the widened range ends (exclusive).
    pub fn end_ms(&self) -> i64 {
        self.end_ms
    }

    pub fn bucket_count(&self) -> usize {
        self.starts.len()
    }

    pub fn buckets(&self) -> impl ExactSizeIterator<Item = Bucket> + '_ {
        self.starts.iter().map(|&start_ms| Bucket {
            start_ms,
            label: self.bucketing.label(start_ms),
        })
    }

    /// The bucket `at_ms` falls in, if it is in the range.
    pub fn bucket_index(&self, at_ms: i64) -> Option<usize> {
        if at_ms < self.start_ms() || at_ms >= self.end_ms {
            return None;
        }
        Some(self.starts.partition_point(|&start| start <= at_ms) - 1)
    }
}

/// Counts by row (a channel, a category) and column (a bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountTable {
    rows: Vec<String>,
    columns: Vec<String>,
    counts: Vec<Vec<u64>>,
}

impl CountTable {
    /// A table of zeros with the given rows (more appear as counts are added).
    pub fn new(rows: Vec<String>, columns: Vec<String>) -> Self {
        let counts = vec![vec![0; columns.len()]; rows.len()];
        Self {
            rows,
            columns,
            counts,
        }
    }

    /// A table whose columns are the range's buckets.
    pub fn for_range(rows: Vec<String>, range: &TrendRange) -> Self {
        Self::new(rows, range.buckets().map(|b| b.label).collect())
    }

    /// Adds `count` to the cell of `row` (added if new) and `column`; a
    /// column outside the table is refused.
    pub fn add(&mut self, row: &str, column: usize, count: u64) -> Result<(), NoSuchColumn> {
        if column >= self.columns.len() {
            return Err(NoSuchColumn(column));
        }
        let index = match self.rows.iter().position(|r| r == row) {
            Some(index) => index,
            None => {
                self.rows.push(row.to_string());
                self.counts.push(vec![0; self.columns.len()]);
                self.rows.len() - 1
            }
        };
        self.counts[index][column] += count;
        Ok(())
    }

    pub fn get(&self, row: usize, column: usize) -> u64 {
        self.counts[row][column]
    }

    pub fn rows(&self) -> &[String] {
        &self.rows
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the table has no column {0}")]
pub struct NoSuchColumn(pub usize);

/// A published count: its value, or `None` when suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub count: Option<u64>,
    pub suppressed: bool,
}

impl Cell {
    fn new(count: u64, suppressed: bool) -> Self {
        Self {
            count: (!suppressed).then_some(count),
            suppressed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedRow {
    pub label: String,
    pub cells: Vec<Cell>,
    pub total: Cell,
}

/// A table safe to publish: cells, row and column totals and the grand total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedTable {
    pub columns: Vec<String>,
    pub rows: Vec<SuppressedRow>,
    pub column_totals: Vec<Cell>,
    pub grand_total: Cell,
    pub min_cell: u64,
}

/// The smallest count shown unless configured otherwise.
pub const DEFAULT_MIN_CELL: u64 = 5;

/// Suppresses `table` for publication with its totals.
///
/// Primary: every count from 1 to `min_cell − 1` is suppressed, totals
/// included. Zeros are shown: "no interactions" singles nobody out.
///
/// Complementary: with its totals, the table is a set of linear equations
/// (each row and each column sums to its total). View the table with its
/// totals as a grid of (rows + 1) × (columns + 1) cells; each cell joins its
/// grid row to its grid column in a bipartite graph, and each equation is a
/// vertex. A suppressed count can be worked out exactly from the shown ones
/// if and only if its edge is a bridge of the graph of suppressed cells (it
/// lies on no cycle): the equations' solutions move only along cycles of
/// suppressed cells. So while a primary cell is a bridge, the cheapest path
/// of further cells that closes a cycle through it is suppressed as well:
/// cost is the count hidden, and zeros are used only when nothing else
/// will do, because zeros are often known from elsewhere (a closed office,
/// an unused channel) and then protect nothing. This guards against exact
/// recovery, not against narrowing a suppressed count to an interval.
pub fn suppress(table: &CountTable, min_cell: u64) -> SuppressedTable {
    let grid = Grid::with_totals(table);
    let hidden = grid.suppression(min_cell);
    let (rows, columns) = (table.rows.len(), table.columns.len());
    let cell = |r: usize, c: usize| Cell::new(grid.value(r, c), hidden[r][c]);
    SuppressedTable {
        columns: table.columns.clone(),
        rows: (0..rows)
            .map(|r| SuppressedRow {
                label: table.rows[r].clone(),
                cells: (0..columns).map(|c| cell(r, c)).collect(),
                total: cell(r, columns),
            })
            .collect(),
        column_totals: (0..columns).map(|c| cell(rows, c)).collect(),
        grand_total: cell(rows, columns),
        min_cell,
    }
}

/// The counts with a totals column and a totals row appended.
struct Grid {
    values: Vec<Vec<u64>>,
}

/// A vertex of the suppression graph: a grid row or a grid column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Line {
    Row(usize),
    Column(usize),
}

impl Grid {
    fn with_totals(table: &CountTable) -> Self {
        let columns = table.columns.len();
        let mut values: Vec<Vec<u64>> = table
            .counts
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.push(row.iter().sum());
                row
            })
            .collect();
        let totals = (0..=columns)
            .map(|c| values.iter().map(|row| row[c]).sum())
            .collect();
        values.push(totals);
        Self { values }
    }

    fn height(&self) -> usize {
        self.values.len()
    }

    fn width(&self) -> usize {
        self.values[0].len()
    }

    fn value(&self, r: usize, c: usize) -> u64 {
        self.values[r][c]
    }

    fn suppression(&self, min_cell: u64) -> Vec<Vec<bool>> {
        let mut hidden: Vec<Vec<bool>> = self
            .values
            .iter()
            .map(|row| row.iter().map(|&v| v > 0 && v < min_cell).collect())
            .collect();
        // One pass suffices: hiding more cells only ever removes bridges, so
        // a primary cell that is not a bridge now never becomes one, and one
        // that stopped being a bridge gets an empty cover.
        let bridges = self.bridges(&hidden);
        let mut exposed: Vec<(usize, usize)> = bridges
            .into_iter()
            .filter(|&(r, c)| {
                let v = self.values[r][c];
                v > 0 && v < min_cell
            })
            .collect();
        exposed.sort_unstable();
        for (r, c) in exposed {
            for (pr, pc) in self.cheapest_cover(&hidden, r, c) {
                hidden[pr][pc] = true;
            }
        }
        hidden
    }

    fn vertex(&self, line: Line) -> usize {
        match line {
            Line::Row(r) => r,
            Line::Column(c) => self.height() + c,
        }
    }

    fn line(&self, vertex: usize) -> Line {
        if vertex < self.height() {
            Line::Row(vertex)
        } else {
            Line::Column(vertex - self.height())
        }
    }

    /// Every cell of `line`, with the line that crosses it there.
    fn crossings(&self, line: Line) -> Vec<(Line, (usize, usize))> {
        match line {
            Line::Row(r) => (0..self.width())
                .map(|c| (Line::Column(c), (r, c)))
                .collect(),
            Line::Column(c) => (0..self.height()).map(|r| (Line::Row(r), (r, c))).collect(),
        }
    }

    /// Bridges of the graph of hidden cells (Tarjan's low-link, iterative so
    /// a long path of cells cannot exhaust a Wasm stack).
    fn bridges(&self, hidden: &[Vec<bool>]) -> HashSet<(usize, usize)> {
        let neighbours = |line: Line| -> Vec<(Line, (usize, usize))> {
            self.crossings(line)
                .into_iter()
                .filter(|&(_, (r, c))| hidden[r][c])
                .collect()
        };
        let vertices = self.height() + self.width();
        let mut discovered = vec![usize::MAX; vertices];
        let mut low = vec![0; vertices];
        let mut bridges = HashSet::new();
        let mut clock = 0;
        for root in 0..vertices {
            if discovered[root] != usize::MAX {
                continue;
            }
            discovered[root] = clock;
            low[root] = clock;
            clock += 1;
            // (vertex, the cell it was reached by, its neighbours, next one to visit)
            let mut stack = vec![(root, None, neighbours(self.line(root)), 0)];
            while let Some((vertex, via, next_ones, next)) = stack.last_mut() {
                let (vertex, via) = (*vertex, *via);
                if let Some(&(to, cell)) = next_ones.get(*next) {
                    *next += 1;
                    let to = self.vertex(to);
                    if Some(cell) == via {
                        continue;
                    }
                    if discovered[to] == usize::MAX {
                        discovered[to] = clock;
                        low[to] = clock;
                        clock += 1;
                        stack.push((to, Some(cell), neighbours(self.line(to)), 0));
                    } else {
                        low[vertex] = low[vertex].min(discovered[to]);
                    }
                } else {
                    stack.pop();
                    if let (Some(cell), Some(&(parent, ..))) = (via, stack.last()) {
                        low[parent] = low[parent].min(low[vertex]);
                        if low[vertex] > discovered[parent] {
                            bridges.insert(cell);
                        }
                    }
                }
            }
        }
        bridges
    }

    /// The shown cells to hide so that cell (r, c) lies on a cycle of hidden
    /// cells: the cheapest path from its row to its column not using it
    /// (Dijkstra; hidden cells are free). Empty if it already lies on one.
    fn cheapest_cover(&self, hidden: &[Vec<bool>], r: usize, c: usize) -> Vec<(usize, usize)> {
        // Zeros only when nothing else will do; see `suppress`.
        const ZERO_COST: u64 = 1 << 48;
        let cost = |(pr, pc): (usize, usize)| match (hidden[pr][pc], self.values[pr][pc]) {
            (true, _) => 0,
            (false, 0) => ZERO_COST,
            (false, v) => v,
        };
        let (source, target) = (self.vertex(Line::Row(r)), self.vertex(Line::Column(c)));
        let vertices = self.height() + self.width();
        let mut distance = vec![u64::MAX; vertices];
        // How each vertex was best reached: from which vertex, across which cell.
        let mut reached_by: Vec<Option<(usize, (usize, usize))>> = vec![None; vertices];
        let mut queue = BinaryHeap::from([Reverse((0, source))]);
        distance[source] = 0;
        while let Some(Reverse((d, u))) = queue.pop() {
            if u == target {
                break;
            }
            if d > distance[u] {
                continue;
            }
            for (line, cell) in self.crossings(self.line(u)) {
                if cell == (r, c) {
                    continue;
                }
                let v = self.vertex(line);
                let through = d.saturating_add(cost(cell));
                if through < distance[v] {
                    distance[v] = through;
                    reached_by[v] = Some((u, cell));
                    queue.push(Reverse((through, v)));
                }
            }
        }
        let mut path = Vec::new();
        let mut v = target;
        while let Some((u, cell)) = reached_by[v] {
            if !hidden[cell.0][cell.1] {
                path.push(cell);
            }
            v = u;
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_domain::parse_rfc3339_ms;
    use proptest::prelude::*;

    fn at(text: &str) -> i64 {
        parse_rfc3339_ms(text).unwrap()
    }

    fn canberra(granularity: Granularity) -> Bucketing {
        Bucketing {
            granularity,
            offset: UtcOffset::default(),
        }
    }

    fn utc(granularity: Granularity) -> Bucketing {
        Bucketing {
            granularity,
            offset: UtcOffset::UTC,
        }
    }

    fn label_of(bucketing: Bucketing, instant: &str) -> String {
        bucketing.label(bucketing.bucket_start(at(instant)))
    }

    #[test]
    fn days_turn_at_local_midnight() {
        let day = canberra(Granularity::Day);
        assert_eq!(label_of(day, "2026-12-31T13:59:59.999Z"), "2026-12-31");
        assert_eq!(label_of(day, "2026-12-31T14:00:00Z"), "2027-01-01");
        assert_eq!(
            day.bucket_start(at("2026-12-31T20:00:00Z")),
            at("2027-01-01T00:00:00+10:00")
        );
        let west = Bucketing {
            granularity: Granularity::Day,
            offset: UtcOffset::parse("-09:30").unwrap(),
        };
        assert_eq!(label_of(west, "2027-01-01T09:29:59Z"), "2026-12-31");
        assert_eq!(label_of(west, "2027-01-01T09:30:00Z"), "2027-01-01");
        assert_eq!(
            label_of(utc(Granularity::Day), "1969-12-31T23:59:59Z"),
            "1969-12-31"
        );
    }

    #[test]
    fn iso_weeks_cross_years() {
        let week = utc(Granularity::Week);
        for (instant, label) in [
            ("2026-12-31T12:00:00Z", "2026-W53"),
            ("2027-01-03T23:59:59Z", "2026-W53"),
            ("2027-01-04T00:00:00Z", "2027-W01"),
            ("2025-12-29T00:00:00Z", "2026-W01"),
            ("2025-12-28T23:59:59Z", "2025-W52"),
            ("2024-12-30T00:00:00Z", "2025-W01"),
            ("2021-01-03T12:00:00Z", "2020-W53"),
            ("1970-01-01T00:00:00Z", "1970-W01"),
        ] {
            assert_eq!(label_of(week, instant), label, "{instant}");
        }
        assert_eq!(
            week.bucket_start(at("2027-01-01T12:00:00Z")),
            at("2026-12-28T00:00:00Z")
        );
        // In Canberra the week of 2026-12-31 starts Monday 28 December, local.
        let week = canberra(Granularity::Week);
        assert_eq!(
            week.bucket_start(at("2026-12-31T12:00:00+10:00")),
            at("2026-12-28T00:00:00+10:00")
        );
        assert_eq!(label_of(week, "2027-01-03T23:59:59+10:00"), "2026-W53");
        assert_eq!(label_of(week, "2027-01-04T00:00:00+10:00"), "2027-W01");
    }

    #[test]
    fn months_follow_the_calendar() {
        let month = canberra(Granularity::Month);
        assert_eq!(label_of(month, "2026-01-31T13:59:59Z"), "2026-01");
        assert_eq!(label_of(month, "2026-01-31T14:00:00Z"), "2026-02");
        let feb = month.bucket_start(at("2024-02-15T00:00:00+10:00"));
        assert_eq!(feb, at("2024-02-01T00:00:00+10:00"));
        assert_eq!(month.next_start(feb), at("2024-03-01T00:00:00+10:00"));
        let dec = month.bucket_start(at("2026-12-25T00:00:00+10:00"));
        assert_eq!(month.next_start(dec), at("2027-01-01T00:00:00+10:00"));
        assert_eq!(month.label(month.next_start(dec)), "2027-01");
    }

    #[test]
    fn offsets_parse_within_fourteen_hours() {
        assert_eq!(UtcOffset::parse("Z"), Ok(UtcOffset::UTC));
        assert_eq!(UtcOffset::parse("+10:00"), Ok(UtcOffset::CANBERRA_STANDARD));
        assert_eq!(UtcOffset::parse("+14:00").unwrap().ms(), 14 * 3_600_000);
        assert_eq!(
            UtcOffset::parse("-09:30").unwrap().ms(),
            -(9 * 60 + 30) * 60_000
        );
        for bad in [
            "10:00", "+1000", "+14:01", "+10:60", "+1:00", "-15:00", "", "+xx:00",
        ] {
            assert!(UtcOffset::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Granularity::parse("week"), Ok(Granularity::Week));
    }

    proptest! {
        #[test]
        fn every_instant_lies_in_its_bucket(
            ms in crate::calendar::MIN_MS..crate::calendar::MAX_MS - 40 * MS_PER_DAY,
            offset in -840i32..=840,
            granularity in prop::sample::select(Granularity::ALL),
        ) {
            let bucketing = Bucketing { granularity, offset: UtcOffset::from_minutes(offset).unwrap() };
            let start = bucketing.bucket_start(ms);
            let next = bucketing.next_start(start);
            prop_assert!(start <= ms && ms < next);
            prop_assert_eq!(bucketing.bucket_start(start), start);
            prop_assert_eq!(bucketing.bucket_start(next - 1), start);
            prop_assert_eq!(bucketing.bucket_start(next), next);
            let days = (next - start) / MS_PER_DAY;
            let expected_days = match granularity {
                Granularity::Day => 1..=1,
                Granularity::Week => 7..=7,
                Granularity::Month => 28..=31,
            };
            prop_assert!(expected_days.contains(&days));
        }
    }

    #[test]
    fn ranges_are_widened_to_whole_buckets_and_bounded() {
        let week = canberra(Granularity::Week);
        let range = TrendRange::new(
            at("2026-12-31T12:00:00+10:00"),
            at("2027-01-05T00:00:00+10:00"),
            week,
            TrendRange::DEFAULT_MAX_BUCKETS,
        )
        .unwrap();
        assert_eq!(range.start_ms(), at("2026-12-28T00:00:00+10:00"));
        assert_eq!(range.end_ms(), at("2027-01-11T00:00:00+10:00"));
        let labels: Vec<String> = range.buckets().map(|b| b.label).collect();
        assert_eq!(labels, ["2026-W53", "2027-W01"]);
        assert_eq!(range.bucket_index(range.start_ms() - 1), None);
        assert_eq!(range.bucket_index(range.start_ms()), Some(0));
        assert_eq!(
            range.bucket_index(at("2027-01-03T23:59:59.999+10:00")),
            Some(0)
        );
        assert_eq!(range.bucket_index(at("2027-01-04T00:00:00+10:00")), Some(1));
        assert_eq!(range.bucket_index(range.end_ms() - 1), Some(1));
        assert_eq!(range.bucket_index(range.end_ms()), None);

        let day = canberra(Granularity::Day);
        let year = |y: i64| at(&format!("{y}-01-01T00:00:00+10:00"));
        let max = TrendRange::DEFAULT_MAX_BUCKETS;
        assert_eq!(
            TrendRange::new(year(2026), year(2027), day, max)
                .unwrap()
                .bucket_count(),
            365
        );
        assert_eq!(
            TrendRange::new(year(2024), year(2025), day, max)
                .unwrap()
                .bucket_count(),
            366
        );
        assert_eq!(
            TrendRange::new(year(2024), year(2025) + 1, day, max),
            Err(RangeError::TooManyBuckets { max })
        );
        assert_eq!(
            TrendRange::new(year(2026), year(2026), day, max),
            Err(RangeError::Empty)
        );
        assert_eq!(
            TrendRange::new(year(2027), year(2026), day, max),
            Err(RangeError::Empty)
        );
        assert_eq!(
            TrendRange::new(crate::calendar::MIN_MS - 1, year(2026), day, max),
            Err(RangeError::OutOfBounds)
        );
    }

    #[test]
    fn counts_are_added_by_row_label_and_bucket() {
        let range = TrendRange::new(
            at("2026-11-01T00:00:00+10:00"),
            at("2026-12-01T00:00:00+10:00"),
            canberra(Granularity::Week),
            10,
        )
        .unwrap();
        let mut table = CountTable::for_range(vec!["phone".into()], &range);
        let column = range.bucket_index(at("2026-11-23T09:00:00+10:00")).unwrap();
        table.add("email", column, 3).unwrap();
        table.add("phone", column, 2).unwrap();
        table.add("email", column, 4).unwrap();
        assert_eq!(table.rows(), ["phone", "email"]);
        assert_eq!(table.columns()[column], "2026-W48");
        assert_eq!((table.get(0, column), table.get(1, column)), (2, 7));
        assert_eq!(
            table.add("sms", range.bucket_count(), 1),
            Err(NoSuchColumn(range.bucket_count()))
        );
    }

    fn table(counts: &[&[u64]]) -> CountTable {
        let mut table = CountTable::new(
            (0..counts.len()).map(|r| format!("r{r}")).collect(),
            (0..counts[0].len()).map(|c| format!("c{c}")).collect(),
        );
        for (r, row) in counts.iter().enumerate() {
            for (c, &n) in row.iter().enumerate() {
                table.add(&format!("r{r}"), c, n).unwrap();
            }
        }
        table
    }

    /// The suppression pattern with totals: rows then the totals row, each
    /// with its total last.
    fn pattern(published: &SuppressedTable) -> Vec<Vec<bool>> {
        published
            .rows
            .iter()
            .map(|row| {
                let mut line: Vec<bool> = row.cells.iter().map(|c| c.suppressed).collect();
                line.push(row.total.suppressed);
                line
            })
            .chain(std::iter::once({
                let mut line: Vec<bool> = published
                    .column_totals
                    .iter()
                    .map(|c| c.suppressed)
                    .collect();
                line.push(published.grand_total.suppressed);
                line
            }))
            .collect()
    }

    #[test]
    fn large_counts_and_zeros_are_shown() {
        let published = suppress(&table(&[&[0, 7], &[9, 12]]), DEFAULT_MIN_CELL);
        assert!(pattern(&published).iter().flatten().all(|s| !s));
        assert_eq!(
            published.rows[0].cells[0],
            Cell {
                count: Some(0),
                suppressed: false
            }
        );
        assert_eq!(published.rows[1].total.count, Some(21));
        assert_eq!(published.column_totals[1].count, Some(19));
        assert_eq!(published.grand_total.count, Some(28));
    }

    #[test]
    fn one_small_cell_is_hidden_with_the_cheapest_rectangle() {
        let published = suppress(&table(&[&[3, 10], &[20, 30]]), DEFAULT_MIN_CELL);
        assert_eq!(
            pattern(&published),
            [
                [true, true, false],
                [true, true, false],
                [false, false, false]
            ]
        );
        let json = serde_json::to_value(published.rows[0].cells[0]).unwrap();
        assert_eq!(json, serde_json::json!({"count": null, "suppressed": true}));
    }

    #[test]
    fn a_minimum_of_one_suppresses_nothing() {
        let published = suppress(&table(&[&[1, 2], &[3, 4]]), 1);
        assert!(pattern(&published).iter().flatten().all(|s| !s));
    }

    /// Rank over the integers modulo a prime; the equations are a bipartite
    /// incidence matrix (totally unimodular), so this is also the rank over
    /// the rationals.
    fn rank(mut rows: Vec<Vec<i64>>) -> usize {
        const P: i64 = 2_147_483_647;
        let inverse = |a: i64| {
            let (mut base, mut exp, mut acc) = (a.rem_euclid(P), P - 2, 1i64);
            while exp > 0 {
                if exp & 1 == 1 {
                    acc = acc * base % P;
                }
                base = base * base % P;
                exp >>= 1;
            }
            acc
        };
        let width = rows.first().map_or(0, Vec::len);
        let mut rank = 0;
        for col in 0..width {
            let Some(pivot) = (rank..rows.len()).find(|&r| rows[r][col].rem_euclid(P) != 0) else {
                continue;
            };
            rows.swap(rank, pivot);
            let inv = inverse(rows[rank][col]);
            let pivot_row = rows[rank].clone();
            for (r, row) in rows.iter_mut().enumerate() {
                if r != rank && row[col].rem_euclid(P) != 0 {
                    let factor = row[col].rem_euclid(P) * inv % P;
                    for (x, p) in row.iter_mut().zip(&pivot_row) {
                        *x = (*x - factor * p).rem_euclid(P);
                    }
                }
            }
            rank += 1;
        }
        rank
    }

    /// The hidden cells whose values follow from the shown ones.
    fn derivable(hidden: &[Vec<bool>]) -> Vec<(usize, usize)> {
        let (height, width) = (hidden.len(), hidden[0].len());
        let unknowns: Vec<(usize, usize)> = (0..height)
            .flat_map(|r| (0..width).map(move |c| (r, c)))
            .filter(|&(r, c)| hidden[r][c])
            .collect();
        // Each line: its cells sum to its total (the last cell).
        let coefficient = |is_total: bool| if is_total { -1 } else { 1 };
        let mut equations: Vec<Vec<i64>> = Vec::new();
        for r in 0..height {
            equations.push(
                unknowns
                    .iter()
                    .map(|&(ur, uc)| {
                        if ur == r {
                            coefficient(uc == width - 1)
                        } else {
                            0
                        }
                    })
                    .collect(),
            );
        }
        for c in 0..width {
            equations.push(
                unknowns
                    .iter()
                    .map(|&(ur, uc)| {
                        if uc == c {
                            coefficient(ur == height - 1)
                        } else {
                            0
                        }
                    })
                    .collect(),
            );
        }
        let base = rank(equations.clone());
        unknowns
            .iter()
            .enumerate()
            .filter(|&(i, _)| {
                let mut with_unit = equations.clone();
                with_unit.push((0..unknowns.len()).map(|j| i64::from(i == j)).collect());
                rank(with_unit) == base
            })
            .map(|(_, &cell)| cell)
            .collect()
    }

    #[test]
    fn two_hidden_cells_per_line_are_not_enough() {
        // Found by the property below against a rule that only made sure
        // no row or column hid exactly one cell: with that rule the count
        // at the bottom right could be worked out from the totals.
        let counts: [&[u64]; 3] = [&[21, 1, 2], &[1, 0, 0], &[1, 0, 1]];
        let published = suppress(&table(&counts), 7);
        let grid = Grid::with_totals(&table(&counts));
        let exposed: Vec<(usize, usize)> = derivable(&pattern(&published))
            .into_iter()
            .filter(|&(r, c)| (1..7).contains(&grid.value(r, c)))
            .collect();
        assert_eq!(exposed, []);
    }

    fn small_tables() -> impl Strategy<Value = Vec<Vec<u64>>> {
        let count = prop_oneof![3 => Just(0u64), 4 => 1u64..5, 3 => 5u64..40];
        (1usize..=5, 1usize..=6).prop_flat_map(move |(rows, columns)| {
            prop::collection::vec(prop::collection::vec(count.clone(), columns), rows)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_suppressed_count_can_be_recovered(counts in small_tables(), min_cell in 2u64..8) {
            let rows: Vec<&[u64]> = counts.iter().map(Vec::as_slice).collect();
            let published = suppress(&table(&rows), min_cell);
            let hidden = pattern(&published);
            let grid = Grid::with_totals(&table(&rows));
            for (r, line) in hidden.iter().enumerate() {
                for (c, &is_hidden) in line.iter().enumerate() {
                    let value = grid.value(r, c);
                    if value > 0 && value < min_cell {
                        prop_assert!(is_hidden, "small count at ({}, {}) shown", r, c);
                    }
                }
            }
            // What is shown is true; what is hidden has no count.
            for (r, row) in published.rows.iter().enumerate() {
                for (c, cell) in row.cells.iter().chain([&row.total]).enumerate() {
                    prop_assert_eq!(cell.count, (!cell.suppressed).then_some(grid.value(r, c)));
                }
            }
            // No line hides exactly one cell.
            for line in &hidden {
                prop_assert_ne!(line.iter().filter(|&&h| h).count(), 1);
            }
            for c in 0..grid.width() {
                prop_assert_ne!(hidden.iter().filter(|line| line[c]).count(), 1);
            }
            // Nor can any combination of the equations pin a small count down.
            for (r, c) in derivable(&hidden) {
                let value = grid.value(r, c);
                prop_assert!(
                    value == 0 || value >= min_cell,
                    "suppressed count {} at ({}, {}) is derivable", value, r, c
                );
            }
        }
    }
}
