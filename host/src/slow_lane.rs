//! Where a guest runs, and until when.
//!
//! A request's guest starts on the worker thread that serves its
//! connection. One still computing after [`DEMOTE_AFTER`] moves to the slow
//! lane, a thread of its own, and finishes there: however many guests
//! loop at once, they share that one thread and leave the workers (and the
//! other cores) to the quick requests. Without it, eight looping guests on
//! two workers held each worker in turn for a whole epoch tick per guest,
//! and good requests fell from about 630/s to 35/s.
//!
//! Either way the request's deadline is wall-clock: a guest waiting in the
//! host (a sleep, an outbound call, a database lock) is dropped there when
//! its time is up, like one computing, and its instance with it (its SQLite
//! connection rolls back and goes back to the pool).

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, timeout_at};

/// How long a guest may run on its connection's worker before the next
/// epoch tick that finds it computing moves it to the slow lane. Quick
/// requests end long before.
pub const DEMOTE_AFTER: Duration = Duration::from_millis(50);

/// Set by the guest's epoch callback once it has run past [`DEMOTE_AFTER`].
#[derive(Default)]
pub struct Demotion(AtomicBool);

impl Demotion {
    pub fn demote(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn demoted(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Runs `invocation` here until it ends or is demoted, then on the slow
/// lane; at `deadline` drops it (and everything it owns) and answers `None`.
pub async fn run<F>(
    invocation: F,
    deadline: Instant,
    demotion: std::sync::Arc<Demotion>,
) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut invocation = Box::pin(invocation);
    let here = timeout_at(
        deadline,
        std::future::poll_fn(|cx| {
            if demotion.demoted() {
                return Poll::Ready(None);
            }
            invocation.as_mut().poll(cx).map(Some)
        }),
    )
    .await
    .ok()?;
    if let Some(output) = here {
        return Some(output);
    }
    // The timer is the lane's own, so it fires however busy this worker is.
    match lane()
        .spawn(async move { timeout_at(deadline, invocation).await.ok() })
        .await
    {
        Ok(outcome) => outcome,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        // The lane never stops, so nothing cancels its tasks.
        Err(_) => None,
    }
}

/// The slow lane's runtime, started on first use.
fn lane() -> &'static tokio::runtime::Handle {
    static LANE: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    LANE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building the slow lane's runtime");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("crm-slow-lane".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("starting the slow lane's thread");
        handle
    })
}
