//! Who a record is about and who acted: identifiers one capability mints and
//! the others name. One rule each, whichever capability reads them.

use crate::error::{Invalid, invalid};
use serde::Serialize;

/// A contact: what contact-intake mints (`con_…`) and notification names a
/// raw recipient by (`recipient:<hex>`). Surrounding spaces are trimmed;
/// then 1 to 64 ASCII letters, digits, '-', '_', '.' or ':'.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ContactId(String);

impl ContactId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let id = raw.trim();
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':');
        if id.is_empty() || id.len() > Self::MAX_LEN || !id.bytes().all(allowed) {
            return Err(invalid(format!(
                "must be 1 to {} letters, digits, '-', '_', '.' or ':'",
                Self::MAX_LEN
            )));
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A staff member or another authenticated actor, as their token or key
/// names them (`staff:jane.citizen@agency.gov.au`, `key:0f3a…`). Identity
/// providers choose their subjects freely, so anything printable is
/// accepted: surrounding spaces trimmed, then 1 to 320 characters (an email
/// address can be that long) without spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OfficerId(String);

impl OfficerId {
    pub const MAX_CHARS: usize = 320;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let id = raw.trim();
        if id.is_empty()
            || id.chars().count() > Self::MAX_CHARS
            || id.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(format!(
                "must be 1 to {} characters without spaces or control characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ContactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for OfficerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_id_is_what_intake_and_notification_mint() {
        for ok in [
            "con_0f3a9c",
            "recipient:0123456789abcdef0123456789abcdef",
            "c-1:9.x",
        ] {
            assert_eq!(ContactId::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(ContactId::parse(" con_1 ").unwrap().as_str(), "con_1");
        assert!(ContactId::parse(&"a".repeat(ContactId::MAX_LEN)).is_ok());
        for bad in [
            "",
            "c 1",
            "c-1:9/x",
            "c\u{7}1",
            "contact@x",
            &"a".repeat(65),
        ] {
            assert!(ContactId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_officer_id_is_any_printable_subject() {
        for ok in [
            "officer-7",
            "staff:jane.citizen@agency.gov.au",
            "citizen:auth0|5f0c",
        ] {
            assert_eq!(OfficerId::parse(&format!(" {ok} ")).unwrap().as_str(), ok);
        }
        for bad in ["", "jane citizen", "tab\there", &"é".repeat(321)] {
            assert!(OfficerId::parse(bad).is_err(), "{bad}");
        }
    }
}
