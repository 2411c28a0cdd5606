//! The kinds of customer.

use crate::error::{Invalid, invalid};

/// The standard's four customer archetypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

    /// Whether the contact is an organisation (named by an `OrganisationName`)
    /// rather than a person.
    pub fn is_organisation(self) -> bool {
        self != Self::Individual
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archetypes_round_trip() {
        for name in ["individual", "business", "government", "partner"] {
            assert_eq!(Archetype::parse(name).unwrap().as_str(), name);
        }
        assert!(Archetype::parse("Individual").is_err());
        assert!(!Archetype::Individual.is_organisation());
        assert!(Archetype::Partner.is_organisation());
    }
}
