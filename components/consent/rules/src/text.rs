//! Text shapes the consent types share: opaque identifiers and slugs. Each
//! is a newtype whose parser is the only way in.

use crm_domain::Invalid;

/// Longest opaque identifier accepted (bytes).
const MAX_ID_LEN: usize = 128;
/// Longest slug accepted (bytes).
const MAX_SLUG_LEN: usize = 64;

/// Checks an opaque identifier: 1 to 128 bytes, no whitespace, no control
/// characters. Ids are compared exactly, so nothing is trimmed.
fn check_opaque(raw: &str) -> Result<&str, Invalid> {
    if raw.is_empty() || raw.len() > MAX_ID_LEN {
        return Err(Invalid(format!("must be 1 to {MAX_ID_LEN} bytes")));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid(
            "must not contain whitespace or control characters".into(),
        ));
    }
    Ok(raw)
}

/// Checks a slug: lowercase ASCII words of letters and digits joined by
/// single hyphens, starting with a letter, at most 64 bytes
/// (`service-delivery`, `contact-details`).
pub(crate) fn check_slug(raw: &str) -> Result<&str, Invalid> {
    let words_ok = raw.split('-').all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if raw.len() > MAX_SLUG_LEN || !raw.starts_with(|c: char| c.is_ascii_lowercase()) || !words_ok {
        return Err(Invalid(format!(
            "`{raw}` must be a lowercase slug of at most {MAX_SLUG_LEN} bytes: letters and digits \
             in words joined by single hyphens, starting with a letter"
        )));
    }
    Ok(raw)
}

/// Defines a string newtype whose only constructor is `parse` through the
/// given check; it displays and serialises as its text.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, crm_domain::Invalid> {
                $check(raw).map(|ok| Self(ok.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

checked_string!(
    /// A consent record's id, chosen by the caller.
    RecordId,
    check_opaque
);
checked_string!(
    /// A reference to evidence held elsewhere: a form version, a scanned
    /// document, a recorded call, an email's message id.
    Reference,
    check_opaque
);
checked_string!(
    /// A category of personal information, as a slug (`contact-details`).
    DataCategory,
    check_slug
);

/// Kinds of *sensitive information* (Privacy Act 1988 s 6), spelled as the
/// data category slugs that name them; receipts flag them as sensitive.
const SENSITIVE_CATEGORIES: &[&str] = &[
    "racial-or-ethnic-origin",
    "political-opinions",
    "political-association-membership",
    "religious-beliefs",
    "philosophical-beliefs",
    "professional-association-membership",
    "trade-union-membership",
    "sexual-orientation-or-practices",
    "criminal-record",
    "health",
    "genetic",
    "biometric",
];

impl DataCategory {
    /// Whether this category is sensitive information under s 6.
    pub fn is_sensitive(&self) -> bool {
        SENSITIVE_CATEGORIES.contains(&self.as_str())
    }
}

pub(crate) use checked_string;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_ids_are_exact_and_bounded() {
        assert_eq!(RecordId::parse("c-1:9/x").unwrap().as_str(), "c-1:9/x");
        assert!(RecordId::parse("").is_err());
        assert!(RecordId::parse(" c1").is_err());
        assert!(RecordId::parse("c\u{7}1").is_err());
        assert!(RecordId::parse(&"a".repeat(MAX_ID_LEN)).is_ok());
        assert!(RecordId::parse(&"a".repeat(MAX_ID_LEN + 1)).is_err());
    }

    #[test]
    fn slugs() {
        for good in ["a", "service-delivery", "status-updates2", "x1-2b"] {
            assert!(check_slug(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "1abc",
            "a_b",
            "a b",
            "ünï",
            "sharing:x",
        ] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
        assert!(check_slug(&"a".repeat(MAX_SLUG_LEN)).is_ok());
        assert!(check_slug(&"a".repeat(MAX_SLUG_LEN + 1)).is_err());
    }

    #[test]
    fn sensitive_categories_are_slugs_and_flagged() {
        for name in SENSITIVE_CATEGORIES {
            assert!(DataCategory::parse(name).unwrap().is_sensitive(), "{name}");
        }
        assert!(
            !DataCategory::parse("contact-details")
                .unwrap()
                .is_sensitive()
        );
    }
}
