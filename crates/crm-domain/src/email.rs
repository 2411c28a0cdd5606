//! Email addresses.

use crate::error::{Invalid, invalid};
use crate::text::{Lines, check_text};

/// An email address, trimmed and with its domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        check_text(raw, 254, Lines::One)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
            "a\u{0}@example.com",
            "a\u{85}b@example.com",
            "ann@example.com\u{0}",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
