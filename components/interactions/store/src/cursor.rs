//! The key timeline cursors are signed with: the `interaction_cursor_key`
//! secret (base64 of at least 32 random bytes, e.g. `openssl rand -base64
//! 32`) when set. Left empty, as in development, a random key is made on
//! first use and kept in `interaction_settings`, so cursors survive restarts
//! and each database has its own key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use interactions_rules::CursorCodec;
use thiserror::Error;

use crate::StoreError;
use crm_sql::{Sql, Value};

const SETTING: &str = "cursor_key";

#[derive(Debug, Error)]
pub enum CursorKeyError {
    #[error(
        "`interaction_cursor_key` must be base64 of at least {} bytes",
        CursorCodec::MIN_KEY_LEN
    )]
    Invalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The codec for the configured key, or for this database's own key, made
/// from `fresh_secret` (at least 32 random bytes' worth) the first time.
pub fn codec(
    db: &impl Sql,
    configured: &str,
    fresh_secret: impl FnOnce() -> String,
) -> Result<CursorCodec, CursorKeyError> {
    let configured = configured.trim();
    if !configured.is_empty() {
        let key = STANDARD
            .decode(configured)
            .map_err(|_| CursorKeyError::Invalid)?;
        return CursorCodec::new(&key).map_err(|_| CursorKeyError::Invalid);
    }
    let key = match stored(db)? {
        Some(key) => key,
        None => {
            db.run(
                "INSERT OR IGNORE INTO interaction_settings (name, value) VALUES (?, ?)",
                &[SETTING.into(), fresh_secret().into()],
            )
            .map_err(StoreError::from)?;
            // Another instance may have won the race; its key is the key.
            stored(db)?
                .ok_or_else(|| StoreError::Inconsistent("the cursor key was not stored".into()))?
        }
    };
    CursorCodec::new(key.as_bytes()).map_err(|_| CursorKeyError::Invalid)
}

fn stored(db: &impl Sql) -> Result<Option<String>, StoreError> {
    let rows = db.run(
        "SELECT value FROM interaction_settings WHERE name = ?",
        &[SETTING.into()],
    )?;
    Ok(match rows.first().map(|r| &r[0]) {
        Some(Value::Text(key)) => Some(key.clone()),
        _ => None,
    })
}
