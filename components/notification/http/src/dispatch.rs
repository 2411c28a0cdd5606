//! `POST /api/notifications/dispatch`: everything that is due, for a
//! scheduler (cron, a Kubernetes CronJob) to call every minute or so:
//!
//! 1. `consent.withdrawn` events from the outbox (cursor `notification` in
//!    `outbox_cursors`) cancel the contact's queued messages for that
//!    purpose (and channel, when the event names one);
//! 2. messages `sending`/`pending` for 72 hours become `temporary-failure`;
//! 3. queued messages that are due (scheduled, or waiting to be retried)
//!    are claimed, their consent is asked again, and they are delivered;
//! 4. final messages whose interaction could not be recorded are recorded;
//! 5. status callbacks that are due are tried.
//!
//! Claiming a message moves its `next_attempt_at` past the provider timeout
//! first, so dispatches that overlap never hand the same message over twice.

use crm_component_support::{Action, Ctx, Target, integer, json, now_ms, query, text};
use crm_http::Problem;
use notification_rules::{NotificationStatus, SENDING_TIMEOUT_MS};
use serde_json::json;
use spin_sdk::http::Response;
use spin_sdk::sqlite::{Connection, Value};

use crate::actor::Actor;
use crate::send::{claim_ms, consent_withdrawn, in_transaction};
use crate::store::{self, Message};
use crate::{callbacks, config, delivery, records};

const CONSUMER: &str = "notification";
const WITHDRAWN: &str = "consent.withdrawn";

pub fn dispatch(ctx: &mut Ctx) -> Result<Response, Problem> {
    ctx.require(
        Action::NotificationDispatch,
        Target::General,
        "notifications/dispatch",
    )?;
    let actor = Actor::of(ctx);
    let db = ctx.db()?;
    let now = now_ms();
    let withdrawn = cancel_withdrawn(db, &actor, now)?;
    let timed_out = time_out(db, &actor, now)?;
    let due = claim_due(db)?;
    let mut refused = Vec::new();
    let mut deliverable = Vec::new();
    for message in due {
        match consent_withdrawn(&message)? {
            Some(reason) => refused.push((message, format!("consent-refused:{reason}"))),
            None => deliverable.push(message),
        }
    }
    let attempted = deliverable.len();
    let delivered = delivery::deliver(db, &actor, deliverable)?;
    // After the hand-over, so that the refusals' status callbacks (outbound
    // HTTP) do not stand between the consent checks and it.
    let cancelled = cancel(db, &actor, refused, now_ms())?;
    let count = |wanted: &dyn Fn(&Message) -> bool| delivered.iter().filter(|m| wanted(m)).count();
    let recorded = records::catch_up(db, &actor)?;
    let callbacks = callbacks::deliver_due(db)?;
    Ok(json(
        200,
        &json!({
            "withdrawals_cancelled": withdrawn,
            "consent_cancelled": cancelled,
            "timed_out": timed_out,
            "attempted": attempted,
            "handed_over": count(&|m| m.status != NotificationStatus::Created && !m.status.is_final()),
            "completed": count(&|m| m.status.is_final() && m.status != NotificationStatus::TechnicalFailure),
            "retrying": count(&|m| m.status == NotificationStatus::Created),
            "technical_failures": count(&|m| m.status == NotificationStatus::TechnicalFailure),
            "interactions_recorded": recorded,
            "callbacks": callbacks,
        }),
    ))
}

/// Cancels queued messages, recording why; returns how many.
fn cancel(
    db: &Connection,
    actor: &Actor,
    messages: Vec<(Message, String)>,
    now: i64,
) -> Result<usize, Problem> {
    if messages.is_empty() {
        return Ok(0);
    }
    let cancelled = in_transaction(db, |db| {
        let mut cancelled = Vec::new();
        for (message, reason) in messages {
            let Some(mut fresh) = store::load(db, &message.id)? else {
                continue;
            };
            if fresh.move_to(db, NotificationStatus::Cancelled, now, Some(&reason))? {
                fresh.failure_reason = Some(reason);
                fresh.save_progress(db)?;
                crate::callbacks::enqueue(db, &fresh, now)?;
                cancelled.push(fresh);
            }
        }
        Ok::<_, Problem>(cancelled)
    })?;
    records::finalise(db, actor, &cancelled);
    callbacks::deliver_for(db, &cancelled)?;
    Ok(cancelled.len())
}

/// Reads `consent.withdrawn` events past the cursor and cancels what they
/// withdraw. Events whose payload names no contact and purpose are passed
/// over (and logged).
fn cancel_withdrawn(db: &Connection, actor: &Actor, now: i64) -> Result<usize, Problem> {
    let to_cancel = in_transaction(db, |db| {
        let cursor = query(
            db,
            "SELECT last_id FROM outbox_cursors WHERE consumer = ?",
            &[Value::Text(CONSUMER.into())],
        )?
        .rows
        .first()
        .and_then(|r| integer(&r.values[0]))
        .unwrap_or(0);
        let events = query(
            db,
            "SELECT id, aggregate_id, payload FROM outbox_events WHERE topic = ? AND id > ? ORDER BY id LIMIT 1000",
            &[Value::Text(WITHDRAWN.into()), Value::Integer(cursor)],
        )?;
        let mut to_cancel = Vec::new();
        let mut last_id = cursor;
        for row in &events.rows {
            let v = &row.values;
            let event_id = integer(&v[0]).unwrap_or_default();
            last_id = last_id.max(event_id);
            let payload: serde_json::Value =
                serde_json::from_str(&text(&v[2]).unwrap_or_default()).unwrap_or_default();
            let field = |name: &str| {
                payload
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let contact = field("contact_id").or_else(|| text(&v[1]));
            let (Some(contact), Some(purpose)) = (contact, field("purpose")) else {
                eprintln!(
                    "outbox event {event_id} ({WITHDRAWN}) names no contact and purpose; passed over"
                );
                continue;
            };
            let mut condition = "status = 'created' AND contact_id = ? AND purpose = ?".to_string();
            let mut params = vec![Value::Text(contact), Value::Text(purpose)];
            if let Some(channel) = field("channel") {
                condition.push_str(" AND channel = ?");
                params.push(Value::Text(channel));
            }
            for message in store::load_where(db, &condition, &params)? {
                to_cancel.push((
                    message,
                    format!("consent withdrawn (outbox event {event_id})"),
                ));
            }
        }
        query(
            db,
            "INSERT INTO outbox_cursors (consumer, last_id) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id",
            &[Value::Text(CONSUMER.into()), Value::Integer(last_id)],
        )?;
        Ok::<_, Problem>(to_cancel)
    })?;
    cancel(db, actor, to_cancel, now)
}

/// In flight for 72 hours with no receipt: `temporary-failure`.
fn time_out(db: &Connection, actor: &Actor, now: i64) -> Result<usize, Problem> {
    let finals = in_transaction(db, |db| {
        let stale = store::load_where(
            db,
            "status IN ('sending', 'pending') AND sent_at <= ? LIMIT 1000",
            &[Value::Integer(now - SENDING_TIMEOUT_MS)],
        )?;
        let mut finals = Vec::new();
        for mut message in stale {
            let since = message.sent_at.unwrap_or(message.created_at);
            if let Some(status) = message.status.timed_out(since, now)
                && message.move_to(db, status, now, Some("no receipt within 72 hours"))?
            {
                message.save_progress(db)?;
                callbacks::enqueue(db, &message, now)?;
                finals.push(message);
            }
        }
        Ok::<_, Problem>(finals)
    })?;
    records::finalise(db, actor, &finals);
    callbacks::deliver_for(db, &finals)?;
    Ok(finals.len())
}

/// The queued messages that are due, held for this dispatch.
fn claim_due(db: &Connection) -> Result<Vec<Message>, Problem> {
    let (batch, _) = config::dispatch_batch()?;
    let claim_ms = claim_ms()?;
    in_transaction(db, |db| {
        // Read under the write lock, not at the run's start: the hold must
        // last its full window from the claim, which can come seconds later.
        let now = now_ms();
        let hold_until = now + claim_ms;
        let due = store::load_where(
            db,
            "status = 'created' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            &[Value::Integer(now), Value::Integer(batch as i64)],
        )?;
        for chunk in due.chunks(500) {
            let mut params = vec![Value::Integer(hold_until)];
            params.extend(chunk.iter().map(|m| Value::Text(m.id.clone())));
            query(
                db,
                &format!(
                    "UPDATE notifications SET next_attempt_at = ? WHERE id IN ({})",
                    vec!["?"; chunk.len()].join(",")
                ),
                &params,
            )?;
        }
        Ok(due)
    })
}
