//! Domain newtypes: a value of one of these types has passed its checks,
//! because parsing is the only way to make one.

use thiserror::Error;

/// Why a value was refused; the text is shown to the caller per field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(reason: impl Into<String>) -> Invalid {
    Invalid(reason.into())
}

/// An email address, trimmed and with its domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.len() > 254 {
            return Err(invalid("must be at most 254 characters"));
        }
        let (local, domain) = raw
            .rsplit_once('@')
            .ok_or_else(|| invalid("must contain @"))?;
        if local.is_empty() || local.len() > 64 || local.contains(char::is_whitespace) {
            return Err(invalid(
                "the part before @ must be 1 to 64 characters without spaces",
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid(
                "the domain must have at least two labels of letters, digits or hyphens",
            ));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The standard's four customer archetypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archetype {
    Individual,
    Business,
    Government,
    Partner,
}

impl Archetype {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "individual" => Ok(Self::Individual),
            "business" => Ok(Self::Business),
            "government" => Ok(Self::Government),
            "partner" => Ok(Self::Partner),
            _ => Err(invalid(
                "must be one of individual, business, government, partner",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Business => "business",
            Self::Government => "government",
            Self::Partner => "partner",
        }
    }
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

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-11-23T06:30:00.000Z`).
pub fn rfc3339_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_milliseconds() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339_utc(1_795_416_000_000), "2026-11-23T06:40:00.000Z");
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ann.Lee@Example.GOV.au ").unwrap().as_str(),
            "Ann.Lee@example.gov.au"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@localhost",
            "ann@exa mple.com",
            "a b@example.com",
            "ann@-x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn archetypes_round_trip() {
        for name in ["individual", "business", "government", "partner"] {
            assert_eq!(Archetype::parse(name).unwrap().as_str(), name);
        }
        assert!(Archetype::parse("Individual").is_err());
    }

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
}
