-- `Idempotency-Key` on `POST /api/interactions` (components/interactions/http,
-- components/interactions/store/src/write.rs): the first answer to a key,
-- kept in the same transaction as the append it answers, so a retried
-- append answers with the first entry instead of recording it twice.
-- `key_hash` is SHA-256 over the caller, the operation and the key;
-- `fingerprint` SHA-256 over the method, path, query and body.
CREATE TABLE interaction_idempotency (
    key_hash    TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    created_at  INTEGER NOT NULL      -- ms since the epoch
);
