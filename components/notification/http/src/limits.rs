//! Sending limits.
//!
//! - The request rate, per service and key type, is a token bucket in the
//!   key-value store (notification-rules's `TokenBucket`). Spin's key-value store
//!   has no compare-and-swap, so two requests of one service that read the
//!   bucket at the same moment can both take the same token: the overshoot
//!   is bounded by the number of that service's requests in flight at once
//!   (one per concurrent instance), and each later request sees the bucket
//!   one of them wrote. A rate limit is a guard against floods, so this
//!   bound is acceptable; nothing here is an allowance that must be exact.
//! - The daily count per channel is an allowance, so it is exact: it is a
//!   row in SQLite incremented in the same `BEGIN IMMEDIATE` transaction
//!   that enqueues the message, so concurrent sends serialise on it and a
//!   refused send leaves no count behind.

use crm_http::Problem;
use crm_templates::TemplateType;
use notification_rules::{KeyType, ServiceId, TokenBucket, UtcDay, daily_limit_key};
use notification_store::limits::{count_one, daily_count};
use spin_sdk::sqlite::Connection;

use crate::config;
use crate::send::{SendError, Sender};

/// Takes one request token for the sender, or says how long to wait.
pub fn take_token(sender: &Sender, now: i64) -> Result<(), SendError> {
    let limit = config::rate_limit()?;
    let store = spin_sdk::key_value::Store::open_default()
        .map_err(|e| Problem::unavailable(format!("key-value store: {e}")))?;
    let key = format!(
        "notification:rate:{}:{}",
        sender.sender,
        sender.key_type.as_str()
    );
    let bucket = match store.get(&key) {
        Ok(Some(bytes)) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| TokenBucket::decode(text).ok())
            // A value we cannot read is replaced by a full bucket.
            .unwrap_or_else(|| TokenBucket::full(&limit, now)),
        Ok(None) => TokenBucket::full(&limit, now),
        Err(e) => return Err(Problem::unavailable(format!("key-value store: {e}")).into()),
    };
    match bucket.try_take(now, &limit) {
        Ok(next) => {
            store
                .set(&key, next.encode().as_bytes())
                .map_err(|e| Problem::unavailable(format!("key-value store: {e}")))?;
            Ok(())
        }
        Err(retry_after) => Err(SendError::RateLimited {
            per_minute: (limit.per_sec() * 60.0).round() as u32,
            key_type: sender.key_type,
            retry_after_secs: retry_after.secs().max(1) as u64,
        }),
    }
}

/// The counter a sender's messages on `channel` today are counted under:
/// Notify's key for a `/v2` service (test keys apart), `crm-…` for the
/// CRM's own senders.
fn counter(sender: &Sender, channel: TemplateType, now: i64) -> String {
    let day = UtcDay::of(now);
    match sender.service_id.as_deref().and_then(ServiceId::parse) {
        Some(service) => daily_limit_key(&service, channel, day, sender.key_type),
        None => {
            let test = if sender.key_type == KeyType::Test {
                "-test"
            } else {
                ""
            };
            format!("crm{test}-{channel}-{day}-count")
        }
    }
}

/// Counts one more message, inside the caller's transaction; refuses when
/// the channel's daily limit would be passed.
pub fn count_daily(
    db: &Connection,
    sender: &Sender,
    channel: TemplateType,
    now: i64,
) -> Result<(), SendError> {
    let key = counter(sender, channel, now);
    let sent_today = daily_count(db, &key)?;
    let limits = config::daily_limits()?;
    if limits.check(channel, sent_today, 1).is_err() {
        let midnight = UtcDay::of(now).start_ms() + 24 * 60 * 60 * 1000;
        return Err(SendError::DailyLimit {
            channel,
            limit: limits.limit(channel),
            retry_after_secs: ((midnight - now) / 1000).max(1) as u64,
        });
    }
    count_one(db, &key)?;
    Ok(())
}
