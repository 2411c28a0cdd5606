//! A local HTTP server standing in for a message provider, an upstream
//! GOV.UK Notify or a service's callback endpoint: it records every request
//! and answers as told (a status, slowly, or with garbage that is not HTTP).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A status and JSON body.
    Status(u16, String),
    /// Wait, then answer.
    Slow(Duration, u16),
    /// Bytes that are not an HTTP response, then close.
    Garbage,
}

impl Answer {
    pub fn ok() -> Self {
        Self::Status(200, r#"{"ok":true}"#.into())
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

#[derive(Default)]
struct State {
    /// Answers for requests whose body contains the text, in order.
    script: Vec<(String, VecDeque<Answer>)>,
    fallback: Option<Answer>,
    received: Vec<Received>,
}

/// The running server; it lives as long as the test process.
#[derive(Clone)]
pub struct ProviderServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl ProviderServer {
    /// Answers 200 unless told otherwise.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { port, state }
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers the next requests whose body contains `needle` in this
    /// order, then as the fallback (tests running at once each script
    /// their own messages).
    pub fn script(&self, needle: &str, answers: impl IntoIterator<Item = Answer>) {
        self.state
            .lock()
            .unwrap()
            .script
            .push((needle.to_string(), answers.into_iter().collect()));
    }

    /// What every request gets once the script is used up.
    pub fn answer_always(&self, answer: Answer) {
        self.state.lock().unwrap().fallback = Some(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The requests whose body contains `needle`.
    pub fn received_with(&self, needle: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.body.contains(needle))
            .collect()
    }

    /// Waits up to ten seconds for `count` requests containing `needle`.
    pub fn wait_for(&self, needle: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.received_with(needle);
            if found.len() >= count || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(&mut reader)
    } else {
        let length = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0usize);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok().map(|()| body)
    };
    let Some(body) = body else { return };
    let answer = {
        let mut state = state.lock().unwrap();
        let body = String::from_utf8_lossy(&body).into_owned();
        let scripted = state
            .script
            .iter_mut()
            .find(|(needle, answers)| body.contains(needle.as_str()) && !answers.is_empty())
            .and_then(|(_, answers)| answers.pop_front());
        let fallback = state.fallback.clone().unwrap_or_else(Answer::ok);
        state.received.push(Received {
            method,
            path,
            headers,
            body,
        });
        scripted.unwrap_or(fallback)
    };
    let mut stream = stream;
    let (status, body) = match answer {
        Answer::Garbage => {
            let _ = stream.write_all(b"\x00\x13garbage, not HTTP\r\n\r\n");
            return;
        }
        Answer::Slow(wait, status) => {
            std::thread::sleep(wait);
            (status, "{}".to_string())
        }
        Answer::Status(status, body) => (status, body),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// A `transfer-encoding: chunked` body.
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}
