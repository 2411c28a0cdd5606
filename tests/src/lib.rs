//! The end-to-end test harness: starts a real `crm-host` process on a free
//! loopback port with a manifest written into a fresh directory, captures its
//! output, talks HTTP to it, and stops it with SIGTERM.
//!
//! Nothing is built here: `scripts/test` builds `crm-host`, the app's
//! components and `tests/guests/*` first.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use serde_json::{Value, json};

pub mod app;
pub mod auth;
pub mod conformance;
pub mod consent;
pub mod consent_probe;
pub mod load;
pub mod oidc;
pub mod provider;
pub mod proxy;
pub mod redis;
pub mod split;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The host binary under test.
pub fn host_bin() -> PathBuf {
    let path = std::env::var_os("CRM_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/debug/crm-host"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p crm-host` (scripts/test does)",
        path.display()
    );
    path
}

/// A built Wasm file: `name` is the crate name with underscores.
pub fn wasm(name: &str) -> PathBuf {
    let path = workspace().join(format!("target/wasm32-wasip2/wasm/{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --target wasm32-wasip2 --profile wasm -p {}` (scripts/test does)",
        path.display(),
        name.replace('_', "-")
    );
    path
}

/// The compiled-code cache every host of a test run shares (`--cache-dir`),
/// so each guest and component is compiled once per run, not once per host.
pub fn cache_dir() -> PathBuf {
    let dir = workspace().join("target/crm-tests-cache");
    std::fs::create_dir_all(&dir).expect("cache dir");
    dir
}

/// `--cache-dir` with the shared cache, then `extra`.
pub fn cache_args(extra: &[&str]) -> Vec<String> {
    let mut all = vec!["--cache-dir".to_string(), cache_dir().display().to_string()];
    all.extend(extra.iter().map(|a| a.to_string()));
    all
}

/// The app's own `spin.toml` with absolute Wasm paths, followed by `extra`
/// (more components, whose `{wasm:NAME}` [`AppDir::new`] expands), to run
/// the real app beside a test guest.
pub fn app_manifest(extra: &str) -> String {
    let built = workspace().join("target/wasm32-wasip2/wasm/");
    let app = std::fs::read_to_string(workspace().join("spin.toml")).expect("spin.toml");
    app.replace(
        "\"target/wasm32-wasip2/wasm/",
        &format!("\"{}", built.display()),
    ) + extra
}

/// A directory holding one app: its manifest, state and any files it needs.
pub struct AppDir {
    pub dir: tempfile::TempDir,
}

impl AppDir {
    /// Writes `spin.toml`; `{wasm:NAME}` in the text becomes that file's absolute path.
    pub fn new(manifest: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = Self { dir };
        app.write("spin.toml", &expand_wasm(manifest));
        app
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write app file");
    }

    pub fn manifest(&self) -> PathBuf {
        self.path().join("spin.toml")
    }

    /// Starts a host on this app; panics with the host's output if it fails.
    pub fn start(&self, args: &[&str]) -> Host {
        Host::start(&self.manifest(), args, &[])
    }

    /// Starts a host that is expected to refuse to start.
    pub fn start_failure(&self, args: &[&str]) -> Failure {
        start_failure(&self.manifest(), args)
    }
}

fn expand_wasm(manifest: &str) -> String {
    let mut out = String::new();
    let mut rest = manifest;
    while let Some(start) = rest.find("{wasm:") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&wasm(&rest[start + 6..end]).display().to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Output captured from a host, line by line.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<String>>>, Arc<std::sync::atomic::AtomicBool>);

impl Captured {
    fn follow(&self, stream: impl Read + Send + 'static) {
        let lines = Arc::clone(&self.0);
        let closed = Arc::clone(&self.1);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                lines.lock().expect("capture").push(line);
            }
            closed.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().expect("capture").clone()
    }

    /// Everything captured so far, forgotten here (so a long run's request
    /// log does not pile up in memory).
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("capture"))
    }

    /// Everything, once the stream has closed (waiting at most five seconds).
    pub fn all_lines(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.1.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.lines()
    }

    /// Waits up to five seconds for a line containing `needle`.
    pub fn wait_for(&self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| l.contains(needle)) {
                return Some(line);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A running `crm-host up`.
pub struct Host {
    child: Child,
    pub base: String,
    pub stdout: Captured,
    pub stderr: Captured,
    agent: ureq::Agent,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (a byte that is not UTF-8 reads as U+FFFD).
    pub body: String,
    /// The body as it came, for binary answers (PDFs).
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Runs `start` on a thread that lives until the test process ends, for
/// processes that tests share: each dies with the thread that spawned it.
pub fn on_lasting_thread<T: Send + 'static>(start: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            start,
        )));
        loop {
            std::thread::park();
        }
    });
    match receiver.recv().expect("process spawner") {
        Ok(started) => started,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `crm-host up` with the manifest and arguments (on a free loopback port
/// unless they say `--listen`), dying with the thread that spawned it (so no
/// host outlives its test binary).
fn host_command(manifest: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(host_bin());
    command.args(["up", "-f"]).arg(manifest);
    if !args.contains(&"--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    die_with_spawning_thread(&mut command);
    command
}

/// Has the process `command` spawns killed when the thread spawning it ends.
pub fn die_with_spawning_thread(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

impl Host {
    /// A host for the rest of the test process, for tests that share one: it
    /// is spawned from a thread that lives until the process ends.
    pub fn start_shared(manifest: &Path, args: &[&str]) -> Self {
        let (manifest, args): (PathBuf, Vec<String>) = (
            manifest.to_path_buf(),
            args.iter().map(|a| a.to_string()).collect(),
        );
        on_lasting_thread(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Host::start(&manifest, &args, &[])
        })
    }

    /// Another HTTP server process (the reverse proxy) serving at `base`,
    /// spawned with its output piped; killed when dropped.
    pub fn adopt(mut child: Child, base: String) -> Self {
        let stdout = Captured::default();
        let stderr = Captured::default();
        if let Some(pipe) = child.stdout.take() {
            stdout.follow(pipe);
        }
        if let Some(pipe) = child.stderr.take() {
            stderr.follow(pipe);
        }
        Self {
            child,
            base,
            stdout,
            stderr,
            agent: agent(),
        }
    }

    pub fn start(manifest: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = host_command(manifest, args)
            .envs(env.iter().copied())
            .spawn()
            .expect("spawn crm-host");
        let stdout = Captured::default();
        let stderr = Captured::default();
        stdout.follow(child.stdout.take().expect("stdout"));
        stderr.follow(child.stderr.take().expect("stderr"));
        // Generous: on a cold cache, the hosts a test binary starts at once
        // each compile every component, on a machine that may be busy.
        let deadline = Instant::now() + Duration::from_secs(180);
        let base = loop {
            if let Some(line) = stdout
                .lines()
                .iter()
                .find_map(|l| l.strip_prefix("Serving "))
            {
                break line.to_string();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "crm-host exited ({status}) before serving:\n{}",
                    stderr.all_lines().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "crm-host did not start:\n{}",
                stderr.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Self {
            child,
            base,
            stdout,
            stderr,
            agent: agent(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &str) -> Reply {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post(path, &body.to_string())
    }

    /// Requests carrying `Authorization: Bearer <credential>`.
    pub fn as_caller(&self, credential: &str) -> Caller<'_> {
        Caller {
            host: self,
            headers: vec![("authorization".into(), format!("Bearer {credential}"))],
        }
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let request = http_request(method, &self.url(path), headers);
        let result = match body {
            Some(body) => self
                .agent
                .run(request.body(body.to_vec()).expect("request")),
            None => self.agent.run(request.body(()).expect("request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(self) -> ExitStatus {
        self.stop_with(libc::SIGTERM)
    }

    /// Sends `signal` (e.g. `libc::SIGINT`) and waits for the exit status.
    pub fn stop_with(mut self, signal: libc::c_int) -> ExitStatus {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        wait_with_timeout(&mut self.child, Duration::from_secs(40))
            .unwrap_or_else(|| panic!("crm-host did not exit after signal {signal}"))
    }
}

/// A host plus the headers one caller sends with every request.
pub struct Caller<'a> {
    host: &'a Host,
    headers: Vec<(String, String)>,
}

impl Caller<'_> {
    /// Adds `purpose-of-use: <purpose>`.
    pub fn purpose(mut self, purpose: &str) -> Self {
        self.headers
            .push(("purpose-of-use".into(), purpose.to_string()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.send(method, path, body.map(|b| b.to_string()).as_deref())
    }

    /// Sends `body` as it is, labelled JSON.
    pub fn send(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        match body {
            Some(body) => self.send_as(method, path, "application/json", body),
            None => self.host.request(method, path, &self.header_pairs(), None),
        }
    }

    /// Sends `body` as it is, labelled `content_type`.
    pub fn send_as(&self, method: &str, path: &str, content_type: &str, body: &str) -> Reply {
        let mut headers = self.header_pairs();
        headers.push(("content-type", content_type));
        self.host
            .request(method, path, &headers, Some(body.as_bytes()))
    }

    fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(body))
    }
}

fn http_request(method: &str, url: &str, headers: &[(&str, &str)]) -> ureq::http::request::Builder {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A host that refused to start: its exit status and everything it printed.
pub struct Failure {
    pub status: ExitStatus,
    pub stderr: String,
}

pub fn start_failure(manifest: &Path, args: &[&str]) -> Failure {
    let mut child = host_command(manifest, args)
        .spawn()
        .expect("spawn crm-host");
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let stdout = Captured::default();
    stdout.follow(child.stdout.take().expect("stdout"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        // A host that started serving will not refuse any more: fail fast.
        if Instant::now() > deadline || stdout.lines().iter().any(|l| l.starts_with("Serving ")) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "crm-host started instead of refusing; it printed:\n{}\n{}",
                stdout.lines().join("\n"),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Failure {
        status,
        // The pipe closes when the host exits.
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// A one-shot local HTTP server standing in for an outside service: answers
/// every request with `body` and counts the requests it saw.
pub struct LocalServer {
    pub port: u16,
    pub hits: Arc<Mutex<u32>>,
}

impl LocalServer {
    pub fn start(body: &'static str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(Mutex::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut stream = stream;
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                // Read the request head; the stand-in ignores any body.
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                *counter.lock().expect("hits") += 1;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = std::io::Write::write_all(&mut stream, response.as_bytes());
            }
        });
        Self { port, hits }
    }
}

/// Starts `crm-host up` on `listen` (instead of a free port), expecting it
/// to refuse to start.
pub fn start_failure_listen(manifest: &Path, listen: &str) -> Failure {
    let output = Command::new(host_bin())
        .args(["up", "-f"])
        .arg(manifest)
        .args(["--listen", listen])
        .stdin(Stdio::null())
        .output()
        .expect("spawn crm-host");
    Failure {
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
