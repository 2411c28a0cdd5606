-- Which portal messages their citizen has read (issue 19's "my messages").
-- A row per message read, the first reading's time kept; marking it unread
-- again deletes the row. Kept apart from `notifications` so that a reader
-- never writes to the outbox the dispatcher claims rows of.
CREATE TABLE notification_inbox_reads (
    notification_id TEXT PRIMARY KEY REFERENCES notifications (id),
    read_at         INTEGER NOT NULL
);
