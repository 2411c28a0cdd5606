-- GOV.UK Notify's precompiled letters and received text messages (issue 18).
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
