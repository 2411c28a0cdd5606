-- The outbox: events written in the same transaction as the change they
-- describe (a contact created, corrected or merged; a consent withdrawn),
-- read by consumers that keep their own cursor (other components now,
-- sharing with other agencies later). Append-only.

CREATE TABLE outbox_events (
    id           INTEGER PRIMARY KEY,   -- increasing: consumers page by it
    topic        TEXT NOT NULL,         -- e.g. contact.created, consent.withdrawn
    aggregate_id TEXT NOT NULL,         -- the record the event is about
    payload      TEXT NOT NULL,         -- JSON
    occurred_at  INTEGER NOT NULL,      -- ms since the epoch
    request_id   TEXT
);

CREATE INDEX outbox_by_topic ON outbox_events (topic, id);

-- How far each consumer has read.
CREATE TABLE outbox_cursors (
    consumer TEXT PRIMARY KEY,
    last_id  INTEGER NOT NULL
);

CREATE TRIGGER outbox_events_no_update BEFORE UPDATE ON outbox_events
BEGIN
    SELECT RAISE(ABORT, 'outbox events are append-only');
END;
