//! `Idempotency-Key` on every POST: the first answer to a key is kept, in
//! the database in the same transaction as the write it answers and in the
//! key-value store for fast replays, and a retry with the same key gets it
//! back instead of writing again. Keys are scoped to the caller and the
//! operation; reusing one for a different request is refused. Only writes
//! are kept: a refused request (400, 409, ...) can be retried with the same
//! key once corrected.

use contacts_rules::store::{Param, Statement};
use crm_component_support::{Ctx, idempotency_key, now_ms, text};
use crm_http::{IdempotencyKey, Problem};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::{Connection, Value};

use crate::reply::Reply;

/// How a write ended.
pub enum Outcome {
    /// Written now, with this answer.
    Written(Reply),
    /// Written by an earlier request with the same key.
    Replayed(Reply),
    /// Answered without writing (nothing to keep).
    NotWritten(Reply),
}

pub struct Idempotency(IdempotencyKey);

#[derive(Serialize, Deserialize)]
struct Kept {
    fingerprint: String,
    reply: Reply,
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

    fn check(&self, fingerprint: &str, reply: Reply) -> Result<Reply, Problem> {
        if fingerprint == self.0.fingerprint() {
            Ok(reply)
        } else {
            Err(Problem::idempotency_key_reused())
        }
    }

    /// The kept answer from the key-value store.
    pub fn cached(&self) -> Result<Option<Reply>, Problem> {
        let store = spin_sdk::key_value::Store::open_default()
            .map_err(|e| Problem::internal(format!("key-value store: {e}")))?;
        let kept = store
            .get(&self.kv_key())
            .map_err(|e| Problem::internal(format!("key-value store: {e}")))?;
        match kept.and_then(|bytes| serde_json::from_slice::<Kept>(&bytes).ok()) {
            Some(kept) => self.check(&kept.fingerprint, kept.reply).map(Some),
            None => Ok(None),
        }
    }

    /// The kept answer from the database (call inside the write's
    /// transaction, which serialises racing retries).
    pub fn stored(&self, db: &Connection) -> Result<Option<Reply>, Problem> {
        let found = crm_component_support::query(
            db,
            "SELECT fingerprint, status, location, etag, body FROM contact_idempotency WHERE key_hash = ?",
            &[Value::Text(self.0.key_hash().to_string())],
        )?;
        let Some(row) = found.rows.first() else {
            return Ok(None);
        };
        let v = &row.values;
        let reply = Reply {
            status: crm_component_support::integer(&v[1]).unwrap_or(200) as u16,
            location: text(&v[2]),
            etag: text(&v[3]),
            body: serde_json::from_str(&text(&v[4]).unwrap_or_default()).unwrap_or_default(),
        };
        self.check(&text(&v[0]).unwrap_or_default(), reply)
            .map(Some)
    }

    /// Keeps `reply` in the write's transaction.
    pub fn keep(&self, reply: &Reply) -> Statement {
        Statement {
            sql: "INSERT INTO contact_idempotency (key_hash, fingerprint, status, location, etag, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)".into(),
            params: vec![
                Param::Text(self.0.key_hash().to_string()),
                Param::Text(self.0.fingerprint().to_string()),
                Param::Int(i64::from(reply.status)),
                reply.location.as_deref().into(),
                reply.etag.as_deref().into(),
                Param::Text(reply.body.to_string()),
                Param::Int(now_ms()),
            ],
        }
    }

    fn cache(&self, reply: &Reply) {
        let kept = Kept {
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
            Outcome::Written(reply) | Outcome::NotWritten(reply) => reply.into_response(false),
            Outcome::Replayed(reply) => reply.into_response(true),
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
