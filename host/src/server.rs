//! Connection handling: one acceptor hands each connection, in turn, to one of
//! a fixed set of worker threads, each running a single-threaded tokio
//! runtime that serves its connections from start to end.
//!
//! Why not tokio's multi-threaded runtime: with a request being a handful of
//! short tasks, its work stealing and the wake-ups of parked workers cost
//! more than the requests themselves on a small machine. A connection that
//! stays on one thread never needs a cross-thread wake-up; round-robin keeps
//! the threads evenly loaded, and a busy guest still yields to its thread's
//! other requests at every epoch tick.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::request_log;
use crate::trigger_http::{App, connection};

/// How long a stopping worker waits for its idle blocking threads (SQLite).
const WORKER_SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(500);

/// A connection on its way to the worker that will serve it.
struct Handoff {
    stream: std::net::TcpStream,
    client: SocketAddr,
    watcher: Watcher,
}

/// A worker thread and the channel that feeds it connections.
struct Worker {
    connections: mpsc::UnboundedSender<Handoff>,
    thread: JoinHandle<()>,
}

impl Worker {
    fn start(index: usize, app: Arc<App>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (connections, mut incoming) = mpsc::unbounded_channel::<Handoff>();
        let thread = std::thread::Builder::new()
            .name(format!("crm-worker-{index}"))
            .spawn(move || {
                runtime.block_on(async {
                    while let Some(handoff) = incoming.recv().await {
                        // Registers the socket with this thread's reactor.
                        match tokio::net::TcpStream::from_std(handoff.stream) {
                            Ok(stream) => {
                                let connection =
                                    connection(Arc::clone(&app), stream, handoff.client);
                                tokio::spawn(handoff.watcher.watch(connection));
                            }
                            Err(e) => warn("accepted connection unusable", &e),
                        }
                    }
                });
                runtime.shutdown_timeout(WORKER_SHUTDOWN_TIMEOUT);
            })
            .context("starting a worker thread")?;
        Ok(Self {
            connections,
            thread,
        })
    }
}

/// Serves the app until SIGINT or SIGTERM, then drains in-flight requests
/// and checkpoints the stores, leaving no WAL behind.
pub async fn serve(app: Arc<App>, listener: TcpListener, drain_timeout: Duration) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = (0..cores)
        .map(|i| Worker::start(i, Arc::clone(&app)))
        .collect::<Result<Vec<_>>>()?;
    let graceful = GracefulShutdown::new();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    for worker in workers.iter().cycle() {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    warn("accept failed", &e);
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        };
        let _ = stream.set_nodelay(true);
        let handoff = stream.into_std().map(|stream| Handoff {
            stream,
            client,
            watcher: graceful.watcher(),
        });
        match handoff {
            // A worker only stops when this loop has ended.
            Ok(handoff) => {
                let _ = worker.connections.send(handoff);
            }
            Err(e) => warn("accepted connection unusable", &e),
        }
    }
    drop(listener);
    eprintln!(
        "{}",
        serde_json::json!({"level": "info", "msg": "shutting down: draining in-flight requests"})
    );
    if tokio::time::timeout(drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!(
            "{}",
            serde_json::json!({"level": "warn", "msg": "drain timed out; closing remaining connections"})
        );
    }
    for Worker {
        connections,
        thread,
    } in workers
    {
        drop(connections);
        let _ = thread.join();
    }
    app.checkpoint_stores();
    request_log::flush();
    Ok(())
}

fn warn(msg: &str, error: &std::io::Error) {
    eprintln!(
        "{}",
        serde_json::json!({"level": "warn", "msg": msg, "error": error.to_string()})
    );
}
