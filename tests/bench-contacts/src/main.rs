//! `crm-bench-contacts`: the contact-intake benchmark (issue 4, point 12),
//! a command rather than a test.
//!
//! 1. Generates `--contacts` contacts (default 1,000,000) straight into
//!    `<state dir>/sqlite_db.db`, with `contacts-rules` and `contacts-store`
//!    (so with the component's own validation, match keys, search rows and
//!    versions), or tops up a database left by an earlier run.
//! 2. Starts a release `crm-host` serving the app (`spin.toml`) on it.
//! 3. Drives, at each connection count: intake with matching (`POST
//!    /api/contacts`, new people with an `Idempotency-Key`), name search
//!    (`GET /api/contacts?name=<given> <family prefix>`) and email search,
//!    and prints requests/s, p50, p99 and the statuses seen.

mod probe;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::json;

use crm_bench_contacts::{generate, people};
use crm_tests::load::{self, Call, Measured};

#[derive(Parser)]
#[command(about = "Contact intake and search at scale, through a real crm-host")]
struct Args {
    /// How many contacts the database holds before measuring.
    #[arg(long, default_value_t = 1_000_000)]
    contacts: u64,
    /// The app's state directory (kept between runs: generating takes minutes).
    #[arg(long, default_value = "target/bench-contacts")]
    state_dir: PathBuf,
    #[arg(long, default_value = "target/release/crm-host")]
    host_bin: PathBuf,
    #[arg(long, default_value = "spin.toml")]
    manifest: PathBuf,
    /// Seconds per measured run.
    #[arg(long, default_value_t = 15)]
    duration_secs: u64,
    /// Connection counts to run at.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    connections: Vec<usize>,
    /// Where to write the host's request log (one JSON line per request,
    /// with its duration), for looking into the tail.
    #[arg(long)]
    host_log: Option<PathBuf>,
    /// Which operations to run: intake, name, email.
    #[arg(long, value_delimiter = ',', default_value = "intake,name,email")]
    operations: Vec<String>,
    /// Also run one intake connection beside three name-search connections:
    /// the CPU of four connections without intakes queueing for each other
    /// at the write gate (issue 15, item 12).
    #[arg(long)]
    mix: bool,
    /// Lower the host's checkpointer threads to nice 19 and idle I/O
    /// priority (an experiment: do checkpoints take the cores from requests?).
    #[arg(long)]
    nice_checkpointer: bool,
}

/// Makes the `n`th request of a run.
type MakeCall<'a> = &'a (dyn Fn(u64) -> Call + Sync);

struct Host {
    child: Child,
    base: String,
}

impl Host {
    fn start(args: &Args) -> Result<Self> {
        let mut child = Command::new(&args.host_bin)
            .args(["up", "-f"])
            .arg(&args.manifest)
            .args(["--listen", "127.0.0.1:0", "--state-dir"])
            .arg(&args.state_dir)
            .stdout(Stdio::piped())
            .stderr(match &args.host_log {
                Some(path) => Stdio::from(std::fs::File::create(path)?),
                None => Stdio::null(),
            })
            .spawn()
            .with_context(|| format!("starting {}", args.host_bin.display()))?;
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
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Self { child, base })
    }

    fn stop(mut self) -> Result<()> {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait()?;
        Ok(())
    }
}

/// A staff token (intake officer and case worker) signed with the
/// development key the default configuration trusts, valid for two hours.
fn staff_token() -> Result<String> {
    let text =
        std::fs::read_to_string("dev/dev-signing-key.json").context("dev/dev-signing-key.json")?;
    let jwk: serde_json::Value = serde_json::from_str(&text)?;
    let key = crm_auth::jwt::signing::SigningKey::es256_from_d(
        jwk["kid"].as_str().context("kid")?,
        jwk["d"].as_str().context("d")?,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    Ok(key.sign(&json!({
        "iss": "https://dev-only.crm.invalid", "aud": "gov-crm", "sub": "bench-officer",
        "iat": now, "exp": now + 7200, "roles": ["intake-officer", "case-worker"],
    })))
}

fn print_row(what: &str, connections: usize, m: &Measured) {
    let statuses: Vec<String> = m.statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
    println!(
        "| {what} | {connections} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {} |",
        m.requests,
        m.per_sec,
        m.p50_ms,
        m.p99_ms,
        m.max_ms,
        statuses.join(" ")
    );
}

fn main() -> Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.state_dir)?;
    let db = args.state_dir.join("sqlite_db.db");
    let have = generate::existing(&db)?;
    if have < args.contacts {
        eprintln!(
            "generating contacts {have}..{} into {}",
            args.contacts,
            db.display()
        );
        let started = Instant::now();
        generate::generate(&db, have, args.contacts)?;
        eprintln!("generated in {:.0} s", started.elapsed().as_secs_f64());
    }
    let size_mib = std::fs::metadata(&db)?.len() as f64 / (1 << 20) as f64;
    let host = Host::start(&args)?;
    let token = staff_token()?;
    let auth = |purpose: bool| {
        let mut headers = vec![("authorization".to_string(), format!("Bearer {token}"))];
        if purpose {
            headers.push(("purpose-of-use".into(), "case-management".into()));
        }
        headers
    };
    // New people each run: a seed from the clock.
    let intake_seed = 1_000 + SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let intake = |n: u64| Call {
        method: "POST",
        path: "/api/contacts".into(),
        body: Some(people::contact(intake_seed, n).to_string()),
        headers: [
            auth(false),
            vec![("idempotency-key".into(), format!("bench-{intake_seed}-{n}"))],
        ]
        .concat(),
    };
    let contacts = args.contacts.max(1);
    let by_name = |n: u64| {
        let body = people::contact(generate::SEED, n.wrapping_mul(7_919) % contacts);
        let words = match (body["given_name"].as_str(), body["family_name"].as_str()) {
            (Some(given), Some(family)) => format!("{given}%20{}", &family[..family.len().min(4)]),
            _ => body["organisation_name"]
                .as_str()
                .unwrap_or("smith")
                .split(' ')
                .next()
                .unwrap_or("smith")
                .to_string(),
        };
        Call {
            method: "GET",
            path: format!("/api/contacts?name={}", words.replace('\'', "")),
            body: None,
            headers: auth(true),
        }
    };
    let by_email = |n: u64| {
        // The nearest generated contact with an email.
        let mut i = n.wrapping_mul(104_729) % contacts;
        let email = loop {
            if let Some(email) = people::contact(generate::SEED, i)["emails"][0].as_str() {
                break email.to_string();
            }
            i = (i + 1) % contacts;
        };
        Call {
            method: "GET",
            path: format!("/api/contacts?email={email}"),
            body: None,
            headers: auth(true),
        }
    };
    // Warm up: compile caches, first connections, the first pages of the file.
    load::run(&host.base, 2, Duration::from_secs(3), &by_name);

    let duration = Duration::from_secs(args.duration_secs);
    println!(
        "Contacts: {} ({size_mib:.0} MiB database), {} s per run",
        generate::existing(&db)?,
        args.duration_secs
    );
    println!();
    println!(
        "| operation | connections | requests | requests/s | p50 ms | p99 ms | max ms | statuses |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    // What each run cost, from /proc and the host's log (see `probe`),
    // printed after the table.
    if args.nice_checkpointer {
        println!(
            "Checkpointer threads lowered to nice 19, idle I/O: {}",
            probe::nice_checkpointers(host.child.id())
        );
    }
    let probe = probe::Probe::new(host.child.id(), args.host_log.as_deref(), &db);
    let mut notes = Vec::new();
    let wanted = |operation: &str| args.operations.iter().any(|o| o == operation);
    for &connections in &args.connections {
        let operations: [(&str, &str, MakeCall); 3] = [
            ("intake", "intake with matching", &intake),
            ("name", "search by name (prefix + phonetic)", &by_name),
            ("email", "search by email", &by_email),
        ];
        for (key, what, make) in operations {
            if !wanted(key) {
                continue;
            }
            let before = probe.snapshot();
            let (recorder, sampler) = (probe::Recorder::default(), probe.sampler());
            let marked = |n: u64| {
                recorder.mark();
                make(n)
            };
            let measured = load::run(&host.base, connections, duration, &marked);
            notes.push(probe.report(
                &format!("{what} x{connections}"),
                &before,
                measured.requests,
            ));
            notes.push(probe::attribute(&sampler.finish(), recorder));
            print_row(what, connections, &measured);
        }
    }
    if args.mix {
        let before = probe.snapshot();
        let (recorder, sampler) = (probe::Recorder::default(), probe.sampler());
        let marked = |n: u64| {
            recorder.mark();
            intake(n)
        };
        let (intakes, searches) = std::thread::scope(|scope| {
            let searches = scope.spawn(|| load::run(&host.base, 3, duration, &by_name));
            let intakes = load::run(&host.base, 1, duration, &marked);
            (intakes, searches.join().expect("searches"))
        });
        notes.push(probe.report(
            "1 intake beside 3 name searches",
            &before,
            intakes.requests + searches.requests,
        ));
        notes.push(probe::attribute(&sampler.finish(), recorder));
        print_row("intake with matching, beside 3 name searches", 1, &intakes);
        print_row("search by name, beside 1 intake", 3, &searches);
    }
    println!();
    for note in notes {
        println!("{note}");
        println!();
    }
    host.stop()
}
