-- What GOV.UK Notify's answers show and the CRM did not keep (issue 18): a
-- message's body as Notify shows it (the template's text with the values
-- filled in, Markdown and Windows line ends as written, where `body` is the
-- rendered plain text that providers send; NULL for text messages, whose
-- body is already that, and for messages sent before), and the email address
-- of whoever wrote a template version (Notify's `created_by`), from their
-- token's `email` claim.
ALTER TABLE notifications ADD COLUMN notify_body TEXT;
ALTER TABLE notification_templates ADD COLUMN created_by_email TEXT;
