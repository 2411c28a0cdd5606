-- Case management (issue 17): case types, statuses and the transition
-- table, business calendars, SLA policies, queues, cases, their
-- participants, activities and service-level clocks.
-- components/cases/store is the one place these tables are read and
-- written; components/cases/rules and components/cases/sla decide what goes
-- in. Times are ms since the epoch (UTC), as in outbox_events. Cases, their
-- activities and their clocks are public records (Archives Act): none is
-- ever deleted.

-- Statuses, in the order lists show them. category says whether a case in
-- the status is still open for work; pauses_sla stops its clocks (waiting on
-- the citizen or a third party).
CREATE TABLE case_statuses (
    key        TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    category   TEXT NOT NULL CHECK (category IN ('open', 'closed')),
    pauses_sla INTEGER NOT NULL CHECK (pauses_sla IN (0, 1)),
    position   INTEGER NOT NULL
);

-- Who may move a case of which type from which status to which: a NULL
-- case_type is every type. The id keeps the table's order, which is the
-- order a refusal lists the allowed targets in.
CREATE TABLE case_transitions (
    id          INTEGER PRIMARY KEY,
    role        TEXT NOT NULL,
    case_type   TEXT,
    from_status TEXT NOT NULL REFERENCES case_statuses (key),
    to_status   TEXT NOT NULL REFERENCES case_statuses (key)
);

-- One row per rule: NULL (every type) compares as '' so it is unique too.
CREATE UNIQUE INDEX case_transitions_unique
    ON case_transitions (role, IFNULL(case_type, ''), from_status, to_status);

-- Workflow::defaults(…) of cases-rules, row for row and in its order (a
-- store test reads them back and compares).
INSERT INTO case_statuses (key, label, category, pauses_sla, position) VALUES
    ('new', 'New', 'open', 0, 1),
    ('assigned', 'Assigned', 'open', 0, 2),
    ('in-progress', 'In progress', 'open', 0, 3),
    ('awaiting-citizen', 'Awaiting the citizen', 'open', 1, 4),
    ('awaiting-third-party', 'Awaiting a third party', 'open', 1, 5),
    ('resolved', 'Resolved', 'closed', 0, 6),
    ('closed', 'Closed', 'closed', 0, 7),
    ('withdrawn', 'Withdrawn', 'closed', 0, 8),
    ('rejected', 'Rejected', 'closed', 0, 9),
    ('duplicate', 'Duplicate', 'closed', 0, 10);

INSERT INTO case_transitions (role, from_status, to_status) VALUES
    ('case-worker', 'new', 'assigned'),
    ('case-worker', 'new', 'in-progress'),
    ('case-worker', 'assigned', 'in-progress'),
    ('case-worker', 'in-progress', 'awaiting-citizen'),
    ('case-worker', 'in-progress', 'awaiting-third-party'),
    ('case-worker', 'awaiting-citizen', 'in-progress'),
    ('case-worker', 'awaiting-third-party', 'in-progress'),
    ('case-worker', 'in-progress', 'resolved'),
    ('case-worker', 'resolved', 'closed'),
    ('case-worker', 'resolved', 'in-progress'),
    ('case-worker', 'new', 'withdrawn'),
    ('case-worker', 'new', 'rejected'),
    ('case-worker', 'new', 'duplicate'),
    ('case-worker', 'assigned', 'withdrawn'),
    ('case-worker', 'assigned', 'rejected'),
    ('case-worker', 'assigned', 'duplicate'),
    ('case-worker', 'in-progress', 'withdrawn'),
    ('case-worker', 'in-progress', 'rejected'),
    ('case-worker', 'in-progress', 'duplicate'),
    ('case-worker', 'awaiting-citizen', 'withdrawn'),
    ('case-worker', 'awaiting-citizen', 'rejected'),
    ('case-worker', 'awaiting-citizen', 'duplicate'),
    ('case-worker', 'awaiting-third-party', 'withdrawn'),
    ('case-worker', 'awaiting-third-party', 'rejected'),
    ('case-worker', 'awaiting-third-party', 'duplicate'),
    ('administrator', 'new', 'assigned'),
    ('administrator', 'new', 'in-progress'),
    ('administrator', 'assigned', 'in-progress'),
    ('administrator', 'in-progress', 'awaiting-citizen'),
    ('administrator', 'in-progress', 'awaiting-third-party'),
    ('administrator', 'awaiting-citizen', 'in-progress'),
    ('administrator', 'awaiting-third-party', 'in-progress'),
    ('administrator', 'in-progress', 'resolved'),
    ('administrator', 'resolved', 'closed'),
    ('administrator', 'resolved', 'in-progress'),
    ('administrator', 'new', 'withdrawn'),
    ('administrator', 'new', 'rejected'),
    ('administrator', 'new', 'duplicate'),
    ('administrator', 'assigned', 'withdrawn'),
    ('administrator', 'assigned', 'rejected'),
    ('administrator', 'assigned', 'duplicate'),
    ('administrator', 'in-progress', 'withdrawn'),
    ('administrator', 'in-progress', 'rejected'),
    ('administrator', 'in-progress', 'duplicate'),
    ('administrator', 'awaiting-citizen', 'withdrawn'),
    ('administrator', 'awaiting-citizen', 'rejected'),
    ('administrator', 'awaiting-citizen', 'duplicate'),
    ('administrator', 'awaiting-third-party', 'withdrawn'),
    ('administrator', 'awaiting-third-party', 'rejected'),
    ('administrator', 'awaiting-third-party', 'duplicate'),
    ('intake-officer', 'new', 'assigned'),
    ('intake-officer', 'new', 'rejected'),
    ('intake-officer', 'new', 'duplicate'),
    ('intake-officer', 'new', 'withdrawn'),
    ('citizen', 'awaiting-citizen', 'in-progress'),
    ('citizen', 'new', 'withdrawn'),
    ('citizen', 'assigned', 'withdrawn'),
    ('citizen', 'in-progress', 'withdrawn'),
    ('citizen', 'awaiting-citizen', 'withdrawn'),
    ('citizen', 'awaiting-third-party', 'withdrawn');

-- When an agency works: an IANA zone, working intervals per weekday
-- (week: seven lists of {"start", "end"} local times, Monday first), the
-- state and agency days it adds (holidays: ["2026-06-08", …]) and whether
-- Australia's national public holidays (shipped in cases-sla) apply.
CREATE TABLE case_calendars (
    id                TEXT PRIMARY KEY,
    zone              TEXT NOT NULL,
    week              TEXT NOT NULL,
    holidays          TEXT NOT NULL DEFAULT '[]',
    includes_national INTEGER NOT NULL CHECK (includes_national IN (0, 1))
);

INSERT INTO case_calendars (id, zone, week, holidays, includes_national) VALUES
    ('default', 'Australia/Sydney', '[[{"start": "08:30", "end": "17:00"}], [{"start": "08:30", "end": "17:00"}], [{"start": "08:30", "end": "17:00"}], [{"start": "08:30", "end": "17:00"}], [{"start": "08:30", "end": "17:00"}], [], []]', '[]', 1);

-- What kinds of case the agency handles. activity_kinds, participant_roles
-- and statuses are JSON lists of keys; timeline is the CiviCase-style
-- template: [{"kind", "subject", "offset_days", "from"}], "from" being
-- "opened" or the activity kind the offset counts from.
CREATE TABLE case_types (
    key                TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    activity_kinds     TEXT NOT NULL,
    timeline           TEXT NOT NULL DEFAULT '[]',
    participant_roles  TEXT NOT NULL DEFAULT '[]',
    statuses           TEXT NOT NULL,
    closure_policy     TEXT NOT NULL CHECK (closure_policy IN ('close-children', 'block-while-child-open')),
    calendar_id        TEXT NOT NULL REFERENCES case_calendars (id),
    reopen_within_days INTEGER NOT NULL CHECK (reopen_within_days >= 0),
    created_at         INTEGER NOT NULL
);

-- A general enquiry; and a request to correct personal information (APP 13),
-- which must be answered within 30 days and whose child cases (one per
-- system holding the information) close with it.
INSERT INTO case_types (key, title, activity_kinds, timeline, participant_roles, statuses,
        closure_policy, calendar_id, reopen_within_days, created_at) VALUES
    ('general-enquiry', 'General enquiry', '["note", "call", "email", "letter", "meeting", "task", "citizen-message", "notification", "assignment"]', '[]',
        '["applicant", "representative", "case-officer"]', '["new", "assigned", "in-progress", "awaiting-citizen", "awaiting-third-party", "resolved", "closed", "withdrawn", "rejected", "duplicate"]',
        'block-while-child-open', 'default', 10, CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('correction-request', 'Correction of personal information (APP 13)', '["note", "call", "email", "letter", "meeting", "task", "citizen-message", "notification", "assignment"]',
        '[{"kind": "letter", "subject": "Acknowledge the request", "offset_days": 0, "from": "opened"}, {"kind": "task", "subject": "Decide on the correction (APP 13: 30 days)", "offset_days": 30, "from": "opened"}]',
        '["applicant", "representative", "case-officer", "records-officer"]', '["new", "assigned", "in-progress", "awaiting-citizen", "awaiting-third-party", "resolved", "closed", "withdrawn", "rejected", "duplicate"]',
        'close-children', 'default', 10, CAST(strftime('%s', 'now') AS INTEGER) * 1000);

-- Service levels per case type and priority, in business minutes on the
-- type's calendar; every clock warns warn_before_minutes before it is due.
CREATE TABLE case_sla_policies (
    case_type              TEXT NOT NULL REFERENCES case_types (key),
    priority               TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    first_response_minutes INTEGER NOT NULL CHECK (first_response_minutes >= 0),
    resolution_minutes     INTEGER NOT NULL CHECK (resolution_minutes >= 0),
    next_update_minutes    INTEGER CHECK (next_update_minutes >= 0),
    warn_before_minutes    INTEGER NOT NULL CHECK (warn_before_minutes >= 0),
    PRIMARY KEY (case_type, priority)
);

INSERT INTO case_sla_policies (case_type, priority, first_response_minutes,
        resolution_minutes, next_update_minutes, warn_before_minutes) VALUES
    ('general-enquiry', 'urgent', 60, 480, NULL, 60),
    ('general-enquiry', 'high', 240, 1440, NULL, 60),
    ('general-enquiry', 'normal', 480, 4800, NULL, 60),
    ('general-enquiry', 'low', 960, 9600, NULL, 60),
    ('correction-request', 'urgent', 60, 480, NULL, 60),
    ('correction-request', 'high', 240, 1440, NULL, 60),
    ('correction-request', 'normal', 480, 4800, NULL, 60),
    ('correction-request', 'low', 960, 9600, NULL, 60);

-- The last reference number handed out in each year. The number is taken
-- in the transaction that inserts the case, so a rolled-back insert gives
-- it back and references stay gapless.
CREATE TABLE case_reference_counters (
    year        INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
);

-- Work queues; ordering is the JSON list of rules cases are taken in
-- ("due", "priority", "fifo"), first rule first.
CREATE TABLE case_queues (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    ordering   TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Who works a queue, how many open cases each may hold at once, and when
-- round robin last gave them one (NULL: never, so first in line).
CREATE TABLE case_queue_members (
    queue_id         TEXT NOT NULL REFERENCES case_queues (id),
    officer_id       TEXT NOT NULL,
    capacity         INTEGER NOT NULL CHECK (capacity >= 0),
    last_assigned_at INTEGER,
    PRIMARY KEY (queue_id, officer_id)
);

CREATE INDEX case_queue_members_by_officer ON case_queue_members (officer_id);

CREATE TABLE cases (
    id                 TEXT PRIMARY KEY,
    reference          TEXT NOT NULL UNIQUE,
    case_type          TEXT NOT NULL REFERENCES case_types (key),
    subject            TEXT NOT NULL,
    details            TEXT NOT NULL,
    priority           TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    -- urgent 0, high 1, normal 2, low 3: what the priority ordering sorts on.
    priority_rank      INTEGER NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),
    channel            TEXT,
    contact_id         TEXT,
    queue_id           TEXT REFERENCES case_queues (id),
    assignee           TEXT,
    parent_id          TEXT REFERENCES cases (id),
    confidentiality    TEXT NOT NULL CHECK (confidentiality IN ('standard', 'restricted')),
    status             TEXT NOT NULL REFERENCES case_statuses (key),
    -- The status's category, kept on the row so queue pages filter on it
    -- inside one index range.
    status_category    TEXT NOT NULL CHECK (status_category IN ('open', 'closed')),
    version            INTEGER NOT NULL,
    opened_at          INTEGER NOT NULL,
    first_response_at  INTEGER,
    resolved_at        INTEGER,
    closed_at          INTEGER,
    resolution_code    TEXT,
    resolution_summary TEXT,
    -- The earliest due time of the case's running clocks (NULL: none runs),
    -- denormalised for the queue page's due ordering.
    due_at             INTEGER,
    created_by         TEXT NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- The queue page's orderings, each one index range per (queue, category)
-- walked in key order: due (a case with no running clock last), priority
-- (then first come, first served) and first come, first served. The
-- expression must match cases-store's queries exactly.
CREATE INDEX cases_queue_by_due ON cases
    (queue_id, status_category, IFNULL(due_at, 9223372036854775807), id);
CREATE INDEX cases_queue_by_priority ON cases
    (queue_id, status_category, priority_rank, opened_at, id);
CREATE INDEX cases_queue_by_fifo ON cases (queue_id, status_category, opened_at, id);
-- Queue pages filtered to some statuses.
CREATE INDEX cases_queue_by_status ON cases
    (queue_id, status, IFNULL(due_at, 9223372036854775807), id);
-- Take-next: a queue's unassigned open cases, in each rule's order. It
-- runs under the write lock with the queue's officers waiting, so it must
-- not walk past the cases already taken; the conditions and expressions
-- must match cases-store's query exactly.
CREATE INDEX cases_unassigned_by_due ON cases
    (queue_id, status_category, IFNULL(due_at, 9223372036854775807), id)
    WHERE status_category = 'open' AND assignee IS NULL;
CREATE INDEX cases_unassigned_by_priority ON cases
    (queue_id, status_category, priority_rank, opened_at, id)
    WHERE status_category = 'open' AND assignee IS NULL;
CREATE INDEX cases_unassigned_by_fifo ON cases (queue_id, status_category, opened_at, id)
    WHERE status_category = 'open' AND assignee IS NULL;
CREATE INDEX cases_by_contact ON cases (contact_id, opened_at, id);
CREATE INDEX cases_by_parent ON cases (parent_id, status_category);
CREATE INDEX cases_by_assignee ON cases (assignee, status_category);

CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases
BEGIN
    SELECT RAISE(ABORT, 'cases are public records: close them, never delete them');
END;

-- Contacts and staff on a case, with their role and when it applies.
CREATE TABLE case_participants (
    id        INTEGER PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES cases (id),
    kind      TEXT NOT NULL CHECK (kind IN ('contact', 'staff')),
    party_id  TEXT NOT NULL,
    role      TEXT NOT NULL,
    from_date TEXT,
    to_date   TEXT
);

CREATE INDEX case_participants_by_case ON case_participants (case_id);

-- A case's timeline: seq numbers its activities 1, 2, … in the order they
-- were added (the UNIQUE index also serves "the last 50, newest first").
-- interaction_id is set once a done touchpoint is in the contact's
-- interaction log, and only then, so a retry logs it once.
CREATE TABLE case_activities (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('scheduled', 'done', 'cancelled')),
    subject         TEXT NOT NULL,
    body            TEXT,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    citizen_visible INTEGER NOT NULL CHECK (citizen_visible IN (0, 1)),
    actor           TEXT NOT NULL,
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('staff', 'citizen', 'system')),
    due_at          INTEGER,
    completed_at    INTEGER,
    created_at      INTEGER NOT NULL,
    interaction_id  TEXT,
    UNIQUE (case_id, seq)
);

-- Done touchpoints (a call, a letter, a message: anything but a note, a
-- task or an assignment, inbound or outbound) not yet in the interaction
-- log: the conditions must match cases-store's query exactly.
CREATE INDEX case_activities_unlogged ON case_activities (created_at, id)
    WHERE status = 'done' AND interaction_id IS NULL
        AND direction IN ('inbound', 'outbound')
        AND kind NOT IN ('note', 'task', 'assignment');

CREATE TRIGGER case_activities_no_delete BEFORE DELETE ON case_activities
BEGIN
    SELECT RAISE(ABORT, 'case activities are public records: cancel them, never delete them');
END;

-- One clock per case and target, as cases-sla's Clock (paused_since: a
-- pause still running; stopped: 'met' or 'cancelled', frozen from
-- stopped_at). due_at, warn_at and state are what the clock said at its
-- last change, so the sweep reads them from indexes without a calendar.
CREATE TABLE case_clocks (
    case_id             TEXT NOT NULL REFERENCES cases (id),
    target              TEXT NOT NULL CHECK (target IN ('first-response', 'resolution', 'next-update')),
    started_at          INTEGER NOT NULL,
    target_minutes      INTEGER NOT NULL CHECK (target_minutes >= 0),
    warn_before_minutes INTEGER NOT NULL CHECK (warn_before_minutes >= 0),
    paused_minutes      INTEGER NOT NULL CHECK (paused_minutes >= 0),
    paused_since        INTEGER,
    stopped             TEXT CHECK (stopped IN ('met', 'cancelled')),
    stopped_at          INTEGER,
    last_change         INTEGER NOT NULL,
    due_at              INTEGER NOT NULL,
    warn_at             INTEGER NOT NULL,
    state               TEXT NOT NULL CHECK (state IN
        ('in-progress', 'warning', 'breached', 'succeeded', 'paused', 'cancelled')),
    CHECK ((stopped IS NULL) = (stopped_at IS NULL)),
    PRIMARY KEY (case_id, target)
);

-- The sweep: running clocks about to warn, and running clocks falling due.
CREATE INDEX case_clocks_to_warn ON case_clocks (warn_at)
    WHERE state = 'in-progress' AND stopped IS NULL AND paused_since IS NULL;
CREATE INDEX case_clocks_to_breach ON case_clocks (due_at)
    WHERE state IN ('in-progress', 'warning') AND stopped IS NULL AND paused_since IS NULL;
-- The summary counts every clock by state and its case's queue: a covering
-- index to scan instead of the table. It must not lead with state, or the
-- planner prefers it to the sweep's partial indexes (a scan of every clock
-- in progress).
CREATE INDEX case_clocks_summary ON case_clocks (case_id, state);

CREATE TRIGGER case_clocks_no_delete BEFORE DELETE ON case_clocks
BEGIN
    SELECT RAISE(ABORT, 'service-level clocks are public records: cancel them, never delete them');
END;

-- What a citizen is asked to agree to before case management tells them of
-- changes to their cases (the notification component sends them, with
-- templates of this purpose, only while consent stands).
INSERT INTO consent_purposes (id, revision, category, lawful_basis, description, revised_at, revised_by)
VALUES ('case-updates', 1, 'service', 'consent',
        'Messages when the status of your case changes: when it needs something from you, is resolved, closed or reopened.',
        1796601600000, 'migration');
