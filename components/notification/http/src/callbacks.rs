//! Status callbacks to the sending service (Notify's delivery receipts to
//! a service): when a message of a `/v2` service with a callback URL
//! reaches its final status, Notify's JSON is POSTed there with the
//! service's bearer token. Tried at once, retried by dispatch on connection
//! failures, timeouts, 5xx and 429 until the callback retry policy gives
//! up (state `failed`); other answers are final.

use crm_component_support::now_ms;
use crm_http::Problem;
use notification_rules::{NextStep, StatusCallback, Verdict};
use notification_store::Message;
use notification_store::callbacks::{self, Attempt, CallbackState, DueCallback, Owed};
use notification_store::services::has_callback_url;
use spin_sdk::sqlite::Connection;

use crate::http_out::{self, HttpCall};
use crate::{config, in_transaction, services, store_problem};

/// Queues the callback a final message owes its service, if it has a URL.
/// Inside the caller's transaction.
pub fn enqueue(db: &Connection, message: &Message, now: i64) -> Result<(), Problem> {
    let Some(service_id) = &message.service_id else {
        return Ok(());
    };
    if !has_callback_url(db, service_id).map_err(store_problem)? {
        return Ok(());
    }
    let to = if message.channel == crm_templates::TemplateType::Letter {
        message.address_lines().join(", ")
    } else {
        message.recipient.clone()
    };
    let body = StatusCallback {
        id: message.id.clone(),
        reference: message.reference.clone(),
        to,
        status: message.status,
        created_at_ms: message.created_at,
        completed_at_ms: message.completed_at,
        sent_at_ms: message.sent_at,
        notification_type: message.channel,
        template_id: message.template_id.clone(),
        template_version: message.template_version,
    }
    .to_json();
    callbacks::enqueue(db, &message.id, service_id, &body, now).map_err(store_problem)
}

/// How many callbacks ended each way.
#[derive(Debug, Default, serde::Serialize)]
pub struct CallbackTally {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Tries the callbacks owed for `messages` now.
pub fn deliver_for(db: &Connection, messages: &[Message]) -> Result<CallbackTally, Problem> {
    if !messages.iter().any(|m| m.service_id.is_some()) {
        return Ok(CallbackTally::default());
    }
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    deliver(db, Owed::For(&ids))
}

/// Tries every callback that is due.
pub fn deliver_due(db: &Connection) -> Result<CallbackTally, Problem> {
    deliver(db, Owed::All)
}

/// A claimed callback and the call that delivers it (none when the
/// service no longer has a URL).
struct Due {
    id: i64,
    attempts: u32,
    call: Option<HttpCall>,
}

impl Due {
    fn of(callback: DueCallback) -> Result<Self, Problem> {
        let token = callback
            .token_sealed
            .map(|sealed| services::open_callback_token(&callback.service_id, &sealed))
            .transpose()?;
        let body = callback.body;
        let call = callback.url.map(|url| {
            let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
            if let Some(token) = &token {
                headers.push(("authorization".to_string(), format!("Bearer {token}")));
            }
            HttpCall {
                url,
                headers,
                body: body.into_bytes(),
            }
        });
        Ok(Self {
            id: callback.id,
            attempts: callback.attempts,
            call,
        })
    }
}

fn deliver(db: &Connection, owed: Owed<'_>) -> Result<CallbackTally, Problem> {
    let now = now_ms();
    let claim_until = now + config::provider_timeout_ms()? as i64 + 60_000;
    // Claim the due callbacks, so an overlapping dispatch leaves them be.
    let due = in_transaction(db, || {
        callbacks::claim(db, owed, now, claim_until)
            .map_err(store_problem)?
            .into_iter()
            .map(Due::of)
            .collect::<Result<Vec<_>, Problem>>()
    })?;
    let mut tally = CallbackTally::default();
    if due.is_empty() {
        return Ok(tally);
    }
    let calls: Vec<HttpCall> = due.iter().filter_map(|d| d.call.clone()).collect();
    let (_, concurrency) = config::dispatch_batch()?;
    let mut results =
        http_out::post_all(calls, config::provider_timeout_ms()?, concurrency).into_iter();
    let policy = config::callback_retry()?;
    let now = now_ms();
    in_transaction(db, || {
        for callback in &due {
            let attempts = callback.attempts + 1;
            let (state, next_attempt_at, result) = match callback.call.as_ref().and(results.next())
            {
                None => (
                    CallbackState::Failed,
                    None,
                    "the service has no callback URL".to_string(),
                ),
                Some(result) if result.outcome.verdict() == Verdict::Accepted => {
                    (CallbackState::Delivered, None, result.detail)
                }
                Some(result) => {
                    match policy.after(result.outcome, attempts, now, callback.id as u64) {
                        NextStep::RetryAt(at) => (CallbackState::Pending, Some(at), result.detail),
                        NextStep::Done | NextStep::GiveUp => {
                            (CallbackState::Failed, None, result.detail)
                        }
                    }
                }
            };
            match state {
                CallbackState::Delivered => tally.delivered += 1,
                CallbackState::Pending => tally.retrying += 1,
                CallbackState::Failed => tally.failed += 1,
            }
            let attempt = Attempt {
                state,
                attempts,
                next_attempt_at,
                result,
            };
            callbacks::record_attempt(db, callback.id, &attempt, now).map_err(store_problem)?;
        }
        Ok::<_, Problem>(())
    })?;
    Ok(tally)
}
