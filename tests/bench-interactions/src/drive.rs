//! Drives a release `crm-host` serving the app over a generated store:
//! closed-loop clients on keep-alive connections, each timing every request.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running host and its address.
pub struct Host {
    child: Child,
    pub base: String,
}

impl Host {
    pub fn start(
        host_bin: &Path,
        manifest: &Path,
        state_dir: &Path,
        extra: &[String],
        log: Option<&Path>,
    ) -> Result<Self> {
        let mut child = Command::new(host_bin)
            .args(["up", "-f"])
            .arg(manifest)
            .args(["--listen", "127.0.0.1:0", "--state-dir"])
            .arg(state_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(match log {
                Some(path) => Stdio::from(std::fs::File::create(path)?),
                None => Stdio::null(),
            })
            .spawn()
            .with_context(|| format!("starting {}", host_bin.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().context("host stdout")?);
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut line = String::new();
        let base = loop {
            line.clear();
            if stdout.read_line(&mut line)? == 0 || Instant::now() > deadline {
                bail!("crm-host exited or did not print `Serving http://...`");
            }
            if let Some(base) = line.trim().strip_prefix("Serving ") {
                break base.to_string();
            }
        };
        // Keep draining stdout so the host never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Self { child, base })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait (the host drains in-flight requests).
    pub fn stop(mut self) -> Result<()> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// One request's outcome: its status.
pub type Send<'a> = dyn Fn(&ureq::Agent, u64) -> Result<u16> + Sync + 'a;

/// Latencies of one scenario at one concurrency.
pub struct Figures {
    pub requests: usize,
    pub errors: usize,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Runs `send` from `clients` threads for `warmup` (not counted), then for
/// `duration`; a status other than `expect` counts as an error. `at_start`
/// is called once when the measured part begins (to take a probe's
/// snapshot).
pub fn measure(
    clients: usize,
    warmup: Duration,
    duration: Duration,
    expect: u16,
    send: &Send<'_>,
    at_start: &(dyn Fn() + Sync),
) -> Figures {
    let started = Instant::now();
    let measure_from = started + warmup;
    let until = measure_from + duration;
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|scope| {
        scope.spawn(move || {
            std::thread::sleep(measure_from.saturating_duration_since(Instant::now()));
            at_start();
        });
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || {
                    let agent = agent();
                    let mut latencies = Vec::new();
                    let mut errors = 0;
                    let mut n = client as u64 * 1_000_000_000;
                    loop {
                        let begun = Instant::now();
                        if begun >= until {
                            break;
                        }
                        let ok = matches!(send(&agent, n), Ok(status) if status == expect);
                        let took = begun.elapsed();
                        n += 1;
                        if begun >= measure_from {
                            latencies.push(took);
                            if !ok {
                                errors += 1;
                            }
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("client"))
            .collect()
    });
    let mut all: Vec<Duration> = results
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    all.sort_unstable();
    let errors = results.iter().map(|(_, e)| e).sum();
    let at = |q: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let index = ((all.len() as f64 * q).ceil() as usize).clamp(1, all.len()) - 1;
        all[index].as_secs_f64() * 1000.0
    };
    Figures {
        requests: all.len(),
        errors,
        per_sec: all.len() as f64 / duration.as_secs_f64(),
        p50_ms: at(0.50),
        p90_ms: at(0.90),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    }
}

/// The machine a run measured on, for the figures' heading.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / (1024.0 * 1024.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "Machine: {cores} cores ({cpu}), {memory_gib:.0} GiB, Linux {}; clients on the same cores as the host.",
        kernel.trim()
    )
}
