//! Files sent by email (Notify's `prepare_upload`): each personalisation
//! value that is a file is checked, kept with the message, and replaced by
//! the link a recipient downloads it from
//! (`/api/notifications/documents/{id}?key=...`, see `crate::documents`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_templates::TemplateType;
use notification_rules::{Document, NotifyError};
use notification_store::documents::StoredDocument;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::{Caller, internal};
use crm_http::Problem;

/// A send's personalisation with each file replaced by its link, and the
/// files to keep with the message.
pub(super) struct Attached {
    pub personalisation: Json,
    pub documents: Vec<StoredDocument>,
}

/// `personalisation`'s files taken out; `email_address` is who must
/// confirm before downloading.
pub(super) fn attach(
    base: &str,
    caller: &Caller,
    notification_id: &str,
    channel: TemplateType,
    email_address: &str,
    mut personalisation: Json,
    now: i64,
) -> Result<Attached, NotifyError> {
    let Some(values) = personalisation.as_object_mut() else {
        return Ok(Attached {
            personalisation,
            documents: Vec::new(),
        });
    };
    let mut kept = Vec::new();
    for value in values.values_mut().filter(|v| Document::is_file(v)) {
        if channel != TemplateType::Email {
            return Err(NotifyError::bad_request("Can only send a file by email"));
        }
        let document = Document::parse(value.as_object().expect("a file is an object"))
            .map_err(|e| NotifyError::bad_request(e.to_string()))?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| internal(&Problem::internal(format!("randomness: {e}"))))?;
        let key = URL_SAFE_NO_PAD.encode(key);
        *value = Json::String(format!("{base}/api/notifications/documents/{id}?key={key}"));
        kept.push(StoredDocument {
            id,
            service_id: caller.service_id.to_string(),
            notification_id: notification_id.to_string(),
            key_sha256: format!("{:x}", Sha256::digest(key.as_bytes())),
            expires_at: document.expires_at(now),
            media_type: document.media_type.to_string(),
            filename: document.filename,
            confirm_email: document
                .confirm_email
                .then(|| email_address.trim().to_lowercase()),
            content: document.content,
            created_at: now,
        });
    }
    Ok(Attached {
        personalisation,
        documents: kept,
    })
}
