-- The first schema: the records each capability keeps. Times are RFC 3339
-- UTC text; ids are opaque text. Nothing is ever updated in place except
-- where a later migration says so: corrections are new rows.

CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    archetype    TEXT NOT NULL CHECK (archetype IN ('individual', 'business', 'government', 'partner')),
    display_name TEXT NOT NULL,
    email        TEXT,
    created_at   TEXT NOT NULL
);

-- Append-only and hash-chained: hash = SHA-256(prev_hash || canonical entry).
CREATE TABLE audit_entries (
    sequence    INTEGER PRIMARY KEY,
    recorded_at INTEGER NOT NULL,
    request_id  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    purpose     TEXT,
    action      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE TABLE privacy_notices (
    id        TEXT NOT NULL,
    version   INTEGER NOT NULL,
    language  TEXT NOT NULL,
    title     TEXT NOT NULL,
    url       TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

INSERT INTO privacy_notices (id, version, language, title, url, published_at)
VALUES ('general', 1, 'en', 'How we handle your personal information', 'https://crm.gov.au/privacy/general/v1', '2026-11-01T00:00:00Z');

-- A new decision is a new row; the newest row for (contact, purpose, channel) rules.
CREATE TABLE consents (
    id             TEXT PRIMARY KEY,
    contact_id     TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    channel        TEXT NOT NULL,
    decision       TEXT NOT NULL CHECK (decision IN ('given', 'refused', 'withdrawn')),
    notice_id      TEXT NOT NULL,
    notice_version INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    expires_at     INTEGER
);

CREATE INDEX consents_by_subject ON consents (contact_id, purpose, channel, recorded_at);

CREATE TABLE interactions (
    id              TEXT PRIMARY KEY,
    contact_id      TEXT NOT NULL,
    channel         TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    subject         TEXT NOT NULL,
    notes           TEXT,
    notification_id TEXT,
    actor_id        TEXT NOT NULL
);

CREATE INDEX interactions_by_contact ON interactions (contact_id, occurred_at);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL,
    channel    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    body       TEXT NOT NULL,
    status     TEXT NOT NULL,
    consent_id TEXT,
    created_at INTEGER NOT NULL
);
