//! The routes `crm-bench` drives: one that does nothing, one that writes
//! one SQLite row, so the benchmark measures the host rather than the guest,
//! and one that never returns (a runaway for the host to cut off).

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::{Connection, Value};

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    match req.path() {
        "/bench/hello" => Ok(Response::new(200, "hello")),
        "/bench/write" => {
            // The table is created by the benchmark's `--sqlite` start-up statement.
            let db = Connection::open_default()?;
            db.execute(
                "INSERT INTO bench_rows (body) VALUES (?)",
                &[Value::Text(
                    String::from_utf8_lossy(req.body()).into_owned(),
                )],
            )?;
            Ok(Response::new(201, ""))
        }
        "/bench/loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        _ => Ok(Response::new(404, "")),
    }
}
