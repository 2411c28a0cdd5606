//! Status callbacks to the sending service (Notify's delivery receipts to
//! a service): when a message of a `/v2` service with a callback URL
//! reaches its final status, Notify's JSON is POSTed there with the
//! service's bearer token. Tried at once, retried by dispatch on connection
//! failures, timeouts, 5xx and 429 until the callback retry policy gives
//! up (state `failed`); other answers are final.

use crm_component_support::{integer, now_ms, query, text};
use crm_http::Problem;
use notification_rules::{NextStep, StatusCallback, Verdict};
use spin_sdk::sqlite::{Connection, Value};

use crate::http_out::{self, HttpCall};
use crate::send::in_transaction;
use crate::store::Message;
use crate::{config, services};

/// Queues the callback a final message owes its service, if it has a URL.
/// Inside the caller's transaction.
pub fn enqueue(db: &Connection, message: &Message, now: i64) -> Result<(), Problem> {
    let Some(service_id) = &message.service_id else {
        return Ok(());
    };
    let has_url = query(
        db,
        "SELECT 1 FROM notify_services WHERE id = ? AND callback_url IS NOT NULL",
        &[Value::Text(service_id.clone())],
    )?;
    if has_url.rows.is_empty() {
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
    query(
        db,
        "INSERT INTO notification_callbacks (notification_id, service_id, body, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)",
        &[
            Value::Text(message.id.clone()),
            Value::Text(service_id.clone()),
            Value::Text(body),
            Value::Integer(now),
            Value::Integer(now),
            Value::Integer(now),
        ],
    )
    .map(drop)
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
    let ids: Vec<String> = messages
        .iter()
        .map(|m| format!("'{}'", m.id.replace('\'', "")))
        .collect();
    deliver(db, &format!("notification_id IN ({})", ids.join(",")))
}

/// Tries every callback that is due.
pub fn deliver_due(db: &Connection) -> Result<CallbackTally, Problem> {
    deliver(db, "1 = 1")
}

struct Due {
    id: i64,
    attempts: u32,
    call: Option<HttpCall>,
}

fn deliver(db: &Connection, which: &str) -> Result<CallbackTally, Problem> {
    let now = now_ms();
    let claim_until = now + config::provider_timeout_ms()? as i64 + 60_000;
    // Claim the due callbacks, so an overlapping dispatch leaves them be.
    let due = in_transaction(db, |db| {
        let rows = query(
            db,
            &format!(
                "SELECT c.id, c.attempts, c.body, s.callback_url, s.callback_token_sealed, s.id
                 FROM notification_callbacks c JOIN notify_services s ON s.id = c.service_id
                 WHERE c.state = 'pending' AND c.next_attempt_at <= ? AND {which}
                 ORDER BY c.next_attempt_at LIMIT 500"
            ),
            &[Value::Integer(now)],
        )?;
        let mut due = Vec::new();
        for row in &rows.rows {
            let v = &row.values;
            let id = integer(&v[0]).unwrap_or_default();
            query(
                db,
                "UPDATE notification_callbacks SET next_attempt_at = ? WHERE id = ?",
                &[Value::Integer(claim_until), Value::Integer(id)],
            )?;
            let token = text(&v[4])
                .map(|sealed| {
                    services::open_callback_token(&text(&v[5]).unwrap_or_default(), &sealed)
                })
                .transpose()?;
            let call = text(&v[3]).map(|url| {
                let mut headers =
                    vec![("content-type".to_string(), "application/json".to_string())];
                if let Some(token) = &token {
                    headers.push(("authorization".to_string(), format!("Bearer {token}")));
                }
                HttpCall {
                    url,
                    headers,
                    body: text(&v[2]).unwrap_or_default().into_bytes(),
                }
            });
            due.push(Due {
                id,
                attempts: integer(&v[1]).unwrap_or(0) as u32,
                call,
            });
        }
        Ok::<_, Problem>(due)
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
    in_transaction(db, |db| {
        for callback in &due {
            let attempts = callback.attempts + 1;
            let (state, next, result) = match callback.call.as_ref().and(results.next()) {
                None => (
                    "failed",
                    None,
                    "the service has no callback URL".to_string(),
                ),
                Some(result) if result.outcome.verdict() == Verdict::Accepted => {
                    ("delivered", None, result.detail)
                }
                Some(result) => {
                    match policy.after(result.outcome, attempts, now, callback.id as u64) {
                        NextStep::RetryAt(at) => ("pending", Some(at), result.detail),
                        NextStep::Done | NextStep::GiveUp => ("failed", None, result.detail),
                    }
                }
            };
            match state {
                "delivered" => tally.delivered += 1,
                "pending" => tally.retrying += 1,
                _ => tally.failed += 1,
            }
            query(
                db,
                "UPDATE notification_callbacks SET state = ?, attempts = ?, next_attempt_at = ?, last_result = ?, updated_at = ? WHERE id = ?",
                &[
                    Value::Text(state.into()),
                    Value::Integer(attempts.into()),
                    next.map_or(Value::Null, Value::Integer),
                    Value::Text(result),
                    Value::Integer(now),
                    Value::Integer(callback.id),
                ],
            )?;
        }
        Ok::<_, Problem>(())
    })?;
    Ok(tally)
}
