//! The request log: one JSON line per request on stderr, buffered in memory
//! and written by a background thread every few milliseconds, so a busy
//! server makes one write per interval instead of one syscall (and thread
//! wake-up) per request.

use std::io::Write;
use std::sync::{Mutex, Once};
use std::time::Duration;

use serde::Serialize;

/// One request's log line.
#[derive(Serialize)]
pub struct RequestLine<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub component: Option<&'a str>,
    pub status: u16,
    /// In milliseconds, rounded to the microsecond.
    #[serde(rename = "duration_ms", serialize_with = "duration_ms")]
    pub duration: Duration,
    /// Microseconds, rounded to a tenth.
    #[serde(serialize_with = "tenths")]
    pub instantiate_us: Option<f64>,
}

fn duration_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1_000_000.0).round() / 1000.0)
}

fn tenths<S: serde::Serializer>(us: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    us.map(|us| (us * 10.0).round() / 10.0).serialize(s)
}

/// What every request line starts with.
#[derive(Serialize)]
struct Tagged<'a> {
    level: &'static str,
    msg: &'static str,
    #[serde(flatten)]
    line: &'a RequestLine<'a>,
}

/// Lines waiting for the writer thread.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static WRITER: Once = Once::new();

/// How long a line may wait before it reaches stderr.
const FLUSH_INTERVAL: Duration = Duration::from_millis(5);

/// Queues one request's line for stderr.
pub fn log(line: &RequestLine<'_>) {
    WRITER.call_once(|| {
        std::thread::spawn(|| {
            // The spare buffer keeps its capacity, so steady logging does not allocate.
            let mut spare = Vec::new();
            loop {
                std::thread::sleep(FLUSH_INTERVAL);
                write_pending(&mut spare);
            }
        });
    });
    let tagged = Tagged {
        level: "info",
        msg: "request",
        line,
    };
    let mut pending = PENDING.lock().expect("request log poisoned");
    // Writing into a Vec cannot fail, and the fields always serialise.
    let _ = serde_json::to_writer(&mut *pending, &tagged);
    pending.push(b'\n');
}

/// Writes every queued line to stderr now.
pub fn flush() {
    write_pending(&mut Vec::new());
}

/// Swaps the queue with `spare` and writes what it held.
fn write_pending(spare: &mut Vec<u8>) {
    std::mem::swap(&mut *PENDING.lock().expect("request log poisoned"), spare);
    if !spare.is_empty() {
        let _ = std::io::stderr().lock().write_all(spare);
        spare.clear();
    }
}
