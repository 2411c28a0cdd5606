//! Phone numbers as GOV.UK Notify's `/v2` reads them, by notifications-utils'
//! `validate_and_format_phone_number` (its rules before it moved to
//! libphonenumber, whose metadata would make this component larger by
//! megabytes and every send slower by the time to load it): spaces,
//! brackets, hyphens and pluses are ignored; a number starting `0` (not
//! `00`), `44`, or `7` and shorter than 11 digits is a UK number, which
//! must be a mobile (`7` and 9 more digits after any `44` and `0`); any
//! other is international, 8 to 15 digits starting with a country code
//! Notify sends to. Every spelling of one number has one E.164 form, so
//! guest lists and consent compare them as equal.

/// Why Notify refuses a number, in the words its `/v2` API answers with
/// (`InvalidPhoneError`'s legacy v2 messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPhone {
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

const UK_PREFIX: &str = "44";

/// The country codes Notify sends to (the keys of notifications-utils'
/// `international_billing_rates.yml`).
const COUNTRY_PREFIXES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "211",
    "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227", "228",
    "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240", "241",
    "242", "243", "244", "245", "246", "248", "249", "250", "251", "252", "253", "254", "255",
    "256", "257", "258", "260", "261", "262", "263", "264", "265", "266", "267", "268", "269",
    "291", "297", "298", "299", "350", "351", "352", "353", "354", "355", "356", "357", "358",
    "359", "370", "371", "372", "373", "374", "375", "376", "377", "378", "380", "381", "382",
    "383", "385", "386", "387", "389", "420", "421", "423", "500", "501", "502", "503", "504",
    "505", "506", "507", "508", "509", "590", "591", "592", "593", "594", "595", "596", "597",
    "598", "599", "670", "672", "673", "674", "675", "676", "677", "678", "679", "680", "681",
    "682", "683", "685", "686", "687", "689", "690", "691", "692", "852", "853", "855", "856",
    "880", "886", "960", "961", "962", "963", "964", "965", "966", "967", "968", "970", "971",
    "972", "973", "974", "975", "976", "977", "992", "993", "994", "995", "996", "998", "1242",
    "1246", "1264", "1268", "1284", "1345", "1441", "1473", "1649", "1664", "1684", "1721", "1758",
    "1767", "1784", "1809", "1829", "1849", "1868", "1869", "1876",
];

impl NotifyPhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidPhone> {
        let digits = normalised(raw)?;
        let is_uk = (raw.starts_with('0') && !raw.starts_with("00"))
            || digits.starts_with(UK_PREFIX)
            || (digits.starts_with('7') && digits.len() < 11);
        if is_uk {
            // Notify strips every leading 4 and then every 0 (`lstrip`).
            let national = digits.trim_start_matches('4').trim_start_matches('0');
            return match national.len() {
                _ if !national.starts_with('7') => Err(InvalidPhone::NotAUkMobile),
                n if n > 10 => Err(InvalidPhone::TooLong),
                n if n < 10 => Err(InvalidPhone::TooShort),
                _ => Ok(Self(format!("+{UK_PREFIX}{national}"))),
            };
        }
        match digits.len() {
            n if n < 8 => Err(InvalidPhone::TooShort),
            n if n > 15 => Err(InvalidPhone::TooLong),
            _ if !COUNTRY_PREFIXES.iter().any(|p| digits.starts_with(p)) => {
                Err(InvalidPhone::UnsupportedCountryCode)
            }
            _ => Ok(Self(format!("+{digits}"))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The digits, leading zeros dropped (Notify's `normalise_phone_number`).
fn normalised(raw: &str) -> Result<String, InvalidPhone> {
    let mut digits = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '0'..='9' => digits.push(c),
            c if c.is_whitespace() || "()-+".contains(c) => {}
            _ => return Err(InvalidPhone::UnknownCharacter),
        }
    }
    Ok(digits.trim_start_matches('0').to_string())
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

/// Whether two spellings name one sender: the same number however it is
/// written (`07700 900500`, `447700900500`), or the same name.
pub fn same_sender(a: &str, b: &str) -> bool {
    match (NotifyPhoneNumber::parse(a), NotifyPhoneNumber::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.trim() == b.trim(),
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

#[cfg(test)]
mod tests {
    use super::{InvalidPhone, NotifyPhoneNumber, same_sender};

    #[test]
    fn a_sender_is_the_same_however_its_number_is_written() {
        assert!(same_sender("07700 900500", "447700900500"));
        assert!(same_sender("+44 7700 900500", "07700900500"));
        assert!(!same_sender("07700900500", "07700900501"));
        assert!(same_sender("GOVUK", " GOVUK "));
        assert!(!same_sender("GOVUK", "GOV.UK"));
    }

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
            // UK numbers that are not mobiles: a landline, an unassigned
            // range, and an Australian mobile written nationally.
            ("020 7946 0958", InvalidPhone::NotAUkMobile),
            ("06700 900123", InvalidPhone::NotAUkMobile),
            ("0412 345 678", InvalidPhone::NotAUkMobile),
            ("+61 412", InvalidPhone::TooShort),
            ("+61 412 345 678 901 234", InvalidPhone::TooLong),
            ("+999 1234 5678", InvalidPhone::UnsupportedCountryCode),
        ] {
            assert_eq!(parsed(raw), Err(expected), "{raw}");
        }
        assert_eq!(
            InvalidPhone::UnknownCharacter.to_string(),
            "Must not contain letters or symbols"
        );
        assert_eq!(
            InvalidPhone::UnsupportedCountryCode.to_string(),
            "Not a valid country prefix"
        );
    }
}
