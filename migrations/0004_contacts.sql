-- Contact intake (issue 4). `contacts` keeps the current version of each
-- contact; every version, with who, when and why, is an immutable row of
-- `contact_versions`. Beside them, maintained in the same transaction as
-- each write (components/contacts/rules, store.rs): the match keys that "tell us
-- once" looks candidates up by, the FTS5 name-search rows, tag and
-- category labels, and the idempotency records of POSTs.

-- The fields as JSON (`crm_contacts::ContactFields`), each field's
-- provenance (source, purpose, privacy notice: APP 3 and 5), the version
-- number, the last change, the survivor a merged contact points to, and the
-- row id of its search entry (stable, increasing: the listing order).
-- `display_name` and `email` (the first email) stay as columns.
ALTER TABLE contacts ADD COLUMN record TEXT;
ALTER TABLE contacts ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE contacts ADD COLUMN updated_at TEXT;
ALTER TABLE contacts ADD COLUMN merged_into TEXT;
ALTER TABLE contacts ADD COLUMN search_rowid INTEGER;

-- Contacts from before versioning get a record in the new shape.
UPDATE contacts SET
    record = json_object(
        'archetype', archetype,
        'display_name', display_name,
        'emails', CASE WHEN email IS NULL THEN json('[]') ELSE json_array(email) END),
    updated_at = created_at,
    search_rowid = rowid
WHERE record IS NULL;

CREATE UNIQUE INDEX contacts_by_search_rowid ON contacts (search_rowid);
CREATE INDEX contacts_by_archetype ON contacts (archetype, search_rowid) WHERE merged_into IS NULL;
CREATE INDEX contacts_by_update ON contacts (updated_at, search_rowid) WHERE merged_into IS NULL;

-- Every version of every contact. `change` is what made it: created,
-- corrected, merged (a duplicate folded in: `related_contact`), merged-into
-- (this contact folded into `related_contact`), or migrated.
CREATE TABLE contact_versions (
    contact_id      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    change          TEXT NOT NULL CHECK (change IN ('created', 'corrected', 'merged', 'merged-into', 'migrated')),
    recorded_at     TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    request_id      TEXT,
    reason          TEXT,
    record          TEXT NOT NULL,
    provenance      TEXT NOT NULL,
    related_contact TEXT,
    PRIMARY KEY (contact_id, version)
);

INSERT INTO contact_versions (contact_id, version, change, recorded_at, actor_id, actor_role, reason, record, provenance)
SELECT id, 1, 'migrated', created_at, 'migration-0004', 'system', 'kept before contact versioning', record, provenance
FROM contacts;

CREATE TRIGGER contact_versions_no_update BEFORE UPDATE ON contact_versions
BEGIN
    SELECT RAISE(ABORT, 'contact versions are immutable');
END;

CREATE TRIGGER contact_versions_no_delete BEFORE DELETE ON contact_versions
BEGIN
    SELECT RAISE(ABORT, 'contact versions are immutable');
END;

-- "Tell us once": each current (not merged) contact under every match key
-- of contacts-matching (`em:`, `ph:`, `abn:`, `acn:`, `id:`, `nd:`, `np:`, `on:`).
-- Looked up by key only, never scanned. Derived data: rebuilt on each write.
CREATE TABLE contact_match_keys (
    key        TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    PRIMARY KEY (key, contact_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO contact_match_keys (key, contact_id)
SELECT 'em:' || lower(email), id FROM contacts WHERE email IS NOT NULL;

-- Name search: normalised name words and their Double Metaphone codes;
-- rowid = contacts.search_rowid. Prefixes up to six characters are indexed:
-- a longer prefix names few words, a shorter one without an index makes
-- FTS5 merge every word it starts (4 ms for `smit*` at a million contacts).
CREATE VIRTUAL TABLE contact_search USING fts5(
    names,
    sounds,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4 5 6'
);

INSERT INTO contact_search (rowid, names, sounds)
SELECT search_rowid, lower(display_name), '' FROM contacts;

-- Tags (`t:<tag>`) and categories (`c:<category>`) of current contacts.
CREATE TABLE contact_labels (
    label        TEXT NOT NULL,
    search_rowid INTEGER NOT NULL,
    PRIMARY KEY (label, search_rowid)
) WITHOUT ROWID;

-- The outcome of each POST made with an Idempotency-Key, written in the
-- same transaction as the write it answers (the key-value store holds a
-- copy for fast replays). `key_hash` covers the caller, the operation and
-- the key; `fingerprint` the request.
CREATE TABLE contact_idempotency (
    key_hash    TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    location    TEXT,
    etag        TEXT,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
