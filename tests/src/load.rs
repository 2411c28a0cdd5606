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
    /// (status, count), by status; 0 for no answer.
    pub statuses: Vec<(u16, usize)>,
}

impl Measured {
    /// Requests not answered with a 2xx status.
    pub fn not_2xx(&self) -> usize {
        self.statuses
            .iter()
            .filter(|(status, _)| !(200..300).contains(status))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Every request of a run, for figures over some of them.
pub struct Samples {
    /// (n, status, latency ms) per request, in no particular order.
    pub requests: Vec<(u64, u16, f64)>,
    pub elapsed_secs: f64,
}

impl Samples {
    /// The figures of the requests whose `n` `keep` accepts (their rate over
    /// the whole run).
    pub fn measure(&self, keep: impl Fn(u64) -> bool) -> Measured {
        let kept: Vec<&(u64, u16, f64)> =
            self.requests.iter().filter(|(n, _, _)| keep(*n)).collect();
        let mut latencies: Vec<f64> = kept.iter().map(|(_, _, ms)| *ms).collect();
        latencies.sort_by(f64::total_cmp);
        let mut statuses: Vec<(u16, usize)> = Vec::new();
        for (_, status, _) in &kept {
            match statuses.iter_mut().find(|(s, _)| s == status) {
                Some((_, n)) => *n += 1,
                None => statuses.push((*status, 1)),
            }
        }
        statuses.sort();
        let quantile = |q| {
            if latencies.is_empty() {
                f64::NAN
            } else {
                percentile(&latencies, q)
            }
        };
        Measured {
            requests: latencies.len(),
            per_sec: latencies.len() as f64 / self.elapsed_secs,
            p50_ms: quantile(0.50),
            p99_ms: quantile(0.99),
            max_ms: latencies.last().copied().unwrap_or_default(),
            statuses,
        }
    }
}

/// Runs `make(n)` (n counting up across all threads) for `duration`.
pub fn run(
    base: &str,
    connections: usize,
    duration: Duration,
    make: &(dyn Fn(u64) -> Call + Sync),
) -> Measured {
    record(base, connections, duration, make).measure(|_| true)
}

/// [`run`], keeping every request's `n`, status and latency.
pub fn record(
    base: &str,
    connections: usize,
    duration: Duration,
    make: &(dyn Fn(u64) -> Call + Sync),
) -> Samples {
    let next = AtomicU64::new(0);
    let started = Instant::now();
    let per_thread: Vec<Vec<(u64, u16, f64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..connections)
            .map(|_| {
                s.spawn(|| {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .max_redirects(0)
                        .timeout_global(Some(Duration::from_secs(60)))
                        .build()
                        .into();
                    let mut requests = Vec::new();
                    while started.elapsed() < duration {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let call = make(n);
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
                        requests.push((n, status, sent.elapsed().as_secs_f64() * 1000.0));
                    }
                    requests
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("load thread"))
            .collect()
    });
    Samples {
        requests: per_thread.into_iter().flatten().collect(),
        elapsed_secs: started.elapsed().as_secs_f64(),
    }
}

/// The `q` quantile (0 to 1) of `sorted`, ascending and not empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}
