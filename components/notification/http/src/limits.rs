//! Sending limits.
//!
//! - The request rate, per service and key type, is a token bucket in the
//!   key-value store (notification-rules's `TokenBucket`), taken from by
//!   `wasi:keyvalue` compare-and-swap: a request that read the bucket
//!   writes it back only if nobody wrote it since, else reads it again, so
//!   replicas and concurrent instances together allow exactly the bucket's
//!   tokens. (An atomic increment cannot keep a bucket that refills with
//!   time; compare-and-swap, from the same `atomics` interface, can.)
//! - The daily count per channel is an allowance, so it is exact: it is a
//!   row in SQLite incremented in the same `BEGIN IMMEDIATE` transaction
//!   that enqueues the message, so concurrent sends serialise on it and a
//!   refused send leaves no count behind.

use crm_http::Problem;
use crm_templates::TemplateType;
use notification_rules::{KeyType, ServiceId, TokenBucket, UtcDay, daily_limit_key};
use notification_store::limits::{count_one, daily_count};
// spin-sdk's own bindings of Spin's `wasi:keyvalue@0.2.0-draft2`.
use spin_sdk::sqlite::Connection;
use spin_sdk::wit::wasi::keyvalue::{atomics, store};

use crate::config;
use crate::send::{SendError, Sender};

/// Swaps lost to other requests before this one gives up and is told to
/// retry: far more than a bucket sees when requests do not all arrive in
/// the same instant.
const MAX_SWAPS: u32 = 64;

/// Takes one request token for the sender, or says how long to wait.
pub fn take_token(sender: &Sender, now: i64) -> Result<(), SendError> {
    let limit = config::rate_limit()?;
    let unavailable = |e: store::Error| -> SendError {
        Problem::unavailable(format!("key-value store: {e:?}")).into()
    };
    let rate_limited = |retry_after_secs: i64| SendError::RateLimited {
        per_minute: (limit.per_sec() * 60.0).round() as u32,
        key_type: sender.key_type,
        retry_after_secs: retry_after_secs.max(1) as u64,
    };
    let key = format!(
        "notification:rate:{}:{}",
        sender.sender,
        sender.key_type.as_str()
    );
    let bucket = store::open("default").map_err(unavailable)?;
    let mut cas = atomics::Cas::new(&bucket, &key).map_err(unavailable)?;
    for _ in 0..MAX_SWAPS {
        let stored = cas.current().map_err(unavailable)?;
        let tokens = stored
            .as_deref()
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|text| TokenBucket::decode(text).ok())
            // A value we cannot read is replaced by a full bucket.
            .unwrap_or_else(|| TokenBucket::full(&limit, now));
        let next = tokens
            .try_take(now, &limit)
            .map_err(|retry_after| rate_limited(retry_after.secs()))?;
        match atomics::swap(cas, next.encode().as_bytes()) {
            Ok(()) => return Ok(()),
            Err(atomics::CasError::CasFailed(fresh)) => cas = fresh,
            Err(atomics::CasError::StoreError(e)) => return Err(unavailable(e)),
        }
    }
    Err(rate_limited(1))
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
