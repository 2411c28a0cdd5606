//! `crm-bench-web`: the staff console's pages (issue 19; a command, not a
//! test; `scripts/bench-web` runs it).
//!
//! It serves the app from a fresh store on a release `crm-host`, seeds it
//! through the API (contacts, a timeline of interactions on some of them,
//! cases in one queue), signs a case worker in as a browser does (the
//! development sign-in, then a purpose of use), and then:
//! - times the contact record page and the case queue page, each at every
//!   client count, as a browser asks for them (`Sec-Fetch-Site:
//!   same-origin`, `Accept-Encoding: gzip, br`);
//! - counts the bytes a first visit transfers (the record page and every
//!   asset it links, and the modules those import) and a later page with
//!   the assets cached (the page alone), heads included.

// Shared with the interaction log's benchmark (its probes use `Host::pid`).
#[allow(dead_code)]
#[path = "../../bench-interactions/src/drive.rs"]
mod drive;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

use crm_tests::auth::bench_bearer;
use drive::{Figures, Host, agent, measure};

#[derive(Parser)]
#[command(about = "Benchmark of the staff console's pages")]
struct Args {
    /// Emptied, then the store the host serves.
    #[arg(long, default_value = "target/bench-web")]
    state_dir: PathBuf,
    #[arg(long, default_value = "target/release/crm-host")]
    host_bin: PathBuf,
    #[arg(long, default_value = "spin.toml")]
    manifest: PathBuf,
    #[arg(long, default_value_t = 5_000)]
    contacts: usize,
    /// Cases, all in the one queue the queue page shows.
    #[arg(long, default_value_t = 5_000)]
    cases: usize,
    /// Contacts whose record pages are timed, each with a timeline.
    #[arg(long, default_value_t = 50)]
    timed_contacts: usize,
    #[arg(long, default_value_t = 25)]
    interactions_each: usize,
    /// Measured seconds per scenario (after 2 s of warm-up).
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    clients: Vec<usize>,
    /// Where to write the host's request log (one JSON line per request).
    #[arg(long)]
    host_log: Option<PathBuf>,
}

const QUEUE: &str = "bench-web-q";
const WORKER: &str = "bench-web-worker";
const PURPOSE: &str = "case-management";
/// What a browser says when it follows a link or a form of this site.
const BROWSER: &[(&str, &str)] = &[
    ("sec-fetch-site", "same-origin"),
    ("accept-encoding", "gzip, br"),
];
/// The same without compression: to read a page's links and forms.
const READING: &[(&str, &str)] = &[("sec-fetch-site", "same-origin")];

fn main() -> Result<()> {
    let args = Args::parse();
    if args.state_dir.exists() {
        std::fs::remove_dir_all(&args.state_dir)?;
    }
    std::fs::create_dir_all(&args.state_dir)?;
    let load_before = load_average();
    let host = Host::start(
        &args.host_bin,
        &args.manifest,
        &args.state_dir,
        &[],
        args.host_log.as_deref(),
    )?;
    let base = host.base.clone();
    let timed = seed(&base, &args)?;
    let session = sign_in(&base)?;

    let mut rows: Vec<(&str, usize, Figures)> = Vec::new();
    let page = |agent: &ureq::Agent, path: &str| -> Result<u16> {
        Ok(get(agent, &format!("{base}{path}"), &session, BROWSER)?.status)
    };
    let record = |agent: &ureq::Agent, n: u64| {
        page(
            agent,
            &format!(
                "/staff/contacts/{}",
                timed[(n % timed.len() as u64) as usize]
            ),
        )
    };
    let queue =
        |agent: &ureq::Agent, _: u64| page(agent, &format!("/staff/queue?queue_id={QUEUE}"));
    for (name, send) in [
        (
            "contact record page (details, provenance, timeline)",
            &record as &drive::Send<'_>,
        ),
        ("case queue page (one queue, first 50 cases)", &queue),
    ] {
        for &clients in &args.clients {
            let figures = measure(
                clients,
                Duration::from_secs(2),
                Duration::from_secs(args.duration_secs),
                200,
                send,
                &|| {},
            );
            eprintln!(
                "{name} x{clients}: p50 {:.2} ms, p99 {:.2} ms, {:.0}/s, {} errors",
                figures.p50_ms, figures.p99_ms, figures.per_sec, figures.errors
            );
            rows.push((name, clients, figures));
        }
    }

    let transfers = transfers(&base, &session, &timed[0])?;
    let load_after = load_average();
    host.stop()?;

    println!("{}", drive::machine());
    println!("Load average (1, 5, 15 min): {load_before} before the run, {load_after} after.");
    println!(
        "Store: {} contacts ({} with {} interactions each), {} cases in one queue.\n",
        args.contacts, args.timed_contacts, args.interactions_each, args.cases
    );
    println!("| page | clients | requests | requests/s | p50 ms | p99 ms | max ms | errors |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, clients, f) in rows {
        println!(
            "| {name} | {clients} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
            f.requests, f.per_sec, f.p50_ms, f.p99_ms, f.max_ms, f.errors
        );
    }
    println!();
    println!("| transfer | what | bytes (heads and bodies) |");
    println!("|---|---|---|");
    for (name, what, bytes) in transfers {
        println!(
            "| {name} | {what} | {bytes} ({:.1} KB) |",
            bytes as f64 / 1000.0
        );
    }
    Ok(())
}

/// `/proc/loadavg`'s three averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One API call; its status and body, refused unless `expect`.
fn api(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    credential: &str,
    body: &Value,
    expect: u16,
) -> Result<Value> {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", credential)
        .header("purpose-of-use", PURPOSE)
        .header("content-type", "application/json")
        .body(body.to_string().into_bytes())?;
    let mut response = agent.run(request)?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string()?;
    if status != expect {
        bail!("{method} {url}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// Runs `each(agent, i)` for `0..count` on four threads.
fn in_parallel(
    count: usize,
    each: impl Fn(&ureq::Agent, usize) -> Result<()> + Sync,
) -> Result<()> {
    let threads = 4;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let each = &each;
                scope.spawn(move || {
                    let agent = agent();
                    (t..count)
                        .step_by(threads)
                        .try_for_each(|i| each(&agent, i))
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("a seeding thread"))
    })
}

/// `n` in letters (names take no digits): 0 is `a`, 26 is `ba`.
fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

/// Contacts, a timeline on the first `timed_contacts`, and cases in
/// [`QUEUE`]; answers the timed contacts' ids.
fn seed(base: &str, args: &Args) -> Result<Vec<String>> {
    let intake = bench_bearer("bench-web-intake", &["intake-officer"]);
    let admin = bench_bearer("bench-web-admin", &["administrator"]);
    let ids = Mutex::new(vec![String::new(); args.contacts]);
    in_parallel(args.contacts, |agent, i| {
        let made = api(
            agent,
            "POST",
            &format!("{base}/api/contacts"),
            &intake,
            &json!({
                "archetype": "individual",
                "given_name": format!("Bench {}", letters(i)),
                "family_name": format!("Webpage {}", letters(i * 7919 % 100_003)),
                "emails": [format!("bench.web.{i}@example.org")],
                "phones": [format!("04{:08}", 10_000_000 + i)],
                "postal_address": {"lines": [format!("{} Bench St", i % 400 + 1)],
                                   "locality": "Canberra", "state": "ACT", "postcode": "2600"},
                "language": "en",
                "collection": {"source": "staff-entry", "channel": "phone"},
                "on_duplicate": "create",
                "duplicate_reason": "Benchmark data: every seeded contact is its own person",
            }),
            201,
        )?;
        let id = made["id"].as_str().context("a contact id")?.to_string();
        ids.lock().expect("ids")[i] = id;
        Ok(())
    })?;
    let ids = ids.into_inner().expect("ids");
    eprintln!("seeded {} contacts", ids.len());
    let timed: Vec<String> = ids.iter().take(args.timed_contacts).cloned().collect();
    in_parallel(timed.len() * args.interactions_each, |agent, n| {
        let contact = &timed[n % timed.len()];
        api(
            agent,
            "POST",
            &format!("{base}/api/interactions"),
            &intake,
            &json!({"contact_id": contact, "channel": "phone", "direction": "inbound",
                    "category": "enquiry", "subject": format!("Call {n} about bins"),
                    "notes": "Rang to ask when the bins are collected.", "outcome": "resolved"}),
            201,
        )
        .map(drop)
    })?;
    eprintln!(
        "seeded {} interactions",
        timed.len() * args.interactions_each
    );
    api(
        &agent(),
        "PUT",
        &format!("{base}/api/queues/{QUEUE}"),
        &admin,
        &json!({"name": "Benchmark queue", "ordering": ["priority", "fifo"],
                "members": [{"officer": format!("staff:{WORKER}"), "capacity": 10}]}),
        200,
    )?;
    in_parallel(args.cases, |agent, i| {
        let priority = ["low", "normal", "high", "urgent"][i % 4];
        api(
            agent,
            "POST",
            &format!("{base}/api/cases"),
            &intake,
            &json!({"case_type": "general-enquiry", "subject": format!("Bins missed, street {i}"),
                    "priority": priority,
                    "contact_id": ids[i % ids.len()], "queue_id": QUEUE}),
            201,
        )
        .map(drop)
    })?;
    eprintln!("seeded {} cases", args.cases);
    Ok(timed)
}

/// An answer as the browser received it: its status, head and body.
struct Fetched {
    status: u16,
    head_bytes: usize,
    body: Vec<u8>,
    set_cookie: Option<String>,
}

/// GET `url` with `cookie` and `headers`.
fn get(agent: &ureq::Agent, url: &str, cookie: &str, headers: &[(&str, &str)]) -> Result<Fetched> {
    send(agent, "GET", url, cookie, headers, None)
}

/// A request as a browser sends it with `headers`, and a form if any.
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    cookie: &str,
    headers: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
) -> Result<Fetched> {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if !cookie.is_empty() {
        request = request.header("cookie", cookie);
    }
    let mut response = match form {
        Some(fields) => {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            agent.run(
                request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.into_bytes())?,
            )?
        }
        None => agent.run(request.body(())?)?,
    };
    let status = response.status().as_u16();
    // "HTTP/1.1 200 OK\r\n", each header line, and the blank line.
    let head_bytes = 17
        + response
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
            .sum::<usize>()
        + 2;
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let body = response.body_mut().read_to_vec()?;
    Ok(Fetched {
        status,
        head_bytes,
        body,
        set_cookie,
    })
}

/// The form's CSRF token on a sign-in or purpose page.
fn csrf_token(page: &[u8]) -> Result<String> {
    let page = String::from_utf8_lossy(page);
    page.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string)
        .context("no csrf_token on the page")
}

/// Signs the case worker in and states the purpose; answers the session
/// cookie (`crm-session=...`).
fn sign_in(base: &str) -> Result<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let form = get(&agent, &format!("{base}/sign-in"), "", READING)?;
    let mut cookie = form.set_cookie.context("no session cookie")?;
    let token = csrf_token(&form.body)?;
    let signed_in = send(
        &agent,
        "POST",
        &format!("{base}/sign-in"),
        &cookie,
        READING,
        Some(&[
            ("csrf_token", &token),
            ("role", "case-worker"),
            ("subject", WORKER),
        ]),
    )?;
    if signed_in.status != 303 {
        bail!("signing in answered {}", signed_in.status);
    }
    cookie = signed_in.set_cookie.context("no new session on sign-in")?;
    let purpose = get(&agent, &format!("{base}/staff/purpose"), &cookie, READING)?;
    let token = csrf_token(&purpose.body)?;
    let stated = send(
        &agent,
        "POST",
        &format!("{base}/staff/purpose"),
        &cookie,
        READING,
        Some(&[
            ("csrf_token", &token),
            ("purpose", PURPOSE),
            ("next", "/staff/search"),
        ]),
    )?;
    if stated.status != 303 {
        bail!("stating the purpose answered {}", stated.status);
    }
    Ok(stated.set_cookie.unwrap_or(cookie))
}

/// A page or asset as text, fetched without compression to read its links.
fn plain(agent: &ureq::Agent, url: &str, cookie: &str) -> Result<String> {
    let fetched = get(agent, url, cookie, READING)?;
    Ok(String::from_utf8_lossy(&fetched.body).into_owned())
}

/// The `/assets/...` paths `text` links or imports (`./name` in a module
/// is a sibling under `/assets/`).
fn linked_assets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["\"/assets/", "\"./", "'./"] {
        for rest in text.split(marker).skip(1) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .collect();
            let path = format!("/assets/{name}");
            if !name.is_empty() && name.contains('.') && !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

/// The bytes a first visit to `contact`'s record transfers (the page and
/// every asset it leads to), and later pages with the assets cached.
fn transfers(
    base: &str,
    cookie: &str,
    contact: &str,
) -> Result<Vec<(&'static str, String, usize)>> {
    let agent = agent();
    let record = format!("/staff/contacts/{contact}");
    let page = get(&agent, &format!("{base}{record}"), cookie, BROWSER)?;
    if page.status != 200 {
        bail!("{record} answered {}", page.status);
    }
    let mut first = page.head_bytes + page.body.len();
    let mut what = vec![format!("{record} ({} B body)", page.body.len())];
    let mut pending = linked_assets(&plain(&agent, &format!("{base}{record}"), cookie)?);
    let mut seen: Vec<String> = Vec::new();
    while let Some(asset) = pending.pop() {
        if seen.contains(&asset) {
            continue;
        }
        let fetched = get(&agent, &format!("{base}{asset}"), cookie, BROWSER)?;
        if fetched.status != 200 {
            bail!("{asset} answered {}", fetched.status);
        }
        first += fetched.head_bytes + fetched.body.len();
        what.push(format!("{asset} ({} B)", fetched.body.len()));
        if asset.ends_with(".mjs") || asset.ends_with(".js") || asset.ends_with(".css") {
            pending.extend(linked_assets(&plain(
                &agent,
                &format!("{base}{asset}"),
                "",
            )?));
        }
        seen.push(asset);
    }
    let mut rows = vec![("first visit, empty cache", what.join(" + "), first)];
    for (name, path) in [
        ("later page, assets cached", record.clone()),
        (
            "later page, assets cached",
            format!("/staff/queue?queue_id={QUEUE}"),
        ),
        ("later page, assets cached", format!("{record}/versions")),
    ] {
        let fetched = get(&agent, &format!("{base}{path}"), cookie, BROWSER)?;
        if fetched.status != 200 {
            bail!("{path} answered {}", fetched.status);
        }
        rows.push((name, path, fetched.head_bytes + fetched.body.len()));
    }
    Ok(rows)
}
