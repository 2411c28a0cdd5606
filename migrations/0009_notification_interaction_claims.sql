-- Recording each final message's outbound interaction once
-- (components/notification/src/records.rs): the request that records it
-- first claims the message until `interaction_claim` (ms since the epoch),
-- so racing receipts and dispatches never append it twice; a claim left by
-- a crash lapses, and a later dispatch records the message.
ALTER TABLE notifications ADD COLUMN interaction_claim INTEGER;

-- What every dispatch looks for: final messages to a contact whose
-- interaction is not yet noted (few at any time).
CREATE INDEX notifications_unrecorded ON notifications (completed_at)
    WHERE interaction_id IS NULL AND contact_id IS NOT NULL AND completed_at IS NOT NULL;
