//! A Notify service's email reply-to addresses, text message senders and
//! letter contact blocks (`notify_service_senders`): one table, as the
//! three differ only in what their value is. One of each kind is the
//! service's default.

use crm_sql::{Row, Sql, transaction};

use crate::StoreError;
use crm_sql::{integer, text};

/// What a sender is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    EmailReplyTo,
    SmsSender,
    LetterContact,
}

impl SenderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailReplyTo => "email_reply_to",
            Self::SmsSender => "sms_sender",
            Self::LetterContact => "letter_contact",
        }
    }
}

/// One of a service's senders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub id: String,
    pub service_id: String,
    pub kind: SenderKind,
    /// The address, the sender name or number, or the contact block.
    pub value: String,
    pub is_default: bool,
    pub created_at: i64,
    pub created_by: String,
}

const COLUMNS: &str = "id, service_id, value, is_default, created_at, created_by";

fn from_row(kind: SenderKind, v: &Row) -> Sender {
    Sender {
        id: text(&v[0]).unwrap_or_default(),
        service_id: text(&v[1]).unwrap_or_default(),
        kind,
        value: text(&v[2]).unwrap_or_default(),
        is_default: integer(&v[3]) == Some(1),
        created_at: integer(&v[4]).unwrap_or_default(),
        created_by: text(&v[5]).unwrap_or_default(),
    }
}

/// Adds a sender, in one transaction: the default of its kind if it says
/// so or is the service's first of that kind (the earlier default then is
/// not). Returns it as stored.
pub fn add(db: &impl Sql, sender: &Sender) -> Result<Sender, StoreError> {
    transaction(db, || {
        let first = list(db, &sender.service_id, sender.kind)?.is_empty();
        let is_default = sender.is_default || first;
        if is_default {
            db.run(
                "UPDATE notify_service_senders SET is_default = 0 WHERE service_id = ? AND kind = ? AND is_default = 1",
                &[sender.service_id.as_str().into(), sender.kind.as_str().into()],
            )?;
        }
        db.run(
            "INSERT INTO notify_service_senders (id, service_id, kind, value, is_default, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                sender.id.as_str().into(),
                sender.service_id.as_str().into(),
                sender.kind.as_str().into(),
                sender.value.as_str().into(),
                i64::from(is_default).into(),
                sender.created_at.into(),
                sender.created_by.as_str().into(),
            ],
        )?;
        Ok(Sender {
            is_default,
            ..sender.clone()
        })
    })
}

/// A service's senders of a kind, oldest first.
pub fn list(db: &impl Sql, service_id: &str, kind: SenderKind) -> Result<Vec<Sender>, StoreError> {
    Ok(db
        .run(
            &format!(
                "SELECT {COLUMNS} FROM notify_service_senders WHERE service_id = ? AND kind = ? ORDER BY created_at, id"
            ),
            &[service_id.into(), kind.as_str().into()],
        )?
        .iter()
        .map(|row| from_row(kind, row))
        .collect())
}

/// The service's sender of a kind with this id (another service's is
/// none).
pub fn find(
    db: &impl Sql,
    service_id: &str,
    kind: SenderKind,
    id: &str,
) -> Result<Option<Sender>, StoreError> {
    Ok(db
        .run(
            &format!(
                "SELECT {COLUMNS} FROM notify_service_senders WHERE service_id = ? AND kind = ? AND id = ?"
            ),
            &[service_id.into(), kind.as_str().into(), id.into()],
        )?
        .first()
        .map(|row| from_row(kind, row)))
}

/// The service's default sender of a kind, if it has one.
pub fn default_of(
    db: &impl Sql,
    service_id: &str,
    kind: SenderKind,
) -> Result<Option<Sender>, StoreError> {
    Ok(list(db, service_id, kind)?
        .into_iter()
        .find(|s| s.is_default))
}

/// Every service's senders of a kind: which service a number belongs to is
/// decided by the caller, which compares numbers as Notify spells them.
pub fn all_of_kind(db: &impl Sql, kind: SenderKind) -> Result<Vec<Sender>, StoreError> {
    Ok(db
        .run(
            &format!(
                "SELECT {COLUMNS} FROM notify_service_senders WHERE kind = ? ORDER BY created_at, id"
            ),
            &[kind.as_str().into()],
        )?
        .iter()
        .map(|row| from_row(kind, row))
        .collect())
}
