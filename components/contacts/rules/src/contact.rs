//! A checked contact: [`validate`] turns [`ContactFields`] into domain
//! values (reporting every refused field by name), and
//! [`Contact::to_fields`] gives them back normalised.

use contacts_matching::MatchProfile;
use crm_domain::{
    Abn, AccessibilityNeeds, Acn, Address, AddressInput, AddressKind, AgencyIdentifier, Archetype,
    CalendarDate, DateOfBirth, Email, FieldErrors, Invalid, LanguageTag, NamePart,
    OrganisationName, PersonName, PhoneE164, PreferredChannel, Region, RelationshipKind, ShortText,
    Tag,
};

use crate::fields::{
    AccessibilityFields, AddressFields, ContactFields, IdentifierFields, RelationshipFields,
};

/// Limits on list fields, so one record stays a reasonable size.
pub const MAX_EMAILS: usize = 10;
pub const MAX_PHONES: usize = 10;
pub const MAX_IDENTIFIERS: usize = 20;
pub const MAX_RELATIONSHIPS: usize = 50;
pub const MAX_TAGS: usize = 50;
pub const MAX_CATEGORIES: usize = 20;
pub const DISPLAY_NAME_MAX: usize = 200;
/// Contact ids are opaque, but short and printable.
const CONTACT_ID_MAX: usize = 64;

/// A relationship to another contact, by id (its existence and kind are the
/// store's to check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub kind: RelationshipKind,
    pub contact_id: String,
}

/// A contact whose every field passed its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub archetype: Archetype,
    /// As given, or derived from the names.
    pub display_name: String,
    pub person: Option<PersonName>,
    pub organisation: Option<OrganisationName>,
    pub date_of_birth: Option<DateOfBirth>,
    pub emails: Vec<Email>,
    pub phones: Vec<PhoneE164>,
    pub postal_address: Option<Address>,
    pub residential_address: Option<Address>,
    pub preferred_channel: Option<PreferredChannel>,
    pub language: Option<LanguageTag>,
    pub accessibility: AccessibilityNeeds,
    pub abn: Option<Abn>,
    pub acn: Option<Acn>,
    pub identifiers: Vec<AgencyIdentifier>,
    pub relationships: Vec<Relationship>,
    pub tags: Vec<Tag>,
    pub categories: Vec<Tag>,
}

fn reason(text: impl Into<String>) -> Invalid {
    Invalid(text.into())
}

/// Checks and normalises `fields`; `today` bounds the date of birth.
pub fn validate(fields: &ContactFields, today: CalendarDate) -> Result<Contact, FieldErrors> {
    let mut errors = FieldErrors::default();
    let archetype = errors.check(
        "archetype",
        fields
            .archetype
            .as_deref()
            .ok_or_else(|| reason("is required: individual, business, government or partner"))
            .and_then(Archetype::parse),
    );
    let display_name = errors.check_optional("display_name", fields.display_name.as_deref(), |d| {
        ShortText::parse(d, DISPLAY_NAME_MAX)
    });
    let person = person_name(fields, &mut errors);
    let organisation = errors.check_optional(
        "organisation_name",
        fields.organisation_name.as_deref(),
        OrganisationName::parse,
    );
    let date_of_birth =
        errors.check_optional("date_of_birth", fields.date_of_birth.as_deref(), |d| {
            DateOfBirth::parse(d, today)
        });
    let emails = emails(fields, &mut errors);
    let phones = checked_list(&mut errors, "phones", &fields.phones, MAX_PHONES, |p| {
        PhoneE164::parse(p)
    });
    let postal_address = address(
        &mut errors,
        "postal_address",
        fields.postal_address.as_ref(),
        AddressKind::Postal,
    );
    let residential_address = address(
        &mut errors,
        "residential_address",
        fields.residential_address.as_ref(),
        AddressKind::Residential,
    );
    let preferred_channel = errors.check_optional(
        "preferred_channel",
        fields.preferred_channel.as_deref(),
        PreferredChannel::parse,
    );
    let language =
        errors.check_optional("language", fields.language.as_deref(), LanguageTag::parse);
    let accessibility = accessibility(&mut errors, fields.accessibility_needs.as_ref());
    let identifiers = identifiers(&mut errors, &fields.identifiers);
    let relationships = checked_list(
        &mut errors,
        "relationships",
        &fields.relationships,
        MAX_RELATIONSHIPS,
        |r| Ok(r.clone()),
    )
    .and_then(|list| relationships(&mut errors, &list));
    let tags = checked_list(&mut errors, "tags", &fields.tags, MAX_TAGS, |t| {
        Tag::parse(t)
    });
    let categories = checked_list(
        &mut errors,
        "categories",
        &fields.categories,
        MAX_CATEGORIES,
        |t| Tag::parse(t),
    );

    if let Some(archetype) = archetype {
        check_archetype_fields(archetype, fields, &identifiers, &mut errors);
    }
    let (
        Some(archetype),
        Some(display_name),
        Some(person),
        Some(organisation),
        Some(date_of_birth),
        Some(emails),
        Some(phones),
        Some(postal_address),
        Some(residential_address),
        Some(preferred_channel),
        Some(language),
        Some(accessibility),
        Some(identifiers),
        Some(relationships),
        Some(tags),
        Some(categories),
        true,
    ) = (
        archetype,
        display_name,
        person,
        organisation,
        date_of_birth,
        emails,
        phones,
        postal_address,
        residential_address,
        preferred_channel,
        language,
        accessibility,
        identifiers,
        relationships,
        tags,
        categories,
        errors.is_empty(),
    )
    else {
        return Err(errors);
    };
    let display_name = display_name
        .map(ShortText::into_string)
        .or_else(|| derived_display_name(person.as_ref(), organisation.as_ref()))
        .unwrap_or_default();
    Ok(Contact {
        archetype,
        display_name,
        person,
        organisation,
        date_of_birth,
        emails,
        phones,
        postal_address,
        residential_address,
        preferred_channel,
        language,
        accessibility,
        abn: identifiers.abn,
        acn: identifiers.acn,
        identifiers: identifiers.agency,
        relationships,
        tags,
        categories,
    })
}

/// The person's name, if any part was given; each part's refusal under its
/// own field.
fn person_name(fields: &ContactFields, errors: &mut FieldErrors) -> Option<Option<PersonName>> {
    let (given, family, preferred) = (
        fields.given_name.as_deref(),
        fields.family_name.as_deref(),
        fields.preferred_name.as_deref(),
    );
    match family {
        Some(family) => {
            errors.check_nested_flat(PersonName::parse(given, family, preferred).map(Some))
        }
        None if given.is_some() || preferred.is_some() => {
            // Report the given parts' own problems too.
            errors.check_optional("given_name", given, NamePart::parse);
            errors.check_optional("preferred_name", preferred, NamePart::parse);
            errors.check::<()>(
                "family_name",
                Err(reason(
                    "is required with a given or preferred name (a person with one name records it here)",
                )),
            );
            None
        }
        None => Some(None),
    }
}

/// Field errors of a composite whose field names are already top-level.
trait CheckFlat {
    fn check_nested_flat<T>(&mut self, result: Result<T, FieldErrors>) -> Option<T>;
}

impl CheckFlat for FieldErrors {
    fn check_nested_flat<T>(&mut self, result: Result<T, FieldErrors>) -> Option<T> {
        result.map_err(|errors| self.0.extend(errors.0)).ok()
    }
}

fn emails(fields: &ContactFields, errors: &mut FieldErrors) -> Option<Vec<Email>> {
    let shorthand = errors.check_optional("email", fields.email.as_deref(), Email::parse);
    let listed = checked_list(errors, "emails", &fields.emails, MAX_EMAILS, |e| {
        Email::parse(e)
    });
    let mut all: Vec<Email> = shorthand?.into_iter().chain(listed?).collect();
    // Mailbox names are case-insensitive in practice: keep the first spelling.
    let mut seen = Vec::new();
    all.retain(|e| {
        let key = e.as_str().to_lowercase();
        let fresh = !seen.contains(&key);
        seen.push(key);
        fresh
    });
    if all.len() > MAX_EMAILS {
        errors.check::<()>(
            "emails",
            Err(reason(format!("at most {MAX_EMAILS} addresses"))),
        );
        return None;
    }
    Some(all)
}

/// Parses each item under `name[i]`, drops repeats, and caps the count.
fn checked_list<I, T: PartialEq>(
    errors: &mut FieldErrors,
    name: &str,
    items: &[I],
    max: usize,
    parse: impl Fn(&I) -> Result<T, Invalid>,
) -> Option<Vec<T>> {
    if items.len() > max {
        errors.check::<()>(name, Err(reason(format!("at most {max} items"))));
        return None;
    }
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match errors.check(&format!("{name}[{i}]"), parse(item)) {
            Some(value) if !out.contains(&value) => out.push(value),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn address(
    errors: &mut FieldErrors,
    name: &str,
    fields: Option<&AddressFields>,
    kind: AddressKind,
) -> Option<Option<Address>> {
    let Some(fields) = fields else {
        return Some(None);
    };
    let input = AddressInput {
        lines: &fields.lines,
        locality: &fields.locality,
        state: fields.state.as_deref(),
        postcode: fields.postcode.as_deref(),
        country: fields.country.as_deref(),
    };
    errors
        .check_nested(name, Address::parse(input, kind))
        .map(Some)
}

fn accessibility(
    errors: &mut FieldErrors,
    fields: Option<&AccessibilityFields>,
) -> Option<AccessibilityNeeds> {
    let Some(fields) = fields else {
        return Some(AccessibilityNeeds::default());
    };
    let interpreter = errors.check_optional(
        "accessibility_needs.interpreter",
        fields.interpreter.as_deref(),
        LanguageTag::parse,
    );
    let other = errors.check_optional("accessibility_needs.other", fields.other.as_deref(), |o| {
        ShortText::parse(o, AccessibilityNeeds::OTHER_MAX)
    });
    Some(AccessibilityNeeds {
        interpreter: interpreter?,
        large_print: fields.large_print,
        relay_service: fields.tty,
        auslan: fields.auslan,
        other: other?,
    })
}

struct Identifiers {
    abn: Option<Abn>,
    acn: Option<Acn>,
    agency: Vec<AgencyIdentifier>,
}

fn identifiers(errors: &mut FieldErrors, fields: &[IdentifierFields]) -> Option<Identifiers> {
    if fields.len() > MAX_IDENTIFIERS {
        errors.check::<()>(
            "identifiers",
            Err(reason(format!("at most {MAX_IDENTIFIERS} items"))),
        );
        return None;
    }
    let mut out = Identifiers {
        abn: None,
        acn: None,
        agency: Vec::new(),
    };
    let before = errors.0.len();
    for (i, id) in fields.iter().enumerate() {
        let field = format!("identifiers[{i}]");
        match id.scheme.trim().to_ascii_lowercase().as_str() {
            "abn" => {
                if let Some(abn) = errors.check(&format!("{field}.value"), Abn::parse(&id.value)) {
                    one_of_a_kind(errors, &field, &mut out.abn, abn, "ABN");
                }
            }
            "acn" => {
                if let Some(acn) = errors.check(&format!("{field}.value"), Acn::parse(&id.value)) {
                    one_of_a_kind(errors, &field, &mut out.acn, acn, "ACN");
                }
            }
            _ => {
                if let Some(agency) =
                    errors.check_nested(&field, AgencyIdentifier::parse(&id.scheme, &id.value))
                    && !out.agency.contains(&agency)
                {
                    out.agency.push(agency);
                }
            }
        }
    }
    (errors.0.len() == before).then_some(out)
}

fn one_of_a_kind<T: PartialEq>(
    errors: &mut FieldErrors,
    field: &str,
    slot: &mut Option<T>,
    value: T,
    what: &str,
) {
    match slot {
        Some(existing) if *existing != value => {
            errors.check::<()>(
                &format!("{field}.scheme"),
                Err(reason(format!("a contact has one {what}"))),
            );
        }
        _ => *slot = Some(value),
    }
}

fn relationships(
    errors: &mut FieldErrors,
    fields: &[RelationshipFields],
) -> Option<Vec<Relationship>> {
    let before = errors.0.len();
    let mut out: Vec<Relationship> = Vec::new();
    for (i, r) in fields.iter().enumerate() {
        let kind = errors.check(
            &format!("relationships[{i}].kind"),
            RelationshipKind::parse(&r.kind),
        );
        let id = r.contact_id.trim();
        let contact_id = errors.check(
            &format!("relationships[{i}].contact_id"),
            if id.is_empty() || id.len() > CONTACT_ID_MAX || !id.bytes().all(is_id_byte) {
                Err(reason("must be a contact id"))
            } else {
                Ok(id.to_string())
            },
        );
        if let (Some(kind), Some(contact_id)) = (kind, contact_id) {
            let relationship = Relationship { kind, contact_id };
            if !out.contains(&relationship) {
                out.push(relationship);
            }
        }
    }
    (errors.0.len() == before).then_some(out)
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Which fields fit which kind of contact.
fn check_archetype_fields(
    archetype: Archetype,
    fields: &ContactFields,
    identifiers: &Option<Identifiers>,
    errors: &mut FieldErrors,
) {
    if archetype.is_organisation() {
        for (name, value) in [
            ("given_name", &fields.given_name),
            ("family_name", &fields.family_name),
            ("preferred_name", &fields.preferred_name),
        ] {
            if value.is_some() {
                errors.check::<()>(
                    name,
                    Err(reason(
                        "only individuals have personal names; an organisation has an organisation_name",
                    )),
                );
            }
        }
        if fields.date_of_birth.is_some() {
            errors.check::<()>(
                "date_of_birth",
                Err(reason("only individuals have a date of birth")),
            );
        }
        if fields.organisation_name.is_none() && fields.display_name.is_none() {
            errors.check::<()>(
                "organisation_name",
                Err(reason(
                    "is required for a business, government body or partner",
                )),
            );
        }
    } else {
        if fields.organisation_name.is_some() {
            errors.check::<()>(
                "organisation_name",
                Err(reason(
                    "individuals are named by given, family and preferred names; record their organisation as its own contact",
                )),
            );
        }
        if fields.family_name.is_none()
            && fields.given_name.is_none()
            && fields.preferred_name.is_none()
            && fields.display_name.is_none()
        {
            errors.check::<()>(
                "family_name",
                Err(reason(
                    "is required for an individual (or give a display_name)",
                )),
            );
        }
        if let Some(position) = fields
            .identifiers
            .iter()
            .position(|id| id.scheme.trim().eq_ignore_ascii_case("acn"))
            && identifiers.as_ref().is_some_and(|ids| ids.acn.is_some())
        {
            errors.check::<()>(
                &format!("identifiers[{position}].scheme"),
                Err(reason("an ACN names a company, not an individual")),
            );
        }
    }
}

/// "Preferred-or-given family" for a person, the organisation's name for
/// an organisation.
pub fn derived_display_name(
    person: Option<&PersonName>,
    organisation: Option<&OrganisationName>,
) -> Option<String> {
    if let Some(organisation) = organisation {
        return Some(organisation.as_str().to_string());
    }
    let person = person?;
    let first = person.preferred().or(person.given());
    Some(match first {
        Some(first) => format!("{} {}", first.as_str(), person.family().as_str()),
        None => person.family().as_str().to_string(),
    })
}

impl Contact {
    /// The contact's fields, normalised.
    pub fn to_fields(&self) -> ContactFields {
        let mut identifiers: Vec<IdentifierFields> = Vec::new();
        identifiers.extend(self.abn.iter().map(|abn| IdentifierFields {
            scheme: "abn".into(),
            value: abn.as_str().into(),
        }));
        identifiers.extend(self.acn.iter().map(|acn| IdentifierFields {
            scheme: "acn".into(),
            value: acn.as_str().into(),
        }));
        identifiers.extend(self.identifiers.iter().map(|id| IdentifierFields {
            scheme: id.scheme().into(),
            value: id.value().into(),
        }));
        ContactFields {
            archetype: Some(self.archetype.as_str().into()),
            display_name: Some(self.display_name.clone()),
            given_name: self
                .person
                .as_ref()
                .and_then(|p| p.given())
                .map(|n| n.as_str().into()),
            family_name: self.person.as_ref().map(|p| p.family().as_str().into()),
            preferred_name: self
                .person
                .as_ref()
                .and_then(|p| p.preferred())
                .map(|n| n.as_str().into()),
            organisation_name: self.organisation.as_ref().map(|o| o.as_str().into()),
            date_of_birth: self.date_of_birth.map(|d| d.to_string()),
            email: None,
            emails: self.emails.iter().map(|e| e.as_str().into()).collect(),
            phones: self.phones.iter().map(|p| p.as_str().into()).collect(),
            postal_address: self.postal_address.as_ref().map(address_fields),
            residential_address: self.residential_address.as_ref().map(address_fields),
            preferred_channel: self.preferred_channel.map(|c| c.as_str().into()),
            language: self.language.as_ref().map(|l| l.as_str().into()),
            accessibility_needs: (!self.accessibility.is_empty()).then(|| AccessibilityFields {
                interpreter: self
                    .accessibility
                    .interpreter
                    .as_ref()
                    .map(|l| l.as_str().into()),
                large_print: self.accessibility.large_print,
                tty: self.accessibility.relay_service,
                auslan: self.accessibility.auslan,
                other: self.accessibility.other.as_ref().map(|o| o.as_str().into()),
            }),
            identifiers,
            relationships: self
                .relationships
                .iter()
                .map(|r| RelationshipFields {
                    kind: r.kind.as_str().into(),
                    contact_id: r.contact_id.clone(),
                })
                .collect(),
            tags: self.tags.iter().map(|t| t.as_str().into()).collect(),
            categories: self.categories.iter().map(|t| t.as_str().into()).collect(),
        }
    }

    /// What matching needs. A contact with only a display name is matched
    /// by that name, read as given names then a family name (people) or as
    /// an organisation's name.
    pub fn match_profile(&self) -> MatchProfile {
        let person_name = match (&self.person, self.archetype.is_organisation()) {
            (Some(person), _) => Some(person.clone()),
            (None, false) => name_from_display(&self.display_name),
            (None, true) => None,
        };
        let organisation_name = match (&self.organisation, self.archetype.is_organisation()) {
            (Some(organisation), _) => Some(organisation.clone()),
            (None, true) => OrganisationName::parse(&self.display_name).ok(),
            (None, false) => None,
        };
        MatchProfile {
            archetype: self.archetype,
            person_name,
            organisation_name,
            date_of_birth: self.date_of_birth,
            emails: self.emails.clone(),
            phones: self.phones.clone(),
            abn: self.abn.clone(),
            acn: self.acn.clone(),
            identifiers: self.identifiers.clone(),
            postcodes: [&self.postal_address, &self.residential_address]
                .into_iter()
                .flatten()
                .filter_map(Address::postcode)
                .collect(),
        }
    }
}

fn name_from_display(display: &str) -> Option<PersonName> {
    let display = display.trim();
    match display.rsplit_once(' ') {
        Some((given, family)) => PersonName::parse(Some(given), family, None).ok(),
        None => PersonName::parse(None, display, None).ok(),
    }
}

fn address_fields(address: &Address) -> AddressFields {
    let (state, postcode) = match address.region() {
        Region::Australia { state, postcode } => {
            (Some(state.as_str().to_string()), Some(postcode.to_string()))
        }
        Region::Overseas {
            region,
            postal_code,
            ..
        } => (region.clone(), postal_code.clone()),
    };
    AddressFields {
        lines: address.lines().to_vec(),
        locality: address.locality().to_string(),
        state,
        postcode,
        country: Some(address.country().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn today() -> CalendarDate {
        CalendarDate::parse("2026-11-24").unwrap()
    }

    fn fields(value: serde_json::Value) -> ContactFields {
        serde_json::from_value(value).unwrap()
    }

    fn refused(value: serde_json::Value) -> Vec<(String, String)> {
        validate(&fields(value), today())
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| (e.field, e.reason))
            .collect()
    }

    fn field_names(value: serde_json::Value) -> Vec<String> {
        refused(value).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn a_full_individual_is_normalised() {
        let contact = validate(
            &fields(json!({
                "archetype": "individual",
                "given_name": " Zoë ", "family_name": "Nguye\u{302}\u{303}n",
                "date_of_birth": "1990-01-02",
                "email": "Zoe@Example.GOV.au",
                "emails": ["zoe@example.gov.au", "z.nguyen@mail.com"],
                "phones": ["0412 345 678", "+61 412 345 678", "(02) 6123 4567"],
                "postal_address": {"lines": ["1 Main St"], "locality": "Canberra", "state": "act", "postcode": "2600"},
                "preferred_channel": "email", "language": "VI",
                "accessibility_needs": {"interpreter": "vi", "large_print": true},
                "identifiers": [{"scheme": "medicare", "value": "2123 45670 1 1"}],
                "tags": ["Housing-Support", "housing-support"],
                "categories": ["priority"]
            })),
            today(),
        )
        .unwrap();
        let out = contact.to_fields();
        assert_eq!(out.display_name.as_deref(), Some("Zoë Nguyễn"));
        assert_eq!(out.family_name.as_deref(), Some("Nguyễn"));
        assert_eq!(out.emails, ["Zoe@example.gov.au", "z.nguyen@mail.com"]);
        assert_eq!(out.phones, ["+61412345678", "+61261234567"]);
        let postal = out.postal_address.as_ref().unwrap();
        assert_eq!(
            (
                postal.state.as_deref(),
                postal.postcode.as_deref(),
                postal.country.as_deref()
            ),
            (Some("ACT"), Some("2600"), Some("AU"))
        );
        assert_eq!(out.language.as_deref(), Some("vi"));
        assert_eq!(out.tags, ["housing-support"]);
        assert_eq!(out.identifiers[0].value, "21234567011");
        // Normalised fields validate to themselves.
        assert_eq!(validate(&out, today()).unwrap().to_fields(), out);
        let profile = contact.match_profile();
        assert_eq!(profile.postcodes.len(), 1);
        assert_eq!(profile.phones.len(), 2);
    }

    #[test]
    fn the_legacy_shape_still_works() {
        let contact = validate(
            &fields(json!({"archetype": "individual", "display_name": "  Zoë Ngô "})),
            today(),
        )
        .unwrap();
        assert_eq!(contact.display_name, "Zoë Ngô");
        assert!(contact.person.is_none());
        let profile = contact.match_profile();
        assert_eq!(profile.person_name.unwrap().family().as_str(), "Ngô");
        let org = validate(
            &fields(json!({"archetype": "business", "display_name": "ACME Pty Ltd"})),
            today(),
        )
        .unwrap();
        assert!(org.match_profile().organisation_name.is_some());
        // A display name that is not a person's name is kept, unmatched by name.
        let odd = validate(
            &fields(json!({"archetype": "individual", "display_name": "Bench 42"})),
            today(),
        )
        .unwrap();
        assert!(odd.match_profile().person_name.is_none());
    }

    #[test]
    fn refusals_name_every_field_in_order() {
        assert_eq!(
            field_names(json!({"archetype": "person", "display_name": "", "email": "nope"})),
            ["archetype", "display_name", "email"]
        );
        assert_eq!(
            field_names(json!({
                "archetype": "individual", "family_name": "Smith",
                "date_of_birth": "2090-01-01",
                "phones": ["12"], "emails": ["ok@x.au", "bad"],
                "postal_address": {"lines": ["1 Main St"], "locality": "Canberra", "state": "NSW", "postcode": "2600"},
                "residential_address": {"lines": ["PO Box 1"], "locality": "Sydney", "state": "NSW", "postcode": "2000"},
                "identifiers": [{"scheme": "abn", "value": "51 824 753 557"}, {"scheme": "tfn", "value": "123"}],
                "relationships": [{"kind": "parent-of", "contact_id": "con 1"}],
                "tags": ["no spaces"]
            })),
            [
                "date_of_birth",
                "emails[1]",
                "phones[0]",
                "postal_address.postcode",
                "residential_address.lines[0]",
                "identifiers[0].value",
                "identifiers[1].scheme",
                "relationships[0].kind",
                "relationships[0].contact_id",
                "tags[0]",
            ]
        );
    }

    #[test]
    fn abn_check_digits_and_one_per_contact() {
        let ok = validate(
            &fields(json!({"archetype": "business", "organisation_name": "ACME Pty Ltd",
                "identifiers": [{"scheme": "ABN", "value": "51 824 753 556"}, {"scheme": "acn", "value": "000 000 019"}]})),
            today(),
        )
        .unwrap();
        assert_eq!(ok.abn.unwrap().as_str(), "51824753556");
        let reasons = refused(json!({"archetype": "business", "organisation_name": "ACME",
            "identifiers": [{"scheme": "abn", "value": "51 824 753 556"}, {"scheme": "abn", "value": "53 004 085 616"}]}));
        assert_eq!(
            reasons,
            [(
                "identifiers[1].scheme".into(),
                "a contact has one ABN".into()
            )]
        );
        let reasons = refused(json!({"archetype": "business", "organisation_name": "ACME",
            "identifiers": [{"scheme": "abn", "value": "51 824 753 557"}]}));
        assert!(reasons[0].1.contains("check digits"), "{reasons:?}");
    }

    #[test]
    fn fields_must_fit_the_archetype() {
        assert_eq!(
            field_names(
                json!({"archetype": "business", "given_name": "Ann", "family_name": "Lee", "date_of_birth": "1990-01-01"})
            ),
            [
                "given_name",
                "family_name",
                "date_of_birth",
                "organisation_name"
            ]
        );
        assert_eq!(
            field_names(json!({"archetype": "individual", "organisation_name": "ACME"})),
            ["organisation_name", "family_name"]
        );
        assert_eq!(
            field_names(json!({"archetype": "individual", "given_name": "Ann"})),
            ["family_name"]
        );
        assert_eq!(
            field_names(json!({"archetype": "individual", "family_name": "Lee",
                "identifiers": [{"scheme": "acn", "value": "000 000 019"}]})),
            ["identifiers[0].scheme"]
        );
        assert_eq!(field_names(json!({})), ["archetype"]);
    }

    #[test]
    fn unicode_names_and_limits() {
        for (given, family) in [("小龙", "李"), ("محمد", "علي"), ("Ngũgĩ", "wa Thiong'o")]
        {
            let contact = validate(
                &fields(
                    json!({"archetype": "individual", "given_name": given, "family_name": family}),
                ),
                today(),
            )
            .unwrap();
            assert_eq!(contact.display_name, format!("{given} {family}"));
        }
        let many: Vec<String> = (0..11).map(|i| format!("a{i}@x.au")).collect();
        assert_eq!(
            field_names(json!({"archetype": "individual", "family_name": "Lee", "emails": many})),
            ["emails"]
        );
    }
}
