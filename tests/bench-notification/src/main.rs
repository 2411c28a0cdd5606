//! `crm-bench-notification`: a command, not a test. Starts the app
//! (`spin.toml`) on a real `crm-host` with a local webhook provider, then
//! measures
//!
//! 1. enqueue latency: sequential `POST /api/notifications` to a contact
//!    (consent check, contact lookup, render, rate limit, one transaction),
//!    scheduled so that no provider call is included, p50/p99;
//! 2. the same with the immediate attempt to the provider;
//! 3. dispatch throughput: messages due at once, handed to the provider by
//!    `POST /api/notifications/dispatch` calls, messages per second.
//!
//! Usage: crm-bench-notification [ENQUEUES] [DISPATCHED]

use std::time::{Duration, Instant};

use crm_tests::auth::{now_secs, token};
use crm_tests::provider::ProviderServer;
use crm_tests::{Caller, Host, json, workspace};

/// A purpose the consent catalogue is seeded with
/// (`migrations/0005_consent.sql`), resting on consent: each send is checked
/// against the contact's consent record.
const PURPOSE: &str = "status-updates";

/// Records the contact's consent; the consent API wants the officer who
/// took it to be the caller.
const OFFICER: &str = "bench-officer";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn timed_sends(caller: &Caller, body: &serde_json::Value, count: usize) -> Vec<f64> {
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let reply = caller.post_json("/api/notifications", body);
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}

fn report(name: &str, latencies: &[f64]) {
    println!(
        "{name}: {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        latencies[latencies.len() - 1]
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let enqueues: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let dispatched: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3_000);
    let provider = ProviderServer::start();
    let state = tempfile::tempdir().expect("state dir");
    let variables = [
        "notification_sealing_key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_string(),
        format!("notification_webhook_url={}/messages", provider.origin()),
        "notification_webhook_origin=http://127.0.0.1:*".to_string(),
        "notification_rate_limit_per_minute=1000000".to_string(),
        "notification_dispatch_batch=1000".to_string(),
        "notification_dispatch_concurrency=64".to_string(),
    ];
    let mut host_args = vec![
        "--state-dir".to_string(),
        state.path().display().to_string(),
    ];
    for variable in &variables {
        host_args.extend(["--variable".to_string(), variable.clone()]);
    }
    let host_args: Vec<&str> = host_args.iter().map(String::as_str).collect();
    let host = Host::start(&workspace().join("spin.toml"), &host_args, &[]);
    println!("host: {}", crm_tests::host_bin().display());

    let officer = host
        .as_caller(&token(OFFICER, &["intake-officer"]))
        .purpose("case-management");
    let comms = host
        .as_caller(&token("bench-comms", &["communications-officer"]))
        .purpose("communications");
    let admin = host.as_caller(&token("bench-admin", &["administrator"]));
    let contact = officer
        .post_json("/api/contacts", &json!({"archetype": "individual", "display_name": "Bench", "email": "bench@example.gov.au"}))
        .json()["id"]
        .as_str()
        .expect("contact")
        .to_string();
    let consent = officer.post_json(
        "/api/consents",
        &crm_tests::consent::decision(&contact, PURPOSE, "email", "given", OFFICER),
    );
    assert_eq!(consent.status, 201, "{}", consent.body);
    let template = comms.post_json(
        "/api/templates",
        &json!({"name": "Bench", "type": "email", "subject": "Hi ((name))", "body": "Hello ((name)), your reference is ((ref)).", "purpose": PURPOSE}),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let template = template.json()["id"]
        .as_str()
        .expect("template")
        .to_string();
    let send = |scheduled: Option<String>| {
        let mut body = json!({"template_id": template, "contact_id": contact, "personalisation": {"name": "Ann", "ref": "B-1"}});
        if let Some(at) = scheduled {
            body["scheduled_for"] = json!(at);
        }
        body
    };

    // Warm up: compiled code, pooled instances, the schema.
    timed_sends(&comms, &send(Some(rfc3339(now_secs() + 3600))), 20);
    let queued = timed_sends(&comms, &send(Some(rfc3339(now_secs() + 3600))), enqueues);
    report("enqueue (scheduled, no provider call)", &queued);
    let immediate = timed_sends(&comms, &send(None), enqueues.min(500));
    report(
        "enqueue + immediate attempt to the local provider",
        &immediate,
    );

    // Dispatch: messages due in a few seconds, then dispatch until done.
    let due_at = now_secs() + 1 + (dispatched as i64 / 100);
    let body = send(Some(rfc3339(due_at)));
    for _ in 0..dispatched {
        assert_eq!(comms.post_json("/api/notifications", &body).status, 201);
    }
    while now_secs() <= due_at {
        std::thread::sleep(Duration::from_millis(100));
    }
    let received_before = provider.received().len();
    let started = Instant::now();
    let mut handed_over = 0;
    let mut calls = 0;
    while handed_over < dispatched {
        let summary = admin
            .post_json("/api/notifications/dispatch", &json!({}))
            .json();
        calls += 1;
        let attempted = summary["attempted"].as_u64().unwrap_or(0) as usize;
        handed_over += summary["handed_over"].as_u64().unwrap_or(0) as usize;
        if attempted == 0 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let received = provider.received().len() - received_before;
    println!(
        "dispatch: {handed_over} messages handed over in {calls} dispatch calls, {elapsed:.2} s, {:.0} messages/s; the provider received {received}",
        handed_over as f64 / elapsed
    );
}
