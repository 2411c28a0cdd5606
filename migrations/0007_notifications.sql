-- Notification (issue 7): templates with immutable versions, the outbox of
-- messages with their status history, GOV.UK Notify-compatible services and
-- API keys, daily counts, and status callbacks to services. Times are ms
-- since the epoch.

-- The 0001 placeholder is kept under another name: its rows are records.
ALTER TABLE notifications RENAME TO notifications_0001;

-- A template is a series of versions; a change is a new version, never an
-- update. Ids are UUIDs, as Notify's clients expect.
CREATE TABLE notification_templates (
    id                   TEXT NOT NULL,
    version              INTEGER NOT NULL CHECK (version >= 1),
    type                 TEXT NOT NULL CHECK (type IN ('email', 'sms', 'letter', 'portal')),
    name                 TEXT NOT NULL,
    subject              TEXT,
    body                 TEXT NOT NULL,
    purpose              TEXT NOT NULL,        -- a purpose of the consent catalogue
    letter_contact_block TEXT,
    created_at           INTEGER NOT NULL,
    created_by           TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE INDEX notification_templates_by_type ON notification_templates (type, id);

CREATE TRIGGER notification_templates_no_update BEFORE UPDATE ON notification_templates
BEGIN
    SELECT RAISE(ABORT, 'template versions are immutable');
END;

CREATE TRIGGER notification_templates_no_delete BEFORE DELETE ON notification_templates
BEGIN
    SELECT RAISE(ABORT, 'template versions are immutable');
END;

-- A service that calls the Notify-compatible `/v2` API: the `iss` of its
-- tokens, where its status callbacks go and the bearer token they carry
-- (sealed, see notification-rules's `SealingKey`).
CREATE TABLE notify_services (
    id                    TEXT PRIMARY KEY,   -- UUID
    name                  TEXT NOT NULL,
    callback_url          TEXT,
    callback_token_sealed TEXT,
    created_at            INTEGER NOT NULL,
    created_by            TEXT NOT NULL
);

-- Who a service's team keys may send to besides nobody: its team and
-- guest list (lower-case email addresses, E.164 numbers).
CREATE TABLE notify_guest_list (
    service_id TEXT NOT NULL REFERENCES notify_services (id),
    recipient  TEXT NOT NULL,
    PRIMARY KEY (service_id, recipient)
);

-- A service's API keys. The secret is needed to verify HS256 tokens, so
-- it is sealed rather than hashed. Revocation is a timestamp, effective at
-- once; rows are never deleted.
CREATE TABLE notify_api_keys (
    id            TEXT PRIMARY KEY,
    service_id    TEXT NOT NULL REFERENCES notify_services (id),
    name          TEXT NOT NULL,
    key_type      TEXT NOT NULL CHECK (key_type IN ('live', 'team', 'test')),
    secret_sealed TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    revoked_at    INTEGER,
    revoked_by    TEXT
);

CREATE INDEX notify_api_keys_by_service ON notify_api_keys (service_id);

-- The outbox: one row per message, from acceptance to its final status.
-- `next_attempt_at` is when dispatch should next act on it (NULL: nothing
-- to do until a receipt arrives, or final).
CREATE TABLE notifications (
    id                 TEXT PRIMARY KEY,       -- UUID
    channel            TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'portal')),
    template_id        TEXT NOT NULL,
    template_version   INTEGER NOT NULL,
    purpose            TEXT NOT NULL,
    contact_id         TEXT,                   -- NULL for a raw-address send
    recipient          TEXT NOT NULL,          -- email, E.164 number, contact id (portal) or address lines (JSON)
    subject            TEXT,
    body               TEXT NOT NULL,
    html               TEXT,
    reference          TEXT,
    status             TEXT NOT NULL,
    consent_id         TEXT,
    consent_reason     TEXT,
    sender             TEXT NOT NULL,          -- `service:<id>` or the staff/service actor id
    sender_role        TEXT NOT NULL,
    service_id         TEXT,                   -- for /v2 callers
    api_key_id         TEXT,
    key_type           TEXT,
    created_by_name    TEXT,
    idempotency_key    TEXT,
    request_hash       TEXT,
    scheduled_for      INTEGER,
    next_attempt_at    INTEGER,
    attempts           INTEGER NOT NULL DEFAULT 0,
    provider           TEXT,
    provider_reference TEXT,
    failure_reason     TEXT,
    created_at         INTEGER NOT NULL,
    sent_at            INTEGER,
    completed_at       INTEGER,
    updated_at         INTEGER NOT NULL,
    interaction_id     TEXT
);

-- A retried send finds its first message; the insert fails on a race.
CREATE UNIQUE INDEX notifications_idempotency ON notifications (sender, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX notifications_by_sender ON notifications (sender, created_at);
CREATE INDEX notifications_by_contact ON notifications (contact_id, purpose, status);
CREATE INDEX notifications_by_provider ON notifications (provider, provider_reference);
CREATE INDEX notifications_in_flight ON notifications (status, sent_at)
    WHERE status IN ('sending', 'pending');

-- Every status a message took, in order. Append-only.
CREATE TABLE notification_status_events (
    sequence        INTEGER PRIMARY KEY,
    notification_id TEXT NOT NULL,
    status          TEXT NOT NULL,
    at              INTEGER NOT NULL,
    detail          TEXT
);

CREATE INDEX notification_status_events_by_notification ON notification_status_events (notification_id, sequence);

CREATE TRIGGER notification_status_events_no_update BEFORE UPDATE ON notification_status_events
BEGIN
    SELECT RAISE(ABORT, 'status events are append-only');
END;

-- Messages accepted per service, channel and UTC day (notification-rules's
-- `daily_limit_key`), counted in the transaction that enqueues them.
CREATE TABLE notification_daily_counts (
    counter TEXT PRIMARY KEY,
    count   INTEGER NOT NULL
);

-- Status callbacks owed to services: tried at once, then by dispatch.
CREATE TABLE notification_callbacks (
    id              INTEGER PRIMARY KEY,
    notification_id TEXT NOT NULL,
    service_id      TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_result     TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE INDEX notification_callbacks_due ON notification_callbacks (next_attempt_at)
    WHERE state = 'pending';
