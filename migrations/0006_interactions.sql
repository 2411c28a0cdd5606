-- The interaction log (issue 6): each contact's entries form a hash chain
-- (components/interactions/rules/src/chain.rs); components/interactions/store
-- reads and writes these tables. Times are ms since the epoch (UTC), hashes
-- raw 32-byte SHA-256 digests.

-- The 0001 placeholder, superseded below; kept (renamed) rather than dropped
-- because nothing in this log is destroyed.
ALTER TABLE interactions RENAME TO interactions_0001_placeholder;

-- One row per contact with a log: the chain's tip, so an append reads one
-- row, and the integer key the other tables use to stay compact.
CREATE TABLE interaction_chains (
    contact_key INTEGER PRIMARY KEY,
    contact_id  TEXT NOT NULL UNIQUE,
    length      INTEGER NOT NULL,      -- the last entry's sequence
    head_hash   BLOB NOT NULL          -- the last entry's hash
);

-- Every entry, append-only: interactions, amendments and disposals. The one
-- change ever made to a row is a disposal's tombstone: the content columns
-- become NULL and disposed_by names the disposal (a trigger enforces it).
CREATE TABLE interaction_entries (
    contact_key     INTEGER NOT NULL,
    sequence        INTEGER NOT NULL,  -- 1, 2, … per contact
    id              TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('interaction', 'amendment', 'disposal')),
    recorded_at     INTEGER NOT NULL,
    recorded_by     TEXT NOT NULL,
    -- An interaction's facts, kept after disposal.
    channel         TEXT,
    direction       TEXT,
    occurred_at     INTEGER,
    officer_id      TEXT,
    category        TEXT,
    case_ref        TEXT,
    notification_id TEXT,
    -- What an amendment amends or a disposal disposes of (hashed), and the
    -- sequence of the interaction it is ultimately about (derived, indexed).
    target_id       TEXT,
    root_sequence   INTEGER,
    -- A disposal's records authority and reason.
    authority_class TEXT,
    reason          TEXT,
    -- Content: an interaction's (tags space-separated, documents JSON) or an
    -- amendment's patch (JSON). NULL once disposed of.
    subject         TEXT,
    notes           TEXT,
    outcome         TEXT,
    tags            TEXT,
    documents       TEXT,
    patch           TEXT,
    disposed_by     TEXT,
    content_hash    BLOB NOT NULL,
    prev_hash       BLOB NOT NULL,
    hash            BLOB NOT NULL,
    PRIMARY KEY (contact_key, sequence)
) WITHOUT ROWID;

-- An interaction's amendments and its disposal.
CREATE INDEX interaction_entries_by_root ON interaction_entries (contact_key, root_sequence, sequence)
    WHERE root_sequence IS NOT NULL;

CREATE TRIGGER interaction_entries_no_delete BEFORE DELETE ON interaction_entries
BEGIN
    SELECT RAISE(ABORT, 'interaction entries are never deleted; dispose of them under a records authority');
END;

CREATE TRIGGER interaction_entries_only_tombstoned BEFORE UPDATE ON interaction_entries
WHEN NOT (
    OLD.disposed_by IS NULL AND NEW.disposed_by IS NOT NULL
    AND NEW.subject IS NULL AND NEW.notes IS NULL AND NEW.outcome IS NULL
    AND NEW.tags IS NULL AND NEW.documents IS NULL AND NEW.patch IS NULL
    AND NEW.contact_key IS OLD.contact_key AND NEW.sequence IS OLD.sequence
    AND NEW.id IS OLD.id AND NEW.kind IS OLD.kind
    AND NEW.recorded_at IS OLD.recorded_at AND NEW.recorded_by IS OLD.recorded_by
    AND NEW.channel IS OLD.channel AND NEW.direction IS OLD.direction
    AND NEW.occurred_at IS OLD.occurred_at AND NEW.officer_id IS OLD.officer_id
    AND NEW.category IS OLD.category AND NEW.case_ref IS OLD.case_ref
    AND NEW.notification_id IS OLD.notification_id
    AND NEW.target_id IS OLD.target_id AND NEW.root_sequence IS OLD.root_sequence
    AND NEW.authority_class IS OLD.authority_class AND NEW.reason IS OLD.reason
    AND NEW.content_hash IS OLD.content_hash AND NEW.prev_hash IS OLD.prev_hash
    AND NEW.hash IS OLD.hash
)
BEGIN
    SELECT RAISE(ABORT, 'interaction entries are append-only; only a disposal may remove content');
END;

-- The timeline: one row per interaction with the sort and filter columns of
-- its corrected view (a projection of the entries, rewritten when an
-- amendment or a disposal changes them). Newest first is a backward scan.
CREATE TABLE interaction_timeline (
    contact_key INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    sequence    INTEGER NOT NULL,
    channel     TEXT NOT NULL,
    direction   TEXT NOT NULL,
    category    TEXT NOT NULL,
    case_ref    TEXT,
    PRIMARY KEY (contact_key, occurred_at, sequence)
) WITHOUT ROWID;

-- Each timeline filter is a range of one index (each holds the primary key,
-- so a page's positions are read from the index alone).
CREATE INDEX interaction_timeline_by_channel ON interaction_timeline (contact_key, channel, occurred_at, sequence);
CREATE INDEX interaction_timeline_by_direction ON interaction_timeline (contact_key, direction, occurred_at, sequence);
CREATE INDEX interaction_timeline_by_category ON interaction_timeline (contact_key, category, occurred_at, sequence);
CREATE INDEX interaction_timeline_by_case ON interaction_timeline (contact_key, case_ref, occurred_at, sequence)
    WHERE case_ref IS NOT NULL;
-- Trends: counts by channel or category over a time range, covered.
CREATE INDEX interaction_timeline_by_time ON interaction_timeline (occurred_at, channel, category);

-- Disposal freezes on a contact or a case. Lifting one records who, when
-- and why; a hold is never deleted.
CREATE TABLE interaction_legal_holds (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT,
    case_ref    TEXT,
    reason      TEXT NOT NULL,
    placed_at   INTEGER NOT NULL,
    placed_by   TEXT NOT NULL,
    lifted_at   INTEGER,
    lifted_by   TEXT,
    lift_reason TEXT,
    CHECK ((contact_id IS NULL) <> (case_ref IS NULL))
);

CREATE INDEX interaction_legal_holds_by_contact ON interaction_legal_holds (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX interaction_legal_holds_by_case ON interaction_legal_holds (case_ref) WHERE case_ref IS NOT NULL;

CREATE TRIGGER interaction_legal_holds_no_delete BEFORE DELETE ON interaction_legal_holds
BEGIN
    SELECT RAISE(ABORT, 'legal holds are lifted, never deleted');
END;

CREATE TRIGGER interaction_legal_holds_lift_once BEFORE UPDATE ON interaction_legal_holds
WHEN NOT (
    OLD.lifted_at IS NULL AND NEW.lifted_at IS NOT NULL AND NEW.lifted_by IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.contact_id IS OLD.contact_id AND NEW.case_ref IS OLD.case_ref
    AND NEW.reason IS OLD.reason AND NEW.placed_at IS OLD.placed_at AND NEW.placed_by IS OLD.placed_by
)
BEGIN
    SELECT RAISE(ABORT, 'a legal hold can only be lifted, once');
END;

-- Settings the log keeps for itself: the development cursor key, made on
-- first use when the `interaction_cursor_key` variable is not set.
CREATE TABLE interaction_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
