//! `crm-bench-cold-start`: how long a new `crm-host` process takes to serve
//! the whole app (issue 16: p50 ≤ 100 ms with a warm compile cache).
//!
//! Each run execs the host on the app's `spin.toml` with a state directory
//! the first run initialised (so no run pays for creating the database),
//! and times from `exec` to three moments: the host prints `Serving`, it
//! answers `/.well-known/spin/health`, and it answers a real route (a staff
//! token's `GET /api/consents/purposes`: a component instantiated, the token checked,
//! the database read and the read audited). Then it stops the host with
//! SIGTERM. The first run is not counted: it fills the compile cache (unless
//! `--cold-cache`, which gives every run an empty one).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Cold start of crm-host on the app's spin.toml")]
struct Args {
    #[arg(long, default_value = "target/release/crm-host")]
    host_bin: PathBuf,
    #[arg(long, default_value = "spin.toml")]
    manifest: PathBuf,
    /// Measured runs (after one uncounted run).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Holds the runs' state directory and compile cache (kept between
    /// invocations, so a second invocation starts warm).
    #[arg(long, default_value = "target/bench-cold-start")]
    dir: PathBuf,
    /// An empty compile cache for every run.
    #[arg(long)]
    cold_cache: bool,
}

/// When one run reached each moment, from `exec`.
struct Run {
    serving: Duration,
    health: Duration,
    first: Duration,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let state = args.dir.join("state");
    let token = crm_tests::auth::token("bench-cold-start", &["case-worker"]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut runs = Vec::with_capacity(args.runs);
    for n in 0..=args.runs {
        let cache = if args.cold_cache {
            let cache = args.dir.join("cold-cache");
            let _ = std::fs::remove_dir_all(&cache);
            cache
        } else {
            args.dir.join("cache")
        };
        let run = start_and_ask(&args, &state, &cache, &agent, &token)?;
        if n > 0 {
            println!(
                "run {n:>2}: serving {:>7.1} ms, health {:>7.1} ms, first request {:>7.1} ms",
                ms(run.serving),
                ms(run.health),
                ms(run.first)
            );
            runs.push(run);
        }
    }
    println!(
        "\n{} runs, {} compile cache | p50 ms | p90 ms | max ms |",
        runs.len(),
        if args.cold_cache { "cold" } else { "warm" }
    );
    println!("|---|---|---|---|");
    for (what, of) in [
        (
            "`Serving` printed",
            (|r: &Run| r.serving) as fn(&Run) -> Duration,
        ),
        ("health answered", |r: &Run| r.health),
        ("first request answered", |r: &Run| r.first),
    ] {
        let mut times: Vec<Duration> = runs.iter().map(of).collect();
        times.sort();
        let at = |q: f64| ms(times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)]);
        println!(
            "| {what} | {:.1} | {:.1} | {:.1} |",
            at(0.5),
            at(0.9),
            at(1.0)
        );
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn start_and_ask(
    args: &Args,
    state: &Path,
    cache: &Path,
    agent: &ureq::Agent,
    token: &str,
) -> Result<Run> {
    let started = Instant::now();
    let mut host = Command::new(&args.host_bin)
        .args(["up", "-f"])
        .arg(&args.manifest)
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(state)
        .arg("--cache-dir")
        .arg(cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", args.host_bin.display()))?;
    let outcome = ask(&mut host, started, agent, token);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(host.id() as libc::pid_t, libc::SIGTERM) };
    host.wait()?;
    outcome
}

fn ask(host: &mut Child, started: Instant, agent: &ureq::Agent, token: &str) -> Result<Run> {
    let mut stdout = BufReader::new(host.stdout.take().context("host stdout")?);
    let mut line = String::new();
    let base = loop {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            bail!("crm-host exited before printing `Serving http://...`");
        }
        if let Some(base) = line.trim().strip_prefix("Serving ") {
            break base.to_string();
        }
    };
    let serving = started.elapsed();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let health = agent
        .get(format!("{base}/.well-known/spin/health"))
        .call()?;
    ensure!(
        health.status() == 200,
        "health answered {}",
        health.status()
    );
    let health = started.elapsed();
    let first = agent
        .get(format!("{base}/api/consents/purposes"))
        .header("authorization", format!("Bearer {token}"))
        .header("purpose-of-use", "service-delivery")
        .call()?;
    ensure!(
        first.status() == 200,
        "GET /api/consents/purposes answered {}",
        first.status()
    );
    Ok(Run {
        serving,
        health,
        first: started.elapsed(),
    })
}
