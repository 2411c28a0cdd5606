//! Phone numbers as GOV.UK Notify reads them (notifications-utils'
//! `PhoneNumber`, on libphonenumber's metadata through the `phonenumber`
//! crate): a number without a country code is a UK one; a number whose
//! length fits no UK number is tried as an international one whose `+` was
//! lost; numbers with stray leading zeros or pluses get a second reading;
//! UK landlines are refused (a Notify service may not text them unless
//! allowed, and ours are not) and other countries' numbers accepted (as a
//! Notify service's by default). Two spellings of one number have one
//! normalised form, so guest lists and consent compare them as equal.

use std::collections::BTreeSet;

use phonenumber::metadata::DATABASE;
use phonenumber::{PhoneNumber, Type, country};

/// Why Notify refuses a number, with the words its `/v2` API answers
/// (`InvalidPhoneError`'s legacy v2 messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPhone {
    #[error("Number is not valid \u{2013} double check the phone number you entered")]
    InvalidNumber,
    #[error("Too many digits")]
    TooLong,
    #[error("Not enough digits")]
    TooShort,
    #[error("Not a UK mobile number")]
    NotAUkMobile,
    #[error("Must not contain letters or symbols")]
    UnknownCharacter,
    #[error("Not a valid country prefix")]
    UnsupportedCountryCode,
}

/// A number Notify would send to, in E.164 (`+447700900123`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyPhoneNumber(String);

const UK: u16 = 44;

impl NotifyPhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidPhone> {
        let number = read(raw).or_else(|_| read(&thoroughly_normalised(raw)))?;
        let uk_landline = matches!(
            number.number_type(&DATABASE),
            Type::FixedLine | Type::FixedLineOrMobile | Type::Uan
        );
        if number.code().value() == UK && uk_landline {
            return Err(InvalidPhone::NotAUkMobile);
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a text message says it is from, given a service's sender: a
/// number in Notify's sending form (its digits with the country code, no
/// `+`), a name as it is.
pub fn sms_sender_text(sender: &str) -> String {
    match NotifyPhoneNumber::parse(sender) {
        Ok(number) => number.as_str().trim_start_matches('+').to_string(),
        Err(_) => sender.to_string(),
    }
}

/// Why a service's text message sender cannot be used: a name must be 3 to
/// 11 letters, digits, spaces and `& . - _` with a letter among them (what
/// networks carry as an alphanumeric sender), else it must be a number.
pub fn check_sms_sender(sender: &str) -> Result<(), &'static str> {
    let name_chars = |c: char| c.is_ascii_alphanumeric() || " &.-_".contains(c);
    let is_name = (3..=11).contains(&sender.chars().count())
        && sender.chars().all(name_chars)
        && sender.chars().any(|c| c.is_ascii_alphabetic());
    if is_name || NotifyPhoneNumber::parse(sender).is_ok() {
        Ok(())
    } else {
        Err("must be a name of 3 to 11 letters, digits, spaces and & . - _, or a phone number")
    }
}

/// Notify's second reading: pluses and leading zeros dropped
/// (`0+447700900100`, `+07700900100`).
fn thoroughly_normalised(raw: &str) -> String {
    raw.replace('+', "").trim_start_matches('0').to_string()
}

/// One reading of a number (Notify's `parse_phone_number`).
fn read(raw: &str) -> Result<PhoneNumber, InvalidPhone> {
    let allowed = |c: char| c.is_whitespace() || "()-+".contains(c) || c.is_ascii_digit();
    if !raw.chars().all(allowed) {
        return Err(InvalidPhone::UnknownCharacter);
    }
    if raw.is_empty() {
        return Err(InvalidPhone::TooShort);
    }
    let mut number =
        phonenumber::parse(Some(country::Id::GB), raw).map_err(|_| InvalidPhone::InvalidNumber)?;
    if let Err(reason) = possible(&number) {
        // A spreadsheet may have dropped an international number's `+`.
        number = phonenumber::parse(None, format!("+{raw}"))
            .ok()
            .filter(|forced| possible(forced).is_ok())
            .ok_or(reason)?;
    }
    let allowed_type = matches!(
        number.number_type(&DATABASE),
        Type::FixedLine | Type::Mobile | Type::FixedLineOrMobile | Type::Uan | Type::PersonalNumber
    );
    if (number.is_valid() && allowed_type) || is_tv_number(&number) {
        Ok(number)
    } else {
        Err(InvalidPhone::InvalidNumber)
    }
}

/// The number types whose lengths make up a country's possible lengths,
/// as libphonenumber builds its general descriptor (this crate's metadata
/// leaves the general lengths empty).
const TYPES: [Type; 10] = [
    Type::FixedLine,
    Type::Mobile,
    Type::Pager,
    Type::TollFree,
    Type::PremiumRate,
    Type::SharedCost,
    Type::PersonalNumber,
    Type::Voip,
    Type::Uan,
    Type::Voicemail,
];

/// libphonenumber's `is_possible_number_with_reason`: whether the national
/// number's length is one its country's numbers have.
fn possible(number: &PhoneNumber) -> Result<(), InvalidPhone> {
    // The country code's main region: its lengths are the country's.
    let meta = DATABASE
        .by_code(&number.code().value())
        .and_then(|regions| {
            let main = regions.iter().position(|m| m.is_main_country_for_code());
            regions.get(main.unwrap_or(0)).copied()
        })
        .ok_or(InvalidPhone::UnsupportedCountryCode)?;
    let descriptors = TYPES.iter().filter_map(|t| meta.descriptors().get(*t));
    let mut lengths: BTreeSet<u16> = BTreeSet::new();
    let mut local: BTreeSet<u16> = BTreeSet::new();
    for descriptor in descriptors {
        lengths.extend(descriptor.possible_length());
        local.extend(descriptor.possible_local_length());
    }
    let length = number.national().to_string().len() as u16;
    let (Some(&shortest), Some(&longest)) = (lengths.first(), lengths.last()) else {
        return Err(InvalidPhone::InvalidNumber);
    };
    if lengths.contains(&length) {
        Ok(())
    } else if local.contains(&length) || length < shortest {
        Err(InvalidPhone::TooShort)
    } else if length > longest {
        Err(InvalidPhone::TooLong)
    } else {
        Err(InvalidPhone::InvalidNumber)
    }
}

/// Ofcom's drama numbers (07700 900000 to 900999), which libphonenumber
/// does not count as valid but Notify sends to (its own check lets any
/// `7700` and a digit through, and so does this one).
fn is_tv_number(number: &PhoneNumber) -> bool {
    let national = number.national().to_string();
    national.starts_with("7700") && national[4..].starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::{InvalidPhone, NotifyPhoneNumber};

    fn parsed(raw: &str) -> Result<String, InvalidPhone> {
        NotifyPhoneNumber::parse(raw).map(|n| n.as_str().to_string())
    }

    #[test]
    fn uk_and_international_numbers_are_normalised_as_notify_does() {
        for (raw, expected) in [
            ("07700900123", "+447700900123"),
            ("07700 900 123", "+447700900123"),
            ("+44 7700 900123", "+447700900123"),
            ("+44 (0)7700 900123", "+447700900123"),
            ("0044 7700 900123", "+447700900123"),
            ("447700900123", "+447700900123"),
            ("7700900123", "+447700900123"),
            ("07911 123456", "+447911123456"),
            ("0+447700900100", "+447700900100"),
            ("+07700900100", "+447700900100"),
            ("+61 412 345 678", "+61412345678"),
            ("61412345678", "+61412345678"),
            ("+1 202-555-0143", "+12025550143"),
            ("+33 6 12 34 56 78", "+33612345678"),
        ] {
            assert_eq!(parsed(raw).as_deref(), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn sms_senders_are_names_or_numbers() {
        use super::{check_sms_sender, sms_sender_text};
        for ok in ["GOVUK", "Gov 1 & Co.", "07700900555", "+61 412 345 678"] {
            assert_eq!(check_sms_sender(ok), Ok(()), "{ok}");
        }
        for bad in ["GO", "A sender that is too long", "12345", "Bad!", ""] {
            assert!(check_sms_sender(bad).is_err(), "{bad}");
        }
        assert_eq!(sms_sender_text("07700900555"), "447700900555");
        assert_eq!(sms_sender_text("GOVUK"), "GOVUK");
    }

    #[test]
    fn invalid_numbers_get_notifys_messages() {
        for (raw, expected) in [
            ("", InvalidPhone::TooShort),
            ("07700 90", InvalidPhone::TooShort),
            ("07700 900 123 456 789", InvalidPhone::TooLong),
            ("07700 9001a3", InvalidPhone::UnknownCharacter),
            ("+44 7700 900123 ext 1", InvalidPhone::UnknownCharacter),
            ("020 7946 0958", InvalidPhone::NotAUkMobile),
            ("06700 900123", InvalidPhone::InvalidNumber),
            ("0412 345 678", InvalidPhone::InvalidNumber),
            // No country +999: read again without the `+`, as Notify does,
            // it is a UK number too long to be one.
            ("+999 1234 5678", InvalidPhone::TooLong),
        ] {
            assert_eq!(parsed(raw), Err(expected), "{raw}");
        }
        assert_eq!(
            InvalidPhone::UnknownCharacter.to_string(),
            "Must not contain letters or symbols"
        );
        assert_eq!(
            InvalidPhone::InvalidNumber.to_string(),
            "Number is not valid \u{2013} double check the phone number you entered"
        );
    }
}
