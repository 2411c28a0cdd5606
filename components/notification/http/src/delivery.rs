//! Attempting delivery: hand each message to its provider (HTTP calls in
//! flight together, each with the provider timeout), then record what came
//! of it in one transaction: handed over, settled (inbox, simulator), due
//! again after a backoff, or `technical-failure` once the retries are spent.
//! What became final is then recorded in the interaction log and the audit
//! trail, and reported to the sending service.

use crm_component_support::now_ms;
use crm_http::Problem;
use crm_templates::TemplateType;
use notification_rules::{AttemptOutcome, NextStep, NotificationStatus, RetryPolicy};
use notification_store::{Message, letters, messages};
use spin_sdk::sqlite::Connection;

use crate::actor::Actor;
use crate::http_out::{self, CallResult};
use crate::providers::{self, Handover, Provider, handed_over_status};
use crate::{callbacks, config, in_transaction, records, store_problem};

enum Plan {
    Call {
        message: Message,
        provider: Box<dyn Provider>,
        call: usize,
    },
    Settled {
        message: Message,
        provider: &'static str,
        path: Vec<NotificationStatus>,
    },
    Broken {
        message: Message,
        detail: String,
    },
}

/// A seed for the retry jitter, from the message id.
fn jitter_seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Delivers `messages` (held by the caller, `created`), returning them as
/// they now stand.
pub fn deliver(
    db: &Connection,
    actor: &Actor,
    messages: Vec<Message>,
) -> Result<Vec<Message>, Problem> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let started = now_ms();
    let mut plans = Vec::with_capacity(messages.len());
    let mut calls = Vec::new();
    for message in messages {
        let letter_pdf = match message.channel {
            TemplateType::Letter => letters::pdf_of(db, &message.id).map_err(store_problem)?,
            _ => None,
        };
        let plan = match providers::for_message(&message) {
            Err(detail) => Plan::Broken { message, detail },
            Ok(provider) => match provider.hand_over(&message, letter_pdf.as_deref(), started) {
                Err(detail) => Plan::Broken { message, detail },
                Ok(Handover::Settled(path)) => Plan::Settled {
                    provider: provider.name(),
                    message,
                    path,
                },
                Ok(Handover::Http(call)) => {
                    calls.push(call);
                    Plan::Call {
                        message,
                        provider,
                        call: calls.len() - 1,
                    }
                }
            },
        };
        plans.push(plan);
    }
    let (_, concurrency) = config::dispatch_batch()?;
    let results = http_out::post_all(calls, config::provider_timeout_ms()?, concurrency);
    let policy = config::delivery_retry()?;
    let now = now_ms();
    let (updated, finals) = in_transaction(db, || {
        let mut updated = Vec::new();
        let mut finals = Vec::new();
        for plan in plans {
            let Some(message) = apply(db, plan, &results, &policy, now)? else {
                continue;
            };
            if message.status.is_final() {
                callbacks::enqueue(db, &message, now)?;
                finals.push(message.clone());
            }
            updated.push(message);
        }
        Ok::<_, Problem>((updated, finals))
    })?;
    records::finalise(db, actor, &finals);
    callbacks::deliver_for(db, &finals)?;
    Ok(updated)
}

/// Records one attempt on the stored row, unless it moved on meanwhile
/// (cancelled after a withdrawal).
fn apply(
    db: &Connection,
    plan: Plan,
    results: &[CallResult],
    policy: &RetryPolicy,
    now: i64,
) -> Result<Option<Message>, Problem> {
    let id = match &plan {
        Plan::Call { message, .. }
        | Plan::Settled { message, .. }
        | Plan::Broken { message, .. } => message.id.clone(),
    };
    let Some(mut message) = messages::load(db, &id).map_err(store_problem)? else {
        return Ok(None);
    };
    if message.status != NotificationStatus::Created {
        return Ok(None);
    }
    message.attempts += 1;
    message.updated_at = now;
    match plan {
        Plan::Settled { provider, path, .. } => {
            message.provider = Some(provider.to_string());
            message.sent_at = Some(now);
            message.next_attempt_at = None;
            for status in path {
                message
                    .move_to(db, status, now, Some(provider))
                    .map_err(store_problem)?;
            }
        }
        Plan::Call { provider, call, .. } => {
            let result = &results[call];
            message.provider = Some(provider.name().to_string());
            if result.outcome.verdict() == notification_rules::Verdict::Accepted {
                message.provider_reference = provider.reference(&result.body);
                message.sent_at = Some(now);
                message.next_attempt_at = None;
                message.failure_reason = None;
                message
                    .move_to(
                        db,
                        handed_over_status(message.channel),
                        now,
                        Some(provider.name()),
                    )
                    .map_err(store_problem)?;
            } else {
                failed(
                    db,
                    &mut message,
                    result.outcome,
                    &result.detail,
                    policy,
                    now,
                )?;
            }
        }
        Plan::Broken { detail, .. } => {
            failed(
                db,
                &mut message,
                AttemptOutcome::ConnectionFailed,
                &detail,
                policy,
                now,
            )?;
        }
    }
    message.save_progress(db).map_err(store_problem)?;
    Ok(Some(message))
}

fn failed(
    db: &Connection,
    message: &mut Message,
    outcome: AttemptOutcome,
    detail: &str,
    policy: &RetryPolicy,
    now: i64,
) -> Result<(), Problem> {
    message.failure_reason = Some(format!("attempt {}: {detail}", message.attempts));
    match policy.after(outcome, message.attempts, now, jitter_seed(&message.id)) {
        NextStep::RetryAt(at) => message.next_attempt_at = Some(at),
        NextStep::Done | NextStep::GiveUp => {
            message
                .move_to(db, NotificationStatus::TechnicalFailure, now, Some(detail))
                .map_err(store_problem)?;
        }
    }
    Ok(())
}
