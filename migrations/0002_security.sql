-- Authentication and a fuller audit trail (the security issue).

-- Service clients' API keys: only a SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    owner       TEXT NOT NULL,
    scopes      TEXT NOT NULL,          -- action names separated by spaces
    created_at  INTEGER NOT NULL,       -- ms since the epoch
    expires_at  INTEGER,
    revoked_at  INTEGER,
    description TEXT
);

-- Which contact a citizen's identity (issuer, subject) is linked to. The
-- link never comes from the token itself.
CREATE TABLE citizen_links (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    linked_at  INTEGER NOT NULL,
    linked_by  TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- The contact whose personal information an entry is about (for a
-- citizen's own access log) and why an attempt was denied or failed.
ALTER TABLE audit_entries ADD COLUMN subject_contact_id TEXT;
ALTER TABLE audit_entries ADD COLUMN detail TEXT;
CREATE INDEX audit_by_subject ON audit_entries (subject_contact_id, sequence) WHERE subject_contact_id IS NOT NULL;
CREATE INDEX audit_by_actor ON audit_entries (actor_id, sequence);
CREATE INDEX audit_by_resource ON audit_entries (resource, sequence);
CREATE INDEX audit_by_time ON audit_entries (recorded_at);

-- Signed statements of the chain's length and head at a moment.
CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY,
    size       INTEGER NOT NULL,
    head_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL
);

-- The trail is append-only: the application cannot change or remove an
-- entry. (Someone editing the file can drop these; the hash chain and the
-- signed checkpoints catch that.)
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;

CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
