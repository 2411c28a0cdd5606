//! One-click unsubscribe links: each nonce is redeemed once, recorded in the
//! transaction of the withdrawal it made.

use consent_rules::{Channel, ContactId, Nonce, PurposeId};
use crm_sql::Sql;

use crate::{StoreError, run};

/// Whether a link's nonce was redeemed already.
pub fn nonce_used(db: &impl Sql, nonce: &Nonce) -> Result<bool, StoreError> {
    let rows = run(
        db,
        "SELECT 1 FROM consent_link_redemptions WHERE nonce = ?",
        &[nonce.to_string().into()],
    )?;
    Ok(!rows.is_empty())
}

/// A link's use.
#[derive(Debug, Clone, Copy)]
pub struct Redemption<'a> {
    pub nonce: &'a Nonce,
    pub at_ms: i64,
    pub contact_id: &'a ContactId,
    pub purpose: &'a PurposeId,
    pub channel: Channel,
    /// The record withdrawn, if one was in force.
    pub record_id: Option<&'a str>,
    pub request_id: &'a str,
}

pub fn insert_redemption(db: &impl Sql, used: Redemption<'_>) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO consent_link_redemptions (nonce, redeemed_at, contact_id, purpose, channel, record_id, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            used.nonce.to_string().into(),
            used.at_ms.into(),
            used.contact_id.to_string().into(),
            used.purpose.to_string().into(),
            used.channel.to_string().into(),
            used.record_id.into(),
            used.request_id.into(),
        ],
    )
    .map(drop)
}
