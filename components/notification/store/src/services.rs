//! Notify-compatible services (`notify_services`), their guest lists
//! (`notify_guest_list`) and API keys (`notify_api_keys`). Key secrets and
//! callback tokens are stored sealed; unsealing is the component's.

use crm_sql::{Sql, transaction};
use notification_rules::KeyType;

use crate::StoreError;
use crm_sql::{integer, text};

/// A new service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    pub id: String,
    pub name: String,
    pub callback_url: Option<String>,
    pub callback_token_sealed: Option<String>,
    pub created_at: i64,
    pub created_by: String,
}

/// Writes a service and its guest list (lower-cased email addresses and
/// E.164 numbers; repeats are kept once), in one transaction.
pub fn create(db: &impl Sql, service: &NewService, guests: &[String]) -> Result<(), StoreError> {
    transaction(db, || {
        db.run(
            "INSERT INTO notify_services (id, name, callback_url, callback_token_sealed, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                service.id.as_str().into(),
                service.name.as_str().into(),
                service.callback_url.clone().into(),
                service.callback_token_sealed.clone().into(),
                service.created_at.into(),
                service.created_by.as_str().into(),
            ],
        )?;
        for guest in guests {
            db.run(
                "INSERT OR IGNORE INTO notify_guest_list (service_id, recipient) VALUES (?, ?)",
                &[service.id.as_str().into(), guest.as_str().into()],
            )?;
        }
        Ok(())
    })
}

pub fn exists(db: &impl Sql, service_id: &str) -> Result<bool, StoreError> {
    let found = db.run(
        "SELECT 1 FROM notify_services WHERE id = ?",
        &[service_id.into()],
    )?;
    Ok(!found.is_empty())
}

/// Whether the service has a URL for status callbacks.
pub fn has_callback_url(db: &impl Sql, service_id: &str) -> Result<bool, StoreError> {
    let found = db.run(
        "SELECT 1 FROM notify_services WHERE id = ? AND callback_url IS NOT NULL",
        &[service_id.into()],
    )?;
    Ok(!found.is_empty())
}

/// The lower-cased team and guest list of a service.
pub fn guest_list(db: &impl Sql, service_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(db
        .run(
            "SELECT recipient FROM notify_guest_list WHERE service_id = ?",
            &[service_id.into()],
        )?
        .iter()
        .filter_map(|r| text(&r[0]))
        .collect())
}

/// One of a service's API keys, its secret sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub id: String,
    pub service_id: String,
    pub name: String,
    pub key_type: KeyType,
    pub secret_sealed: String,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
}

/// Writes a new key.
pub fn insert_key(db: &impl Sql, key: &StoredKey) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO notify_api_keys (id, service_id, name, key_type, secret_sealed, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            key.id.as_str().into(),
            key.service_id.as_str().into(),
            key.name.as_str().into(),
            key.key_type.as_str().into(),
            key.secret_sealed.as_str().into(),
            key.created_at.into(),
            key.created_by.as_str().into(),
        ],
    )?;
    Ok(())
}

/// A service's keys, oldest first, revoked ones too.
pub fn keys(db: &impl Sql, service_id: &str) -> Result<Vec<StoredKey>, StoreError> {
    Ok(db
        .run(
            "SELECT id, name, key_type, secret_sealed, created_at, created_by, revoked_at FROM notify_api_keys WHERE service_id = ? ORDER BY created_at",
            &[service_id.into()],
        )?
        .iter()
        .map(|v| StoredKey {
            id: text(&v[0]).unwrap_or_default(),
            service_id: service_id.to_string(),
            name: text(&v[1]).unwrap_or_default(),
            key_type: text(&v[2])
                .as_deref()
                .and_then(KeyType::parse)
                .unwrap_or(KeyType::Test),
            secret_sealed: text(&v[3]).unwrap_or_default(),
            created_at: integer(&v[4]).unwrap_or_default(),
            created_by: text(&v[5]).unwrap_or_default(),
            revoked_at: integer(&v[6]),
        })
        .collect())
}

/// Revokes a service's key as of `at`, in one transaction; a key already
/// revoked keeps its first revocation. The key's revocation time, or
/// `None` when the service has no such key.
pub fn revoke_key(
    db: &impl Sql,
    service_id: &str,
    key_id: &str,
    at: i64,
    by: &str,
) -> Result<Option<i64>, StoreError> {
    transaction(db, || {
        let found = db.run(
            "SELECT revoked_at FROM notify_api_keys WHERE id = ? AND service_id = ?",
            &[key_id.into(), service_id.into()],
        )?;
        let Some(row) = found.first() else {
            return Ok(None);
        };
        if let Some(revoked_at) = integer(&row[0]) {
            return Ok(Some(revoked_at));
        }
        db.run(
            "UPDATE notify_api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?",
            &[at.into(), by.into(), key_id.into()],
        )?;
        Ok(Some(at))
    })
}
