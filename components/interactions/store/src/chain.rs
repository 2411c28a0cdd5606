//! `interaction_chains`: one row per contact with a log, holding the chain's
//! tip and the integer key the other tables use.

use interactions_rules::values::{ContactId, Sha256Hash};
use interactions_rules::{ChainTip, Entry, GENESIS};

use crate::StoreError;
use crate::rows::hash_from;
use crm_sql::{Sql, Value};

/// A contact that has a log, and its key in the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub key: i64,
    pub id: ContactId,
}

/// The contact's key, if it has a log.
pub(crate) fn find(db: &impl Sql, contact_id: &ContactId) -> Result<Option<Contact>, StoreError> {
    let rows = db.run(
        "SELECT contact_key FROM interaction_chains WHERE contact_id = ?",
        &[contact_id.as_str().into()],
    )?;
    Ok(match rows.first().map(|r| &r[0]) {
        Some(Value::Integer(key)) => Some(Contact {
            key: *key,
            id: contact_id.clone(),
        }),
        _ => None,
    })
}

/// The contact of `key`.
pub(crate) fn by_key(db: &impl Sql, key: i64) -> Result<Contact, StoreError> {
    let rows = db.run(
        "SELECT contact_id FROM interaction_chains WHERE contact_key = ?",
        &[key.into()],
    )?;
    match rows.first().map(|r| &r[0]) {
        Some(Value::Text(id)) => Ok(Contact {
            key,
            id: ContactId::parse(id).map_err(|e| {
                StoreError::Inconsistent(format!("contact key {key} has an invalid id: {}", e.0))
            })?,
        }),
        _ => Err(StoreError::Inconsistent(format!(
            "entries refer to contact key {key}, which has no chain"
        ))),
    }
}

/// The tip of the contact's chain, creating an empty chain for a contact's
/// first entry. Call inside the append's transaction.
pub(crate) fn tip(
    db: &impl Sql,
    contact_id: &ContactId,
) -> Result<(Contact, ChainTip), StoreError> {
    let rows = db.run(
        "SELECT contact_key, length, head_hash FROM interaction_chains WHERE contact_id = ?",
        &[contact_id.as_str().into()],
    )?;
    if let Some(row) = rows.first() {
        let (Value::Integer(key), Value::Integer(length)) = (&row[0], &row[1]) else {
            return Err(StoreError::Inconsistent(format!(
                "the chain row of {contact_id} is malformed"
            )));
        };
        let hash = hash_from(&row[2]).ok_or_else(|| {
            StoreError::Inconsistent(format!("the head hash of {contact_id} is malformed"))
        })?;
        return Ok((
            Contact {
                key: *key,
                id: contact_id.clone(),
            },
            ChainTip {
                contact_id: contact_id.clone(),
                sequence: *length as u64,
                hash,
            },
        ));
    }
    let contact = create(db, contact_id)?;
    Ok((contact, ChainTip::genesis(contact_id.clone())))
}

/// The tip of the chain of a contact known to have one.
pub(crate) fn tip_of(db: &impl Sql, contact: &Contact) -> Result<ChainTip, StoreError> {
    tip(db, &contact.id).map(|(_, tip)| tip)
}

fn create(db: &impl Sql, contact_id: &ContactId) -> Result<Contact, StoreError> {
    let rows = db.run(
        "INSERT INTO interaction_chains (contact_id, length, head_hash) VALUES (?, 0, ?) RETURNING contact_key",
        &[contact_id.as_str().into(), Value::Blob(GENESIS.0.to_vec())],
    )?;
    match rows.first().map(|r| &r[0]) {
        Some(Value::Integer(key)) => Ok(Contact {
            key: *key,
            id: contact_id.clone(),
        }),
        _ => Err(StoreError::Inconsistent(
            "creating a chain returned no key".into(),
        )),
    }
}

/// Moves the chain's tip to `entry`, the entry just written.
pub(crate) fn advance(db: &impl Sql, contact: &Contact, entry: &Entry) -> Result<(), StoreError> {
    set_tip(db, contact.key, entry.sequence, &entry.hash)
}

/// Sets a chain's tip (the generator sets it once after a contact's entries).
pub fn set_tip(
    db: &impl Sql,
    contact_key: i64,
    length: u64,
    head: &Sha256Hash,
) -> Result<(), StoreError> {
    db.run(
        "UPDATE interaction_chains SET length = ?, head_hash = ? WHERE contact_key = ?",
        &[
            length.into(),
            Value::Blob(head.0.to_vec()),
            contact_key.into(),
        ],
    )?;
    Ok(())
}

/// Creates the chain row for a contact with a known key (the generator).
pub fn create_chain(
    db: &impl Sql,
    contact_key: i64,
    contact_id: &ContactId,
) -> Result<Contact, StoreError> {
    db.run(
        "INSERT INTO interaction_chains (contact_key, contact_id, length, head_hash) VALUES (?, ?, 0, ?)",
        &[
            contact_key.into(),
            contact_id.as_str().into(),
            Value::Blob(GENESIS.0.to_vec()),
        ],
    )?;
    Ok(Contact {
        key: contact_key,
        id: contact_id.clone(),
    })
}
