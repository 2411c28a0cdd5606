//! What helps a contact communicate with the agency.

use crate::error::{Invalid, invalid};
use crate::text::ShortText;

/// A language tag of the common BCP 47 shape, in canonical case:
/// language (2 or 3 letters), then optionally a script (4 letters), a region
/// (2 letters or 3 digits) and variants (5 to 8 letters or digits, or a digit
/// and 3 more): `en`, `en-AU`, `zh-Hant-TW`, `asf` (Auslan), `sr-Latn`.
/// Extensions and private-use tags are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid("must not be empty"));
        }
        let mut subtags = raw.split('-');
        let language = subtags.next().unwrap_or_default();
        if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Err(invalid(
                "must start with a 2- or 3-letter language code, e.g. en or vi",
            ));
        }
        let mut tag = language.to_ascii_lowercase();
        // Each later subtag must come after the previous kind: script, region, variants.
        let mut stage = 0;
        for subtag in subtags {
            let len = subtag.len();
            let alpha = subtag.bytes().all(|b| b.is_ascii_alphabetic());
            let digits = subtag.bytes().all(|b| b.is_ascii_digit());
            let alnum = subtag.bytes().all(|b| b.is_ascii_alphanumeric());
            let (kind, canonical) = if len == 4 && alpha {
                (1, title_case(subtag))
            } else if (len == 2 && alpha) || (len == 3 && digits) {
                (2, subtag.to_ascii_uppercase())
            } else if alnum
                && ((5..=8).contains(&len) || (len == 4 && subtag.as_bytes()[0].is_ascii_digit()))
            {
                (3, subtag.to_ascii_lowercase())
            } else if len == 1 {
                return Err(invalid(
                    "extensions and private-use subtags are not supported",
                ));
            } else {
                return Err(invalid(format!(
                    "{subtag:?} is not a script (4 letters), region (2 letters or 3 digits) or variant (5 to 8 letters or digits)"
                )));
            };
            if kind < stage || (kind == stage && kind != 3) {
                return Err(invalid(
                    "subtags go in the order language, script, region, variants",
                ));
            }
            stage = kind;
            tag.push('-');
            tag.push_str(&canonical);
        }
        Ok(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn title_case(subtag: &str) -> String {
    let lower = subtag.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// What a contact needs in order to communicate with the agency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessibilityNeeds {
    /// A spoken-language interpreter, and for which language.
    pub interpreter: Option<LanguageTag>,
    pub large_print: bool,
    /// Calls through TTY or the National Relay Service.
    pub relay_service: bool,
    /// An Auslan (Australian Sign Language) interpreter.
    pub auslan: bool,
    /// Anything else, in the contact's words.
    pub other: Option<ShortText>,
}

impl AccessibilityNeeds {
    /// The longest free-text description kept in `other`.
    pub const OTHER_MAX: usize = 500;

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_canonicalised() {
        for (raw, canonical) in [
            ("en", "en"),
            ("EN-au", "en-AU"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("asf", "asf"),
            ("es-419", "es-419"),
            ("sl-rozaj-biske", "sl-rozaj-biske"),
            ("de-CH-1901", "de-CH-1901"),
            (" vi ", "vi"),
        ] {
            assert_eq!(
                LanguageTag::parse(raw).unwrap().as_str(),
                canonical,
                "{raw}"
            );
        }
    }

    #[test]
    fn language_tag_refusals() {
        let cases = [
            ("", "must not be empty"),
            (
                "english",
                "must start with a 2- or 3-letter language code, e.g. en or vi",
            ),
            (
                "e",
                "must start with a 2- or 3-letter language code, e.g. en or vi",
            ),
            (
                "en_AU",
                "must start with a 2- or 3-letter language code, e.g. en or vi",
            ),
            (
                "en-AU-Latn",
                "subtags go in the order language, script, region, variants",
            ),
            (
                "en-AU-GB",
                "subtags go in the order language, script, region, variants",
            ),
            (
                "en-u-ca-buddhist",
                "extensions and private-use subtags are not supported",
            ),
            (
                "en-x-klingon",
                "extensions and private-use subtags are not supported",
            ),
            (
                "en-abcdefghi",
                "\"abcdefghi\" is not a script (4 letters), region (2 letters or 3 digits) or variant (5 to 8 letters or digits)",
            ),
            (
                "en-",
                "\"\" is not a script (4 letters), region (2 letters or 3 digits) or variant (5 to 8 letters or digits)",
            ),
        ];
        for (raw, reason) in cases {
            assert_eq!(LanguageTag::parse(raw).unwrap_err().0, reason, "{raw}");
        }
    }

    #[test]
    fn accessibility_needs() {
        assert!(AccessibilityNeeds::default().is_empty());
        let needs = AccessibilityNeeds {
            interpreter: Some(LanguageTag::parse("vi").unwrap()),
            relay_service: true,
            other: Some(
                ShortText::parse("Prefers morning calls", AccessibilityNeeds::OTHER_MAX).unwrap(),
            ),
            ..AccessibilityNeeds::default()
        };
        assert!(!needs.is_empty());
        assert_eq!(needs.interpreter.as_ref().unwrap().as_str(), "vi");
    }
}
