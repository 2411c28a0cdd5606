-- GOV.UK Notify's precompiled letters, received text messages and files sent
-- by email (issue 18).
--
-- A precompiled letter's PDF, as its sender posted it (validated: a PDF of
-- at most 2 MiB). A templated letter has no row: its PDF is rendered from
-- the message, whose content never changes.
CREATE TABLE notification_letter_pdfs (
    notification_id TEXT PRIMARY KEY REFERENCES notifications (id),
    pdf             BLOB NOT NULL
);

-- A text message a member of the public sent to one of a service's SMS
-- senders (a number), handed over by a provider on its inbound route. The
-- provider's own id is unique per provider, so a repeated hand-over adds
-- nothing. Rows are never changed.
CREATE TABLE notify_received_texts (
    id                 TEXT PRIMARY KEY,       -- UUID
    service_id         TEXT NOT NULL REFERENCES notify_services (id),
    user_number        TEXT NOT NULL,          -- who sent it, as the provider wrote it
    notify_number      TEXT NOT NULL,          -- the service's number it was sent to
    content            TEXT NOT NULL,
    created_at         INTEGER NOT NULL,       -- when the provider received it (ms)
    provider           TEXT NOT NULL,
    provider_reference TEXT NOT NULL,
    UNIQUE (provider, provider_reference)
);

CREATE INDEX notify_received_texts_by_service ON notify_received_texts (service_id, created_at, id);

CREATE TRIGGER notify_received_texts_no_update BEFORE UPDATE ON notify_received_texts
BEGIN
    SELECT RAISE(ABORT, 'received text messages are immutable');
END;

-- A file sent by email (Notify's `prepare_upload`): the message's
-- personalisation holds a link to it with a secret key, of which only the
-- SHA-256 is kept, so the database alone does not open it. When
-- `confirm_email` is set, the downloader must give that address first.
-- After `expires_at` (the sender's retention period) it is not given out,
-- and dispatch deletes it.
CREATE TABLE notify_documents (
    id              TEXT PRIMARY KEY,          -- UUID, in the link
    service_id      TEXT NOT NULL REFERENCES notify_services (id),
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    key_sha256      TEXT NOT NULL,             -- hex SHA-256 of the link's key
    content         BLOB NOT NULL,
    media_type      TEXT NOT NULL,
    filename        TEXT,
    confirm_email   TEXT,                      -- lower-case; NULL: no confirmation
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);

CREATE INDEX notify_documents_by_expiry ON notify_documents (expires_at);
