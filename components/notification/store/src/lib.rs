//! The notification capability's tables (`migrations/0007_notifications.sql`,
//! `0009_notification_interaction_claims.sql`), the one place their rows
//! are read and written; `notification-http` parses, decides with
//! `notification-rules` and renders, and calls this crate for every
//! statement.
//!
//! - [`messages`]: the outbox (`notifications`) and each message's status
//!   history: sends (idempotent by key), reads, the portal inbox and its
//!   read marks, the Notify `/v2` listing, dispatch claims, time-outs, and
//!   the claims that record each final message's interaction once.
//! - [`templates`]: template versions, immutable, newest first.
//! - [`services`]: Notify services, guest lists and API keys (sealed
//!   secrets stay sealed here: the sealing key is the component's).
//! - [`senders`]: services' email reply-to addresses, text message
//!   senders and letter contact blocks.
//! - [`letters`]: precompiled letters' PDFs.
//! - [`documents`]: files sent by email, until their retention ends.
//! - [`received_texts`]: text messages received at services' numbers.
//! - [`limits`]: the daily counts.
//! - [`callbacks`]: status callbacks owed to services, their claims and
//!   retries.
//! - [`withdrawals`]: `consent.withdrawn` events read from the outbox past
//!   this capability's cursor.
//!
//! Time and ids come from the caller. Transactions are the caller's
//! (`crm_sql::transaction`), except where a function says it runs one.

pub mod callbacks;
pub mod case_updates;
pub mod documents;
pub mod letters;
pub mod limits;
pub mod messages;
pub mod outbox;
pub mod received_texts;
pub mod senders;
pub mod services;
pub mod templates;
pub mod withdrawals;

#[cfg(test)]
mod tests;

use crm_sql::SqlError;
use thiserror::Error;

pub use messages::{Message, StatusEvent};
pub use templates::StoredTemplate;

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database refused a statement; its words name tables and
    /// columns, so they are for the log, not for a caller.
    #[error("database: {0}")]
    Sql(#[from] SqlError),
    /// A stored row that cannot be read back.
    #[error("stored {0}")]
    Corrupt(String),
}
