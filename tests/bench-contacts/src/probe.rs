//! Where a run's time went (issue 15, item 12), read from `/proc` around a
//! run, with nothing added to the host: the host's threads' CPU time and
//! run-queue wait (`/proc/<pid>/task/*/schedstat`), the machine's CPU and
//! I/O pressure (`/proc/pressure`), the disk's writes and cache flushes
//! (`/proc/diskstats`: one flush per `fdatasync`), the host's reads (read
//! syscalls are mostly SQLite page reads from the OS page cache, so misses
//! of SQLite's own cache; `read_bytes` is what came from the disk), and the
//! host's own per-request durations from its request log (`--host-log`).
//!
//! Shared by `crm-bench-contacts` and `crm-bench-interactions` (included
//! with `#[path]`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The counters at one moment.
pub struct Snapshot {
    at: Instant,
    /// tid -> (thread name, ns on CPU, ns runnable but waiting for a CPU).
    threads: BTreeMap<u32, (String, u64, u64)>,
    /// The bench process itself (its clients): CPU ns, from getrusage,
    /// which keeps the time of threads that ended.
    client_cpu_ns: u64,
    /// Host: read syscalls, bytes read from the disk, bytes written to it.
    syscr: u64,
    read_bytes: u64,
    write_bytes: u64,
    /// `/proc/pressure`: µs in which some task waited for a CPU / for I/O.
    cpu_some_us: u64,
    io_some_us: u64,
    /// `/proc/stat`: jiffies busy and in all (every CPU).
    busy: u64,
    total: u64,
    /// The busiest block device: writes, ms writing, flushes, ms flushing.
    disk: [u64; 4],
    /// How far the host's request log had got.
    log_len: u64,
    /// The database's WAL, bytes.
    wal_len: u64,
}

pub struct Probe {
    pid: u32,
    log: Option<PathBuf>,
    wal: PathBuf,
    database: PathBuf,
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim_start_matches(':').trim().parse().ok())
        .unwrap_or(0)
}

fn psi_total(path: &str, line: &str) -> u64 {
    read(path)
        .lines()
        .find(|l| l.starts_with(line))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("total=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn disk() -> [u64; 4] {
    // The device with the most writes (vda here), not its partitions.
    read("/proc/diskstats")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            (f.len() >= 20 && !f[2].starts_with("loop")).then(|| [n(7), n(10), n(18), n(19)])
        })
        .max_by_key(|d| d[0])
        .unwrap_or_default()
}

impl Probe {
    /// The host's pid, its request log, and the database it serves.
    pub fn new(pid: u32, log: Option<&Path>, database: &Path) -> Self {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            pid,
            log: log.map(Path::to_path_buf),
            wal: wal.into(),
            database: database.to_path_buf(),
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut threads = BTreeMap::new();
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid)) {
            for task in tasks.flatten() {
                let Ok(tid) = task.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let stat = read(task.path().join("schedstat"));
                let mut v = stat
                    .split_whitespace()
                    .map(|x| x.parse::<u64>().unwrap_or(0));
                let (run, wait) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
                let comm = read(task.path().join("comm")).trim().to_string();
                threads.insert(tid, (comm, run, wait));
            }
        }
        let io = read(format!("/proc/{}/io", self.pid));
        let cpu = read("/proc/stat");
        let jiffies: Vec<u64> = cpu
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let total: u64 = jiffies.iter().take(8).sum();
        let idle = jiffies.get(3).copied().unwrap_or(0) + jiffies.get(4).copied().unwrap_or(0);
        // SAFETY: getrusage fills the struct it is given.
        let client_cpu_ns = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            let t = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1000;
            t(usage.ru_utime) + t(usage.ru_stime)
        };
        Snapshot {
            at: Instant::now(),
            threads,
            client_cpu_ns,
            syscr: field(&io, "syscr"),
            read_bytes: field(&io, "read_bytes"),
            write_bytes: field(&io, "write_bytes"),
            cpu_some_us: psi_total("/proc/pressure/cpu", "some"),
            io_some_us: psi_total("/proc/pressure/io", "some"),
            busy: total - idle,
            total,
            disk: disk(),
            log_len: self
                .log
                .as_ref()
                .and_then(|l| std::fs::metadata(l).ok())
                .map_or(0, |m| m.len()),
            wal_len: std::fs::metadata(&self.wal).map_or(0, |m| m.len()),
        }
    }

    /// One paragraph on what happened between `before` and now, for
    /// `requests` requests (the host's log lines of the window, if there
    /// is a log, also give the host-side p50/p99).
    pub fn report(&self, label: &str, before: &Snapshot, requests: usize) -> String {
        // The request log is flushed every 5 ms.
        std::thread::sleep(std::time::Duration::from_millis(30));
        let after = self.snapshot();
        let n = requests.max(1) as f64;
        let secs = after.at.duration_since(before.at).as_secs_f64();
        // Per class of host thread: ms on CPU and ms waiting for one.
        let mut classes: BTreeMap<&'static str, (f64, f64)> = BTreeMap::new();
        for (tid, (comm, run, wait)) in &after.threads {
            let (run0, wait0) = before.threads.get(tid).map_or((0, 0), |(_, r, w)| (*r, *w));
            let class = if comm.starts_with("crm-worker") {
                "workers"
            } else if comm.starts_with("sqlite-checkpoi") {
                "checkpointer"
            } else if comm.starts_with("tokio") {
                "blocking"
            } else {
                "other"
            };
            let entry = classes.entry(class).or_default();
            entry.0 += run.saturating_sub(run0) as f64 / 1e6;
            entry.1 += wait.saturating_sub(wait0) as f64 / 1e6;
        }
        let (host_run, host_wait) = classes
            .values()
            .fold((0.0, 0.0), |(r, w), (r1, w1)| (r + r1, w + w1));
        let per_class: Vec<String> = classes
            .iter()
            .map(|(c, (r, w))| format!("{c} {:.3}/{:.3}", r / n, w / n))
            .collect();
        let client_cpu = after.client_cpu_ns.saturating_sub(before.client_cpu_ns) as f64 / 1e6;
        let busy = (after.busy - before.busy) as f64 / (after.total - before.total).max(1) as f64;
        // What else ran on the machine meanwhile (`/proc/stat` counts in
        // hundredths of a second): a run is quiet only if this is small.
        let others = ((after.busy - before.busy) as f64 * 10.0 - host_run - client_cpu).max(0.0);
        let d = |i: usize| after.disk[i].saturating_sub(before.disk[i]);
        let flushes = d(2);
        let mut text = format!(
            "probe {label}: {requests} requests in {secs:.1} s; CPUs {:.0}% busy, others' CPU {:.0}% of one core; \
             host ms/request on CPU {:.3}, waiting for a CPU {:.3} ({}: on CPU/waiting); \
             client CPU ms/request {:.3}; pressure ms/request: cpu some {:.3}, io some {:.3}; \
             disk: {:.2} flushes/request, {:.3} ms a flush, {:.2} writes/request, {:.3} ms a write; \
             host read syscalls/request {:.1}, from disk {:.1} KiB/request, written {:.1} KiB/request; \
             WAL {:.1} MiB before, {:.1} MiB after",
            busy * 100.0,
            others / 10.0 / secs,
            host_run / n,
            host_wait / n,
            per_class.join(", "),
            client_cpu / n,
            (after.cpu_some_us - before.cpu_some_us) as f64 / 1e3 / n,
            (after.io_some_us - before.io_some_us) as f64 / 1e3 / n,
            flushes as f64 / n,
            d(3) as f64 / flushes.max(1) as f64,
            d(0) as f64 / n,
            d(1) as f64 / d(0).max(1) as f64,
            (after.syscr - before.syscr) as f64 / n,
            (after.read_bytes.saturating_sub(before.read_bytes)) as f64 / 1024.0 / n,
            (after.write_bytes.saturating_sub(before.write_bytes)) as f64 / 1024.0 / n,
            before.wal_len as f64 / (1 << 20) as f64,
            after.wal_len as f64 / (1 << 20) as f64,
        );
        if let Some(log) = &self.log {
            text.push_str(&host_log(log, before.log_len, after.log_len));
        }
        text
    }
}

/// Host-side durations of the log lines between two offsets, per
/// (method, status) with more than a few lines.
fn host_log(log: &Path, from: u64, to: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut buffer = String::new();
    let Ok(mut file) = std::fs::File::open(log) else {
        return String::new();
    };
    if file.seek(SeekFrom::Start(from)).is_err()
        || file.take(to - from).read_to_string(&mut buffer).is_err()
    {
        return String::new();
    }
    let mut groups: BTreeMap<String, (Vec<f64>, f64)> = BTreeMap::new();
    for line in buffer.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(ms), Some(method)) = (v["duration_ms"].as_f64(), v["method"].as_str()) else {
            continue;
        };
        let entry = groups
            .entry(format!("{method} {}", v["status"]))
            .or_default();
        entry.0.push(ms);
        entry.1 += v["instantiate_us"].as_f64().unwrap_or(0.0);
    }
    let mut text = String::new();
    for (key, (mut ms, instantiate)) in groups {
        if ms.len() < 20 {
            continue;
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
        text.push_str(&format!(
            "; host {key}: {} lines, p50 {:.2} ms, p90 {:.2}, p99 {:.2}, max {:.2}, instantiate {:.0} µs",
            ms.len(),
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0),
            instantiate / ms.len() as f64
        ));
    }
    text
}

/// The database's checkpoint activity over time, sampled every
/// millisecond on a thread of its own: the WAL's length (a drop is a
/// truncation) and the database file's modification time (only the
/// host's checkpointer writes the database file: guest connections never
/// checkpoint).
pub struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Sample>>,
}

#[derive(Clone, Copy)]
pub struct Sample {
    at: Instant,
    wal_len: u64,
    db_modified: std::time::SystemTime,
}

impl Probe {
    pub fn sampler(&self) -> Sampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = std::sync::Arc::clone(&stop);
        let wal = self.wal.clone();
        let database = self.database.clone();
        let thread = std::thread::spawn(move || {
            let mut samples: Vec<Sample> = Vec::new();
            while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
                let sample = Sample {
                    at: Instant::now(),
                    wal_len: std::fs::metadata(&wal).map_or(0, |m| m.len()),
                    db_modified: std::fs::metadata(&database)
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH),
                };
                if samples.last().is_none_or(|last| {
                    last.wal_len != sample.wal_len || last.db_modified != sample.db_modified
                }) {
                    samples.push(sample);
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            samples
        });
        Sampler { stop, thread }
    }
}

impl Sampler {
    pub fn finish(self) -> Vec<Sample> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// When each request of a run began and ended, from marks its clients
/// leave (`mark` at each request's start, and at its end where the driver
/// allows; otherwise the next start on the same thread ends it).
#[derive(Default)]
pub struct Recorder {
    marks: std::sync::Mutex<Vec<(u64, Instant)>>,
}

static NEXT_THREAD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
thread_local! {
    static THREAD: u64 = NEXT_THREAD.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

impl Recorder {
    pub fn mark(&self) {
        let thread = THREAD.with(|t| *t);
        self.marks
            .lock()
            .expect("recorder")
            .push((thread, Instant::now()));
    }

    /// (begun, took) of every request with a start and an end.
    fn intervals(self) -> Vec<(Instant, std::time::Duration)> {
        let mut marks = self.marks.into_inner().expect("recorder");
        marks.sort();
        marks
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| (w[0].1, w[1].1 - w[0].1))
            .collect()
    }
}

/// Of the slowest 1% of requests and of all: the share during which the
/// checkpointer wrote the database file, and during which it truncated the
/// WAL, and their mean latencies.
pub fn attribute(samples: &[Sample], recorder: Recorder) -> String {
    let mut requests = recorder.intervals();
    if requests.len() < 100 || samples.len() < 2 {
        return String::from("attribution: too few requests or samples");
    }
    // Events: (when, what) between consecutive samples.
    let mut checkpoint_writes = Vec::new();
    let mut truncations = Vec::new();
    for w in samples.windows(2) {
        if w[1].db_modified != w[0].db_modified {
            checkpoint_writes.push(w[1].at);
        }
        if w[1].wal_len < w[0].wal_len {
            truncations.push(w[1].at);
        }
    }
    let overlaps = |events: &[Instant], (begun, took): (Instant, std::time::Duration)| {
        let from = events.partition_point(|e| *e < begun);
        events.get(from).is_some_and(|e| *e <= begun + took)
    };
    requests.sort_by_key(|r| std::cmp::Reverse(r.1));
    let slowest = &requests[..requests.len().div_ceil(100)];
    let share = |set: &[(Instant, std::time::Duration)], events: &[Instant]| {
        100.0 * set.iter().filter(|r| overlaps(events, **r)).count() as f64 / set.len() as f64
    };
    let mean = |events: &[Instant], with: bool| {
        let chosen: Vec<f64> = requests
            .iter()
            .filter(|r| overlaps(events, **r) == with)
            .map(|r| r.1.as_secs_f64() * 1000.0)
            .collect();
        chosen.iter().sum::<f64>() / chosen.len().max(1) as f64
    };
    format!(
        "attribution over {} requests: {} checkpoint writes to the database file and {} WAL truncations seen; \
         slowest 1% ({} requests, from {:.2} ms): {:.0}% overlap a checkpoint write, {:.0}% a truncation; \
         all requests: {:.0}% and {:.1}%; mean ms with / without a checkpoint write {:.2} / {:.2}, \
         with / without a truncation {:.2} / {:.2}",
        requests.len(),
        checkpoint_writes.len(),
        truncations.len(),
        slowest.len(),
        slowest.last().map_or(0.0, |r| r.1.as_secs_f64() * 1000.0),
        share(slowest, &checkpoint_writes),
        share(slowest, &truncations),
        share(&requests, &checkpoint_writes),
        share(&requests, &truncations),
        mean(&checkpoint_writes, true),
        mean(&checkpoint_writes, false),
        mean(&truncations, true),
        mean(&truncations, false),
    )
}

/// Lowers the CPU and I/O priority of the host's checkpointer threads
/// (`sqlite-checkpoint`), from outside the host: an experiment on whether
/// their copying takes the cores from requests. Returns how many.
pub fn nice_checkpointers(pid: u32) -> usize {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    let mut done = 0;
    for task in tasks.flatten() {
        if !read(task.path().join("comm")).starts_with("sqlite-checkpoi") {
            continue;
        }
        let Ok(tid) = task.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // IOPRIO_CLASS_IDLE (3) << IOPRIO_CLASS_SHIFT (13); IOPRIO_WHO_PROCESS (1).
        // SAFETY: plain syscalls on a thread id of our own child.
        let (niced, ioniced) = unsafe {
            (
                libc::setpriority(libc::PRIO_PROCESS, tid, 19),
                libc::syscall(libc::SYS_ioprio_set, 1, tid, 3 << 13),
            )
        };
        if niced == 0 && ioniced == 0 {
            done += 1;
        }
    }
    done
}
