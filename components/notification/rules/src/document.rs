//! Files sent by email, as Notify's clients send them (`prepare_upload`): a
//! personalisation value `{"file": base64, "filename"?,
//! "confirm_email_before_download"?, "retention_period"?}`, which the email
//! shows as a link to download the file.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value as Json};

/// The largest file taken, decoded (Notify's clients refuse larger ones).
pub const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;

/// Notify's default retention, in weeks, and its longest.
const DEFAULT_RETENTION_WEEKS: u32 = 26;
const MAX_RETENTION_WEEKS: u32 = 78;
const MAX_FILENAME_CHARS: usize = 100;
const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Why a file is refused, in Notify's words where it has them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("File is not valid base64")]
    NotBase64,
    #[error("File is larger than 2MB")]
    TooLarge,
    #[error(
        "Unsupported file type '{0}'. Supported types are: '.csv', '.jpeg', '.jpg', '.json', '.pdf', '.png', '.txt'"
    )]
    UnsupportedType(String),
    #[error(
        "Unsupported value for retention_period '{0}'. Supported periods are from 1 to 78 weeks."
    )]
    Retention(String),
    #[error(
        "Unsupported value for confirm_email_before_download: '{0}'. Use a boolean true or false value."
    )]
    ConfirmEmail(String),
    #[error("filename must be text of 1 to {MAX_FILENAME_CHARS} characters, without / or \\")]
    Filename,
}

/// A file to send, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub content: Vec<u8>,
    pub media_type: &'static str,
    pub filename: Option<String>,
    /// Whether the downloader must give the recipient's address first
    /// (Notify's default: yes).
    pub confirm_email: bool,
    pub retention_weeks: u32,
}

impl Document {
    /// Whether a personalisation value is a file (an object with `file`).
    pub fn is_file(value: &Json) -> bool {
        value.as_object().is_some_and(|o| o.contains_key("file"))
    }

    pub fn parse(value: &Map<String, Json>) -> Result<Self, DocumentError> {
        let shown = |v: &Json| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let confirm_email = match value.get("confirm_email_before_download") {
            None | Some(Json::Null) => true,
            Some(Json::Bool(b)) => *b,
            Some(other) => return Err(DocumentError::ConfirmEmail(shown(other))),
        };
        let retention_weeks = match value.get("retention_period") {
            None | Some(Json::Null) => DEFAULT_RETENTION_WEEKS,
            Some(raw) => retention_weeks(raw.as_str().unwrap_or_default())
                .ok_or_else(|| DocumentError::Retention(shown(raw)))?,
        };
        let filename = match value.get("filename") {
            None | Some(Json::Null) => None,
            Some(Json::String(name))
                if (1..=MAX_FILENAME_CHARS).contains(&name.chars().count())
                    && !name.contains(['/', '\\']) =>
            {
                Some(name.clone())
            }
            Some(_) => return Err(DocumentError::Filename),
        };
        let encoded: String = value
            .get("file")
            .and_then(Json::as_str)
            .ok_or(DocumentError::NotBase64)?
            .split_ascii_whitespace()
            .collect();
        if encoded.len() > MAX_DOCUMENT_BYTES.div_ceil(3) * 4 {
            return Err(DocumentError::TooLarge);
        }
        let content = STANDARD
            .decode(encoded)
            .map_err(|_| DocumentError::NotBase64)?;
        if content.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge);
        }
        let media_type = media_type(&content, filename.as_deref())?;
        Ok(Self {
            content,
            media_type,
            filename,
            confirm_email,
            retention_weeks,
        })
    }

    /// When it stops being given out, for one sent at `now_ms`.
    pub fn expires_at(&self, now_ms: i64) -> i64 {
        now_ms + i64::from(self.retention_weeks) * WEEK_MS
    }
}

/// `"<n> weeks"` (or `"1 week"`), 1 to 78.
fn retention_weeks(raw: &str) -> Option<u32> {
    let (count, unit) = raw.trim().split_once(' ')?;
    let weeks: u32 = count.parse().ok()?;
    let unit_ok = unit == "weeks" || (unit == "week" && weeks == 1);
    (unit_ok && (1..=MAX_RETENTION_WEEKS).contains(&weeks)).then_some(weeks)
}

/// The file's type, from its first bytes (and, for text, its name): PDF,
/// PNG, JPEG, or UTF-8 text (CSV or JSON by name); anything else is
/// refused, as a file that could run on the downloader's machine might be.
fn media_type(content: &[u8], filename: Option<&str>) -> Result<&'static str, DocumentError> {
    let extension = filename
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    if content.starts_with(b"%PDF-") {
        return Ok("application/pdf");
    }
    if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok("image/png");
    }
    if content.starts_with(b"\xff\xd8\xff") {
        return Ok("image/jpeg");
    }
    if std::str::from_utf8(content).is_ok() && !content.contains(&0) {
        return Ok(match extension.as_deref() {
            Some("csv") => "text/csv",
            Some("json") => "application/json",
            _ => "text/plain",
        });
    }
    Err(DocumentError::UnsupportedType(
        "application/octet-stream".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Json) -> Result<Document, DocumentError> {
        Document::parse(value.as_object().unwrap())
    }

    #[test]
    fn a_file_takes_notifys_defaults_and_options() {
        let pdf = STANDARD.encode(b"%PDF-1.7 a letter");
        let plain = parse(json!({"file": pdf})).unwrap();
        assert_eq!(plain.media_type, "application/pdf");
        assert!(plain.confirm_email);
        assert_eq!(plain.retention_weeks, 26);
        assert_eq!(plain.expires_at(0), 26 * WEEK_MS);
        let chosen = parse(
            json!({"file": STANDARD.encode("a,b\n1,2\n"), "filename": "report.CSV",
            "confirm_email_before_download": false, "retention_period": "1 week"}),
        )
        .unwrap();
        assert_eq!(chosen.media_type, "text/csv");
        assert!(!chosen.confirm_email);
        assert_eq!(chosen.retention_weeks, 1);
        assert_eq!(chosen.filename.as_deref(), Some("report.CSV"));
        assert!(Document::is_file(&json!({"file": ""})));
        assert!(!Document::is_file(&json!("text")));
    }

    #[test]
    fn a_file_is_refused_in_notifys_words() {
        let pdf = STANDARD.encode(b"%PDF-1.7");
        assert_eq!(
            parse(json!({"file": pdf, "retention_period": "79 weeks"}))
                .unwrap_err()
                .to_string(),
            "Unsupported value for retention_period '79 weeks'. Supported periods are from 1 to 78 weeks."
        );
        for bad in ["0 weeks", "2 days", "weeks", "2 week"] {
            assert!(matches!(
                parse(json!({"file": pdf, "retention_period": bad})),
                Err(DocumentError::Retention(_))
            ));
        }
        assert_eq!(
            parse(json!({"file": pdf, "confirm_email_before_download": "yes"}))
                .unwrap_err()
                .to_string(),
            "Unsupported value for confirm_email_before_download: 'yes'. Use a boolean true or false value."
        );
        assert_eq!(parse(json!({"file": "%%%"})), Err(DocumentError::NotBase64));
        assert_eq!(
            parse(json!({"file": STANDARD.encode(b"MZ\x90\x00\x03")})),
            Err(DocumentError::UnsupportedType(
                "application/octet-stream".into()
            ))
        );
        assert_eq!(
            parse(json!({"file": STANDARD.encode(vec![b'a'; MAX_DOCUMENT_BYTES + 1])})),
            Err(DocumentError::TooLarge)
        );
        assert_eq!(
            parse(json!({"file": pdf, "filename": "../x.pdf"})),
            Err(DocumentError::Filename)
        );
    }
}
