-- What GOV.UK Notify's answers show and the CRM did not keep (issue 18):
-- the recipient as the sender wrote it (Notify's `to`; `recipient` keeps the
-- normalised form that consent, guest lists and providers use), the
-- one-click unsubscribe link an email carries, a letter's postage, and a
-- letter template's postage (NULL on older letter templates: second class).
ALTER TABLE notifications ADD COLUMN sent_to TEXT;
ALTER TABLE notifications ADD COLUMN one_click_unsubscribe_url TEXT;
ALTER TABLE notifications ADD COLUMN postage TEXT
    CHECK (postage IN ('first', 'second', 'economy'));
ALTER TABLE notification_templates ADD COLUMN postage TEXT
    CHECK (postage IN ('first', 'second', 'economy'));
