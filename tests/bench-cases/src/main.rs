//! `crm-bench-cases`: case management's benchmark (issue 17; a command,
//! not a test; `scripts/bench-cases` runs both steps).
//!
//! `generate` writes 250,000 cases (50,000 open, with their SLA clocks),
//! 2,500,000 activities and 20 queues worked by 200 staff, natively with
//! `cases-store`. `run` serves the app from that store on a release
//! `crm-host` and times, per request: queue pages of 50 by due time (at
//! every depth, by cursor), case details with their last 50 activities,
//! status transitions (in-progress ⇄ awaiting-citizen), take-next by 16
//! officers at once (then checks the database for a case taken twice), and
//! the SLA sweep over the 50,000 open cases' clocks a day, a week and a month on.

// Shared with the interaction log's benchmark (its probes use `Host::pid`).
#[allow(dead_code)]
#[path = "../../bench-interactions/src/drive.rs"]
mod drive;
mod generate;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crm_tests::auth::bench_bearer;
use drive::{Figures, Host, Send, agent, measure};
use generate::Plan;

#[derive(Parser)]
#[command(about = "Benchmark of case management at 250,000 cases")]
struct Args {
    #[command(subcommand)]
    command: Step,
}

#[derive(Subcommand)]
enum Step {
    /// Writes `<state-dir>/sqlite_db.db` (a new file).
    Generate {
        #[arg(long, default_value = "target/bench-cases")]
        state_dir: PathBuf,
        #[arg(long, default_value_t = 250_000)]
        cases: u64,
        /// How many of them are open (the newest).
        #[arg(long, default_value_t = 50_000)]
        open: u64,
        #[arg(long, default_value_t = 2_500_000)]
        activities: u64,
        #[arg(long, default_value_t = 20)]
        queues: u32,
        /// Staff, each a member of two queues.
        #[arg(long, default_value_t = 200)]
        staff: u32,
    },
    /// Serves the generated store and measures.
    Run {
        #[arg(long, default_value = "target/bench-cases")]
        state_dir: PathBuf,
        #[arg(long, default_value = "target/release/crm-host")]
        host_bin: PathBuf,
        #[arg(long, default_value = "spin.toml")]
        manifest: PathBuf,
        /// Measured seconds per scenario (after 2 s of warm-up).
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// Client counts for pages, details and transitions.
        #[arg(long, value_delimiter = ',', default_value = "1,16")]
        clients: Vec<usize>,
        /// Officers taking the next case of one queue at once.
        #[arg(long, default_value_t = 16)]
        officers: usize,
        /// Sweeps to time, as if this many days had gone by since the last
        /// (each moves the running clocks that many days on, sweeps, and
        /// puts them back): a day's sweep, a week's, a month's catch-up.
        #[arg(long, value_delimiter = ',', default_value = "1,7,30")]
        sweep_days: Vec<i64>,
        /// Where to write the host's request log (one JSON line per request,
        /// with its duration).
        #[arg(long)]
        host_log: Option<PathBuf>,
        /// Which scenarios to run: page, detail, transition, take-next, sweep.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "page,detail,transition,take-next,sweep"
        )]
        scenarios: Vec<String>,
    },
}

/// The plan `run` reads the generated store with (queues and staff).
fn plan_of(db: &rusqlite::Connection) -> Result<Plan> {
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0));
    Ok(Plan {
        cases: count("SELECT COUNT(*) FROM cases")? as u64,
        open: count("SELECT COUNT(*) FROM cases WHERE status_category = 'open'")? as u64,
        activities: count("SELECT COUNT(*) FROM case_activities")? as u64,
        // The generated queues only: migrations add queues of their own
        // (the records-corrections queue), which no generated officer works.
        queues: count("SELECT COUNT(*) FROM case_queues WHERE id LIKE 'q-%'")? as u32,
        staff: count("SELECT COUNT(DISTINCT officer_id) FROM case_queue_members")? as u32,
    })
}

fn main() -> Result<()> {
    match Args::parse().command {
        Step::Generate {
            state_dir,
            cases,
            open,
            activities,
            queues,
            staff,
        } => {
            let started = Instant::now();
            generate::generate(
                &state_dir.join("sqlite_db.db"),
                &Plan {
                    cases,
                    open,
                    activities,
                    queues,
                    staff,
                },
            )?;
            eprintln!("generated in {:.0} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Step::Run {
            state_dir,
            host_bin,
            manifest,
            duration_secs,
            clients,
            officers,
            sweep_days,
            host_log,
            scenarios,
        } => run(&Run {
            state_dir,
            host_bin,
            manifest,
            duration: Duration::from_secs(duration_secs),
            clients,
            officers,
            sweep_days,
            host_log,
            scenarios,
        }),
    }
}

struct Run {
    state_dir: PathBuf,
    host_bin: PathBuf,
    manifest: PathBuf,
    duration: Duration,
    clients: Vec<usize>,
    officers: usize,
    sweep_days: Vec<i64>,
    host_log: Option<PathBuf>,
    scenarios: Vec<String>,
}

/// Sends one request as `credential` for case management, reading the
/// whole answer; its status.
fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    credential: &str,
    body: Option<&Value>,
) -> Result<(u16, String)> {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", credential)
        .header("purpose-of-use", "case-management");
    let mut response = match body {
        Some(body) => agent.run(
            request
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())?,
        )?,
        None => agent.run(request.body(())?)?,
    };
    let status = response.status().as_u16();
    Ok((status, response.body_mut().read_to_string()?))
}

fn run(args: &Run) -> Result<()> {
    let db_file = args.state_dir.join("sqlite_db.db");
    if !db_file.exists() {
        bail!("{} is missing: run `generate` first", db_file.display());
    }
    let db = rusqlite::Connection::open(&db_file)?;
    db.busy_timeout(Duration::from_secs(30))?;
    let plan = plan_of(&db)?;
    let host = Host::start(
        &args.host_bin,
        &args.manifest,
        &args.state_dir,
        &[],
        args.host_log.as_deref(),
    )?;
    let base = host.base.clone();
    let wanted = |scenario: &str| args.scenarios.iter().any(|s| s == scenario);
    // A member of each queue reads and works its cases (restricted ones too).
    let workers: Vec<String> = (0..plan.queues)
        .map(|q| {
            bench_bearer(
                &generate::subject(generate::members(&plan, q)[0]),
                &["case-worker"],
            )
        })
        .collect();
    let queue_of = |id: &str| -> Result<usize> {
        let queue: String =
            db.query_row("SELECT queue_id FROM cases WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        Ok(queue[2..].parse::<usize>()? - 1)
    };
    let mut rows: Vec<(String, usize, Figures)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut scenario = |name: &str, clients: usize, expect: u16, send: &Send<'_>| {
        let figures = measure(
            clients,
            Duration::from_secs(2),
            args.duration,
            expect,
            send,
            &|| {},
        );
        eprintln!(
            "{name} x{clients}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, {:.0}/s, {} errors",
            figures.p50_ms, figures.p90_ms, figures.p99_ms, figures.per_sec, figures.errors
        );
        rows.push((name.to_string(), clients, figures));
    };

    if wanted("page") {
        // Every page of every queue's in-progress cases by due time.
        let pages = walk_pages(&base, &workers)?;
        eprintln!("walked {} queue pages", pages.len());
        let send = |agent: &ureq::Agent, n: u64| {
            let (queue, url) = &pages[(mix_index(n) % pages.len() as u64) as usize];
            Ok(call(
                agent,
                "GET",
                &format!("{base}{url}"),
                &workers[*queue],
                None,
            )?
            .0)
        };
        for &clients in &args.clients {
            scenario(
                "queue page of 50 (queue, status, by due time; any depth)",
                clients,
                200,
                &send,
            );
        }
    }

    if wanted("detail") {
        // Open cases with a long timeline.
        let mut statement = db.prepare(
            "SELECT c.id, c.queue_id FROM cases c WHERE c.status_category = 'open' \
             AND (SELECT COUNT(*) FROM case_activities a WHERE a.case_id = c.id) >= ?1 \
             ORDER BY c.id LIMIT 2000",
        )?;
        let long: Vec<(String, usize)> = statement
            .query_map([generate::LONG_TIMELINE as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .map(|row| {
                let (id, queue) = row?;
                Ok((id, queue[2..].parse::<usize>()? - 1))
            })
            .collect::<Result<_>>()?;
        if long.is_empty() {
            bail!("no open case has {} activities", generate::LONG_TIMELINE);
        }
        let send = |agent: &ureq::Agent, n: u64| {
            let (id, queue) = &long[(mix_index(n) % long.len() as u64) as usize];
            let (status, body) = call(
                agent,
                "GET",
                &format!("{base}/api/cases/{id}"),
                &workers[*queue],
                None,
            )?;
            if status == 200 {
                let shown = serde_json::from_str::<Value>(&body)?["activities"]
                    .as_array()
                    .map_or(0, Vec::len);
                if shown != 50 {
                    bail!("case {id} showed {shown} activities");
                }
            }
            Ok(status)
        };
        for &clients in &args.clients {
            scenario(
                "case detail with its last 50 activities",
                clients,
                200,
                &send,
            );
        }
    }

    if wanted("transition") {
        for &clients in &args.clients {
            // Each client owns its cases and moves each one way, then back,
            // so no two requests race for a case. Read afresh: an earlier
            // run may have left some waiting.
            let per = 100;
            let mut statement = db.prepare(
                "SELECT id, status FROM cases WHERE status IN ('in-progress', 'awaiting-citizen') \
                 ORDER BY id LIMIT ?1",
            )?;
            let pool: Vec<(String, bool)> = statement
                .query_map([(per * clients) as i64], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)? == "in-progress",
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let queues: Vec<usize> = pool
                .iter()
                .map(|(id, _)| queue_of(id))
                .collect::<Result<_>>()?;
            let send = |agent: &ureq::Agent, n: u64| {
                let (client, i) = ((n / 1_000_000_000) as usize, n % 1_000_000_000);
                let k = client * per + (i % per as u64) as usize;
                let (id, in_progress) = &pool[k];
                let forth = (i / per as u64).is_multiple_of(2);
                let to = if *in_progress == forth {
                    "awaiting-citizen"
                } else {
                    "in-progress"
                };
                Ok(call(
                    agent,
                    "POST",
                    &format!("{base}/api/cases/{id}/transitions"),
                    &workers[queues[k]],
                    Some(&json!({"to": to})),
                )?
                .0)
            };
            scenario(
                "status transition in-progress ⇄ awaiting-citizen (audit, SLA recompute)",
                clients,
                200,
                &send,
            );
        }
    }

    if wanted("take-next") {
        let officers = args.officers;
        // Officer c of queue q is the queue's c-th member.
        let tokens: Vec<Vec<String>> = (0..plan.queues)
            .map(|q| {
                generate::members(&plan, q)
                    .into_iter()
                    .take(officers)
                    .map(|s| bench_bearer(&generate::subject(s), &["case-worker"]))
                    .collect()
            })
            .collect();
        if tokens.iter().any(|t| t.len() < officers) {
            bail!("a queue has fewer than {officers} members");
        }
        let since = crm_tests::auth::now_secs() * 1000;
        let started = Instant::now();
        // Every officer works the same queue at the same time, all moving
        // to the next queue every half second (so no queue runs dry), from
        // a queue that changes between runs.
        let first_queue = (since / 1000) as usize;
        let send = |agent: &ureq::Agent, n: u64| {
            let client = (n / 1_000_000_000) as usize;
            let queue =
                (first_queue + (started.elapsed().as_millis() / 500) as usize) % tokens.len();
            Ok(call(
                agent,
                "POST",
                &format!(
                    "{base}/api/queues/{}/take-next",
                    generate::queue_id(queue as u32)
                ),
                &tokens[queue][client],
                None,
            )?
            .0)
        };
        scenario(
            "take-next, every officer on one queue at once",
            officers,
            200,
            &send,
        );
        notes.push(double_assignments(&db, since)?);
    }

    let mut sweeps: Vec<String> = Vec::new();
    if wanted("sweep") {
        let admin = bench_bearer("bench-admin", &["administrator"]);
        let sweeper = agent();
        // The generated clocks are as their last change left them: the
        // first sweeps catch the store up (50,000 clocks a call at most),
        // as a deployment's first sweep after an outage would.
        // One sweep: its answer and how long it took, in ms.
        let sweep = || -> Result<(Value, f64)> {
            let begun = Instant::now();
            let (status, body) = call(
                &sweeper,
                "POST",
                &format!("{base}/api/cases/sla/sweep"),
                &admin,
                Some(&json!({})),
            )?;
            let took = begun.elapsed().as_secs_f64() * 1000.0;
            if status != 200 {
                bail!("the sweep answered {status}: {body}");
            }
            Ok((serde_json::from_str(&body)?, took))
        };
        loop {
            let (answer, took) = sweep()?;
            let line = format!(
                "| catching up | | {} | {} | {} | {:.0} |",
                answer["warned"], answer["breached"], answer["more"], took,
            );
            eprintln!("SLA sweep {line}");
            sweeps.push(line);
            if answer["more"] != json!(true) {
                break;
            }
        }
        for &days in &args.sweep_days {
            let moved = clocks::move_on(&db, days)?;
            let swept = sweep();
            // Put back whether the sweep answered or not.
            clocks::put_back(&db)?;
            let (answer, took) = swept?;
            let line = format!(
                "| {days} | {moved} | {} | {} | {} | {:.0} |",
                answer["warned"], answer["breached"], answer["more"], took,
            );
            eprintln!("SLA sweep {line}");
            sweeps.push(line);
        }
    }
    host.stop()?;

    println!("{}", drive::machine());
    println!(
        "Store: {} cases ({} open), {} activities, {} queues, {} staff; {:.2} GiB on disk.\n",
        plan.cases,
        plan.open,
        plan.activities,
        plan.queues,
        plan.staff,
        std::fs::metadata(&db_file).map_or(0, |m| m.len()) as f64 / (1u64 << 30) as f64
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
    if !sweeps.is_empty() {
        println!("| SLA sweep: days gone by | running clocks | warned | breached | more | ms |");
        println!("|---|---|---|---|---|---|");
        for line in sweeps {
            println!("{line}");
        }
        println!();
    }
    for note in notes {
        println!("{note}\n");
    }
    Ok(())
}

/// Spreads request numbers over a list, the same way on every run.
fn mix_index(n: u64) -> u64 {
    generate::mix(n)
}

/// The URL of every page of every queue's in-progress cases, soonest due
/// first, with the queue whose member reads it: the first pages and one by
/// each cursor the walk met.
fn walk_pages(base: &str, workers: &[String]) -> Result<Vec<(usize, String)>> {
    let agent = agent();
    let mut pages = Vec::new();
    for (queue, worker) in workers.iter().enumerate() {
        let first = format!(
            "/api/cases?queue_id={}&status=in-progress&order=due&limit=50",
            generate::queue_id(queue as u32)
        );
        let mut url = first.clone();
        loop {
            let (status, body) = call(&agent, "GET", &format!("{base}{url}"), worker, None)?;
            if status != 200 {
                bail!("{url}: {status} {body}");
            }
            pages.push((queue, url));
            match serde_json::from_str::<Value>(&body)?["next_cursor"].as_str() {
                Some(cursor) => url = format!("{first}&cursor={cursor}"),
                None => break,
            }
        }
    }
    Ok(pages)
}

/// Counts the cases take-next gave out since `since` (ms) and those given
/// to two officers: there must be none.
fn double_assignments(db: &rusqlite::Connection, since: i64) -> Result<String> {
    let (taken, cases): (i64, i64) = db.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT case_id) FROM case_activities \
         WHERE kind = 'assignment' AND subject LIKE 'Taken from %' AND created_at >= ?1",
        [since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // Each taken case holds the officer its last take names.
    let mismatched: i64 = db.query_row(
        "SELECT COUNT(*) FROM cases c WHERE c.id IN (SELECT case_id FROM case_activities \
         WHERE kind = 'assignment' AND subject LIKE 'Taken from %' AND created_at >= ?1) \
         AND c.assignee IS NOT (SELECT a.actor FROM case_activities a WHERE a.case_id = c.id \
         AND a.kind = 'assignment' ORDER BY a.seq DESC LIMIT 1)",
        [since],
        |r| r.get(0),
    )?;
    let doubles = taken - cases;
    if doubles != 0 || mismatched != 0 {
        bail!("take-next: {doubles} cases taken twice, {mismatched} held by another officer");
    }
    Ok(format!(
        "Take-next: {taken} cases taken, each once (database checked: {cases} distinct cases, \
         each held by the officer who took it)."
    ))
}

/// Moving time on for the sweep, and back.
mod clocks {
    use anyhow::Result;

    /// Moves every running clock `days` into the past (as if they had gone
    /// by), keeping what it was in a table of this connection; answers how
    /// many there are.
    pub fn move_on(db: &rusqlite::Connection, days: i64) -> Result<usize> {
        db.execute_batch(
            "DROP TABLE IF EXISTS temp.bench_clocks; \
             CREATE TEMP TABLE bench_clocks AS SELECT rowid AS clock, state, started_at, \
             last_change, due_at, warn_at FROM case_clocks \
             WHERE stopped IS NULL AND paused_since IS NULL",
        )?;
        Ok(db.execute(
            "UPDATE case_clocks SET started_at = started_at - ?1, last_change = last_change - ?1, \
             due_at = due_at - ?1, warn_at = warn_at - ?1 \
             WHERE rowid IN (SELECT clock FROM temp.bench_clocks)",
            [days * 86_400_000],
        )?)
    }

    /// Puts every moved clock back as it was before [`move_on`].
    pub fn put_back(db: &rusqlite::Connection) -> Result<()> {
        db.execute_batch(
            "UPDATE case_clocks SET state = b.state, started_at = b.started_at, \
             last_change = b.last_change, due_at = b.due_at, warn_at = b.warn_at \
             FROM temp.bench_clocks b WHERE case_clocks.rowid = b.clock; \
             DROP TABLE temp.bench_clocks;",
        )?;
        Ok(())
    }
}
