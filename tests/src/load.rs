//! A closed-loop load generator for the benchmarks: `connections` threads,
//! each with its own keep-alive HTTP client, send requests back to back for
//! a while; every latency is kept and the percentiles read off the sorted
//! list.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One request to send: method, path and query, body.
pub struct Call {
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
    pub headers: Vec<(String, String)>,
}

pub struct Measured {
    pub requests: usize,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// (status, count), by status.
    pub statuses: Vec<(u16, usize)>,
}

/// Runs `make(n)` (n counting up across all threads) for `duration`.
pub fn run(
    base: &str,
    connections: usize,
    duration: Duration,
    make: &(dyn Fn(u64) -> Call + Sync),
) -> Measured {
    let next = AtomicU64::new(0);
    let started = Instant::now();
    let per_thread: Vec<(Vec<f64>, Vec<u16>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..connections)
            .map(|_| {
                s.spawn(|| {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .max_redirects(0)
                        .timeout_global(Some(Duration::from_secs(60)))
                        .build()
                        .into();
                    let (mut latencies, mut statuses) = (Vec::new(), Vec::new());
                    while started.elapsed() < duration {
                        let call = make(next.fetch_add(1, Ordering::Relaxed));
                        let url = format!("{base}{}", call.path);
                        let mut request =
                            ureq::http::Request::builder().method(call.method).uri(url);
                        for (name, value) in &call.headers {
                            request = request.header(name, value);
                        }
                        let sent = Instant::now();
                        let response = match call.body {
                            Some(body) => agent.run(
                                request
                                    .header("content-type", "application/json")
                                    .body(body.into_bytes())
                                    .expect("request"),
                            ),
                            None => agent.run(request.body(()).expect("request")),
                        };
                        let status = match response {
                            Ok(mut response) => {
                                // Read the whole body: it is part of the answer.
                                let _ = response
                                    .body_mut()
                                    .with_config()
                                    .limit(64 << 20)
                                    .read_to_vec();
                                response.status().as_u16()
                            }
                            Err(_) => 0,
                        };
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                        statuses.push(status);
                    }
                    (latencies, statuses)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("load thread"))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = per_thread
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    latencies.sort_by(f64::total_cmp);
    let mut statuses: Vec<(u16, usize)> = Vec::new();
    for status in per_thread.iter().flat_map(|(_, s)| s.iter().copied()) {
        match statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => statuses.push((status, 1)),
        }
    }
    statuses.sort();
    Measured {
        requests: latencies.len(),
        per_sec: latencies.len() as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or_default(),
        statuses,
    }
}

/// The `q` quantile (0 to 1) of `sorted`, ascending and not empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}
