//! Precompiled letters' PDFs (`notification_letter_pdfs`), kept as their
//! senders posted them. A templated letter has none: its PDF is rendered
//! from the message.

use crm_sql::{Sql, Value};

use crate::StoreError;

/// Keeps a precompiled letter's PDF; in the transaction that inserts its
/// message, so neither is kept without the other.
pub fn save_pdf(db: &impl Sql, notification_id: &str, pdf: &[u8]) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO notification_letter_pdfs (notification_id, pdf) VALUES (?, ?)",
        &[notification_id.into(), Value::Blob(pdf.to_vec())],
    )?;
    Ok(())
}

/// A precompiled letter's PDF; none for any other message.
pub fn pdf_of(db: &impl Sql, notification_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let rows = db.run(
        "SELECT pdf FROM notification_letter_pdfs WHERE notification_id = ?",
        &[notification_id.into()],
    )?;
    match rows.first().map(|row| &row[0]) {
        None => Ok(None),
        Some(Value::Blob(pdf)) => Ok(Some(pdf.clone())),
        Some(_) => Err(StoreError::Corrupt(format!(
            "letter PDF of {notification_id} is not a blob"
        ))),
    }
}
