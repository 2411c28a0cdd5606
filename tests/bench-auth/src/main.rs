//! `crm-bench-auth`: what authentication, authorisation and audit add to a
//! request (issue 3), a command rather than a test.
//!
//! Starts `crm-host` (`CRM_HOST_BIN`, else the debug build) on the app's
//! `spin.toml` plus `guest-bench-auth`, which gives the same trivial answer
//! on two routes: `/bench/plain` through the shared `serve` with no caller
//! and no audit, and `/bench/authed` after authenticating the bearer
//! credential, authorising a purpose-bound `contact.read` and appending one
//! entry to the audit trail through `crm:audit/trail` (the `audit-leaf`
//! leaf, composed as the app's components are); and the same pair for a
//! request that writes a row anyway (`/bench/write`, `/bench/authed-write`),
//! whose audit entry shares the write's sync. At each connection count it
//! drives the plain routes, then the authed ones with an API key and with a
//! staff JWT (the same token every request, so the verified-token cache
//! applies as it does for a real session), each for a warm-up and then a
//! measured run. Prints the latencies seen by the client and logged by the
//! host, what each credential adds over its plain route, and that the audit
//! trail gained one entry per authenticated request.
//!
//!     crm-bench-auth [--duration-secs N] [--warmup-secs N] [--connections 1,16]

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use crm_tests::auth::{api_key, claims, dev_key, now_secs};
use crm_tests::load::{self, Call, Measured, percentile};
use crm_tests::{AppDir, Host, Value, app_manifest, host_bin};

#[derive(Parser)]
#[command(about = "What authentication, authorisation and audit add to a request")]
struct Args {
    /// Seconds per measured run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Seconds of load before each measured run (not measured).
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Connection counts to run at.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    connections: Vec<usize>,
}

/// `guest-bench-auth` as a component of the app, configured for
/// authentication as the app's own components are (`[component.audit]`).
const MANIFEST: &str = r#"
[[trigger.http]]
route = "/bench/..."
component = "bench-auth"

[component.bench-auth]
source = "{wasm:guest_bench_auth}"
sqlite_databases = ["default"]
key_value_stores = ["default"]
allowed_outbound_hosts = ["{{ auth_jwks_origin }}"]
[component.bench-auth.variables]
auth_issuer = "{{ auth_issuer }}"
auth_audience = "{{ auth_audience }}"
auth_jwks = "{{ auth_jwks }}"
auth_jwks_url = "{{ auth_jwks_url }}"
auth_algorithms = "{{ auth_algorithms }}"
auth_leeway_secs = "{{ auth_leeway_secs }}"
auth_roles_claim = "{{ auth_roles_claim }}"
purposes_of_use = "{{ purposes_of_use }}"
[component.bench-auth.dependencies]
"crm:audit/trail@0.1.0" = { path = "{wasm:audit_leaf}", inherit_configuration = ["sqlite_databases"] }
"#;

const PLAIN: &str = "/bench/plain";
const AUTHENTICATED: &str = "/bench/authenticated";
const AUTHED: &str = "/bench/authed";
const WRITE: &str = "/bench/write";
const AUTHED_WRITE: &str = "/bench/authed-write";

/// One kind of request: a route, and the credential it carries if any.
struct Scenario {
    name: &'static str,
    path: &'static str,
    /// What the added-cost lines call the credential.
    credential: Option<(&'static str, String)>,
    /// The scenario without a caller that this one is compared with.
    baseline: Option<&'static str>,
}

impl Scenario {
    fn path(&self) -> &'static str {
        self.path
    }

    /// Whether each request appends an audit entry.
    fn audited(&self) -> bool {
        self.path == AUTHED || self.path == AUTHED_WRITE
    }

    fn method(&self) -> &'static str {
        if self.path == WRITE || self.path == AUTHED_WRITE {
            "POST"
        } else {
            "GET"
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        match &self.credential {
            Some((_, credential)) => vec![
                ("authorization".into(), format!("Bearer {credential}")),
                ("purpose-of-use".into(), "case-management".into()),
            ],
            None => Vec::new(),
        }
    }

    fn call(&self) -> Call {
        Call {
            method: self.method(),
            path: self.path().to_string(),
            body: None,
            headers: self.headers(),
        }
    }
}

/// One measured run.
struct Row<'a> {
    scenario: &'a Scenario,
    connections: usize,
    client: Measured,
    /// p50 and p99 of the durations in the host's request log, in ms.
    host: Option<(f64, f64)>,
}

/// Sends one request as `scenario`, panicking with the answer unless it is 200.
fn expect_ok(host: &Host, scenario: &Scenario) {
    let headers = scenario.headers();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let reply = host.request(scenario.method(), scenario.path(), &headers, None);
    assert_eq!(
        reply.status, 200,
        "{}: the request was refused: {} {}",
        scenario.name, reply.status, reply.body
    );
}

/// Fails loudly unless every request of a run was answered 200.
fn check(host: &Host, scenario: &Scenario, connections: usize, measured: &Measured) {
    if measured.statuses.iter().any(|(status, _)| *status != 200) {
        eprintln!(
            "{} at {connections} connections: statuses {}; one more request:",
            scenario.name,
            statuses(measured)
        );
        expect_ok(host, scenario);
        panic!("{}: not every request was answered 200", scenario.name);
    }
}

fn statuses(m: &Measured) -> String {
    let statuses: Vec<String> = m.statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
    statuses.join(" ")
}

/// p50 and p99 of the request-log durations of requests to `path`.
fn host_durations(lines: &[String], path: &str) -> Option<(f64, f64)> {
    let mut durations: Vec<f64> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["msg"] == "request" && line["path"] == path)
        .filter_map(|line| line["duration_ms"].as_f64())
        .collect();
    if durations.is_empty() {
        return None;
    }
    durations.sort_by(f64::total_cmp);
    Some((percentile(&durations, 0.5), percentile(&durations, 0.99)))
}

fn audit_entries(db: &Path) -> i64 {
    let db = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the app database");
    db.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    db.query_row("SELECT count(*) FROM audit_entries", [], |r| r.get(0))
        .expect("count audit entries")
}

fn ms(value: f64) -> String {
    format!("{value:.3}")
}

fn main() {
    let args = Args::parse();
    let warmup = Duration::from_secs(args.warmup_secs);
    let duration = Duration::from_secs(args.duration_secs);
    let dir = AppDir::new(&app_manifest(MANIFEST));
    let state = tempfile::tempdir().expect("state dir");
    let db = state.path().join("sqlite_db.db");
    let host = Host::start(
        &dir.manifest(),
        &["--state-dir", state.path().to_str().expect("utf-8")],
        &[],
    );
    println!("host: {}", host_bin().display());

    // A case worker's token, valid for the whole run (plus ten minutes):
    // the host caches its verification for at most five minutes, as it
    // would a real session's.
    let planned = args.connections.len() as u64 * 6 * (args.warmup_secs + args.duration_secs);
    let mut token_claims = claims("bench-officer", &["case-worker"]);
    token_claims["exp"] = (now_secs() + planned as i64 + 600).into();
    let jwt = dev_key().sign(&token_claims);
    let plain = Scenario {
        name: "`/bench/plain` (no credential, no audit)",
        path: PLAIN,
        credential: None,
        baseline: None,
    };
    let write = Scenario {
        name: "`/bench/write` (no credential, no audit, one row written)",
        path: WRITE,
        credential: None,
        baseline: None,
    };
    let with_jwt = Scenario {
        name: "`/bench/authed`, staff JWT",
        path: AUTHED,
        credential: Some(("staff JWT (verified-token cache)", jwt)),
        baseline: Some(plain.name),
    };
    expect_ok(&host, &plain);
    // The first authenticated request opens the database, which creates
    // the schema the API key is stored in.
    expect_ok(&host, &with_jwt);
    rusqlite::Connection::open(&db)
        .and_then(|db| {
            db.execute_batch(
                "CREATE TABLE bench_writes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)",
            )
        })
        .expect("create the table the write routes insert into");
    let key = api_key(
        &db,
        "bench-service",
        &["contact.read", "interaction.append"],
    );
    let authenticated_only = Scenario {
        name: "`/bench/authenticated`, API key (authentication only, no audit)",
        path: AUTHENTICATED,
        credential: Some(("API key, authentication only", key.clone())),
        baseline: Some(plain.name),
    };
    let with_key = Scenario {
        name: "`/bench/authed`, API key",
        path: AUTHED,
        credential: Some(("API key", key.clone())),
        baseline: Some(plain.name),
    };
    let write_with_key = Scenario {
        name: "`/bench/authed-write`, API key",
        path: AUTHED_WRITE,
        credential: Some(("API key, a request that writes a row anyway", key)),
        baseline: Some(write.name),
    };
    expect_ok(&host, &with_key);
    expect_ok(&host, &authenticated_only);
    expect_ok(&host, &write);
    expect_ok(&host, &write_with_key);
    let audited_before = audit_entries(&db);
    let scenarios = [
        plain,
        authenticated_only,
        with_key,
        with_jwt,
        write,
        write_with_key,
    ];

    println!(
        "{} s per run after {} s of warm-up; `/bench/authed` authenticates, authorises \
         `contact.read` on `contact/con_bench` for `case-management` and appends one audit entry; \
         `/bench/authed-write` does the same for `interaction.append`, then writes its row",
        args.duration_secs, args.warmup_secs
    );
    println!();
    println!(
        "| scenario | connections | requests | requests/s | p50 ms | p99 ms | host p50 ms | host p99 ms | statuses |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    let mut authed_sent = 0;
    for &connections in &args.connections {
        for scenario in &scenarios {
            let make = |_| scenario.call();
            let warm = load::run(&host.base, connections, warmup, &make);
            check(&host, scenario, connections, &warm);
            host.stderr.take();
            let client = load::run(&host.base, connections, duration, &make);
            check(&host, scenario, connections, &client);
            if scenario.audited() {
                authed_sent += warm.requests + client.requests;
            }
            // The host writes its request log every 5 ms.
            std::thread::sleep(Duration::from_millis(100));
            let host_side = host_durations(&host.stderr.take(), scenario.path());
            let (host_p50, host_p99) = host_side
                .map_or(("–".into(), "–".into()), |(p50, p99)| {
                    (ms(p50), ms(p99))
                });
            println!(
                "| {} | {connections} | {} | {:.0} | {} | {} | {host_p50} | {host_p99} | {} |",
                scenario.name,
                client.requests,
                client.per_sec,
                ms(client.p50_ms),
                ms(client.p99_ms),
                statuses(&client)
            );
            rows.push(Row {
                scenario,
                connections,
                client,
                host: host_side,
            });
        }
    }

    println!();
    println!("Added over the same route without a caller (target: under 0.3 ms at p50):");
    println!();
    for scenario in &scenarios {
        let (Some((credential, _)), Some(baseline)) = (&scenario.credential, scenario.baseline)
        else {
            continue;
        };
        for &connections in &args.connections {
            let find = |name: &str| {
                rows.iter()
                    .find(|r| r.scenario.name == name && r.connections == connections)
                    .expect("measured")
            };
            let (base, authed) = (find(baseline), find(scenario.name));
            let host_side = match (base.host, authed.host) {
                (Some((b50, b99)), Some((a50, a99))) => format!(
                    "; in the host's log +{} ms at p50, +{} ms at p99",
                    ms(a50 - b50),
                    ms(a99 - b99)
                ),
                _ => String::new(),
            };
            let added = authed.client.p50_ms - base.client.p50_ms;
            println!(
                "- {credential}, {connections} connection{}: +{} ms at p50 ({}), +{} ms at p99{host_side}",
                if connections == 1 { "" } else { "s" },
                ms(added),
                if added < 0.3 {
                    "under 0.3 ms"
                } else {
                    "NOT under 0.3 ms"
                },
                ms(authed.client.p99_ms - base.client.p99_ms),
            );
        }
    }

    let appended = audit_entries(&db) - audited_before;
    println!();
    println!(
        "Audit trail: {appended} entries appended for {authed_sent} audited requests \
         (warm-ups included)"
    );
    assert_eq!(
        appended, authed_sent as i64,
        "every audited request must leave exactly one audit entry"
    );
    println!("Every audited request was audited once.");
    host.stop();
}
