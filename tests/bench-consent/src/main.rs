//! `crm-bench-consent`: what a `crm:consent/decisions.check` call costs a
//! component, through the composed interface (a command, not a test).
//!
//! Starts `crm-host` (`CRM_HOST_BIN`, else the debug build) on the app's
//! `spin.toml` plus `guest-consent-probe`, a component importing the
//! interface composed with the `consent-leaf` as the app's components
//! are. Seeds consent records, history and do-not-contact entries through
//! the API, then has the probe time checks with the guest's monotonic clock:
//! `n` checks in one request (the steady cost of a call: the leaf reads the
//! purpose, the channel's do-not-contact entries and the ruling record
//! afresh each time), and the first check of each of many requests (which
//! also opens the leaf's database connection). Prints Markdown rows.
//!
//!     crm-bench-consent [--checks N] [--requests N] [--contacts N]

use crm_tests::auth::token;
use crm_tests::{AppDir, Caller, Host, Value, app_manifest, consent_probe, json};

struct Args {
    checks: usize,
    requests: usize,
    contacts: usize,
}

fn args() -> Args {
    let mut args = Args {
        checks: 5000,
        requests: 500,
        contacts: 500,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"));
        match flag.as_str() {
            "--checks" => args.checks = value,
            "--requests" => args.requests = value,
            "--contacts" => args.contacts = value,
            _ => panic!(
                "unknown flag {flag}; usage: crm-bench-consent [--checks N] [--requests N] [--contacts N]"
            ),
        }
    }
    args
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn officer(host: &Host) -> Caller<'_> {
    host.as_caller(&token("bench-officer", &["intake-officer", "case-worker"]))
        .purpose("case-management")
}

fn post(caller: &Caller<'_>, path: &str, body: &Value) {
    let reply = caller.post_json(path, body);
    assert!(
        reply.status < 300,
        "{path}: {} {}",
        reply.status,
        reply.body
    );
}

fn decide(host: &Host, contact: &str, purpose: &str, channel: &str, decision: &str) {
    let body = json!({
        "contact_id": contact, "purpose": purpose, "data_categories": ["contact-details"],
        "channel": channel, "decision": decision, "notice_id": "general", "notice_version": 1,
        "collection": {"method": "phone-call", "call_reference": "BENCH", "officer_id": "bench-officer"},
        "given_at": now_ms(),
    });
    post(&officer(host), "/api/consents", &body);
}

/// Decisions the benchmarked contact changed their mind through.
const HISTORY_ROUNDS: usize = 20;

/// Many contacts with a few records each, and one with a long history.
fn seed(host: &Host, contacts: usize) {
    for i in 0..contacts {
        let contact = format!("con_bench_{i}");
        decide(host, &contact, "status-updates", "email", "given");
        decide(
            host,
            &contact,
            "newsletters",
            "sms",
            if i % 3 == 0 { "refused" } else { "given" },
        );
    }
    let target = "con_bench_target";
    // Given and refused in turn, ending given: 21 records per purpose.
    for round in 0..=HISTORY_ROUNDS {
        let decision = if round % 2 == 0 { "given" } else { "refused" };
        decide(host, target, "status-updates", "email", decision);
        decide(host, target, "newsletters", "email", decision);
    }
    post(
        &officer(host),
        "/api/consents/withdrawals",
        &json!({"contact_id": target, "purpose": "newsletters", "channel": "email", "via": "phone"}),
    );
    decide(host, target, "status-updates", "sms", "given");
    let dnc = |channel: &str, until: Option<i64>| json!({"contact_id": target, "channel": channel, "reason": "complaint", "since": 0, "until": until});
    post(
        &officer(host),
        "/api/consents/suppressions",
        &dnc("email", Some(1_000)),
    );
    post(
        &officer(host),
        "/api/consents/suppressions",
        &dnc("sms", None),
    );
}

fn probe(host: &Host, route: &str, query: &str) -> Value {
    let reply = host.get(&format!("/probe/{route}?{query}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let args = args();
    let host_bin = crm_tests::host_bin();
    let dir = AppDir::new(&app_manifest(consent_probe::MANIFEST));
    let state = tempfile::tempdir().expect("state dir");
    let host = Host::start(
        &dir.manifest(),
        &["--state-dir", state.path().to_str().expect("utf-8")],
        &[],
    );
    println!("host: {}", host_bin.display());
    let started = std::time::Instant::now();
    seed(&host, args.contacts);
    println!(
        "seeded {} contacts, and one with {} records per purpose, in {:.1} s",
        args.contacts,
        HISTORY_ROUNDS + 1,
        started.elapsed().as_secs_f64()
    );

    let target = "contact=con_bench_target";
    let scenarios = [
        (
            "consent in force (long history)",
            format!("{target}&purpose=status-updates&channel=email"),
            "consent-given",
        ),
        (
            "withdrawn",
            format!("{target}&purpose=newsletters&channel=email"),
            "withdrawn",
        ),
        (
            "do-not-contact entry",
            format!("{target}&purpose=status-updates&channel=sms"),
            "suppressed",
        ),
        (
            "lawful basis, no consent needed",
            format!("{target}&purpose=service-delivery&channel=letter"),
            "lawful-basis:primary-purpose",
        ),
        (
            "no consent recorded",
            "contact=con_bench_none&purpose=research&channel=phone".to_string(),
            "no-consent",
        ),
        (
            "channel without consent",
            format!("{target}&purpose=status-updates&channel=counter"),
            "unsupported-channel",
        ),
    ];
    println!();
    println!("| check | answer | calls | p50 µs | p99 µs | mean µs |");
    println!("|---|---|---|---|---|---|");
    for (name, query, reason) in &scenarios {
        let timed = probe(&host, "bench", &format!("{query}&n={}", args.checks));
        assert_eq!(timed["decision"]["reason"], *reason, "{name}: {timed}");
        println!(
            "| {name} | `{reason}` | {} in one request | {:.1} | {:.1} | {:.1} |",
            timed["n"],
            timed["p50_us"].as_f64().unwrap(),
            timed["p99_us"].as_f64().unwrap(),
            timed["mean_us"].as_f64().unwrap()
        );
    }
    let (_, query, _) = &scenarios[0];
    let mut first: Vec<f64> = (0..args.requests)
        .map(|_| {
            probe(&host, "bench", &format!("{query}&n=1"))["first_us"]
                .as_f64()
                .unwrap()
        })
        .collect();
    first.sort_by(f64::total_cmp);
    println!(
        "| first check of a request (opens the leaf's connection) | `consent-given` | {} requests | {:.1} | {:.1} | {:.1} |",
        first.len(),
        quantile(&first, 0.5),
        quantile(&first, 0.99),
        first.iter().sum::<f64>() / first.len() as f64
    );
    let mut whole: Vec<f64> = (0..args.requests)
        .map(|_| {
            let start = std::time::Instant::now();
            probe(&host, "check", query);
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    whole.sort_by(f64::total_cmp);
    println!(
        "| whole `/probe/check` request, client-side (for scale) | `consent-given` | {} requests | {:.1} | {:.1} | {:.1} |",
        whole.len(),
        quantile(&whole, 0.5),
        quantile(&whole, 0.99),
        whole.iter().sum::<f64>() / whole.len() as f64
    );
}
