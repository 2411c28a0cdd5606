//! Failures stay inside one request: a guest trap (500), an endless loop or
//! a guest waiting in the host (503 at the request's wall-clock deadline,
//! however many loop at once; a transaction it held is rolled back), a
//! guest over its memory limit (500), and an
//! oversized request body (413) fail that request only, while the host keeps
//! serving others, concurrently; a guest that fails while streaming its body
//! leaves the client a broken body, never one that looks whole. SIGTERM lets
//! an in-flight request finish and exits 0.

use crm_tests::conformance::*;
use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TIMEOUT_MS: u64 = 1000;
const BODY_LIMIT: usize = 64 * 1024;

fn host() -> &'static Host {
    static HOST: OnceLock<(Host, AppDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let mut manifest = HEADER.to_string();
            manifest += &trigger("/...", "iso");
            manifest += &probe("iso", "sqlite_databases = [\"default\"]");
            manifest += &trigger("/stream", "streamer");
            manifest += "\n[component.streamer]\nsource = \"{wasm:guest_streamer}\"\n";
            let app = AppDir::new(&manifest);
            let host = start_shared(
                &app,
                &[
                    "--request-timeout-ms",
                    &TIMEOUT_MS.to_string(),
                    "--max-memory-mib",
                    "32",
                    "--max-request-body-bytes",
                    &BODY_LIMIT.to_string(),
                ],
            );
            (host, app)
        })
        .0
}

fn assert_healthy() {
    let reply = host().get("/?op=headers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["probe_name"], "iso");
}

#[test]
fn a_trap_fails_only_that_request() {
    let reply = host().get("/?op=trap");
    assert_host_problem(&reply, 500, "guest-trap");
    assert_healthy();
    assert_host_problem(&host().get("/?op=trap"), 500, "guest-trap");
    assert_healthy();
}

#[test]
fn an_endless_loop_hits_the_deadline() {
    let started = Instant::now();
    let reply = host().get("/?op=loop");
    let took = started.elapsed();
    assert_host_problem(&reply, 503, "timeout");
    assert!(
        took >= Duration::from_millis(TIMEOUT_MS),
        "answered after {took:?}"
    );
    assert!(
        took < Duration::from_millis(TIMEOUT_MS * 5),
        "answered after {took:?}"
    );
    assert_healthy();
}

#[test]
fn a_guest_sleeping_in_the_host_hits_the_deadline() {
    // The guest waits in the host (`wasi:clocks`), running no Wasm the
    // epoch could interrupt: the deadline is wall-clock all the same.
    let started = Instant::now();
    let reply = host().get("/?op=sleep&ms=60000&tag=asleep");
    let took = started.elapsed();
    assert_host_problem(&reply, 503, "timeout");
    assert!(
        took < Duration::from_millis(TIMEOUT_MS * 2),
        "answered after {took:?}"
    );
    assert_healthy();
}

#[test]
fn a_guest_cut_off_inside_a_transaction_leaves_the_database_unlocked() {
    let sql = |statement: &str| {
        let reply = host().request("POST", "/?op=sql3", &[], Some(statement.as_bytes()));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json();
        assert!(body.get("error").is_none(), "{statement}: {body}");
        body
    };
    sql("CREATE TABLE IF NOT EXISTS held (x)");
    let holder = std::thread::spawn(|| {
        let started = Instant::now();
        let body = b"BEGIN IMMEDIATE; INSERT INTO held VALUES ('cut off')";
        let reply = host().request(
            "POST",
            "/?op=hold&ms=60000&tag=held",
            &[],
            Some(body.as_slice()),
        );
        (reply, started.elapsed())
    });
    assert!(
        host().stdout.wait_for("[iso] hold-start held").is_some(),
        "the transaction was never opened"
    );
    // A write queued behind the held transaction goes through once the
    // holder is cut off, not after its 60 s sleep.
    let started = Instant::now();
    sql("INSERT INTO held VALUES ('next')");
    let waited = started.elapsed();
    let (reply, took) = holder.join().unwrap();
    assert_host_problem(&reply, 503, "timeout");
    assert!(
        took < Duration::from_millis(TIMEOUT_MS * 2),
        "the holder answered after {took:?}"
    );
    assert!(
        waited < Duration::from_millis(TIMEOUT_MS * 2),
        "the next write waited {waited:?}"
    );
    // The cut-off write was rolled back; the pool's connections still work.
    let rows = sql("SELECT x FROM held ORDER BY rowid")["rows"].clone();
    assert_eq!(rows, json!([["next"]]));
    for _ in 0..4 {
        sql("INSERT INTO held VALUES ('again')");
    }
}

#[test]
fn an_endless_statement_is_stopped_at_the_deadline_and_leaves_the_database_unlocked() {
    let sql = |statement: &str| {
        let reply = host().request("POST", "/?op=sql3", &[], Some(statement.as_bytes()));
        (reply.status, reply.json())
    };
    let (_, created) = sql("CREATE TABLE IF NOT EXISTS endless (x)");
    assert!(created.get("error").is_none(), "{created}");
    // A write that would never end runs in the host, where no epoch tick
    // can interrupt it, holding the write gate.
    let started = Instant::now();
    let (status, body) = sql(
        "INSERT INTO endless WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n",
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(TIMEOUT_MS * 2),
        "answered after {took:?}"
    );
    // Cut off by the host (503), or the guest told its statement failed.
    assert!(
        status == 503 || body.get("error").is_some(),
        "{status} {body}"
    );
    // Nothing of it was kept, and the next write goes through at once.
    let (status, body) = sql("INSERT INTO endless VALUES ('next')");
    assert_eq!(status, 200, "{body}");
    assert!(body.get("error").is_none(), "{body}");
    let (_, rows) = sql("SELECT x FROM endless");
    assert_eq!(rows["rows"], json!([["next"]]));
}

#[test]
fn eight_looping_guests_are_each_cut_off_within_twice_the_timeout() {
    // Its own host, so that nothing else runs beside the loops.
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "loops");
    manifest += &probe("loops", "");
    let app = AppDir::new(&manifest);
    let host = std::sync::Arc::new(start(
        &app,
        &["--request-timeout-ms", &TIMEOUT_MS.to_string()],
    ));
    let loops: Vec<_> = (0..8)
        .map(|i| {
            let host = std::sync::Arc::clone(&host);
            std::thread::spawn(move || {
                let started = Instant::now();
                let reply = host.get(&format!("/?op=loop&tag={i}"));
                (reply, started.elapsed())
            })
        })
        .collect();
    for looping in loops {
        let (reply, took) = looping.join().unwrap();
        assert_host_problem(&reply, 503, "timeout");
        assert!(
            took < Duration::from_millis(TIMEOUT_MS * 2),
            "a looping guest was cut off after {took:?}"
        );
    }
    assert_eq!(host.get("/?op=headers").status, 200);
}

#[test]
fn a_guest_over_its_memory_limit_fails_only_that_request() {
    // Within the 32 MiB limit: fine.
    let reply = host().get("/?op=alloc&mib=8");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = assert_host_problem(&host().get("/?op=alloc&mib=64"), 500, "guest-trap");
    let detail = body["detail"].as_str().unwrap().to_ascii_lowercase();
    assert!(detail.contains("memory"), "{body}");
    assert_healthy();
    assert_eq!(host().get("/?op=alloc&mib=8").status, 200);
}

#[test]
fn a_body_over_the_limit_is_413() {
    let ok = vec![b'x'; BODY_LIMIT];
    let reply = host().request("POST", "/?op=headers", &[], Some(&ok));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["body_len"], BODY_LIMIT);
    let big = vec![b'x'; BODY_LIMIT + 1];
    let reply = host().request("POST", "/?op=headers", &[], Some(&big));
    assert_host_problem(&reply, 413, "payload-too-large");
    // The host does not read the rest of the body, so it must not keep the
    // connection alive: a keep-alive client would reuse it and fail.
    assert_eq!(reply.header("connection"), Some("close"), "{reply:?}");
    assert_healthy();
}

/// Sends a raw HTTP/1.1 request and returns the status code of the answer.
fn raw_status(request: &[u8]) -> u16 {
    let addr = host().base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The host may answer (and close) before reading everything: ignore write errors.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"))
}

#[test]
fn a_chunked_body_over_the_limit_is_413_too() {
    let mut request = b"POST /?op=headers HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    for _ in 0..(BODY_LIMIT / 4096 + 2) {
        request.extend_from_slice(b"1000\r\n");
        request.extend_from_slice(&[b'y'; 4096]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw_status(&request), 413);
    assert_healthy();
}

#[test]
fn a_declared_length_over_the_limit_is_413_without_the_body() {
    let request = format!(
        "POST /?op=headers HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        BODY_LIMIT * 100
    );
    assert_eq!(raw_status(request.as_bytes()), 413);
}

#[test]
fn spinning_guests_do_not_starve_other_requests() {
    // Its own host: other tests' slow requests would blur the measurement.
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "spin");
    manifest += &probe("spin", "");
    let app = AppDir::new(&manifest);
    let timeout = 3000u64;
    let host = std::sync::Arc::new(start(&app, &["--request-timeout-ms", &timeout.to_string()]));
    // As many spinning guests as there are cores must not starve the host:
    // quick requests keep being answered while they spin.
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let slow: Vec<_> = (0..cores)
        .map(|_| {
            let host = std::sync::Arc::clone(&host);
            std::thread::spawn(move || host.get("/?op=loop&tag=starve").status)
        })
        .collect();
    let spinning = poll(Duration::from_millis(timeout / 2), || {
        let n = host
            .stdout
            .lines()
            .iter()
            .filter(|l| l.ends_with("loop-start starve"))
            .count();
        (n == cores).then_some(())
    });
    assert!(
        spinning.is_some(),
        "the spinning guests did not all start:\n{}",
        host.stdout.lines().join("\n")
    );
    let started = Instant::now();
    let quick: Vec<_> = (0..16)
        .map(|i| {
            let host = std::sync::Arc::clone(&host);
            std::thread::spawn(move || {
                let reply = host.get(&format!("/?op=headers&i={i}"));
                (
                    reply.status,
                    reply.json()["query"].clone(),
                    started.elapsed(),
                )
            })
        })
        .collect();
    for (i, q) in quick.into_iter().enumerate() {
        let (status, query, took) = q.join().unwrap();
        assert_eq!(status, 200);
        assert_eq!(query, format!("op=headers&i={i}"));
        assert!(
            took < Duration::from_millis(timeout / 2),
            "a quick request waited {took:?} for the spinning guests"
        );
    }
    for s in slow {
        assert_eq!(s.join().unwrap(), 503);
    }
}

#[test]
fn concurrent_requests_are_all_answered() {
    let threads: Vec<_> = (0..32)
        .map(|i| {
            std::thread::spawn(move || {
                let op = if i % 4 == 0 { "trap" } else { "headers" };
                (op, host().get(&format!("/?op={op}&i={i}")).status)
            })
        })
        .collect();
    for t in threads {
        let (op, status) = t.join().unwrap();
        assert_eq!(status, if op == "trap" { 500 } else { 200 }, "{op}");
    }
}

#[test]
fn sigterm_drains_in_flight_requests_then_exits_0() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "drain");
    manifest += &probe("drain", "");
    let app = AppDir::new(&manifest);
    let host = start(&app, &[]);
    let url = host.url("/?op=sleep&ms=1500&tag=in-flight");
    let in_flight = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.get(&url).call().expect("in-flight request");
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    });
    assert!(
        host.stdout
            .wait_for("[drain] sleep-start in-flight")
            .is_some(),
        "the slow request never started:\n{}",
        host.stderr.lines().join("\n")
    );
    let started = Instant::now();
    let status = host.stop();
    assert!(status.success(), "exit status {status}");
    let (code, body) = in_flight.join().unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, r#"{"ok":1500}"#);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "drain took {:?}",
        started.elapsed()
    );
}

#[test]
fn sigint_drains_like_sigterm() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "drain-int");
    manifest += &probe("drain-int", "");
    let app = AppDir::new(&manifest);
    let host = start(&app, &[]);
    let url = host.url("/?op=sleep&ms=800&tag=int");
    let in_flight = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        agent.get(&url).call().map(|r| r.status().as_u16())
    });
    assert!(
        host.stdout
            .wait_for("[drain-int] sleep-start int")
            .is_some()
    );
    let status = host.stop_with(libc::SIGINT);
    assert!(status.success(), "exit status {status}");
    assert_eq!(in_flight.join().unwrap().expect("in-flight request"), 200);
}

#[test]
fn sigterm_on_an_idle_host_exits_0_promptly() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "idle");
    manifest += &probe("idle", "");
    let app = AppDir::new(&manifest);
    let host = start(&app, &[]);
    assert_eq!(host.get("/").status, 200);
    let addr = host.base.trim_start_matches("http://").to_string();
    let started = Instant::now();
    assert!(host.stop().success());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after exit"
    );
}

/// Sends a GET with `Connection: close` and returns everything the host sent.
fn raw_exchange(path: &str) -> String {
    let addr = host().base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_guest_failing_mid_stream_leaves_a_broken_body_not_a_short_one() {
    // A finished stream ends with the chunked terminator.
    let whole = raw_exchange("/stream?then=finish");
    assert!(whole.starts_with("HTTP/1.1 200"), "{whole}");
    assert!(whole.contains("transfer-encoding: chunked"), "{whole}");
    assert!(
        whole.contains("part-1") && whole.contains("part-2"),
        "{whole}"
    );
    assert!(whole.ends_with("0\r\n\r\n"), "{whole:?}");
    // A trap or an unfinished body after the head: no terminator, so no
    // client mistakes the first parts for the whole answer.
    for then in ["trap", "abort"] {
        let broken = raw_exchange(&format!("/stream?then={then}"));
        assert!(broken.starts_with("HTTP/1.1 200"), "{then}: {broken}");
        assert!(broken.contains("part-1"), "{then}: {broken}");
        assert!(!broken.ends_with("0\r\n\r\n"), "{then}: {broken:?}");
    }
    assert_healthy();
}
