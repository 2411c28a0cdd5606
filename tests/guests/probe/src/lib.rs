//! `guest-probe`: the conformance tests' HTTP guest. It dispatches on the
//! `op` query parameter (default `headers`) and answers JSON, reporting host
//! errors (such as `access-denied`) in the body instead of trapping, so that a
//! test can assert on exactly what the host handed to the guest.
//!
//! | op | parameters | answer |
//! |---|---|---|
//! | `headers` | | method, path, query, headers, body length, `PROBE_NAME` env |
//! | `status` | `code` | an empty response with that status |
//! | `kv` | `label`, `action` (`open`/`set`/`get`/`delete`/`exists`/`keys`), `key`; body = value | `{"ok": ...}` or `{"error": kind}` |
//! | `wkv` | as `kv` through `wasi:keyvalue`, plus `increment` (`delta`) and `cas-add` (`delta`: adds to a decimal number by compare-and-swap, retrying) | `{"ok": ...}` (`cas-add`: `{"ok": sum, "retries": n}`) or `{"error": kind}` |
//! | `sql2`, `sql3` | `label`; body = one SQL statement | `{"columns","rows"}` or `{"error"}` |
//! | `var` | `name` | `{"ok": value}` or `{"error": kind}` |
//! | `fetch` | `url` | `{"status","body"}` or `{"error"}` |
//! | `file` | `path` | `{"ok": contents}` or `{"error"}` |
//! | `write` | `path`; body = contents | `{"ok": true}` or `{"error"}` |
//! | `env` | | `{"ok": {name: value}}` of the guest's environment |
//! | `print` | `msg` | prints `msg` to stdout and stderr |
//! | `trap` | | panics |
//! | `loop` | `tag` | prints `loop-start <tag>`, then never returns |
//! | `alloc` | `mib` | allocates and touches that many MiB |
//! | `sleep` | `ms`, `tag` | prints `sleep-start <tag>`, sleeps, then answers |
//! | `hold` | `label`, `ms`, `tag`; body = `;`-separated SQL | runs each statement on one SQLite 3 connection (say `BEGIN IMMEDIATE` and a write), prints `hold-start <tag>`, sleeps with it open, then answers |

use serde_json::{Value as Json, json};
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::{key_value, sqlite, sqlite3, variables};

#[http_component]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let op = param(&req, "op").unwrap_or_else(|| "headers".into());
    let answer = match op.as_str() {
        "headers" => headers(&req),
        "status" => {
            let code = param(&req, "code")
                .and_then(|c| c.parse().ok())
                .unwrap_or(200);
            return Ok(Response::new(code, ()));
        }
        "kv" => kv(&req),
        "wkv" => wasi_kv(&req),
        "sql2" => sql2(&req),
        "sql3" => sql3(&req),
        "var" => match variables::get(&param(&req, "name").unwrap_or_default()) {
            Ok(value) => json!({ "ok": value }),
            Err(e) => json!({ "error": var_error(&e) }),
        },
        "fetch" => fetch(&req).await,
        "file" => match std::fs::read_to_string(param(&req, "path").unwrap_or_default()) {
            Ok(text) => json!({ "ok": text }),
            Err(e) => json!({ "error": e.kind().to_string() }),
        },
        "write" => match std::fs::write(param(&req, "path").unwrap_or_default(), req.body()) {
            Ok(()) => json!({ "ok": true }),
            Err(e) => json!({ "error": e.kind().to_string() }),
        },
        "env" => json!({ "ok": std::env::vars().collect::<std::collections::BTreeMap<_, _>>() }),
        "print" => {
            let msg = param(&req, "msg").unwrap_or_default();
            println!("{msg}");
            eprintln!("{msg}");
            json!({ "ok": true })
        }
        "trap" => panic!("probe asked to trap"),
        "loop" => {
            println!("loop-start {}", param(&req, "tag").unwrap_or_default());
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "alloc" => {
            let mib: usize = param(&req, "mib").and_then(|m| m.parse().ok()).unwrap_or(1);
            let mut buf = vec![0u8; mib << 20];
            for i in (0..buf.len()).step_by(4096) {
                buf[i] = 1;
            }
            let touched = std::hint::black_box(&buf).iter().step_by(4096).count();
            json!({ "ok": touched })
        }
        "sleep" => {
            let ms: u64 = param(&req, "ms")
                .and_then(|m| m.parse().ok())
                .unwrap_or(100);
            // Tells a test (polling the host's output) that the request is in flight.
            println!("sleep-start {}", param(&req, "tag").unwrap_or_default());
            std::thread::sleep(std::time::Duration::from_millis(ms));
            json!({ "ok": ms })
        }
        "hold" => hold(&req),
        other => {
            return Ok(Response::new(400, format!("unknown op {other}")));
        }
    };
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("x-probe", "1")
        .body(answer.to_string())
        .build())
}

/// A query parameter, percent-decoded.
fn param(req: &Request, name: &str) -> Option<String> {
    req.query().split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn headers(req: &Request) -> Json {
    let mut headers = serde_json::Map::new();
    for (name, value) in req.headers() {
        headers.insert(
            name.to_string(),
            Json::String(value.as_str().unwrap_or("<binary>").to_string()),
        );
    }
    json!({
        "method": method_name(req.method()),
        "path": req.path(),
        "query": req.query(),
        "headers": headers,
        "body_len": req.body().len(),
        "probe_name": std::env::var("PROBE_NAME").ok(),
    })
}

fn method_name(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Patch => "PATCH".into(),
        Method::Head => "HEAD".into(),
        Method::Options => "OPTIONS".into(),
        other => format!("{other:?}"),
    }
}

fn kv(req: &Request) -> Json {
    let label = param(req, "label").unwrap_or_else(|| "default".into());
    let action = param(req, "action").unwrap_or_else(|| "open".into());
    let key = param(req, "key").unwrap_or_default();
    let store = match key_value::Store::open(&label) {
        Ok(store) => store,
        Err(e) => return json!({ "error": kv_error(&e) }),
    };
    let result = match action.as_str() {
        "open" => Ok(json!(true)),
        "set" => store.set(&key, req.body()).map(|()| json!(true)),
        "get" => store.get(&key).map(|v| match v {
            Some(bytes) => json!(String::from_utf8_lossy(&bytes)),
            None => Json::Null,
        }),
        "delete" => store.delete(&key).map(|()| json!(true)),
        "exists" => store.exists(&key).map(|b| json!(b)),
        "keys" => store.get_keys().map(|mut keys| {
            keys.sort();
            json!(keys)
        }),
        other => return json!({ "error": format!("unknown action {other}") }),
    };
    match result {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": kv_error(&e) }),
    }
}

fn wasi_kv(req: &Request) -> Json {
    use spin_sdk::wit::wasi::keyvalue::{atomics, store};
    let label = param(req, "label").unwrap_or_else(|| "default".into());
    let action = param(req, "action").unwrap_or_else(|| "open".into());
    let key = param(req, "key").unwrap_or_default();
    let delta: i64 = param(req, "delta")
        .and_then(|d| d.parse().ok())
        .unwrap_or(1);
    let error = |e: store::Error| match e {
        store::Error::NoSuchStore => "no-such-store".to_string(),
        store::Error::AccessDenied => "access-denied".to_string(),
        store::Error::Other(s) => format!("other: {s}"),
    };
    let bucket = match store::open(&label) {
        Ok(bucket) => bucket,
        Err(e) => return json!({ "error": error(e) }),
    };
    let result = match action.as_str() {
        "open" => Ok(json!(true)),
        "set" => bucket.set(&key, req.body()).map(|()| json!(true)),
        "get" => bucket.get(&key).map(|v| match v {
            Some(bytes) => json!(String::from_utf8_lossy(&bytes)),
            None => Json::Null,
        }),
        "delete" => bucket.delete(&key).map(|()| json!(true)),
        "exists" => bucket.exists(&key).map(|b| json!(b)),
        "keys" => bucket.list_keys(None).map(|r| {
            let mut keys = r.keys;
            keys.sort();
            json!(keys)
        }),
        "increment" => atomics::increment(&bucket, &key, delta).map(|n| json!(n)),
        "cas-add" => {
            let mut retries = 0;
            let mut cas = match atomics::Cas::new(&bucket, &key) {
                Ok(cas) => cas,
                Err(e) => return json!({ "error": error(e) }),
            };
            loop {
                let current = match cas.current() {
                    Ok(value) => value
                        .and_then(|v| String::from_utf8(v).ok())
                        .and_then(|t| t.parse::<i64>().ok())
                        .unwrap_or(0),
                    Err(e) => return json!({ "error": error(e) }),
                };
                let sum = current + delta;
                match atomics::swap(cas, sum.to_string().as_bytes()) {
                    Ok(()) => return json!({ "ok": sum, "retries": retries }),
                    Err(atomics::CasError::CasFailed(fresh)) => {
                        retries += 1;
                        cas = fresh;
                    }
                    Err(atomics::CasError::StoreError(e)) => return json!({ "error": error(e) }),
                }
            }
        }
        other => return json!({ "error": format!("unknown action {other}") }),
    };
    match result {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": error(e) }),
    }
}

fn kv_error(e: &key_value::Error) -> String {
    match e {
        key_value::Error::AccessDenied => "access-denied".into(),
        key_value::Error::NoSuchStore => "no-such-store".into(),
        key_value::Error::StoreTableFull => "store-table-full".into(),
        key_value::Error::Other(s) => format!("other: {s}"),
    }
}

fn sql2(req: &Request) -> Json {
    let label = param(req, "label").unwrap_or_else(|| "default".into());
    let sql = String::from_utf8_lossy(req.body()).into_owned();
    let conn = match sqlite::Connection::open(&label) {
        Ok(c) => c,
        Err(e) => return json!({ "error": sql2_error(&e) }),
    };
    match conn.execute(&sql, &[]) {
        Ok(result) => {
            let rows: Vec<Json> = result
                .rows
                .iter()
                .map(|row| Json::Array(row.values.iter().map(sql2_value).collect()))
                .collect();
            json!({ "columns": result.columns, "rows": rows })
        }
        Err(e) => json!({ "error": sql2_error(&e) }),
    }
}

fn sql2_value(v: &sqlite::Value) -> Json {
    match v {
        sqlite::Value::Integer(i) => json!(i),
        sqlite::Value::Real(r) => json!(r),
        sqlite::Value::Text(t) => json!(t),
        sqlite::Value::Blob(b) => json!({ "blob": b.len() }),
        sqlite::Value::Null => Json::Null,
    }
}

fn sql2_error(e: &sqlite::Error) -> String {
    match e {
        sqlite::Error::NoSuchDatabase => "no-such-database".into(),
        sqlite::Error::AccessDenied => "access-denied".into(),
        sqlite::Error::InvalidConnection => "invalid-connection".into(),
        sqlite::Error::DatabaseFull => "database-full".into(),
        sqlite::Error::Io(s) => format!("io: {s}"),
    }
}

fn sql3(req: &Request) -> Json {
    let label = param(req, "label").unwrap_or_else(|| "default".into());
    let sql = String::from_utf8_lossy(req.body()).into_owned();
    let conn = match sqlite3::Connection::open(&label) {
        Ok(c) => c,
        Err(e) => return json!({ "error": sql3_error(&e) }),
    };
    match conn.execute(&sql, &[]) {
        Ok(result) => {
            let rows: Vec<Json> = result
                .rows
                .iter()
                .map(|row| Json::Array(row.values.iter().map(sql3_value).collect()))
                .collect();
            json!({
                "columns": result.columns,
                "rows": rows,
                "last_insert_rowid": conn.last_insert_rowid(),
                "changes": conn.changes(),
            })
        }
        Err(e) => json!({ "error": sql3_error(&e) }),
    }
}

/// Runs the body's statements on one connection and sleeps with it open,
/// so a test can see what a guest cut off mid-transaction leaves behind.
fn hold(req: &Request) -> Json {
    let label = param(req, "label").unwrap_or_else(|| "default".into());
    let ms: u64 = param(req, "ms").and_then(|m| m.parse().ok()).unwrap_or(100);
    let conn = match sqlite3::Connection::open(&label) {
        Ok(c) => c,
        Err(e) => return json!({ "error": sql3_error(&e) }),
    };
    let body = String::from_utf8_lossy(req.body()).into_owned();
    for statement in body.split(';').filter(|s| !s.trim().is_empty()) {
        if let Err(e) = conn.execute(statement, &[]) {
            return json!({ "error": sql3_error(&e) });
        }
    }
    println!("hold-start {}", param(req, "tag").unwrap_or_default());
    std::thread::sleep(std::time::Duration::from_millis(ms));
    json!({ "ok": ms })
}

fn sql3_value(v: &sqlite3::Value) -> Json {
    match v {
        sqlite3::Value::Integer(i) => json!(i),
        sqlite3::Value::Real(r) => json!(r),
        sqlite3::Value::Text(t) => json!(t),
        sqlite3::Value::Blob(b) => json!({ "blob": b.len() }),
        sqlite3::Value::Null => Json::Null,
    }
}

fn sql3_error(e: &sqlite3::Error) -> String {
    match e {
        sqlite3::Error::NoSuchDatabase => "no-such-database".into(),
        sqlite3::Error::AccessDenied => "access-denied".into(),
        sqlite3::Error::InvalidConnection => "invalid-connection".into(),
        sqlite3::Error::DatabaseFull => "database-full".into(),
        sqlite3::Error::Io(s) => format!("io: {s}"),
    }
}

fn var_error(e: &variables::Error) -> String {
    match e {
        variables::Error::InvalidName(s) => format!("invalid-name: {s}"),
        variables::Error::Undefined(s) => format!("undefined: {s}"),
        variables::Error::Provider(s) => format!("provider: {s}"),
        variables::Error::Other(s) => format!("other: {s}"),
    }
}

async fn fetch(req: &Request) -> Json {
    let url = param(req, "url").unwrap_or_default();
    let outgoing = Request::get(&url);
    match spin_sdk::http::send::<_, Response>(outgoing).await {
        Ok(resp) => json!({
            "status": resp.status(),
            "body": String::from_utf8_lossy(resp.body()),
        }),
        Err(spin_sdk::http::SendError::Http(code)) => {
            // `ErrorCode::HttpRequestDenied` → `HttpRequestDenied`.
            let code = format!("{code:?}");
            json!({ "error": code.trim_start_matches("ErrorCode::") })
        }
        Err(e) => json!({ "error": format!("{e}") }),
    }
}
