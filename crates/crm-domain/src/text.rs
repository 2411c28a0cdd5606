//! Free text: cleaning shared by every typed field, short texts and slugs.

use crate::error::{Invalid, invalid};
use unicode_normalization::UnicodeNormalization;

/// Trims, collapses each run of whitespace to one space and NFC-normalises, so
/// the same text typed on different keyboards compares equal; refuses control
/// characters and the invisible bidirectional overrides used to disguise text.
pub(crate) fn clean(raw: &str) -> Result<String, Invalid> {
    let text: String = raw.nfc().collect();
    let mut cleaned = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if let Some(c) = word.chars().find(|&c| c.is_control() || is_bidi_control(c)) {
            return Err(invalid(format!(
                "must not contain the control character U+{:04X}",
                u32::from(c)
            )));
        }
        if !cleaned.is_empty() {
            cleaned.push(' ');
        }
        cleaned.push_str(word);
    }
    Ok(cleaned)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Cleans `raw` and requires 1 to `max` characters.
pub(crate) fn clean_bounded(raw: &str, max: usize) -> Result<String, Invalid> {
    let text = clean(raw)?;
    if text.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if text.chars().count() > max {
        return Err(invalid(format!("must be at most {max} characters")));
    }
    Ok(text)
}

/// A short required text (a name or a subject): trimmed, 1 to `max` characters,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText(String);

impl ShortText {
    pub fn parse(raw: &str, max: usize) -> Result<Self, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if text.chars().count() > max {
            return Err(invalid(format!("must be at most {max} characters")));
        }
        if text.chars().any(char::is_control) {
            return Err(invalid("must not contain control characters"));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A machine name: 1 to 64 lowercase ASCII letters, digits and single hyphens,
/// starting with a letter (`housing-support`, `web-form`). Upper case is
/// lowered; nothing else is changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let slug = raw.trim().to_ascii_lowercase();
        if slug.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if slug.len() > Self::MAX {
            return Err(invalid(format!("must be at most {} characters", Self::MAX)));
        }
        if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("must start with a letter"));
        }
        if let Some(c) = slug
            .chars()
            .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            return Err(invalid(format!(
                "must contain only letters, digits and hyphens, not {c:?}"
            )));
        }
        if slug.ends_with('-') || slug.contains("--") {
            return Err(invalid(
                "hyphens must separate words (no trailing or double hyphens)",
            ));
        }
        Ok(Self(slug))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag or category on a contact, e.g. `housing-support`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(Slug);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Slug::parse(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_counts_characters_not_bytes() {
        assert_eq!(
            ShortText::parse("  Zoë Ngô ", 8).unwrap().as_str(),
            "Zoë Ngô"
        );
        assert!(ShortText::parse("   ", 10).is_err());
        assert!(ShortText::parse("abc", 2).is_err());
        assert!(ShortText::parse("a\u{0}b", 10).is_err());
    }

    #[test]
    fn clean_collapses_whitespace_and_composes() {
        // "e" + combining diaeresis becomes the single code point ë.
        assert_eq!(clean("  Zoe\u{308}\u{a0}\t Ngô ").unwrap(), "Zo\u{eb} Ngô");
        assert_eq!(clean("").unwrap(), "");
        let err = clean("Ann\u{7}").unwrap_err();
        assert_eq!(err.0, "must not contain the control character U+0007");
        assert!(clean("abc\u{202E}fed").is_err());
    }

    #[test]
    fn clean_bounded_counts_after_composition() {
        // Four code points decomposed, three composed.
        assert_eq!(
            clean_bounded("Zoe\u{308}", 2).unwrap_err().0,
            "must be at most 2 characters"
        );
        assert_eq!(clean_bounded("Zoe\u{308}", 3).unwrap(), "Zoë");
        assert_eq!(clean_bounded(" \n ", 4).unwrap_err().0, "must not be empty");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            Slug::parse(" Housing-Support ").unwrap().as_str(),
            "housing-support"
        );
        assert_eq!(Tag::parse("nrs2").unwrap().as_str(), "nrs2");
        for (bad, reason) in [
            ("", "must not be empty"),
            ("2fa", "must start with a letter"),
            (
                "a b",
                "must contain only letters, digits and hyphens, not ' '",
            ),
            (
                "a_b",
                "must contain only letters, digits and hyphens, not '_'",
            ),
            (
                "a-",
                "hyphens must separate words (no trailing or double hyphens)",
            ),
            (
                "a--b",
                "hyphens must separate words (no trailing or double hyphens)",
            ),
        ] {
            assert_eq!(Slug::parse(bad).unwrap_err().0, reason, "{bad}");
        }
        assert!(Slug::parse(&"a".repeat(64)).is_ok());
        assert!(Slug::parse(&"a".repeat(65)).is_err());
    }
}
