-- Consent (issue 5): the purpose catalogue, privacy notices with text or a
-- URL, consent records with append-only events, per-channel do-not-contact
-- entries and redeemed one-click unsubscribe links. Times are ms since the
-- Unix epoch. Nothing here is updated or deleted: a change is a new row.

-- The 0001 placeholders are kept under new names, never dropped: their rows
-- lack what a consent record now needs (data categories, evidence).
ALTER TABLE consents RENAME TO consents_0001;
ALTER TABLE privacy_notices RENAME TO privacy_notices_0001;

-- Purposes, by revision: the highest revision of an id is current.
CREATE TABLE consent_purposes (
    id           TEXT NOT NULL,          -- slug, or sharing:<agency>
    revision     INTEGER NOT NULL CHECK (revision >= 1),
    category     TEXT NOT NULL CHECK (category IN ('service', 'direct-communication', 'research')),
    lawful_basis TEXT NOT NULL CHECK (lawful_basis IN ('consent', 'primary-purpose',
                     'related-secondary-purpose', 'required-or-authorised-by-law',
                     'permitted-general-situation')),
    description  TEXT NOT NULL,
    revised_at   INTEGER NOT NULL,
    revised_by   TEXT NOT NULL,
    PRIMARY KEY (id, revision)
);

-- Immutable versions; exactly one of text and url.
CREATE TABLE privacy_notices (
    id           TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    language     TEXT NOT NULL,          -- BCP 47
    title        TEXT NOT NULL,
    text         TEXT,
    url          TEXT,
    published_at INTEGER NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (id, version),
    CHECK ((text IS NULL) <> (url IS NULL))
);

INSERT INTO privacy_notices (id, version, language, title, text, url, published_at, published_by)
SELECT id, version, language, title, NULL, url,
       CAST(strftime('%s', published_at) AS INTEGER) * 1000, 'migration'
FROM privacy_notices_0001;

INSERT INTO consent_purposes (id, revision, category, lawful_basis, description, revised_at, revised_by)
VALUES
    ('service-delivery', 1, 'service', 'primary-purpose',
     'Delivering the services you ask us for and managing your case.',
     1793491200000, 'migration'),
    ('status-updates', 1, 'service', 'consent',
     'Messages about the progress of your application or case.',
     1793491200000, 'migration'),
    ('research', 1, 'research', 'consent',
     'Using your information, without contacting you, for research and statistics that improve our services.',
     1793491200000, 'migration'),
    ('newsletters', 1, 'direct-communication', 'consent',
     'Newsletters and news about programmes you may be eligible for.',
     1793491200000, 'migration'),
    ('sharing:services-australia', 1, 'service', 'consent',
     'Giving your contact details to Services Australia so you need not tell them again.',
     1793491200000, 'migration');

-- One decision each. `supersedes` is unique: a record is replaced once, so
-- two decisions racing for the same record cannot both replace it.
CREATE TABLE consent_records (
    id                   TEXT PRIMARY KEY,
    contact_id           TEXT NOT NULL,
    grantor_id           TEXT,
    grantor_relationship TEXT,
    purpose              TEXT NOT NULL,
    lawful_basis         TEXT NOT NULL,
    data_categories      TEXT NOT NULL,  -- JSON array of slugs
    channel              TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'portal', 'phone')),
    decision             TEXT NOT NULL CHECK (decision IN ('given', 'refused')),
    notice_id            TEXT NOT NULL,
    notice_version       INTEGER NOT NULL,
    collection           TEXT NOT NULL,  -- JSON: method and its evidence
    given_at             INTEGER NOT NULL,
    valid_until          INTEGER,
    recorded_at          INTEGER NOT NULL,
    recorded_by          TEXT NOT NULL,  -- the audit actor id
    request_id           TEXT NOT NULL,
    supersedes           TEXT UNIQUE
);

CREATE INDEX consent_records_by_subject ON consent_records (contact_id, purpose, channel, recorded_at);

-- Each record's events, in the order appended (by id).
CREATE TABLE consent_events (
    id            INTEGER PRIMARY KEY,
    record_id     TEXT NOT NULL,
    at            INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT,
    via           TEXT NOT NULL,
    superseded_by TEXT,
    recorded_at   INTEGER NOT NULL,
    request_id    TEXT
);

CREATE INDEX consent_events_by_record ON consent_events (record_id, id);

-- Do not contact this person over this channel, within [since, until).
CREATE TABLE consent_suppressions (
    id         TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'portal', 'phone')),
    reason     TEXT NOT NULL,
    note       TEXT,
    since      INTEGER NOT NULL,
    until      INTEGER,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

CREATE INDEX consent_suppressions_by_contact ON consent_suppressions (contact_id, channel);

-- An entry lifted ends then; once.
CREATE TABLE consent_suppression_lifts (
    suppression_id TEXT PRIMARY KEY,
    lifted_at      INTEGER NOT NULL,
    lifted_by      TEXT NOT NULL,
    reason         TEXT NOT NULL
);

-- Each one-click link works once: its nonce is recorded in the same
-- transaction as the withdrawal it made.
CREATE TABLE consent_link_redemptions (
    nonce       TEXT PRIMARY KEY,
    redeemed_at INTEGER NOT NULL,
    contact_id  TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    record_id   TEXT,                    -- the record withdrawn, if one was in force
    request_id  TEXT NOT NULL
);

CREATE TRIGGER consent_purposes_no_update BEFORE UPDATE ON consent_purposes
BEGIN
    SELECT RAISE(ABORT, 'purposes are revised by a new revision, never changed');
END;

CREATE TRIGGER consent_purposes_no_delete BEFORE DELETE ON consent_purposes
BEGIN
    SELECT RAISE(ABORT, 'purposes are revised by a new revision, never removed');
END;

CREATE TRIGGER privacy_notices_no_update BEFORE UPDATE ON privacy_notices
BEGIN
    SELECT RAISE(ABORT, 'privacy notice versions are immutable');
END;

CREATE TRIGGER privacy_notices_no_delete BEFORE DELETE ON privacy_notices
BEGIN
    SELECT RAISE(ABORT, 'privacy notice versions are immutable');
END;

CREATE TRIGGER consent_records_no_update BEFORE UPDATE ON consent_records
BEGIN
    SELECT RAISE(ABORT, 'consent records are never overwritten: record a new decision');
END;

CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
BEGIN
    SELECT RAISE(ABORT, 'consent records are never removed');
END;

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent events are append-only');
END;

CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent events are append-only');
END;

CREATE TRIGGER consent_suppressions_no_update BEFORE UPDATE ON consent_suppressions
BEGIN
    SELECT RAISE(ABORT, 'suppressions end by a lift, never by a change');
END;

CREATE TRIGGER consent_suppressions_no_delete BEFORE DELETE ON consent_suppressions
BEGIN
    SELECT RAISE(ABORT, 'suppressions end by a lift, never by removal');
END;

CREATE TRIGGER consent_suppression_lifts_no_update BEFORE UPDATE ON consent_suppression_lifts
BEGIN
    SELECT RAISE(ABORT, 'lifts are append-only');
END;

CREATE TRIGGER consent_suppression_lifts_no_delete BEFORE DELETE ON consent_suppression_lifts
BEGIN
    SELECT RAISE(ABORT, 'lifts are append-only');
END;

CREATE TRIGGER consent_link_redemptions_no_update BEFORE UPDATE ON consent_link_redemptions
BEGIN
    SELECT RAISE(ABORT, 'redeemed links are append-only');
END;

CREATE TRIGGER consent_link_redemptions_no_delete BEFORE DELETE ON consent_link_redemptions
BEGIN
    SELECT RAISE(ABORT, 'redeemed links are append-only');
END;
