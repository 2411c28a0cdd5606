//! Building profiles in tests.

use crate::MatchProfile;
use crm_domain::{
    Abn, AgencyIdentifier, Archetype, CalendarDate, DateOfBirth, Email, OrganisationName,
    PersonName, PhoneE164, Postcode,
};

pub fn today() -> CalendarDate {
    CalendarDate::parse("2026-11-24").unwrap()
}

/// An individual; `given` may be empty for a one-name person.
pub fn person(given: &str, family: &str) -> MatchProfile {
    MatchProfile {
        person_name: Some(
            PersonName::parse(Some(given).filter(|g| !g.is_empty()), family, None).unwrap(),
        ),
        ..MatchProfile::new(Archetype::Individual)
    }
}

pub fn organisation(name: &str) -> MatchProfile {
    MatchProfile {
        organisation_name: Some(OrganisationName::parse(name).unwrap()),
        ..MatchProfile::new(Archetype::Business)
    }
}

pub trait With {
    fn born(self, date: &str) -> Self;
    fn postcode(self, code: &str) -> Self;
    fn email(self, address: &str) -> Self;
    fn phone(self, number: &str) -> Self;
    fn abn(self, abn: &str) -> Self;
    fn identifier(self, scheme: &str, value: &str) -> Self;
    fn preferred(self, name: &str) -> Self;
}

impl With for MatchProfile {
    fn born(mut self, date: &str) -> Self {
        self.date_of_birth = Some(DateOfBirth::parse(date, today()).unwrap());
        self
    }

    fn postcode(mut self, code: &str) -> Self {
        self.postcodes.push(Postcode::parse(code).unwrap());
        self
    }

    fn email(mut self, address: &str) -> Self {
        self.emails.push(Email::parse(address).unwrap());
        self
    }

    fn phone(mut self, number: &str) -> Self {
        self.phones.push(PhoneE164::parse(number).unwrap());
        self
    }

    fn abn(mut self, abn: &str) -> Self {
        self.abn = Some(Abn::parse(abn).unwrap());
        self
    }

    fn identifier(mut self, scheme: &str, value: &str) -> Self {
        self.identifiers
            .push(AgencyIdentifier::parse(scheme, value).unwrap());
        self
    }

    fn preferred(mut self, name: &str) -> Self {
        let current = self.person_name.take().unwrap();
        self.person_name = Some(
            PersonName::parse(
                current.given().map(|g| g.as_str()),
                current.family().as_str(),
                Some(name),
            )
            .unwrap(),
        );
        self
    }
}
