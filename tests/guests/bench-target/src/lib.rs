//! The routes `crm-bench` drives: one that does nothing, and one that writes
//! one SQLite row, so the benchmark measures the host rather than the guest.

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
        _ => Ok(Response::new(404, "")),
    }
}
