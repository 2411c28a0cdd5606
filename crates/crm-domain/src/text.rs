//! Free text: cleaning shared by every typed field, short texts and slugs.

use crate::error::{Invalid, invalid};
use unicode_normalization::UnicodeNormalization;

/// Whether a text field may hold several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A name, a subject, a reference: no line breaks or tabs.
    One,
    /// Notes, a message body: line breaks (`\n`, `\r`) and tabs allowed.
    Many,
}

/// The rule every text field keeps, whatever else it checks: at most `max`
/// characters, and no control character (C0, DEL, C1) nor the invisible
/// bidirectional overrides used to disguise text, but for line breaks and
/// tabs in a field of [`Lines::Many`]. The text itself is not changed.
pub fn check_text(text: &str, max: usize, lines: Lines) -> Result<(), Invalid> {
    if let Some(c) = text.chars().find(|&c| is_refused(c, lines)) {
        return Err(invalid(format!(
            "must not contain the control character U+{:04X}",
            u32::from(c)
        )));
    }
    if text.chars().count() > max {
        return Err(invalid(format!("must be at most {max} characters")));
    }
    Ok(())
}

fn is_refused(c: char, lines: Lines) -> bool {
    let allowed = lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
    (c.is_control() && !allowed) || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Trims, collapses each run of whitespace to one space and NFC-normalises, so
/// the same text typed on different keyboards compares equal; refuses what
/// [`check_text`] refuses in one line.
pub(crate) fn clean(raw: &str) -> Result<String, Invalid> {
    let text: String = raw.nfc().collect();
    let mut cleaned = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        check_text(word, usize::MAX, Lines::One)?;
        if !cleaned.is_empty() {
            cleaned.push(' ');
        }
        cleaned.push_str(word);
    }
    Ok(cleaned)
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

/// A short required text (a name or a subject): trimmed, 1 to `max` characters
/// on one line ([`check_text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText(String);

impl ShortText {
    pub fn parse(raw: &str, max: usize) -> Result<Self, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(invalid("must not be empty"));
        }
        check_text(text, max, Lines::One)?;
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

impl serde::Serialize for Slug {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// By [`Slug::parse`], so a request body's refusal says why.
impl<'de> serde::Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(e.0))
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
    fn text_refuses_controls_but_line_breaks_where_lines_are_many() {
        for refused in [
            "a\u{0}b",
            "a\u{7}",
            "a\u{1b}[31m",
            "a\u{7f}",
            "a\u{85}",
            "a\u{9b}",
            "\u{202E}cba",
        ] {
            assert!(check_text(refused, 100, Lines::One).is_err(), "{refused:?}");
            assert!(
                check_text(refused, 100, Lines::Many).is_err(),
                "{refused:?}"
            );
        }
        for lines in ["a\nb", "a\r\nb", "a\tb"] {
            assert!(check_text(lines, 100, Lines::One).is_err(), "{lines:?}");
            assert_eq!(check_text(lines, 100, Lines::Many), Ok(()), "{lines:?}");
        }
        assert_eq!(
            check_text("a\u{0}", 100, Lines::One).unwrap_err().0,
            "must not contain the control character U+0000"
        );
        assert_eq!(check_text("Zoë", 3, Lines::One), Ok(()));
        assert_eq!(
            check_text("Zoë!", 3, Lines::One).unwrap_err().0,
            "must be at most 3 characters"
        );
        assert!(ShortText::parse("Re: \u{202E}fdp.exe", 100).is_err());
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
