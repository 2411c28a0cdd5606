//! `Idempotency-Key` on every POST: the first answer to a key is kept, in
//! the database in the same transaction as the write it answers and in the
//! key-value store for fast replays, and a retry with the same key gets it
//! back instead of writing again. Keys are scoped to the caller and the
//! operation; reusing one for a different request is refused. Only writes
//! are kept: a refused request (400, 409, ...) can be retried with the same
//! key once corrected.

use contacts_store::{Answer, Kept};
use crm_component_support::{Ctx, idempotency_key, now_ms};
use crm_http::{IdempotencyKey, Problem};
use crm_sql::Sql;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};

use crate::reply::respond;

/// How a write ended.
pub enum Outcome {
    /// Written now, with this answer.
    Written(Answer),
    /// Written by an earlier request with the same key.
    Replayed(Answer),
    /// Answered without writing (nothing to keep).
    NotWritten(Answer),
}

pub struct Idempotency(IdempotencyKey);

/// The key-value store's copy of a kept answer.
#[derive(Serialize, Deserialize)]
struct Cached {
    fingerprint: String,
    reply: Answer,
}

impl Idempotency {
    /// The request's key, if it sent one.
    pub fn from_request(
        ctx: &Ctx,
        req: &Request,
        operation: &str,
    ) -> Result<Option<Self>, Problem> {
        Ok(idempotency_key(ctx, req, operation)?.map(Self))
    }

    fn kv_key(&self) -> String {
        format!("contacts:idempotency:{}", self.0.key_hash())
    }

    fn check(&self, fingerprint: &str, reply: Answer) -> Result<Answer, Problem> {
        if fingerprint == self.0.fingerprint() {
            Ok(reply)
        } else {
            Err(Problem::idempotency_key_reused())
        }
    }

    /// The kept answer from the key-value store.
    pub fn cached(&self) -> Result<Option<Answer>, Problem> {
        let store = spin_sdk::key_value::Store::open_default()
            .map_err(|e| Problem::internal(format!("key-value store: {e}")))?;
        let kept = store
            .get(&self.kv_key())
            .map_err(|e| Problem::internal(format!("key-value store: {e}")))?;
        match kept.and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok()) {
            Some(kept) => self.check(&kept.fingerprint, kept.reply).map(Some),
            None => Ok(None),
        }
    }

    /// The kept answer from the database (call inside the write's
    /// transaction, which serialises racing retries).
    pub fn stored(&self, db: &impl Sql) -> Result<Option<Answer>, Problem> {
        match contacts_store::kept(db, &self.0)? {
            None => Ok(None),
            Some(Kept::Answer(answer)) => Ok(Some(answer)),
            Some(Kept::Reused) => Err(Problem::idempotency_key_reused()),
        }
    }

    /// Keeps `answer` in the write's transaction.
    pub fn keep(&self, db: &impl Sql, answer: &Answer) -> Result<(), Problem> {
        Ok(contacts_store::keep(db, &self.0, answer, now_ms())?)
    }

    fn cache(&self, reply: &Answer) {
        let kept = Cached {
            fingerprint: self.0.fingerprint().to_string(),
            reply: reply.clone(),
        };
        // The database holds the answer; a failed cache write costs a read.
        if let Ok(store) = spin_sdk::key_value::Store::open_default()
            && let Ok(bytes) = serde_json::to_vec(&kept)
        {
            let _ = store.set(&self.kv_key(), &bytes);
        }
    }
}

impl Outcome {
    /// The response, marked as a replay when it answers a retry.
    pub fn into_response(self) -> Response {
        match self {
            Outcome::Written(reply) | Outcome::NotWritten(reply) => respond(reply, false),
            Outcome::Replayed(reply) => respond(reply, true),
        }
    }
}

/// Runs a POST that writes, keeping its answer under the request's key.
/// `write` runs its statements, and `keep`'s, in one transaction, after
/// checking [`Idempotency::stored`] there (racing retries serialise on the
/// write lock).
pub fn once(
    ctx: &mut Ctx,
    req: &Request,
    operation: &str,
    write: impl FnOnce(&mut Ctx, Option<&Idempotency>) -> Result<Outcome, Problem>,
) -> Result<Response, Problem> {
    settle(ctx, req, operation, write).map(Outcome::into_response)
}

/// As [`once`], answering how the write ended, for a caller that records
/// what it wrote before answering.
pub fn settle(
    ctx: &mut Ctx,
    req: &Request,
    operation: &str,
    write: impl FnOnce(&mut Ctx, Option<&Idempotency>) -> Result<Outcome, Problem>,
) -> Result<Outcome, Problem> {
    let idempotency = Idempotency::from_request(ctx, req, operation)?;
    if let Some(key) = &idempotency {
        // A retry is answered before its preconditions are checked again
        // (a merge's duplicate is no longer current once merged; an
        // intake's consent and relationship checks may answer otherwise now).
        if let Some(reply) = key.cached()? {
            return Ok(Outcome::Replayed(reply));
        }
        if let Some(reply) = key.stored(ctx.db()?)? {
            key.cache(&reply);
            return Ok(Outcome::Replayed(reply));
        }
    }
    let outcome = write(ctx, idempotency.as_ref())?;
    if let (Outcome::Written(reply), Some(key)) = (&outcome, &idempotency) {
        key.cache(reply);
    }
    Ok(outcome)
}
