//! How to reach a contact, from its stored fields: what the
//! `crm:contacts/directory` interface returns.

use crate::fields::{AddressFields, ContactFields};
use crm_domain::CountryCode;

/// The ways a contact can be reached (`crm:contacts/directory.reach`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub display_name: String,
    pub emails: Vec<String>,
    /// E.164, Australian mobiles first (they can take SMS).
    pub phones: Vec<String>,
    /// Address lines, the last `LOCALITY STATE POSTCODE` (or the overseas
    /// locality, region and postal code, then the country code).
    pub postal_address: Vec<String>,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
    /// `interpreter:<language>`, `large-print`, `tty`, `auslan`, `other`.
    pub accessibility: Vec<String>,
}

pub fn reach(fields: &ContactFields) -> Reach {
    let mut phones = fields.phones.clone();
    // A stable sort keeps the stored order within mobiles and others.
    phones.sort_by_key(|p| !p.starts_with("+614"));
    let mut accessibility = Vec::new();
    if let Some(needs) = &fields.accessibility_needs {
        if let Some(language) = &needs.interpreter {
            accessibility.push(format!("interpreter:{language}"));
        }
        for (flag, name) in [
            (needs.large_print, "large-print"),
            (needs.tty, "tty"),
            (needs.auslan, "auslan"),
            (needs.other.is_some(), "other"),
        ] {
            if flag {
                accessibility.push(name.to_string());
            }
        }
    }
    Reach {
        display_name: fields.display_name.clone().unwrap_or_default(),
        emails: fields.emails.clone(),
        phones,
        postal_address: fields
            .postal_address
            .as_ref()
            .map(address_lines)
            .unwrap_or_default(),
        preferred_channel: fields.preferred_channel.clone(),
        language: fields.language.clone(),
        accessibility,
    }
}

fn address_lines(address: &AddressFields) -> Vec<String> {
    let mut lines = address.lines.clone();
    let country = address.country.as_deref().unwrap_or("AU");
    let last: Vec<&str> = [
        Some(address.locality.as_str()),
        address.state.as_deref(),
        address.postcode.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.is_empty())
    .collect();
    if country == "AU" {
        // Australia Post: the locality in capitals on the last line.
        lines.push(last.join(" ").to_uppercase());
    } else {
        lines.push(last.join(" "));
        // International mail: the country's name in capitals, last. A code
        // stored before codes were checked against ISO 3166 stays as it is.
        lines.push(
            CountryCode::parse(country)
                .map_or_else(|_| country.to_string(), |code| code.name().to_uppercase()),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{Contact, validate};
    use crm_domain::CalendarDate;
    use serde_json::json;

    fn contact(value: serde_json::Value) -> Contact {
        let today = CalendarDate::parse("2026-11-24").unwrap();
        validate(&serde_json::from_value(value).unwrap(), today).unwrap()
    }

    #[test]
    fn reach_lists_mobiles_first_and_formats_the_address() {
        let fields = contact(json!({
            "archetype": "individual", "given_name": "Zoë", "family_name": "Nguyễn",
            "phones": ["(02) 6123 4567", "0412 345 678"], "emails": ["zoe@x.au"],
            "postal_address": {"lines": ["1 Main St"], "locality": "Canberra", "state": "ACT", "postcode": "2600"},
            "preferred_channel": "sms", "language": "vi",
            "accessibility_needs": {"interpreter": "vi", "large_print": true, "tty": true}
        }))
        .to_fields();
        let found = reach(&fields);
        assert_eq!(found.display_name, "Zoë Nguyễn");
        assert_eq!(found.phones, ["+61412345678", "+61261234567"]);
        assert_eq!(found.postal_address, ["1 Main St", "CANBERRA ACT 2600"]);
        assert_eq!(
            found.accessibility,
            ["interpreter:vi", "large-print", "tty"]
        );
        let overseas = contact(json!({"archetype": "individual", "family_name": "Ng",
            "postal_address": {"lines": ["1 Queen St"], "locality": "Auckland", "postcode": "1010", "country": "NZ"}}))
        .to_fields();
        assert_eq!(
            reach(&overseas).postal_address,
            ["1 Queen St", "Auckland 1010", "NEW ZEALAND"]
        );
    }

    /// Every country a contact's address may name gives a last line that a
    /// letter accepts (`crm-templates` checks it before anything is posted).
    #[test]
    fn every_country_ends_an_address_a_letter_accepts() {
        for code in crm_domain::CountryCode::all().filter(|c| !c.is_australia()) {
            let fields = contact(json!({"archetype": "individual", "family_name": "Ng",
                "postal_address": {"lines": ["1 Main Rd"], "locality": "Capital", "country": code.as_str()}}))
            .to_fields();
            let mut lines = vec!["Ng".to_string()];
            lines.extend(reach(&fields).postal_address);
            let address = crm_templates::PostalAddress::from_lines(lines.clone())
                .unwrap_or_else(|e| panic!("{}: {lines:?}: {e}", code.as_str()));
            assert_eq!(
                address.destination(),
                &crm_templates::Destination::Country(code.name().to_string()),
                "{lines:?}"
            );
        }
    }
}
