//! The HTTP trigger: serves a connection's requests, routes each to a
//! component, gives it Spin's `spin-*` headers, runs a fresh instance, and
//! turns every failure (trap, timeout, memory cap, oversized body) into a
//! response for that request alone.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::TcpStream;
use wasmtime::{Store, Trap};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{Error as HttpError, WasiBody, WasiHttpCtx, WasiHttpView};

use crate::capabilities::key_value::{KeyValueGrants, KeyValueState, KeyValueStore};
use crate::capabilities::outbound_http::{AllowedHosts, Chained, OutboundChain, OutboundHooks};
use crate::capabilities::sqlite::{Acknowledgement, SqliteFile, SqliteGrants, SqliteState};
use crate::capabilities::variables::ComponentVariables;
use crate::capabilities::wasi::WasiTemplate;
use crate::request_log::{self, RequestLine};
use crate::routing::Router;
use crate::slow_lane::{self, Demotion};
use crate::state::{HostState, MemoryLimit};

/// One served component, ready to instantiate.
pub struct ServedComponent {
    pub pre: ProxyPre<HostState>,
    pub wasi: WasiTemplate,
    pub key_value: KeyValueGrants,
    pub sqlite: SqliteGrants,
    pub variables: ComponentVariables,
    pub allowed_hosts: Arc<AllowedHosts>,
}

/// Per-request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request_timeout: Duration,
    pub max_memory_bytes: usize,
    pub max_request_body_bytes: usize,
}

/// The running application.
pub struct App {
    pub name: String,
    pub app_version: String,
    pub router: Router,
    pub components: HashMap<String, ServedComponent>,
    pub limits: Limits,
    /// Every store the components share, each once, to close at a clean stop.
    pub key_value_stores: Vec<Arc<dyn KeyValueStore>>,
    pub databases: Vec<Arc<SqliteFile>>,
}

enum Origin {
    /// From a client at this address (rendered once per connection).
    Client(HeaderValue),
    Chained(Chained),
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);
static PROCESS_ID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// Requests a guest makes to `self` or `*.spin.internal`.
impl OutboundChain for App {
    fn chain(
        self: Arc<Self>,
        request: Request<WasiBody>,
        to: Chained,
    ) -> BoxFuture<'static, Response<WasiBody>> {
        Box::pin(self.handle(request, Origin::Chained(to)))
    }
}

impl App {
    async fn handle(
        self: Arc<Self>,
        request: Request<WasiBody>,
        origin: Origin,
    ) -> Response<WasiBody> {
        let started = Instant::now();
        let request_id = format!(
            "{:08x}{:08x}",
            *PROCESS_ID.get_or_init(std::process::id),
            REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let (component, response, instantiate_us) = self.route_and_run(request, origin).await;
        request_log::log(&RequestLine {
            request_id: &request_id,
            method: method.as_str(),
            path: &path,
            component: component.as_deref(),
            status: response.status().as_u16(),
            duration: started.elapsed(),
            instantiate_us,
        });
        response
    }

    async fn route_and_run(
        self: &Arc<Self>,
        request: Request<WasiBody>,
        origin: Origin,
    ) -> (Option<String>, Response<WasiBody>, Option<f64>) {
        let path = request.uri().path().to_string();
        if matches!(origin, Origin::Client(_)) {
            match path.as_str() {
                "/.well-known/spin/health" => return (None, text(StatusCode::OK, "OK"), None),
                "/.well-known/spin/info" => return (None, self.info(), None),
                _ => {}
            }
        }
        let (component_id, raw_route, component_route, path_info) = match &origin {
            Origin::Chained(Chained::Component(id)) if self.components.contains_key(id) => {
                (id.clone(), "/...".to_string(), String::new(), path.clone())
            }
            Origin::Chained(Chained::Component(id)) => {
                let detail = format!("no component `{id}` is served by this host");
                return (
                    None,
                    problem(StatusCode::NOT_FOUND, "not-found", &detail),
                    None,
                );
            }
            _ => match self.router.route(&path) {
                Some(m) => (
                    m.component.to_string(),
                    m.raw_route.to_string(),
                    m.component_route.to_string(),
                    m.path_info,
                ),
                None => {
                    let detail = format!("no route matches {path}");
                    return (
                        None,
                        problem(StatusCode::NOT_FOUND, "not-found", &detail),
                        None,
                    );
                }
            },
        };
        let request = match self.limit_body(request, &origin).await {
            Ok(request) => request,
            Err(response) => return (Some(component_id), response, None),
        };
        let request = with_spin_headers(request, &origin, &raw_route, &component_route, &path_info);
        let (response, instantiate_us) = self.run(&component_id, request).await;
        (Some(component_id), response, instantiate_us)
    }

    /// Refuses a body over the limit with 413 before any guest runs: by its
    /// `content-length`, or by reading it when the length is not declared.
    async fn limit_body(
        &self,
        request: Request<WasiBody>,
        origin: &Origin,
    ) -> Result<Request<WasiBody>, Response<WasiBody>> {
        let max = self.limits.max_request_body_bytes;
        if matches!(origin, Origin::Chained(_)) {
            return Ok(request);
        }
        let too_large = || {
            let mut response = problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                &format!("the request body is larger than {max} bytes"),
            );
            // The unread body leaves the connection unusable: say so.
            response
                .headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            response
        };
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        match declared {
            Some(length) if length > max as u64 => Err(too_large()),
            Some(_) => Ok(request),
            None => {
                let (parts, body) = request.into_parts();
                match Limited::new(body, max).collect().await {
                    Ok(collected) => Ok(Request::from_parts(parts, full(collected.to_bytes()))),
                    Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
                    Err(e) => Err(problem(
                        StatusCode::BAD_REQUEST,
                        "bad-request",
                        &format!("reading the request body: {e}"),
                    )),
                }
            }
        }
    }

    /// Runs one fresh instance of the component on the request.
    async fn run(
        self: &Arc<Self>,
        component_id: &str,
        request: Request<WasiBody>,
    ) -> (Response<WasiBody>, Option<f64>) {
        let component = &self.components[component_id];
        let wasi = match component.wasi.build() {
            Ok(wasi) => wasi,
            Err(e) => return (internal_error(&format!("{e:#}")), None),
        };
        // The deadline is wall-clock for the whole invocation: checked at
        // each epoch tick while the guest computes, by a timer that drops
        // it while it waits in the host (see `slow_lane`), and by its SQLite
        // statements.
        let timeout = self.limits.request_timeout;
        let started = Instant::now();
        let deadline = started + timeout;
        let ack = Acknowledgement::default();
        let state = HostState {
            wasi,
            http: WasiHttpCtx::new(),
            table: Default::default(),
            hooks: OutboundHooks {
                chain: Arc::clone(self) as Arc<dyn OutboundChain>,
                allowed: Arc::clone(&component.allowed_hosts),
                ack: ack.clone(),
            },
            limits: MemoryLimit {
                max_bytes: self.limits.max_memory_bytes,
                exceeded: false,
            },
            key_value: KeyValueState::new(component.key_value.clone(), ack.clone()),
            sqlite: SqliteState::new(component.sqlite.clone(), ack.clone(), deadline),
            variables: component.variables.clone(),
        };
        let mut store = Store::new(component.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        let demotion = Arc::new(Demotion::default());
        let demote = Arc::clone(&demotion);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            let ran = started.elapsed();
            if ran >= timeout {
                return Err(Trap::Interrupt.into());
            }
            if ran >= slow_lane::DEMOTE_AFTER {
                demote.demote();
            }
            // Yield to the runtime at every tick, so a busy guest cannot hold
            // a thread from other requests (and a demoted one moves on).
            // tokio's own yield lets the runtime poll for I/O first, so a
            // spinning guest cannot delay its thread's other connections.
            Ok(wasmtime::UpdateDeadline::YieldCustom(
                1,
                Box::pin(tokio::task::yield_now()),
            ))
        });

        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared: wasmtime::Result<_> = (|| {
            let incoming = store
                .data_mut()
                .http()
                .new_incoming_request(Scheme::Http, request)?;
            let outparam = store.data_mut().http().new_response_outparam(sender)?;
            Ok((incoming, outparam))
        })();
        let (incoming, outparam) = match prepared {
            Ok(resources) => resources,
            Err(e) => {
                return (
                    problem(StatusCode::BAD_REQUEST, "bad-request", &format!("{e:#}")),
                    None,
                );
            }
        };

        let pre = component.pre.clone();
        let instantiate_ns = Arc::new(AtomicU64::new(u64::MAX));
        let instantiate_clock = Arc::clone(&instantiate_ns);
        let invocation = async move {
            let started = Instant::now();
            let outcome = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                instantiate_clock.store(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await
            }
            .await;
            outcome.map_err(|error| GuestFailure {
                error,
                memory_exceeded: store.data().limits.exceeded,
            })
        };
        let task = tokio::spawn(async move {
            slow_lane::run(invocation, deadline.into(), demotion)
                .await
                .unwrap_or_else(|| {
                    Err(GuestFailure {
                        error: Trap::Interrupt.into(),
                        memory_exceeded: false,
                    })
                })
        });

        let mut task = task;
        let response = match receiver.await {
            // Most guests finish right after writing the body: then send it in
            // one piece with a content-length (one write instead of a chunked
            // stream). A guest still running after a moment is streamed.
            Ok(Ok(response)) => {
                let response = match tokio::time::timeout(Duration::from_millis(1), &mut task).await
                {
                    Ok(Ok(Ok(()))) => buffered(response).await,
                    Ok(Ok(Err(failure))) => failure.response(component_id),
                    Ok(Err(join)) => internal_error(&format!("the request task failed: {join}")),
                    Err(_still_running) => streamed(response, task, component_id),
                };
                // Nothing the request wrote or saw is acknowledged before it
                // is on disk (see `Acknowledgement`).
                match ack.answer().await {
                    Ok(()) => response,
                    Err(e) => problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "not-durable",
                        &format!("the request's writes could not be made durable: {e}"),
                    ),
                }
            }
            Ok(Err(code)) => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "guest-error",
                &format!("the component answered with an error: {code:?}"),
            ),
            Err(_) => match task.await {
                Ok(Ok(())) => internal_error("the component returned without setting a response"),
                Ok(Err(failure)) => failure.response(component_id),
                Err(join) => internal_error(&format!("the request task failed: {join}")),
            },
        };
        let instantiate = instantiate_ns.load(Ordering::Relaxed);
        let instantiate_us = (instantiate != u64::MAX).then(|| instantiate as f64 / 1000.0);
        (response, instantiate_us)
    }

    /// After the last request of a clean stop: checkpoints every store so
    /// that no WAL is left behind (a failure is reported, and the WAL stays
    /// for the next start to recover).
    pub fn checkpoint_stores(&self) {
        let key_value = self.key_value_stores.iter().map(|s| s.checkpoint_at_stop());
        let databases = self.databases.iter().map(|d| d.checkpoint_at_stop());
        for failed in key_value.chain(databases).filter_map(Result::err) {
            eprintln!(
                "{}",
                serde_json::json!({"level": "warn", "msg": "checkpoint at stop failed", "error": format!("{failed:#}")})
            );
        }
    }

    fn info(&self) -> Response<WasiBody> {
        let mut components: Vec<&String> = self.components.keys().collect();
        components.sort();
        let body = serde_json::json!({
            "name": self.name,
            "host": "crm-host",
            "version": env!("CARGO_PKG_VERSION"),
            "build_info": {
                "name": "crm-host",
                "version": env!("CARGO_PKG_VERSION"),
                "app_version": self.app_version,
            },
            "components": components,
        });
        json(StatusCode::OK, body.to_string())
    }
}

/// A response whose guest is still writing its body: the body ends cleanly
/// only if the guest returns; a trap or timeout mid-stream aborts it, so a
/// client never takes a cut-off body for a whole one.
fn streamed(
    response: Response<WasiBody>,
    task: tokio::task::JoinHandle<Result<(), GuestFailure>>,
    component_id: &str,
) -> Response<WasiBody> {
    let (outcome_sender, outcome) = tokio::sync::oneshot::channel();
    let component_id = component_id.to_string();
    tokio::spawn(async move {
        let returned = match task.await {
            Ok(Ok(())) => true,
            Ok(Err(failure)) => {
                eprintln!(
                    "[{component_id}] failed while streaming its response: {:#}",
                    failure.error
                );
                false
            }
            Err(_) => false,
        };
        let _ = outcome_sender.send(returned);
    });
    response.map(|body| {
        GuardedBody {
            body,
            outcome: Some(outcome),
        }
        .boxed_unsync()
    })
}

struct GuardedBody {
    body: WasiBody,
    /// Whether the guest returned; taken once the body ends.
    outcome: Option<tokio::sync::oneshot::Receiver<bool>>,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        use std::future::Future;
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(None) => {}
            other => return other,
        }
        let Some(outcome) = self.outcome.as_mut() else {
            return Poll::Ready(None);
        };
        match std::pin::Pin::new(outcome).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(returned) => {
                self.outcome = None;
                if returned == Ok(true) {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(HttpError::HttpProtocolError)))
                }
            }
        }
    }
}

/// The response with its (already complete) body collected.
async fn buffered(response: Response<WasiBody>) -> Response<WasiBody> {
    let (mut parts, body) = response.into_parts();
    match body.collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            parts.headers.remove(http::header::TRANSFER_ENCODING);
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Response::from_parts(parts, full(bytes))
        }
        Err(e) => internal_error(&format!("reading the component's response body: {e}")),
    }
}

struct GuestFailure {
    error: wasmtime::Error,
    memory_exceeded: bool,
}

impl GuestFailure {
    fn response(&self, component_id: &str) -> Response<WasiBody> {
        if self.error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            eprintln!("[{component_id}] request timed out: {:#}", self.error);
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the component did not finish within the request timeout",
            );
        }
        eprintln!("[{component_id}] guest failed: {:#}", self.error);
        let detail = if self.memory_exceeded {
            "the component exceeded its memory limit".to_string()
        } else {
            format!("the component trapped: {}", self.error.root_cause())
        };
        problem(StatusCode::INTERNAL_SERVER_ERROR, "guest-trap", &detail)
    }
}

/// The request headers Spin adds (constants: parsing a name costs per request).
mod spin_header {
    use http::HeaderName;
    pub const FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
    pub const PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
    pub const MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
    pub const BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
    pub const COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
    pub const RAW_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-raw-component-route");
    pub const CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");
}

fn with_spin_headers(
    request: Request<WasiBody>,
    origin: &Origin,
    raw_route: &str,
    component_route: &str,
    path_info: &str,
) -> Request<WasiBody> {
    let (mut parts, body) = request.into_parts();
    let authority = parts
        .uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| parts.headers.get(http::header::HOST)?.to_str().ok())
        .unwrap_or("localhost");
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let full_url = format!("http://{authority}{path_and_query}");
    let client = match origin {
        Origin::Client(client) => client.clone(),
        Origin::Chained(_) => HeaderValue::from_static("127.0.0.1:0"),
    };
    let value = |text: &str| HeaderValue::from_str(text).ok();
    let raw_route = value(raw_route);
    let headers = &mut parts.headers;
    for (name, value) in [
        (spin_header::FULL_URL, value(&full_url)),
        (spin_header::PATH_INFO, value(path_info)),
        (spin_header::MATCHED_ROUTE, raw_route.clone()),
        (spin_header::BASE_PATH, Some(HeaderValue::from_static("/"))),
        (spin_header::COMPONENT_ROUTE, value(component_route)),
        (spin_header::RAW_COMPONENT_ROUTE, raw_route),
        (spin_header::CLIENT_ADDR, Some(client)),
    ] {
        if let Some(value) = value {
            headers.insert(name, value);
        }
    }
    if parts.uri.authority().is_none() && !headers.contains_key(http::header::HOST) {
        headers.insert(http::header::HOST, HeaderValue::from_static("localhost"));
    }
    Request::from_parts(parts, body)
}

fn full(bytes: impl Into<Bytes>) -> WasiBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn text(status: StatusCode, body: &'static str) -> Response<WasiBody> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain")
        .body(full(body))
        .expect("static response")
}

fn json(status: StatusCode, body: String) -> Response<WasiBody> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(full(body))
        .expect("static response")
}

/// An RFC 9457 problem made by the host itself.
fn problem(status: StatusCode, kind: &str, detail: &str) -> Response<WasiBody> {
    let body = serde_json::json!({
        "type": format!("urn:crm-host:problem:{kind}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/problem+json")
        .body(full(body.to_string()))
        .expect("static response")
}

fn internal_error(detail: &str) -> Response<WasiBody> {
    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
}

/// One client connection (HTTP/1.1 with keep-alive), served until it closes
/// or a graceful shutdown has let its in-flight request finish.
pub fn connection(
    app: Arc<App>,
    stream: TcpStream,
    client: SocketAddr,
) -> impl GracefulConnection<Error = hyper::Error> + Send + 'static {
    let client = HeaderValue::from_str(&client.to_string()).expect("an address is a valid header");
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let app = Arc::clone(&app);
        let client = client.clone();
        async move {
            let request = request.map(|body| body.map_err(HttpError::from).boxed_unsync());
            Ok::<_, Infallible>(app.handle(request, Origin::Client(client)).await)
        }
    });
    hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
}
