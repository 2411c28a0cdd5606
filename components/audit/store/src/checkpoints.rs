//! Signed checkpoints (`audit_checkpoints`) and the chain head they sign.

use audit_chain::GENESIS;
use audit_chain::checkpoint::{Checkpoint, SignedCheckpoint};
use crm_sql::Sql;

use crate::{StoreError, integer, run, text};

/// The chain's length and the hash of its last entry ([`GENESIS`] when empty).
pub fn head(db: &impl Sql) -> Result<(u64, String), StoreError> {
    let rows = run(
        db,
        "SELECT sequence, hash FROM audit_entries ORDER BY sequence DESC LIMIT 1",
        &[],
    )?;
    Ok(rows.first().map_or((0, GENESIS.to_string()), |row| {
        (
            integer(&row[0]).unwrap_or(0) as u64,
            text(&row[1]).unwrap_or_default(),
        )
    }))
}

/// Every checkpoint, oldest first.
pub fn checkpoints(db: &impl Sql) -> Result<Vec<SignedCheckpoint>, StoreError> {
    let rows = run(
        db,
        "SELECT id, size, head_hash, created_at, key_id, signature FROM audit_checkpoints ORDER BY id",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|v| SignedCheckpoint {
            id: integer(&v[0]).unwrap_or_default(),
            checkpoint: Checkpoint {
                size: integer(&v[1]).unwrap_or_default() as u64,
                head_hash: text(&v[2]).unwrap_or_default(),
                created_at: integer(&v[3]).unwrap_or_default(),
                key_id: text(&v[4]).unwrap_or_default(),
            },
            signature: text(&v[5]).unwrap_or_default(),
        })
        .collect())
}

/// Stores a signed checkpoint; answers its id.
pub fn insert_checkpoint(
    db: &impl Sql,
    checkpoint: &Checkpoint,
    signature: &str,
) -> Result<i64, StoreError> {
    let inserted = run(
        db,
        "INSERT INTO audit_checkpoints (size, head_hash, created_at, key_id, signature) VALUES (?, ?, ?, ?, ?) RETURNING id",
        &[
            checkpoint.size.into(),
            checkpoint.head_hash.as_str().into(),
            checkpoint.created_at.into(),
            checkpoint.key_id.as_str().into(),
            signature.into(),
        ],
    )?;
    Ok(inserted
        .first()
        .and_then(|r| integer(&r[0]))
        .unwrap_or_default())
}
