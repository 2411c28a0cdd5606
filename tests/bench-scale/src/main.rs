//! `crm-bench-scale`: the app split out (issue 16), a command rather than a
//! test (`scripts/bench-scale`).
//!
//! Every run starts on a fresh state directory holding `--contacts`
//! generated contacts (`crm_bench_contacts::generate`), with release
//! `crm-host` processes (`CRM_HOST_BIN`) and Debian's nginx in front, routed
//! by `crm-cli deploy proxy` (`crm_tests::split`), all on this machine's
//! cores. Clients are `crm_tests::load`'s closed loops, one keep-alive
//! connection each; a warm-up precedes every measured run.
//!
//! 1. The mixed workload (intake 20 %, audited reads 60 %, interaction
//!    appends 20 %) at `--connections`, against (a) one process serving the
//!    whole app behind nginx, (b) the process groups of `--topology` behind
//!    nginx, (c) the one process of (a) without nginx.
//! 2. Intakes of new people against the groups of `--topology` with one
//!    and with two contact-intake replicas: all but two connections send
//!    unique people through nginx, and two send each person of a series of
//!    deliberate duplicates at the same moment, one straight to each
//!    replica (both to the one).
//!
//! After each run the shared stores are checked (`checks`); the command
//! fails if any check does.

mod checks;
mod race;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, ensure};
use clap::Parser;
use crm_bench_contacts::generate;
use crm_tests::auth::lasting_token;
use crm_tests::load::{self, Measured, Samples};
use crm_tests::split::{self, Deployment, Group};

use checks::{Acknowledged, Verdict};
use workload::{Kind, intake, mixed, staff};

#[derive(Parser)]
#[command(about = "The app in one process and split into process groups, behind nginx")]
struct Args {
    /// Seconds per measured run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Seconds of the same load before each measured run (not counted).
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Client connections, each a closed loop.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Contacts generated into each run's database before it starts.
    #[arg(long, default_value_t = 1_000)]
    contacts: u64,
    /// The process groups of the split deployment.
    #[arg(long, default_value = "deploy/topology.toml")]
    topology: PathBuf,
    /// Where each run's state directory is made (and removed after it).
    #[arg(long, default_value = "target/bench-scale")]
    dir: PathBuf,
}

/// How one deployment is reached in a mixed run.
struct Case {
    name: String,
    groups: Vec<Group>,
    through_proxy: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.connections > 2, "--connections must be more than 2");
    std::fs::create_dir_all(&args.dir)?;
    let topology = split::topology(&args.topology);
    let token = lasting_token("bench-scale", &["intake-officer", "case-worker"], 3600);
    let headers = staff(&token);
    println!(
        "host: {}; {} contacts generated per run; {} connections; {} s per run after {} s of warm-up",
        crm_tests::host_bin().display(),
        args.contacts,
        args.connections,
        args.duration_secs,
        args.warmup_secs
    );
    let mut failed = Vec::new();

    println!("\n## Mixed workload\n");
    let whole = Group {
        name: "app".into(),
        components: topology
            .iter()
            .flat_map(|g| g.components.iter().cloned())
            .collect(),
        replicas: 1,
    };
    let processes: usize = topology.iter().map(|g| g.replicas).sum();
    let cases = [
        Case {
            name: "(a) one process, behind nginx".into(),
            groups: vec![whole.clone()],
            through_proxy: true,
        },
        Case {
            name: format!("(b) split, {processes} processes, behind nginx"),
            groups: topology.clone(),
            through_proxy: true,
        },
        Case {
            name: "(c) one process, no proxy".into(),
            groups: vec![whole],
            through_proxy: false,
        },
    ];
    println!(
        "| case | requests | count | requests/s | p50 ms | p99 ms | max ms | not 2xx | statuses |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for case in cases {
        let load_average = load_average();
        let deployment = start(&args, case.groups)?;
        let api = if case.through_proxy {
            deployment.proxy()
        } else {
            &deployment.replicas[0][0]
        };
        let (contacts, connections) = (args.contacts, args.connections);
        let warm = load::record(
            &api.base,
            connections,
            Duration::from_secs(args.warmup_secs),
            &|n| mixed(&headers, contacts, 0, n),
        );
        let run = load::record(
            &api.base,
            connections,
            Duration::from_secs(args.duration_secs),
            &|n| mixed(&headers, contacts, 1, n),
        );
        print_row(&case.name, "all", &run.measure(|_| true));
        for kind in Kind::ALL {
            print_row("", kind.name(), &run.measure(|n| Kind::of(n) == kind));
        }
        let acknowledged = |kind| {
            let of_kind = |n| Kind::of(n) == kind;
            answered(&warm, of_kind) + answered(&run, of_kind)
        };
        let verdict = checks::check(
            &deployment,
            api,
            &Acknowledged {
                seeded: args.contacts,
                intakes: acknowledged(Kind::Intake),
                appends: acknowledged(Kind::Append),
            },
        );
        verdicts.push((case.name, load_average, verdict));
    }
    report(&verdicts, &mut failed);

    println!("\n## Contact intake: one replica and two, racing duplicates\n");
    println!(
        "| intake replicas | requests | count | requests/s | p50 ms | p99 ms | max ms | not 2xx | statuses |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for replicas in [1, 2] {
        let load_average = load_average();
        let groups: Vec<Group> = topology
            .iter()
            .map(|g| Group {
                replicas: if g.components.iter().any(|c| c == "contact-intake") {
                    replicas
                } else {
                    g.replicas
                },
                ..g.clone()
            })
            .collect();
        let deployment = start(&args, groups)?;
        let proxy = &deployment.proxy().base;
        let unique = args.connections - 2;
        let warm = load::record(proxy, unique, Duration::from_secs(args.warmup_secs), &|n| {
            intake(&headers, 0, n)
        });
        let duration = Duration::from_secs(args.duration_secs);
        let targets = [
            deployment.replica("intake", 0),
            deployment.replica("intake", 1 % replicas),
        ];
        let (run, raced) = std::thread::scope(|s| {
            let raced = s.spawn(|| race::race(targets, &token, 2, duration));
            let run = load::record(proxy, unique, duration, &|n| intake(&headers, 1, n));
            (run, raced.join().expect("the racers"))
        });
        let name = replicas.to_string();
        print_row(
            &name,
            "unique people, through nginx",
            &run.measure(|_| true),
        );
        print_row(
            "",
            &format!(
                "{} duplicate pairs, one to each replica at once",
                raced.pairs()
            ),
            &raced.samples.measure(|_| true),
        );
        let all = Samples {
            elapsed_secs: run.elapsed_secs.max(raced.samples.elapsed_secs),
            requests: run
                .requests
                .iter()
                .chain(&raced.samples.requests)
                .copied()
                .collect(),
        };
        print_row("", "all", &all.measure(|_| true));
        let created = |samples: &Samples| answered(samples, |_| true);
        let verdict = checks::check(
            &deployment,
            deployment.proxy(),
            &Acknowledged {
                seeded: args.contacts,
                intakes: created(&warm) + created(&run) + created(&raced.samples),
                appends: 0,
            },
        );
        let pairs = format!(
            "{} of {} duplicate pairs made one contact and were told of the other (201 and 409){}",
            raced.one_created,
            raced.pairs(),
            if raced.others.is_empty() {
                String::new()
            } else {
                format!("; the others answered {:?}", raced.others)
            }
        );
        if !raced.others.is_empty() {
            failed.push(format!("{replicas} intake replicas: duplicate pairs"));
        }
        verdicts.push((
            format!("{replicas} intake replicas: {pairs}"),
            load_average,
            verdict,
        ));
    }
    report(&verdicts, &mut failed);
    ensure!(failed.is_empty(), "checks failed: {}", failed.join("; "));
    Ok(())
}

/// A fresh state directory with the generated contacts, and `groups`
/// serving it behind nginx.
fn start(args: &Args, groups: Vec<Group>) -> Result<Deployment> {
    let state = tempfile::tempdir_in(&args.dir)?;
    generate::generate(&state.path().join("sqlite_db.db"), 0, args.contacts)?;
    Ok(Deployment::start_in(state, groups))
}

/// The requests of `samples` that `keep` accepts answered with a 2xx.
fn answered(samples: &Samples, keep: impl Fn(u64) -> bool) -> usize {
    let measured = samples.measure(keep);
    measured.requests - measured.not_2xx()
}

fn print_row(case: &str, what: &str, m: &Measured) {
    let statuses: Vec<String> = m.statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
    println!(
        "| {case} | {what} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} |",
        m.requests,
        m.per_sec,
        m.p50_ms,
        m.p99_ms,
        m.max_ms,
        m.not_2xx(),
        statuses.join(" ")
    );
}

/// Prints each run's load average before it and its checks.
fn report(verdicts: &[(String, String, Verdict)], failed: &mut Vec<String>) {
    println!();
    for (name, load_average, verdict) in verdicts {
        println!("- {name} (load average before: {load_average}): {verdict}");
        if !verdict.holds() {
            failed.push(name.clone());
        }
    }
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
