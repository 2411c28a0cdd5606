//! `crm-bench`: the host's load benchmark (a command, not a test).
//!
//! Starts a release `crm-host` serving `guest-bench-target`, drives a trivial
//! route and a one-row SQLite write route with `wrk` at several connection
//! counts, and prints requests/s, p50/p99 latency, the mean per-request
//! instantiation cost (from the host's request log) and the host's peak RSS.
//! After the write runs it checks that every acknowledged write is in the
//! database file.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Load benchmark of crm-host (needs wrk: apt-get install wrk)")]
struct Args {
    /// The host binary; build it with `cargo build --release -p crm-host`.
    #[arg(long, default_value = "target/release/crm-host")]
    host_bin: PathBuf,
    /// The guest; build it with `cargo build --target wasm32-wasip2 --release -p guest-bench-target`.
    #[arg(
        long,
        default_value = "target/wasm32-wasip2/release/guest_bench_target.wasm"
    )]
    guest: PathBuf,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Connection counts to run at.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    connections: Vec<u32>,
}

/// What one wrk run measured.
struct Run {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    completed: u64,
    non_2xx: u64,
    socket_errors: u64,
}

impl Run {
    fn acknowledged(&self) -> u64 {
        self.completed - self.non_2xx
    }
}

/// The host process, its address, and the instantiation times it logged.
struct Host {
    child: Child,
    addr: String,
    instantiate_us: Arc<Mutex<Vec<f64>>>,
}

impl Host {
    fn start(args: &Args, dir: &Path) -> Result<Self> {
        let guest = std::fs::canonicalize(&args.guest)
            .with_context(|| format!("guest {} (build it first)", args.guest.display()))?;
        let manifest = format!(
            r#"spin_manifest_version = 2

[application]
name = "crm-bench"

[[trigger.http]]
route = "/bench/..."
component = "bench"

[component.bench]
source = "{}"
sqlite_databases = ["default"]
"#,
            guest.display()
        );
        std::fs::write(dir.join("spin.toml"), manifest)?;
        let mut child = Command::new(&args.host_bin)
            .args(["up", "-f"])
            .arg(dir.join("spin.toml"))
            .args(["--listen", "127.0.0.1:0", "--sqlite"])
            .arg("CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", args.host_bin.display()))?;

        let instantiate_us = Arc::new(Mutex::new(Vec::new()));
        let log = BufReader::new(child.stderr.take().context("host stderr")?);
        let sink = Arc::clone(&instantiate_us);
        std::thread::spawn(move || {
            for line in log.lines().map_while(Result::ok) {
                if let Some(us) = json_number(&line, "instantiate_us") {
                    sink.lock().expect("log sink").push(us);
                }
            }
        });

        let mut stdout = BufReader::new(child.stdout.take().context("host stdout")?);
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut line = String::new();
        let addr = loop {
            line.clear();
            if stdout.read_line(&mut line)? == 0 || Instant::now() > deadline {
                bail!("crm-host exited or did not print `Serving http://...`");
            }
            if let Some(addr) = line.trim().strip_prefix("Serving http://") {
                break addr.to_string();
            }
        };
        // Keep draining stdout so the host never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Self {
            child,
            addr,
            instantiate_us,
        })
    }

    fn take_instantiate_mean_us(&self) -> Option<f64> {
        let samples = std::mem::take(&mut *self.instantiate_us.lock().expect("log sink"));
        (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64)
    }

    fn peak_rss_mib(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .context("VmHWM in /proc status")?
            .parse()?;
        Ok(kib / 1024.0)
    }

    fn stop(mut self) -> Result<()> {
        // SIGTERM lets the host drain and close its databases cleanly.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let status = self.child.wait()?;
        if !status.success() {
            bail!("crm-host exited with {status} after SIGTERM");
        }
        Ok(())
    }
}

/// Reads `"key":<number>` from a JSON log line without a JSON parser per line.
fn json_number(line: &str, key: &str) -> Option<f64> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn wrk(url: &str, connections: u32, duration_secs: u64) -> Result<Run> {
    let threads = connections.clamp(1, 2);
    let out = Command::new("wrk")
        .args([
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{duration_secs}s"),
            "--latency".to_string(),
            url.to_string(),
        ])
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("wrk failed: {text}");
    }
    let find = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .with_context(|| format!("`{prefix}` in wrk output:\n{text}"))
    };
    let completed = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .context("request count in wrk output")?
        .parse()?;
    let socket_errors = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|errs| {
            errs.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Ok(Run {
        requests_per_sec: find("Requests/sec:")?.parse()?,
        p50_ms: duration_ms(find("50%")?)?,
        p99_ms: duration_ms(find("99%")?)?,
        completed,
        non_2xx: find("Non-2xx or 3xx responses:")
            .ok()
            .map(str::parse)
            .transpose()?
            .unwrap_or(0),
        socket_errors,
    })
}

/// wrk prints latencies as `635.00us`, `1.23ms` or `2.00s`.
fn duration_ms(text: &str) -> Result<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("unexpected wrk latency `{text}`")
    };
    Ok(number.parse::<f64>()? * scale)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let host = Host::start(&args, dir.path())?;
    println!(
        "crm-bench: {} cores, {}s per run, wrk on the same machine",
        std::thread::available_parallelism()?,
        args.duration_secs
    );
    println!(
        "| route | connections | requests/s | p50 ms | p99 ms | mean instantiate µs | errors |"
    );
    println!("|---|---|---|---|---|---|---|");
    // Every write acknowledged in any run, warm-ups included, must be stored.
    let mut acknowledged_writes = 0;
    for route in ["/bench/hello", "/bench/write"] {
        for &connections in &args.connections {
            let url = format!("http://{}{route}", host.addr);
            // A short warm-up keeps first-connection costs out of the figures.
            let warm_up = wrk(&url, connections, 1)?;
            host.take_instantiate_mean_us();
            let run = wrk(&url, connections, args.duration_secs)?;
            if route == "/bench/write" {
                acknowledged_writes += warm_up.acknowledged() + run.acknowledged();
            }
            println!(
                "| `{route}` | {connections} | {:.0} | {:.2} | {:.2} | {} | {} |",
                run.requests_per_sec,
                run.p50_ms,
                run.p99_ms,
                host.take_instantiate_mean_us()
                    .map_or("–".to_string(), |us| format!("{us:.1}")),
                run.non_2xx + run.socket_errors,
            );
        }
    }
    println!("host peak RSS: {:.1} MiB", host.peak_rss_mib()?);
    host.stop()?;

    // Durability: after a clean stop, the file holds every acknowledged write.
    let db = rusqlite::Connection::open(dir.path().join(".spin/sqlite_db.db"))?;
    let rows: u64 = db.query_row("SELECT count(*) FROM bench_rows", [], |r| r.get(0))?;
    let journal: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    println!(
        "durability: {acknowledged_writes} writes acknowledged, {rows} rows stored, journal_mode={journal}"
    );
    if rows < acknowledged_writes {
        bail!("lost writes: {acknowledged_writes} acknowledged, {rows} stored");
    }
    Ok(())
}
