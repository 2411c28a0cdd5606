//! `crm-bench`: the host's load benchmark (a command, not a test).
//!
//! Starts a release `crm-host` serving `guest-bench-target`, drives a trivial
//! route and a one-row SQLite write route with `wrk` at several connection
//! counts, and prints requests/s, p50/p99 latency, the mean per-request
//! instantiation cost (from the host's request log) and the host's peak RSS.
//! During the write runs it samples the size of the database's WAL, and
//! after them it checks that every acknowledged write is in the database
//! file and that a clean stop left the WAL empty. Last, the trivial route
//! runs again while runaway guests loop until the host cuts them off.

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
    /// The guest; build it with `cargo build --target wasm32-wasip2 --profile wasm -p guest-bench-target`.
    #[arg(
        long,
        default_value = "target/wasm32-wasip2/wasm/guest_bench_target.wasm"
    )]
    guest: PathBuf,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Connection counts to run at.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    connections: Vec<u32>,
    /// The host's `--request-timeout-ms`, which cuts the runaways off.
    #[arg(long, default_value_t = 3000)]
    request_timeout_ms: u64,
    /// Guests looping at once while the trivial route runs last (0: skip).
    #[arg(long, default_value_t = 8)]
    runaways: usize,
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
            .args(["--listen", "127.0.0.1:0", "--request-timeout-ms"])
            .arg(args.request_timeout_ms.to_string())
            .arg("--sqlite")
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

/// Samples a file's size every 5 ms while it runs, keeping the largest.
struct SizeSampler {
    largest: Arc<std::sync::atomic::AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl SizeSampler {
    fn start(path: PathBuf) -> Self {
        use std::sync::atomic::Ordering;
        let largest = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (sink, stopped) = (Arc::clone(&largest), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let size = std::fs::metadata(&path).map_or(0, |m| m.len());
                sink.fetch_max(size, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self {
            largest,
            stop,
            thread,
        }
    }

    /// The largest size seen since the last call.
    fn take_largest_mib(&self) -> f64 {
        self.largest.swap(0, std::sync::atomic::Ordering::Relaxed) as f64 / (1 << 20) as f64
    }

    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// What the runaway guests saw: how long each took to be cut off, and how
/// many were not answered 503.
struct Runaways {
    cut_off_after: Vec<Duration>,
    not_503: usize,
}

/// `count` clients, each sending `/bench/loop` again as soon as the last
/// one is answered, until `stop`.
fn runaways(
    addr: &str,
    count: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<Runaways>> {
    use std::io::{Read, Write};
    (0..count)
        .map(|_| {
            let (addr, stop) = (addr.to_string(), Arc::clone(stop));
            std::thread::spawn(move || {
                let mut seen = Runaways {
                    cut_off_after: Vec::new(),
                    not_503: 0,
                };
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let started = Instant::now();
                    let answer = std::net::TcpStream::connect(&addr).and_then(|mut stream| {
                        stream.write_all(
                            b"GET /bench/loop HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n",
                        )?;
                        let mut answer = Vec::new();
                        stream.read_to_end(&mut answer)?;
                        Ok(answer)
                    });
                    seen.cut_off_after.push(started.elapsed());
                    if !answer.is_ok_and(|a| a.starts_with(b"HTTP/1.1 503")) {
                        seen.not_503 += 1;
                    }
                }
                seen
            })
        })
        .collect()
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
        "| route | connections | requests/s | p50 ms | p99 ms | mean instantiate µs | errors | largest WAL MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let wal = dir.path().join(".spin/sqlite_db.db-wal");
    let wal_sizes = SizeSampler::start(wal.clone());
    // Every write acknowledged in any run, warm-ups included, must be stored.
    let mut acknowledged_writes = 0;
    let mut alone = Vec::new();
    for route in ["/bench/hello", "/bench/write"] {
        for &connections in &args.connections {
            let url = format!("http://{}{route}", host.addr);
            // A short warm-up keeps first-connection costs out of the figures.
            let warm_up = wrk(&url, connections, 1)?;
            host.take_instantiate_mean_us();
            wal_sizes.take_largest_mib();
            let run = wrk(&url, connections, args.duration_secs)?;
            if route == "/bench/write" {
                acknowledged_writes += warm_up.acknowledged() + run.acknowledged();
            } else {
                alone.push((connections, run.requests_per_sec));
            }
            println!(
                "| `{route}` | {connections} | {:.0} | {:.2} | {:.2} | {} | {} | {:.1} |",
                run.requests_per_sec,
                run.p50_ms,
                run.p99_ms,
                host.take_instantiate_mean_us()
                    .map_or("–".to_string(), |us| format!("{us:.1}")),
                run.non_2xx + run.socket_errors,
                wal_sizes.take_largest_mib(),
            );
        }
    }
    wal_sizes.stop();

    if args.runaways > 0 {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let looping = runaways(&host.addr, args.runaways, &stop);
        // Let every runaway start before measuring.
        std::thread::sleep(Duration::from_millis(500));
        println!(
            "with {} runaway guests looping (--request-timeout-ms {}):",
            args.runaways, args.request_timeout_ms
        );
        println!(
            "| route | connections | requests/s | of the rate alone | p50 ms | p99 ms | errors |"
        );
        println!("|---|---|---|---|---|---|---|");
        for &(connections, rate_alone) in &alone {
            let url = format!("http://{}/bench/hello", host.addr);
            let run = wrk(&url, connections, args.duration_secs)?;
            println!(
                "| `/bench/hello` | {connections} | {:.0} | {:.0}% | {:.2} | {:.2} | {} |",
                run.requests_per_sec,
                100.0 * run.requests_per_sec / rate_alone,
                run.p50_ms,
                run.p99_ms,
                run.non_2xx + run.socket_errors,
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut cut_off_after = Vec::new();
        let mut not_503 = 0;
        for runaway in looping {
            let seen = runaway.join().expect("runaway client");
            cut_off_after.extend(seen.cut_off_after);
            not_503 += seen.not_503;
        }
        cut_off_after.sort();
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        println!(
            "runaways: {} cut off, after {:.0} ms (p50) to {:.0} ms (largest); {not_503} not answered 503",
            cut_off_after.len(),
            cut_off_after.get(cut_off_after.len() / 2).map_or(0.0, ms),
            cut_off_after.last().map_or(0.0, ms),
        );
    }
    println!("host peak RSS: {:.1} MiB", host.peak_rss_mib()?);
    host.stop()?;
    let wal_after_stop = std::fs::metadata(&wal).map_or(0, |m| m.len());

    // Durability: after a clean stop, the file holds every acknowledged write.
    let db = rusqlite::Connection::open(dir.path().join(".spin/sqlite_db.db"))?;
    let rows: u64 = db.query_row("SELECT count(*) FROM bench_rows", [], |r| r.get(0))?;
    let journal: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    println!(
        "durability: {acknowledged_writes} writes acknowledged, {rows} rows stored, journal_mode={journal}; WAL after the clean stop: {wal_after_stop} bytes"
    );
    if rows < acknowledged_writes {
        bail!("lost writes: {acknowledged_writes} acknowledged, {rows} stored");
    }
    Ok(())
}
