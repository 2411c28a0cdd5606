//! Relationships between contacts.

use crate::archetype::Archetype;
use crate::error::{Invalid, invalid};

/// How one contact (the subject) relates to another (the object), read as
/// "subject is <kind> object".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationshipKind {
    /// Acts for the object: a nominee, attorney, guardian or advocate.
    RepresentativeOf,
    /// An office holder (director, secretary, officer) of an organisation.
    OfficialOf,
    /// A partner, either a domestic partner or a partner organisation.
    PartnerOf,
    /// Lives in the same household.
    HouseholdMember,
}

impl RelationshipKind {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "representative-of" => Ok(Self::RepresentativeOf),
            "official-of" => Ok(Self::OfficialOf),
            "partner-of" => Ok(Self::PartnerOf),
            "household-member" => Ok(Self::HouseholdMember),
            _ => Err(invalid(
                "must be one of representative-of, official-of, partner-of, household-member",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RepresentativeOf => "representative-of",
            Self::OfficialOf => "official-of",
            Self::PartnerOf => "partner-of",
            Self::HouseholdMember => "household-member",
        }
    }

    /// Whether "a is kind b" implies "b is kind a", so one row records both.
    pub fn is_symmetric(self) -> bool {
        matches!(self, Self::PartnerOf | Self::HouseholdMember)
    }

    /// Whether the kinds of contact at either end can stand in this relationship.
    pub fn check_parties(self, subject: Archetype, object: Archetype) -> Result<(), Invalid> {
        let individual = |a: Archetype| !a.is_organisation();
        match self {
            Self::OfficialOf if !(individual(subject) && object.is_organisation()) => Err(invalid(
                "official-of links an individual to an organisation",
            )),
            Self::HouseholdMember if !(individual(subject) && individual(object)) => {
                Err(invalid("household-member links two individuals"))
            }
            Self::PartnerOf if individual(subject) != individual(object) => Err(invalid(
                "partner-of links two individuals or two organisations",
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Archetype::*;

    #[test]
    fn kinds_round_trip() {
        for name in [
            "representative-of",
            "official-of",
            "partner-of",
            "household-member",
        ] {
            assert_eq!(RelationshipKind::parse(name).unwrap().as_str(), name);
        }
        assert!(RelationshipKind::parse("parent-of").is_err());
        assert!(RelationshipKind::PartnerOf.is_symmetric());
        assert!(!RelationshipKind::RepresentativeOf.is_symmetric());
    }

    #[test]
    fn parties_must_fit_the_kind() {
        use RelationshipKind::*;
        assert!(OfficialOf.check_parties(Individual, Business).is_ok());
        assert_eq!(
            OfficialOf
                .check_parties(Business, Individual)
                .unwrap_err()
                .0,
            "official-of links an individual to an organisation"
        );
        assert!(
            HouseholdMember
                .check_parties(Individual, Individual)
                .is_ok()
        );
        assert!(
            HouseholdMember
                .check_parties(Individual, Government)
                .is_err()
        );
        assert!(PartnerOf.check_parties(Government, Partner).is_ok());
        assert!(PartnerOf.check_parties(Individual, Partner).is_err());
        // Organisations represent people too (legal aid, advocacy services).
        assert!(RepresentativeOf.check_parties(Business, Individual).is_ok());
    }
}
