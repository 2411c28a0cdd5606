//! Files sent by email (`notify_documents`): kept until their retention
//! ends, then deleted by dispatch.

use crm_sql::{Row, Sql, Value, integer, text};

use crate::StoreError;

/// A file a message links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub id: String,
    pub service_id: String,
    pub notification_id: String,
    /// Hex SHA-256 of the link's key; the key itself is only in the link.
    pub key_sha256: String,
    pub content: Vec<u8>,
    pub media_type: String,
    pub filename: Option<String>,
    /// The address a downloader must give first, lower-case.
    pub confirm_email: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, service_id, notification_id, key_sha256, content, media_type, filename, confirm_email, created_at, expires_at";

fn from_row(v: &Row) -> Result<StoredDocument, StoreError> {
    let Value::Blob(content) = &v[4] else {
        return Err(StoreError::Corrupt("document content is not a blob".into()));
    };
    Ok(StoredDocument {
        id: text(&v[0]).unwrap_or_default(),
        service_id: text(&v[1]).unwrap_or_default(),
        notification_id: text(&v[2]).unwrap_or_default(),
        key_sha256: text(&v[3]).unwrap_or_default(),
        content: content.clone(),
        media_type: text(&v[5]).unwrap_or_default(),
        filename: text(&v[6]),
        confirm_email: text(&v[7]),
        created_at: integer(&v[8]).unwrap_or_default(),
        expires_at: integer(&v[9]).unwrap_or_default(),
    })
}

/// Keeps a file; in the transaction that inserts its message.
pub fn save(db: &impl Sql, document: &StoredDocument) -> Result<(), StoreError> {
    db.run(
        &format!("INSERT INTO notify_documents ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        &[
            document.id.as_str().into(),
            document.service_id.as_str().into(),
            document.notification_id.as_str().into(),
            document.key_sha256.as_str().into(),
            Value::Blob(document.content.clone()),
            document.media_type.as_str().into(),
            document.filename.as_deref().into(),
            document.confirm_email.as_deref().into(),
            document.created_at.into(),
            document.expires_at.into(),
        ],
    )?;
    Ok(())
}

pub fn load(db: &impl Sql, id: &str) -> Result<Option<StoredDocument>, StoreError> {
    db.run(
        &format!("SELECT {COLUMNS} FROM notify_documents WHERE id = ?"),
        &[id.into()],
    )?
    .first()
    .map(from_row)
    .transpose()
}

/// Deletes the files whose retention ended before `now`; how many.
pub fn delete_expired(db: &impl Sql, now: i64) -> Result<usize, StoreError> {
    Ok(db
        .run(
            "DELETE FROM notify_documents WHERE expires_at <= ? RETURNING id",
            &[now.into()],
        )?
        .len())
}
