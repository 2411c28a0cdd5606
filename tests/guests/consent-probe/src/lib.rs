//! `guest-consent-probe`: another component's view of the consent leaf. It
//! imports `crm:consent/decisions` and, composed with `consent-leaf` the way
//! the app's components are, answers:
//!
//! | route | parameters | answer |
//! |---|---|---|
//! | `GET /probe/check` | `contact`, `purpose`, `channel`, `at` (ms; default now) | the decision, or `{"error"}` |
//! | `GET /probe/bench` | the same, and `n` | per-call timings of `n` checks (µs) and the last decision |

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package crm-test:consent-probe;
        world consent-probe {
            import crm:consent/decisions@0.1.0;
        }
    ",
    world: "crm-test:consent-probe/consent-probe",
    generate_all,
});

use crm::consent::decisions::{Decision, check};
use crm::types::types::Channel;

fn param(req: &Request, name: &str) -> Option<String> {
    req.query()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.replace("%3A", ":").replace("%3a", ":"))
}

fn channel(name: &str) -> Option<Channel> {
    Some(match name {
        "portal" => Channel::Portal,
        "email" => Channel::Email,
        "sms" => Channel::Sms,
        "letter" => Channel::Letter,
        "phone" => Channel::Phone,
        "counter" => Channel::Counter,
        "video" => Channel::Video,
        "social" => Channel::Social,
        "field-visit" => Channel::FieldVisit,
        _ => return None,
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn decision(result: Result<Decision, String>) -> Value {
    match result {
        Ok(d) => json!({"permitted": d.permitted, "consent_id": d.consent_id, "reason": d.reason}),
        Err(error) => json!({"error": error}),
    }
}

fn answer(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

/// The `q`-quantile of sorted durations, in µs.
fn quantile_us(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index].as_nanos() as f64 / 1000.0
}

#[http_component]
fn handle(req: Request) -> Response {
    let contact = param(&req, "contact").unwrap_or_default();
    let purpose = param(&req, "purpose").unwrap_or_default();
    let Some(channel) = param(&req, "channel").as_deref().and_then(channel) else {
        return answer(400, &json!({"error": "channel"}));
    };
    let at = param(&req, "at")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(now_ms);
    match req.path() {
        "/probe/check" => answer(200, &decision(check(&contact, &purpose, channel, at))),
        "/probe/bench" => {
            let n: usize = param(&req, "n")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1000);
            let mut times = Vec::with_capacity(n);
            let mut last = Err("no checks".to_string());
            for _ in 0..n.max(1) {
                let start = Instant::now();
                last = check(&contact, &purpose, channel, at);
                times.push(start.elapsed());
            }
            let first_us = times[0].as_nanos() as f64 / 1000.0;
            times.sort();
            let total: Duration = times.iter().sum();
            answer(
                200,
                &json!({
                    "n": times.len(),
                    "first_us": first_us,
                    "p50_us": quantile_us(&times, 0.50),
                    "p99_us": quantile_us(&times, 0.99),
                    "mean_us": total.as_nanos() as f64 / 1000.0 / times.len() as f64,
                    "max_us": quantile_us(&times, 1.0),
                    "decision": decision(last),
                }),
            )
        }
        _ => answer(404, &json!({"error": "not found"})),
    }
}
