//! The validated values an interaction is made of. Each type's `parse` is the
//! only way to make one, and says why a value was refused.

use std::collections::BTreeSet;
use std::fmt;

/// How the interaction took place (the domain's channels, all of them).
pub use crm_domain::Channel;
use crm_domain::{HttpsUrl, Invalid, Lines, ShortText, check_text};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

fn invalid(reason: impl Into<String>) -> Invalid {
    Invalid(reason.into())
}

/// A newtype over validated text that serialises and prints as that text.
macro_rules! text_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

/// An opaque identifier minted elsewhere (`int_3f2a…`, `officer-7`).
macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                parse_opaque_id(raw).map(Self)
            }
        }

        text_newtype!($name);
    };
}

const MAX_ID_LEN: usize = 64;

fn parse_opaque_id(raw: &str) -> Result<String, Invalid> {
    let id = raw.trim();
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':');
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(allowed) {
        return Err(invalid(format!(
            "must be 1 to {MAX_ID_LEN} letters, digits, '-', '_', '.' or ':'"
        )));
    }
    Ok(id.to_string())
}

opaque_id!(
    /// One entry of the log: an interaction, an amendment or a disposal.
    EntryId
);
opaque_id!(NotificationId);
opaque_id!(
    /// A document held in the records system, named by its id rather than a URI.
    DocumentId
);
opaque_id!(
    /// A legal hold (a disposal freeze) placed on a contact or a case.
    HoldId
);

/// Who a log entry is about and who dealt with it: one rule each, in the
/// domain crate, whichever capability names them.
pub use crm_domain::{ContactId, OfficerId};

crm_domain::vocabulary!(
    /// Who started the interaction: the contact (inbound) or the agency.
    Direction {
        Inbound => "inbound",
        Outbound => "outbound",
    }
);

crm_domain::vocabulary!(
    /// The outcomes every agency reports on; anything else is a slug.
    KnownOutcome {
        Resolved => "resolved",
        InformationProvided => "information-provided",
        Referred => "referred",
        FollowUpRequired => "follow-up-required",
        Escalated => "escalated",
        NoResponse => "no-response",
    }
);

/// Lower-case letters and digits in hyphen-separated words (`hardship-payment`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let slug = raw.trim().to_ascii_lowercase();
        let word_ok = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric());
        if slug.len() > Self::MAX_LEN || !slug.split('-').all(word_ok) {
            return Err(invalid(format!(
                "must be 1 to {} lower-case letters or digits in words joined by single hyphens",
                Self::MAX_LEN
            )));
        }
        Ok(Self(slug))
    }
}

text_newtype!(Slug);

/// What came of the interaction: a reported outcome, or an agency's own slug.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Known(KnownOutcome),
    Other(Slug),
}

impl Outcome {
    /// A known name is always `Known`, so each outcome has one spelling.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        KnownOutcome::parse(raw.trim())
            .map(Self::Known)
            .or_else(|_| Slug::parse(raw).map(Self::Other))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(known) => known.as_str(),
            Self::Other(slug) => slug.as_str(),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A case file reference: `CASE-2026-000123`, that is two to six letters, the
/// year the case was opened, and its number (1 to 10 digits). Upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseRef(String);

impl CaseRef {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = raw.trim().to_ascii_uppercase();
        let parts: Vec<&str> = text.split('-').collect();
        let digits = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        let ok = matches!(parts.as_slice(), [prefix, year, number]
            if (2..=6).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_uppercase())
                && digits(year, 4, 4)
                && digits(number, 1, 10));
        if !ok {
            return Err(invalid(
                "must look like CASE-2026-000123: 2 to 6 letters, a 4-digit year and 1 to 10 digits",
            ));
        }
        Ok(Self(text))
    }
}

text_newtype!(CaseRef);

/// Required single-line text of at most `MAX` characters, trimmed, without
/// control characters (a subject, a reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedText<const MAX: usize>(String);

impl<const MAX: usize> BoundedText<MAX> {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        ShortText::parse(raw, MAX).map(|t| Self(t.into_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> Serialize for BoundedText<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An interaction's subject line.
pub type Subject = BoundedText<200>;
/// Why an amendment or a disposal was made.
pub type Reason = BoundedText<500>;

/// Free-text notes: trimmed, at most 20,000 characters, line breaks and tabs
/// allowed but no other control characters. Blank notes are no notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes(String);

impl Notes {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse_optional(raw: &str) -> Result<Option<Self>, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        check_text(text, Self::MAX_CHARS, Lines::Many)?;
        Ok(Some(Self(text.to_string())))
    }
}

text_newtype!(Notes);

/// A set of tag slugs, at most [`Tags::MAX`]; repeats collapse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tags(BTreeSet<Slug>);

impl Tags {
    pub const MAX: usize = 20;

    /// Every refused tag is reported, as `(index, why)`.
    pub fn parse(raw: &[String]) -> Result<Self, Vec<(Option<usize>, Invalid)>> {
        let mut tags = BTreeSet::new();
        let mut errors = Vec::new();
        for (i, tag) in raw.iter().enumerate() {
            match Slug::parse(tag) {
                Ok(slug) => {
                    tags.insert(slug);
                }
                Err(e) => errors.push((Some(i), e)),
            }
        }
        if tags.len() > Self::MAX {
            errors.push((
                None,
                invalid(format!("must be at most {} distinct tags", Self::MAX)),
            ));
        }
        if errors.is_empty() {
            Ok(Self(tags))
        } else {
            Err(errors)
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Slug> {
        self.0.iter()
    }
}

/// A SHA-256 digest: of a document, of an entry's content, of a chain link.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Hash(pub [u8; 32]);

impl Sha256Hash {
    pub const PREFIX: &'static str = "sha256:";

    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// 64 hexadecimal digits, either case.
    pub fn from_hex(hex: &str) -> Result<Self, Invalid> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(invalid("must be 64 hexadecimal digits"));
        }
        let nibble = |b: u8| (b as char).to_digit(16);
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => *slot = (hi * 16 + lo) as u8,
                _ => return Err(invalid("must be 64 hexadecimal digits")),
            }
        }
        Ok(Self(out))
    }

    /// `sha256:` followed by 64 hexadecimal digits (how documents cite theirs).
    pub fn parse_prefixed(raw: &str) -> Result<Self, Invalid> {
        raw.trim()
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| invalid("must be sha256: followed by 64 hexadecimal digits"))
            .and_then(|hex| {
                Self::from_hex(hex)
                    .map_err(|_| invalid("must be sha256: followed by 64 hexadecimal digits"))
            })
    }

    /// Lower-case hexadecimal, as stored.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hash({})", self.to_hex())
    }
}

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.to_hex())
    }
}

impl Serialize for Sha256Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a cited document can be read: an absolute `https` URL of at most
/// 2,048 characters ([`HttpsUrl`]), so that no one who follows it runs a
/// script (`javascript:`) or reads it in the clear (`http:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentUri(String);

impl DocumentUri {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        HttpsUrl::parse(raw, Self::MAX_LEN).map(|url| Self(url.into_string()))
    }

    /// A URI read back from the log, as it was accepted when written
    /// (earlier rules allowed other schemes; the chain covers the text).
    pub fn from_stored(stored: &str) -> Self {
        Self(stored.to_string())
    }
}

text_newtype!(DocumentUri);

/// Where a referenced document lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentTarget {
    Uri(DocumentUri),
    Id(DocumentId),
}

/// A document the interaction cites, pinned by the hash of its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentRef {
    pub target: DocumentTarget,
    pub content_hash: Sha256Hash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_hyphenated_words() {
        assert_eq!(
            Slug::parse(" Hardship-Payment ").unwrap().as_str(),
            "hardship-payment"
        );
        for bad in ["", "-a", "a-", "a--b", "a b", "a_b", "é"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Slug::parse(&"a".repeat(64)).is_ok());
        assert!(Slug::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn outcomes_are_known_names_or_slugs() {
        assert_eq!(
            Outcome::parse("referred"),
            Ok(Outcome::Known(KnownOutcome::Referred))
        );
        assert_eq!(
            Outcome::parse("sent-brochure").unwrap().as_str(),
            "sent-brochure"
        );
        assert!(matches!(
            Outcome::parse("sent-brochure"),
            Ok(Outcome::Other(_))
        ));
        assert!(Outcome::parse("sent brochure").is_err());
    }

    #[test]
    fn case_references() {
        assert_eq!(
            CaseRef::parse(" case-2026-000123 ").unwrap().as_str(),
            "CASE-2026-000123"
        );
        for bad in [
            "CASE-26-1",
            "C-2026-1",
            "CASEFILE-2026-1",
            "CASE-2026-",
            "CASE-2026-12345678901",
            "CASE-2026-1-2",
            "CA5E-2026-1",
        ] {
            assert!(CaseRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn notes_allow_line_breaks_and_count_characters() {
        assert_eq!(Notes::parse_optional("  \n "), Ok(None));
        assert_eq!(
            Notes::parse_optional("line one\r\n\tline two")
                .unwrap()
                .unwrap()
                .as_str(),
            "line one\r\n\tline two"
        );
        assert!(Notes::parse_optional("bell\u{7}").is_err());
        assert!(
            Notes::parse_optional(&"é".repeat(20_000))
                .unwrap()
                .is_some()
        );
        assert!(Notes::parse_optional(&"é".repeat(20_001)).is_err());
    }

    #[test]
    fn tags_collapse_repeats_and_report_each_bad_one() {
        let tags = Tags::parse(&["b".into(), "a".into(), "B".into()]).unwrap();
        assert_eq!(
            tags.iter().map(Slug::as_str).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let errors = Tags::parse(&["ok".into(), "not ok".into(), "".into()]).unwrap_err();
        assert_eq!(
            errors.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [Some(1), Some(2)]
        );
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(Tags::parse(&many).unwrap_err()[0].0, None);
    }

    #[test]
    fn hashes_parse_with_prefix_and_print_lower_case() {
        let hex = "AB".repeat(32);
        let hash = Sha256Hash::parse_prefixed(&format!("sha256:{hex}")).unwrap();
        assert_eq!(hash.to_hex(), "ab".repeat(32));
        assert_eq!(hash.to_string(), format!("sha256:{}", "ab".repeat(32)));
        assert!(Sha256Hash::parse_prefixed(&hex).is_err());
        assert!(Sha256Hash::parse_prefixed(&format!("sha256:{}", "a".repeat(63))).is_err());
        assert!(Sha256Hash::parse_prefixed(&format!("sha256:{}g", "a".repeat(63))).is_err());
        assert_eq!(
            Sha256Hash::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn ids_and_uris() {
        assert!(EntryId::parse("int_0f3a").is_ok());
        assert!(EntryId::parse("").is_err());
        assert!(EntryId::parse("a b").is_err());
        assert!(EntryId::parse(&"x".repeat(65)).is_err());
        assert!(DocumentUri::parse("https://records.example.gov.au/d/1").is_ok());
        // A record manager's number is a document `id`, not a URI.
        for bad in [
            "records/d/1",
            "https://a b",
            ":x",
            "1http://x",
            "https:",
            "urn:trim:D26/1234",
            "javascript:alert(1)",
            "http://records.example.gov.au/d/1",
        ] {
            assert!(DocumentUri::parse(bad).is_err(), "{bad}");
        }
    }
}
