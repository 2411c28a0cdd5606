//! Notification on a real host with real local providers: templates and
//! previews, consent-checked sends, idempotent retries, the portal inbox,
//! scheduling, withdrawal, retries to exhaustion, receipts, the Notify v2
//! API and its authentication, audit and idempotency, the Notify relay,
//! status callbacks and their origin, and (on a host of their own) rate
//! and daily limits. Issue 7's gaps: status callbacks retried on 429 and
//! 5xx until delivered or given up (a host of their own), do-not-contact
//! entries at send time, `/v2` idempotency keys, SMS and letters to a
//! contact's address on record, and (on a second shared host, as they
//! dispatch) `/v2` `scheduled_for`, the 72-hour time-out and one
//! interaction per send; and (on a host of its own) a withdrawal answered
//! while a dispatch run is under way. Issue 18's precompiled letters,
//! letters' PDFs and received text messages (`notify_letters`), and files
//! sent by email (`notify_files`).

mod input_bounds;
mod notification;
mod notify_compat;
mod notify_files;
mod notify_letters;
