-- Which kinds of case citizens may open about themselves in the portal, and
-- the queue such a case joins (citizens name no queue), so that a request
-- to correct personal information (APP 13) reaches the staff who decide
-- it (issue 19). Other types, and types added later, stay staff-only until
-- an administrator says otherwise.
ALTER TABLE case_types ADD COLUMN citizen_openable INTEGER NOT NULL DEFAULT 0
    CHECK (citizen_openable IN (0, 1));
ALTER TABLE case_types ADD COLUMN citizen_queue_id TEXT REFERENCES case_queues (id);

INSERT INTO case_queues (id, name, ordering, created_at)
VALUES ('records-corrections', 'Corrections of personal information (APP 13)',
        '["due", "fifo"]', CAST(strftime('%s', 'now') AS INTEGER) * 1000);

UPDATE case_types SET citizen_openable = 1 WHERE key IN ('general-enquiry', 'correction-request');
UPDATE case_types SET citizen_queue_id = 'records-corrections' WHERE key = 'correction-request';
