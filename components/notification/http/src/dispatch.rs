//! `POST /api/notifications/dispatch`: everything that is due, for a
//! scheduler (cron, a Kubernetes CronJob) to call every minute or so:
//!
//! 1. `consent.withdrawn` events from the outbox (cursor `notification` in
//!    `outbox_cursors`) cancel the contact's queued messages for that
//!    purpose (and channel, when the event names one), and case status
//!    changes for the citizen queue their messages (`case_updates`);
//! 2. messages `sending`/`pending` for 72 hours become `temporary-failure`;
//! 3. queued messages that are due (scheduled, or waiting to be retried)
//!    are claimed, their consent is asked again, and they are delivered;
//! 4. final messages whose interaction could not be recorded are recorded;
//! 5. status callbacks that are due are tried.
//!
//! Claiming a message moves its `next_attempt_at` past the provider timeout
//! first, so dispatches that overlap never hand the same message over twice.

use crm_component_support::{Action, Ctx, Target, json, now_ms};
use crm_http::Problem;
use notification_rules::{NotificationStatus, SENDING_TIMEOUT_MS};
use notification_store::{Message, messages, withdrawals};
use serde_json::json;
use spin_sdk::http::Response;
use spin_sdk::sqlite::Connection;

use crate::actor::Actor;
use crate::send::{claim_ms, consent_withdrawn};
use crate::{callbacks, case_updates, config, delivery, in_transaction, records, store_problem};

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
    let case_updates = case_updates::queue(db, &actor, now)?;
    let queued_case_updates = case_updates.len();
    let timed_out = time_out(db, &actor, now)?;
    let mut due = claim_due(db)?;
    due.extend(case_updates);
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
    // Files sent by email, once their retention period has ended.
    let documents_deleted =
        notification_store::documents::delete_expired(db, now).map_err(store_problem)?;
    Ok(json(
        200,
        &json!({
            "withdrawals_cancelled": withdrawn,
            "documents_deleted": documents_deleted,
            "case_updates_queued": queued_case_updates,
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
    to_cancel: Vec<(Message, String)>,
    now: i64,
) -> Result<usize, Problem> {
    if to_cancel.is_empty() {
        return Ok(0);
    }
    let cancelled = in_transaction(db, || {
        let mut cancelled = Vec::new();
        for (message, reason) in to_cancel {
            let Some(mut fresh) = messages::load(db, &message.id).map_err(store_problem)? else {
                continue;
            };
            let moved = fresh
                .move_to(db, NotificationStatus::Cancelled, now, Some(&reason))
                .map_err(store_problem)?;
            if moved {
                fresh.failure_reason = Some(reason);
                fresh.save_progress(db).map_err(store_problem)?;
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
    let to_cancel = in_transaction(db, || {
        let cursor = withdrawals::cursor(db).map_err(store_problem)?;
        let events = withdrawals::after(db, cursor, 1000).map_err(store_problem)?;
        let mut to_cancel = Vec::new();
        let mut last_id = cursor;
        for event in events {
            last_id = last_id.max(event.event_id);
            let (Some(contact), Some(purpose)) = (&event.contact_id, &event.purpose) else {
                eprintln!(
                    "outbox event {} ({}) names no contact and purpose; passed over",
                    event.event_id,
                    withdrawals::TOPIC
                );
                continue;
            };
            let queued = messages::queued_for(db, contact, purpose, event.channel.as_deref())
                .map_err(store_problem)?;
            for message in queued {
                to_cancel.push((
                    message,
                    format!("consent withdrawn (outbox event {})", event.event_id),
                ));
            }
        }
        withdrawals::set_cursor(db, last_id).map_err(store_problem)?;
        Ok::<_, Problem>(to_cancel)
    })?;
    cancel(db, actor, to_cancel, now)
}

/// In flight for 72 hours with no receipt: `temporary-failure`.
fn time_out(db: &Connection, actor: &Actor, now: i64) -> Result<usize, Problem> {
    let finals = in_transaction(db, || {
        let stale =
            messages::in_flight_since(db, now - SENDING_TIMEOUT_MS).map_err(store_problem)?;
        let mut finals = Vec::new();
        for mut message in stale {
            let since = message.sent_at.unwrap_or(message.created_at);
            if let Some(status) = message.status.timed_out(since, now)
                && message
                    .move_to(db, status, now, Some("no receipt within 72 hours"))
                    .map_err(store_problem)?
            {
                message.save_progress(db).map_err(store_problem)?;
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
    messages::claim_due(db, batch, claim_ms, now_ms).map_err(store_problem)
}
