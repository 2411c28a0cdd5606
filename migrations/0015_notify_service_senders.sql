-- A GOV.UK Notify service's email reply-to addresses, text message senders
-- and letter contact blocks (issue 18), administered under
-- `/api/notifications/services/{id}/...`: a `/v2` send may name one of its
-- own service's (`email_reply_to_id`, `sms_sender_id`), else the service's
-- default of that kind goes with it. One per kind is the default. Rows are
-- never deleted: a message names the one it went with.
CREATE TABLE notify_service_senders (
    id         TEXT PRIMARY KEY,               -- UUID, what a send names
    service_id TEXT NOT NULL REFERENCES notify_services (id),
    kind       TEXT NOT NULL CHECK (kind IN ('email_reply_to', 'sms_sender', 'letter_contact')),
    value      TEXT NOT NULL,                  -- the address, sender or contact block
    is_default INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

CREATE INDEX notify_service_senders_by_service ON notify_service_senders (service_id, kind);
CREATE UNIQUE INDEX notify_service_senders_one_default
    ON notify_service_senders (service_id, kind) WHERE is_default = 1;

-- What a message went with (Notify's `reply_to_text`): the reply-to
-- address, the sender a text message is from, a letter's contact block.
ALTER TABLE notifications ADD COLUMN reply_to TEXT;
