//! Reports as server-rendered SVG charts, each followed by its data table
//! (the chart is a picture of the table; screen readers get the table):
//! interaction trends (`GET /api/interactions/stats`, whose small counts
//! the API suppresses, and so does the chart: a suppressed count is a gap)
//! and SLA clocks by queue and state (`GET /api/cases/sla/summary`).

use askama::Template;
use serde_json::Value;

use crate::patterns::{Chrome, Errors, Radios};

/// GOV.UK Frontend's colours, in the order series take them.
const PALETTE: [&str; 8] = [
    "#1d70b8", "#00703c", "#d4351c", "#4c2c92", "#f47738", "#28a197", "#d53880", "#505a5f",
];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;

/// A line of a chart's axis or grid, and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

/// One series of a line chart: its runs of shown counts (a suppressed
/// count breaks the line) as SVG `points`, and its dots.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub runs: Vec<String>,
    pub dots: Vec<Dot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_bottom: f64,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub series: Vec<Series>,
}

/// A stacked bar's part.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub x: f64,
    pub width: f64,
    pub colour: &'static str,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub y: f64,
    pub height: f64,
    pub segments: Vec<Segment>,
}

/// Horizontal stacked bars, one per row.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub bars: Vec<Bar>,
    /// Each part's name and colour.
    pub legend: Vec<(String, &'static str)>,
}

/// A chart's data: a row per series, a column per bucket, and totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTable {
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

/// Interaction trends: the chart and its table.
#[derive(Debug, Clone, PartialEq)]
pub struct Trends {
    pub chart: LineChart,
    pub table: DataTable,
    pub min_cell: i64,
    pub any_suppressed: bool,
}

/// The largest count on a scale rounded up to 1, 2 or 5 × a power of ten.
fn nice_ceiling(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max.max(1) {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// A count as its table shows it: the number, or that it is suppressed.
fn cell(cell: &Value) -> String {
    if cell["suppressed"] == true {
        "suppressed".to_string()
    } else {
        cell["count"].as_i64().unwrap_or_default().to_string()
    }
}

/// `GET /api/interactions/stats` as a line chart and its table.
pub fn trends(stats: &Value) -> Trends {
    let columns: Vec<String> = stats["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    let rows: Vec<&Value> = stats["rows"].as_array().into_iter().flatten().collect();
    let shown = |c: &Value| c["count"].as_i64().filter(|_| c["suppressed"] != true);
    let max = rows
        .iter()
        .flat_map(|r| r["cells"].as_array().into_iter().flatten())
        .filter_map(shown)
        .max()
        .unwrap_or(0);
    let top = nice_ceiling(max);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x_of = |i: usize| {
        if columns.len() <= 1 {
            LEFT + plot_width / 2.0
        } else {
            LEFT + plot_width * i as f64 / (columns.len() - 1) as f64
        }
    };
    let y_of = |count: i64| TOP + plot_height * (1.0 - count as f64 / top as f64);
    let series = rows
        .iter()
        .enumerate()
        .map(|(n, row)| {
            let name = row["label"].as_str().unwrap_or_default().to_string();
            let mut runs = Vec::new();
            let mut run: Vec<String> = Vec::new();
            let mut dots = Vec::new();
            for (i, c) in row["cells"].as_array().into_iter().flatten().enumerate() {
                match shown(c) {
                    Some(count) => {
                        let (x, y) = (x_of(i), y_of(count));
                        run.push(format!("{x:.1},{y:.1}"));
                        dots.push(Dot {
                            x,
                            y,
                            label: format!("{name}, {}: {count}", columns[i]),
                        });
                    }
                    None if !run.is_empty() => runs.push(std::mem::take(&mut run).join(" ")),
                    None => {}
                }
            }
            if !run.is_empty() {
                runs.push(run.join(" "));
            }
            Series {
                name,
                colour: PALETTE[n % PALETTE.len()],
                runs,
                dots,
            }
        })
        .collect();
    let any_suppressed = rows
        .iter()
        .flat_map(|r| r["cells"].as_array().into_iter().flatten())
        .any(|c| c["suppressed"] == true);
    let mut table_rows: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|r| {
            let mut cells: Vec<String> = r["cells"]
                .as_array()
                .into_iter()
                .flatten()
                .map(cell)
                .collect();
            cells.push(cell(&r["total"]));
            (r["label"].as_str().unwrap_or_default().to_string(), cells)
        })
        .collect();
    let mut totals: Vec<String> = stats["column_totals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(cell)
        .collect();
    totals.push(cell(&stats["grand_total"]));
    table_rows.push(("All".to_string(), totals));
    let mut table_columns = columns.clone();
    table_columns.push("Total".to_string());
    Trends {
        chart: LineChart {
            width: WIDTH,
            height: HEIGHT,
            plot_left: LEFT,
            plot_right: WIDTH - RIGHT,
            plot_bottom: HEIGHT - BOTTOM,
            x_ticks: columns
                .iter()
                .enumerate()
                .map(|(i, label)| Tick {
                    x: x_of(i),
                    y: HEIGHT - BOTTOM + 16.0,
                    label: label.clone(),
                })
                .collect(),
            y_ticks: (0..=4)
                .map(|k| {
                    let count = top * k / 4;
                    Tick {
                        x: LEFT - 6.0,
                        y: y_of(count),
                        label: count.to_string(),
                    }
                })
                .collect(),
            series,
        },
        table: DataTable {
            columns: table_columns,
            rows: table_rows,
        },
        min_cell: stats["min_cell"].as_i64().unwrap_or_default(),
        any_suppressed,
    }
}

/// The clock states the SLA summary counts, in the order bars stack them.
const CLOCK_STATES: [(&str, &str); 6] = [
    ("breached", "Breached"),
    ("warning", "Warning"),
    ("in-progress", "On track"),
    ("paused", "Paused"),
    ("succeeded", "Met"),
    ("cancelled", "Stopped"),
];

/// The SLA summary: the chart and its table.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaSummary {
    pub chart: BarChart,
    pub table: DataTable,
}

/// `GET /api/cases/sla/summary` as stacked bars per queue and a table.
pub fn sla_summary(summary: &Value) -> SlaSummary {
    let counts: Vec<&Value> = summary["counts"].as_array().into_iter().flatten().collect();
    let mut queues: Vec<Option<String>> = Vec::new();
    for c in &counts {
        let queue = c["queue_id"].as_str().map(str::to_string);
        if !queues.contains(&queue) {
            queues.push(queue);
        }
    }
    let count_of = |queue: &Option<String>, state: &str| -> i64 {
        counts
            .iter()
            .filter(|c| c["queue_id"].as_str().map(str::to_string) == *queue && c["state"] == state)
            .filter_map(|c| c["count"].as_i64())
            .sum()
    };
    let name = |queue: &Option<String>| queue.clone().unwrap_or_else(|| "No queue".to_string());
    let totals: Vec<i64> = queues
        .iter()
        .map(|q| CLOCK_STATES.iter().map(|(s, _)| count_of(q, s)).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let left = 160.0;
    let plot_width = WIDTH - left - RIGHT;
    let bar_height = 24.0;
    let gap = 12.0;
    let bars = queues
        .iter()
        .enumerate()
        .map(|(i, queue)| {
            let mut x = left;
            let segments = CLOCK_STATES
                .iter()
                .enumerate()
                .filter_map(|(n, (state, label))| {
                    let count = count_of(queue, state);
                    (count > 0).then(|| {
                        let width = plot_width * count as f64 / max as f64;
                        let segment = Segment {
                            x,
                            width,
                            colour: PALETTE[n],
                            label: format!("{}: {count} {}", name(queue), label.to_lowercase()),
                        };
                        x += width;
                        segment
                    })
                })
                .collect();
            Bar {
                label: name(queue),
                y: TOP + i as f64 * (bar_height + gap),
                height: bar_height,
                segments,
            }
        })
        .collect();
    let mut columns: Vec<String> = CLOCK_STATES.iter().map(|(_, l)| l.to_string()).collect();
    columns.push("Total".to_string());
    SlaSummary {
        chart: BarChart {
            width: WIDTH,
            height: TOP * 2.0 + queues.len().max(1) as f64 * (bar_height + gap),
            plot_left: left,
            bars,
            legend: CLOCK_STATES
                .iter()
                .enumerate()
                .map(|(n, (_, label))| (label.to_string(), PALETTE[n]))
                .collect(),
        },
        table: DataTable {
            columns,
            rows: queues
                .iter()
                .zip(&totals)
                .map(|(queue, total)| {
                    let mut cells: Vec<String> = CLOCK_STATES
                        .iter()
                        .map(|(s, _)| count_of(queue, s).to_string())
                        .collect();
                    cells.push(total.to_string());
                    (name(queue), cells)
                })
                .collect(),
        },
    }
}

pub const GRANULARITIES: &[(&str, &str)] = &[
    ("day", "By day, the last 14 days"),
    ("week", "By week, the last 12 weeks"),
    ("month", "By month, the last 12 months"),
];

pub const BREAKDOWNS: &[(&str, &str)] = &[("channel", "By channel"), ("category", "By category")];

/// How far back a granularity's report goes, in days.
pub fn span_days(granularity: &str) -> i64 {
    match granularity {
        "day" => 14,
        "month" => 365,
        _ => 84,
    }
}

#[derive(Template)]
#[template(path = "staff_reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub granularity: Radios,
    pub by: Radios,
    /// What each line of the trends is: `channel` or `category`.
    pub breakdown: String,
    /// `None` for a role that may not see them.
    pub trends: Option<Trends>,
    pub sla: Option<SlaSummary>,
}
