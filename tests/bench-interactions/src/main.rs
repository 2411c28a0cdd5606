//! `crm-bench-interactions`: the interaction log's benchmark (a command, not
//! a test; `scripts/bench-interactions` runs both steps).
//!
//! `generate` writes a store of 10,000,000 interactions, one contact holding
//! 100,000 of them, natively with the app's own crates. `run` serves the app
//! from that store on a release `crm-host` and times, per request, appends
//! to the big contact and 50-entry pages of its timeline (the first page, and
//! pages at every depth by cursor), at each client count asked for.

mod drive;
mod generate;
mod native;
#[path = "../../bench-contacts/src/probe.rs"]
mod probe;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use drive::{Figures, Host, Send, agent, measure};
use generate::{BIG_CONTACT, Plan};

#[derive(Parser)]
#[command(about = "Benchmark of the interaction log on a 10M-entry store")]
struct Args {
    #[command(subcommand)]
    command: Step,
}

#[derive(Subcommand)]
enum Step {
    /// Writes `<state-dir>/sqlite_db.db`.
    Generate {
        #[arg(long, default_value = "target/bench-interactions")]
        state_dir: PathBuf,
        /// Entries in the whole store.
        #[arg(long, default_value_t = 10_000_000)]
        total: u64,
        /// Entries of the benchmark's contact.
        #[arg(long, default_value_t = 100_000)]
        big: u64,
        /// Entries of every other contact.
        #[arg(long, default_value_t = 100)]
        per_contact: u64,
    },
    /// Times the store's own statements natively on the generated file (the
    /// share of a request that is SQLite's), without the host.
    Native {
        #[arg(long, default_value = "target/bench-interactions")]
        state_dir: PathBuf,
        /// Operations per kind.
        #[arg(long, default_value_t = 2000)]
        count: usize,
    },
    /// Serves the generated store and measures.
    Run {
        #[arg(long, default_value = "target/bench-interactions")]
        state_dir: PathBuf,
        #[arg(long, default_value = "target/release/crm-host")]
        host_bin: PathBuf,
        #[arg(long, default_value = "target/release/crm-cli")]
        cli_bin: PathBuf,
        #[arg(long, default_value = "spin.toml")]
        manifest: PathBuf,
        /// Measured seconds per scenario (after 2 s of warm-up).
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// Client counts to run each scenario at.
        #[arg(long, value_delimiter = ',', default_value = "1,4")]
        clients: Vec<usize>,
        /// Where to write the host's request log (one JSON line per
        /// request, with its duration): adds host-side p50/p99 to the probe
        /// lines.
        #[arg(long)]
        host_log: Option<PathBuf>,
        /// Which scenarios to run: floor, first, deep, append, jwt.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "floor,first,deep,append,jwt"
        )]
        scenarios: Vec<String>,
        /// Also run one appending client beside three reading pages at any
        /// depth: the CPU of four clients without appends queueing for each
        /// other at the write gate (issue 15, item 12).
        #[arg(long)]
        mix: bool,
        /// Lower the host's checkpointer threads to nice 19 and idle I/O
        /// priority (an experiment: do checkpoints take the cores from
        /// requests?).
        #[arg(long)]
        nice_checkpointer: bool,
    },
}

fn main() -> Result<()> {
    match Args::parse().command {
        Step::Generate {
            state_dir,
            total,
            big,
            per_contact,
        } => generate::generate(
            &state_dir.join("sqlite_db.db"),
            &Plan {
                total,
                big,
                per_contact,
            },
        ),
        Step::Native { state_dir, count } => {
            native::measure(&state_dir.join("sqlite_db.db"), count)
        }
        Step::Run {
            state_dir,
            host_bin,
            cli_bin,
            manifest,
            duration_secs,
            clients,
            host_log,
            scenarios,
            mix,
            nice_checkpointer,
        } => run(
            &state_dir,
            &host_bin,
            &cli_bin,
            &manifest,
            Duration::from_secs(duration_secs),
            &clients,
            &Extra {
                host_log,
                scenarios,
                mix,
                nice_checkpointer,
            },
        ),
    }
}

fn cli(cli_bin: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new(cli_bin)
        .args(args)
        .output()
        .with_context(|| format!("running {}", cli_bin.display()))?;
    if !output.status.success() {
        bail!(
            "crm-cli {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_string())
}

/// `interaction-log` records touchpoints only with contacts that exist, so
/// the contact the appends go to gets a contact record (a minimal one: the
/// directory reads its id and whether it was merged), once.
fn ensure_big_contact(db_file: &Path) -> Result<()> {
    let db = rusqlite::Connection::open(db_file)?;
    db.busy_timeout(Duration::from_secs(10))?;
    db.execute(
        "INSERT OR IGNORE INTO contacts (id, archetype, display_name, created_at, record) \
         VALUES (?1, 'individual', 'Benchmark Contact', '2026-01-01T00:00:00Z', ?2)",
        (
            BIG_CONTACT,
            r#"{"archetype":"individual","display_name":"Benchmark Contact"}"#,
        ),
    )
    .context("adding the big contact's record")?;
    Ok(())
}

/// What issue 15, item 12 added to a run.
struct Extra {
    host_log: Option<PathBuf>,
    scenarios: Vec<String>,
    mix: bool,
    nice_checkpointer: bool,
}

fn run(
    state_dir: &Path,
    host_bin: &Path,
    cli_bin: &Path,
    manifest: &Path,
    duration: Duration,
    clients: &[usize],
    extra: &Extra,
) -> Result<()> {
    let db_file = state_dir.join("sqlite_db.db");
    if !db_file.exists() {
        bail!("{} is missing: run `generate` first", db_file.display());
    }
    let (entries, contacts, big_entries) = store_size(&db_file)?;
    ensure_big_contact(&db_file)?;
    let db = db_file.to_str().context("utf-8 path")?;
    let key = cli(
        cli_bin,
        &[
            "api-key",
            "create",
            "--db",
            db,
            "--owner",
            "benchmark",
            "--scope",
            "interaction.append",
            "--scope",
            "interaction.read",
        ],
    )?;
    let jwt = cli(
        cli_bin,
        &[
            "dev-token",
            "--role",
            "case-worker",
            "--sub",
            "bench-officer",
            "--ttl-secs",
            "7200",
        ],
    )?;
    // A fixed cursor key, as a deployment has.
    let host = Host::start(
        host_bin,
        manifest,
        state_dir,
        &[
            "--variable".into(),
            "interaction_cursor_key=YmVuY2htYXJrLWN1cnNvci1rZXktMzItYnl0ZXMtbG9uZyE=".into(),
        ],
        extra.host_log.as_deref(),
    )?;
    if extra.nice_checkpointer {
        eprintln!(
            "checkpointer threads lowered to nice 19, idle I/O: {}",
            probe::nice_checkpointers(host.pid())
        );
    }
    let probe = probe::Probe::new(host.pid(), extra.host_log.as_deref(), &db_file);
    let mut notes = Vec::new();
    let wanted = |scenario: &str| extra.scenarios.iter().any(|s| s == scenario);
    let base = host.base.clone();
    let api_key = format!("Bearer {key}");
    let staff = format!("Bearer {jwt}");

    let first_page = format!("{base}/api/interactions?contact_id={BIG_CONTACT}&page_size=50");
    let cursors = walk(&base, &api_key)?;
    eprintln!(
        "store: {entries} entries, {contacts} contacts; {BIG_CONTACT}: {big_entries} entries, {} pages of 100 walked",
        cursors.len() + 1
    );
    let page = |credential: String| {
        let url = first_page.clone();
        move |agent: &ureq::Agent, _: u64| get(agent, &url, &credential)
    };
    let deep = {
        let credential = api_key.clone();
        let first_page = first_page.clone();
        move |agent: &ureq::Agent, n: u64| {
            // Spread over every depth, the same order on every run.
            let cursor = &cursors[(n.wrapping_mul(2_654_435_761) % cursors.len() as u64) as usize];
            get(agent, &format!("{first_page}&cursor={cursor}"), &credential)
        }
    };
    let append = |credential: String| {
        let url = format!("{base}/api/interactions");
        move |agent: &ureq::Agent, n: u64| {
            let body = serde_json::json!({
                "contact_id": BIG_CONTACT, "channel": "phone", "direction": "inbound",
                "category": "enquiry", "subject": format!("Benchmark call {n}"),
                "notes": "Caller asked about the status of a claim.", "tags": ["benchmark"],
            });
            let response = agent
                .post(&url)
                .header("authorization", &credential)
                .header("content-type", "application/json")
                .send(body.to_string())?;
            Ok(response.status().as_u16())
        }
    };

    // The same authentication, audited decision and routing, for a contact
    // with no log: the floor under every page above.
    let floor = {
        let credential = api_key.clone();
        let url = format!("{base}/api/interactions?contact_id=con_without_a_log");
        move |agent: &ureq::Agent, _: u64| get(agent, &url, &credential)
    };

    let mut rows: Vec<(String, usize, Figures)> = Vec::new();
    let mut scenario = |name: &str, count: usize, expect: u16, send: &Send<'_>| {
        let start = std::sync::Mutex::new(None);
        let mark = || *start.lock().expect("probe") = Some(probe.snapshot());
        let (recorder, sampler) = (probe::Recorder::default(), probe.sampler());
        let marked = |agent: &ureq::Agent, n: u64| {
            recorder.mark();
            send(agent, n)
        };
        let figures = measure(
            count,
            Duration::from_secs(2),
            duration,
            expect,
            &marked,
            &mark,
        );
        let samples = sampler.finish();
        eprintln!(
            "{name} x{count}: p50 {:.2} ms, p99 {:.2} ms",
            figures.p50_ms, figures.p99_ms
        );
        if let Some(before) = start.into_inner().expect("probe") {
            notes.push(probe.report(&format!("{name} x{count}"), &before, figures.requests));
        }
        notes.push(probe::attribute(&samples, recorder));
        rows.push((name.to_string(), count, figures));
    };
    for &count in clients {
        if wanted("floor") {
            scenario(
                "empty timeline: the audited floor (API key)",
                count,
                200,
                &floor,
            );
        }
        if wanted("first") {
            scenario(
                "first page of 50 (API key)",
                count,
                200,
                &page(api_key.clone()),
            );
        }
        if wanted("deep") {
            scenario("page of 50 at any depth (API key)", count, 200, &deep);
        }
        if wanted("append") {
            scenario("append (API key)", count, 201, &append(api_key.clone()));
        }
    }
    if wanted("jwt") {
        scenario("first page of 50 (staff JWT)", 1, 200, &page(staff.clone()));
        scenario("append (staff JWT)", 1, 201, &append(staff.clone()));
    }
    if extra.mix {
        let start = std::sync::Mutex::new(None);
        let mark = || *start.lock().expect("probe") = Some(probe.snapshot());
        let appender = append(api_key.clone());
        let (recorder, sampler) = (probe::Recorder::default(), probe.sampler());
        let appender = |agent: &ureq::Agent, n: u64| {
            recorder.mark();
            appender(agent, n)
        };
        let warmup = Duration::from_secs(2);
        let (appends, pages) = std::thread::scope(|scope| {
            let pages = scope.spawn(|| measure(3, warmup, duration, 200, &deep, &|| {}));
            let appends = measure(1, warmup, duration, 201, &appender, &mark);
            (appends, pages.join().expect("pages"))
        });
        if let Some(before) = start.into_inner().expect("probe") {
            notes.push(probe.report(
                "1 append beside 3 pages at any depth",
                &before,
                appends.requests + pages.requests,
            ));
        }
        notes.push(probe::attribute(&sampler.finish(), recorder));
        rows.push((
            "append (API key), beside 3 clients reading pages at any depth".into(),
            1,
            appends,
        ));
        rows.push((
            "page of 50 at any depth (API key), beside 1 appending".into(),
            3,
            pages,
        ));
    }
    host.stop()?;

    println!("{}", drive::machine());
    println!("{}", durable_commit(state_dir)?);
    println!(
        "Store: {entries} entries of {contacts} contacts; the benchmark contact holds {big_entries}; {:.1} GiB on disk.\n",
        file_size(&db_file) as f64 / (1u64 << 30) as f64
    );
    println!(
        "| scenario | clients | requests | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, count, f) in rows {
        println!(
            "| {name} | {count} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            f.requests, f.per_sec, f.p50_ms, f.p90_ms, f.p99_ms, f.max_ms, f.errors
        );
    }
    println!();
    for note in notes {
        println!("{note}\n");
    }
    Ok(())
}

fn get(agent: &ureq::Agent, url: &str, credential: &str) -> Result<u16> {
    let response = agent
        .get(url)
        .header("authorization", credential)
        .header("purpose-of-use", "service-delivery")
        .call()?;
    Ok(response.status().as_u16())
}

/// Every cursor of the big contact's timeline in pages of 100 (a cursor
/// carries the filters, not the page size, so each serves a page of 50).
fn walk(base: &str, credential: &str) -> Result<Vec<String>> {
    let agent = agent();
    let mut cursors = Vec::new();
    let mut shown = 0;
    let mut url = format!("{base}/api/interactions?contact_id={BIG_CONTACT}&page_size=100");
    loop {
        let mut response = agent
            .get(&url)
            .header("authorization", credential)
            .header("purpose-of-use", "service-delivery")
            .call()?;
        if response.status() != 200 {
            bail!("{url}: {}", response.body_mut().read_to_string()?);
        }
        let page: serde_json::Value = serde_json::from_str(&response.body_mut().read_to_string()?)?;
        shown += page["interactions"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                cursors.push(cursor.to_string());
                url = format!(
                    "{base}/api/interactions?contact_id={BIG_CONTACT}&page_size=100&cursor={cursor}"
                );
            }
            None => break,
        }
    }
    eprintln!("walked {shown} interactions of {BIG_CONTACT}");
    if cursors.is_empty() {
        bail!("{BIG_CONTACT} has a single page");
    }
    Ok(cursors)
}

fn store_size(db_file: &Path) -> Result<(i64, i64, i64)> {
    let db = rusqlite::Connection::open(db_file)?;
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0));
    Ok((
        count("SELECT SUM(length) FROM interaction_chains")?,
        count("SELECT COUNT(*) FROM interaction_chains")?,
        db.query_row(
            "SELECT length FROM interaction_chains WHERE contact_id = ?1",
            [BIG_CONTACT],
            |r| r.get(0),
        )?,
    ))
}

/// What one durable commit (WAL, `synchronous = FULL`, as the host runs
/// SQLite) costs on the store's disk right now: every write request above
/// pays two (its audit entry and its own), every read one (its audit entry).
fn durable_commit(state_dir: &Path) -> Result<String> {
    let file = state_dir.join("durable-commit-probe.db");
    let db = rusqlite::Connection::open(&file)?;
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS t (x);",
    )?;
    let mut took = Vec::new();
    for n in 0..200 {
        let begun = std::time::Instant::now();
        db.execute("INSERT INTO t VALUES (?1)", [n])?;
        took.push(begun.elapsed());
    }
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    took.sort_unstable();
    let ms = |i: usize| took[i].as_secs_f64() * 1000.0;
    Ok(format!(
        "One durable one-row commit on the store's disk: p50 {:.2} ms, p99 {:.2} ms.",
        ms(99),
        ms(197)
    ))
}

fn file_size(db_file: &Path) -> u64 {
    std::fs::metadata(db_file).map_or(0, |m| m.len())
}
