//! Outbound HTTP with a deadline, many calls in flight at once. Hosts must
//! be listed in the component's `allowed_outbound_hosts` (set from Spin
//! variables in `spin.toml`); a host that is not answers as a connection
//! failure.

use std::future::Future;
use std::task::Poll;

use futures::StreamExt;
use notification_rules::AttemptOutcome;
use spin_executor::CancelOnDropToken;
use spin_sdk::http::{Method, Request, Response};
use wasi::clocks::monotonic_clock;

/// One POST to make.
#[derive(Debug, Clone)]
pub struct HttpCall {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What came back: the outcome for the retry rules and, for an answer, its
/// body.
#[derive(Debug, Clone)]
pub struct CallResult {
    pub outcome: AttemptOutcome,
    pub body: Vec<u8>,
    pub detail: String,
}

/// Resolves after `ms` milliseconds on the monotonic clock.
fn sleep(ms: u64) -> impl Future<Output = ()> {
    let deadline = monotonic_clock::now().saturating_add(ms.saturating_mul(1_000_000));
    let mut registration: Option<CancelOnDropToken> = None;
    futures::future::poll_fn(move |cx| {
        if monotonic_clock::now() >= deadline {
            drop(registration.take());
            return Poll::Ready(());
        }
        let pollable = monotonic_clock::subscribe_instant(deadline);
        // Kept until the next poll: dropping the token unregisters it.
        registration
            .replace(spin_executor::push_waker_and_get_token(pollable, cx.waker().clone()).into());
        Poll::Pending
    })
}

async fn post(call: HttpCall, timeout_ms: u64) -> CallResult {
    let mut builder = Request::builder();
    builder.method(Method::Post).uri(call.url.as_str());
    for (name, value) in &call.headers {
        builder.header(name.as_str(), value.as_str());
    }
    let request = builder.body(call.body).build();
    let send = spin_sdk::http::send::<_, Response>(request);
    futures::pin_mut!(send);
    let timer = sleep(timeout_ms);
    futures::pin_mut!(timer);
    match futures::future::select(send, timer).await {
        futures::future::Either::Left((Ok(response), _)) => CallResult {
            outcome: AttemptOutcome::Http(*response.status()),
            detail: format!("answered {}", response.status()),
            body: response.into_body(),
        },
        futures::future::Either::Left((Err(e), _)) => CallResult {
            outcome: AttemptOutcome::ConnectionFailed,
            detail: format!("no answer: {e}"),
            body: Vec::new(),
        },
        futures::future::Either::Right(((), _)) => CallResult {
            outcome: AttemptOutcome::TimedOut,
            detail: format!("no answer within {timeout_ms} ms"),
            body: Vec::new(),
        },
    }
}

/// Makes every call, at most `concurrency` at once, each within
/// `timeout_ms`; results come back in the calls' order.
pub fn post_all(calls: Vec<HttpCall>, timeout_ms: u64, concurrency: usize) -> Vec<CallResult> {
    if calls.is_empty() {
        return Vec::new();
    }
    spin_sdk::http::run(async move {
        let mut results: Vec<(usize, CallResult)> =
            futures::stream::iter(calls.into_iter().enumerate())
                .map(|(i, call)| async move { (i, post(call, timeout_ms).await) })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    })
}
