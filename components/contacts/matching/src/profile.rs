//! What matching needs to know about a contact, and its matching forms.

use crate::metaphone::{PhoneticCodes, double_metaphone};
use crate::normalise::{normalise_name, normalise_organisation_name};
use crm_domain::{
    Abn, Acn, AgencyIdentifier, Archetype, CalendarDate, DateOfBirth, Email, OrganisationName,
    PersonName, PhoneE164, Postcode,
};

/// A contact described for matching: checked values, but only those that
/// matching uses, so the component need not build a whole contact record
/// (from a request, or from stored columns) to match it.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchProfile {
    pub archetype: Archetype,
    pub person_name: Option<PersonName>,
    pub organisation_name: Option<OrganisationName>,
    pub date_of_birth: Option<DateOfBirth>,
    pub emails: Vec<Email>,
    pub phones: Vec<PhoneE164>,
    pub abn: Option<Abn>,
    pub acn: Option<Acn>,
    pub identifiers: Vec<AgencyIdentifier>,
    /// Postcodes of the contact's postal and residential addresses.
    pub postcodes: Vec<Postcode>,
}

impl MatchProfile {
    /// A profile with nothing known yet but the archetype.
    pub fn new(archetype: Archetype) -> Self {
        Self {
            archetype,
            person_name: None,
            organisation_name: None,
            date_of_birth: None,
            emails: Vec::new(),
            phones: Vec::new(),
            abn: None,
            acn: None,
            identifiers: Vec::new(),
            postcodes: Vec::new(),
        }
    }
}

/// The length of phonetic codes of people's names: Double Metaphone's usual 4.
pub(crate) const PERSON_CODE_LEN: usize = 4;
/// Organisation names are longer and fewer share a start, so codes keep more.
pub(crate) const ORGANISATION_CODE_LEN: usize = 8;

/// One name in matching form, its words run together so that `van der Berg`
/// and `Vanderberg` compare equal, and its phonetic codes.
#[derive(Debug, Clone)]
pub(crate) struct NameForm {
    pub compact: String,
    pub codes: PhoneticCodes,
}

impl NameForm {
    fn new(normalised: &str, code_len: usize) -> Self {
        let compact: String = normalised.split(' ').collect();
        let codes = double_metaphone(&compact, code_len);
        Self { compact, codes }
    }

    /// The phonetic code for an index key; for names with no Latin letters
    /// (so no code), the start of the name itself after a `~`.
    pub fn key_codes(&self) -> Vec<String> {
        if self.codes.primary.is_empty() {
            return vec![format!(
                "~{}",
                self.compact.chars().take(12).collect::<String>()
            )];
        }
        let mut codes = vec![self.codes.primary.clone()];
        if self.codes.alternate != self.codes.primary {
            codes.push(self.codes.alternate.clone());
        }
        codes
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PersonForm {
    pub family: NameForm,
    /// The first given name, which files the person in the index.
    pub first_given: Option<NameForm>,
    /// Each form of given name to compare, without repeats: all the given
    /// names, the first alone, the preferred name. Empty for one-name people.
    pub given: Vec<NameForm>,
}

impl PersonForm {
    fn new(name: &PersonName) -> Self {
        let family = NameForm::new(&normalise_name(name.family().as_str()), PERSON_CODE_LEN);
        let given_names = name.given().map(|g| normalise_name(g.as_str()));
        let first_given = given_names
            .as_deref()
            .and_then(|g| g.split(' ').next())
            .map(|first| NameForm::new(first, PERSON_CODE_LEN));
        let preferred = name.preferred().map(|p| normalise_name(p.as_str()));
        let mut given: Vec<NameForm> = Vec::new();
        for form in [
            given_names.as_deref(),
            first_given.as_ref().map(|f| f.compact.as_str()),
            preferred.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            let form = NameForm::new(form, PERSON_CODE_LEN);
            if !given.iter().any(|g| g.compact == form.compact) {
                given.push(form);
            }
        }
        Self {
            family,
            first_given,
            given,
        }
    }
}

/// A profile's matching forms, computed once per comparison.
pub(crate) struct Prepared<'a> {
    pub profile: &'a MatchProfile,
    pub person: Option<PersonForm>,
    pub organisation: Option<NameForm>,
    /// Lower-cased: mailbox names are case-insensitive in practice.
    pub emails: Vec<String>,
    pub date_of_birth: Option<CalendarDate>,
}

impl<'a> Prepared<'a> {
    pub fn new(profile: &'a MatchProfile) -> Self {
        let mut emails: Vec<String> = profile
            .emails
            .iter()
            .map(|e| e.as_str().to_lowercase())
            .collect();
        emails.sort();
        emails.dedup();
        Self {
            profile,
            person: profile.person_name.as_ref().map(PersonForm::new),
            organisation: profile.organisation_name.as_ref().map(|name| {
                NameForm::new(
                    &normalise_organisation_name(name.as_str()),
                    ORGANISATION_CODE_LEN,
                )
            }),
            emails,
            date_of_birth: profile.date_of_birth.map(DateOfBirth::date),
        }
    }
}
