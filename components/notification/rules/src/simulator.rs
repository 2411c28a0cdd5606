//! Notify's simulated recipients: what a test key's message to an address
//! or number ends as, and which recipients are never really sent to.

use crate::status::NotificationStatus;

/// A message's recipient as the caller gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient<'a> {
    Email(&'a str),
    Phone(&'a str),
}

/// Notify's smoke-test recipients: messages to them are accepted with any
/// key type but never sent.
const SIMULATED_EMAILS: [&str; 3] = [
    "simulate-delivered@notifications.service.gov.uk",
    "simulate-delivered-2@notifications.service.gov.uk",
    "simulate-delivered-3@notifications.service.gov.uk",
];
const SIMULATED_NUMBERS: [&str; 3] = ["7700900000", "7700900111", "7700900222"];

const TEMPORARY_FAILURE_EMAIL: &str = "temp-fail@simulator.notify";
const PERMANENT_FAILURE_EMAIL: &str = "perm-fail@simulator.notify";
const TEMPORARY_FAILURE_NUMBER: &str = "7700900003";
const PERMANENT_FAILURE_NUMBER: &str = "7700900002";

/// A UK number's national significant digits (`07700 900003`,
/// `+44 7700 900003`, `0044 (0)7700-900003` all give `7700900003`), or
/// `None` if `raw` is not a UK number. Other countries' numbers never match
/// a simulator number.
fn uk_national_number(raw: &str) -> Option<String> {
    let mut digits = String::new();
    for (i, c) in raw.trim().char_indices() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => digits.push_str("00"),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    let national = digits
        .strip_prefix("0044")
        .or_else(|| digits.strip_prefix("44").filter(|rest| rest.len() >= 10))
        .map(|rest| rest.strip_prefix('0').unwrap_or(rest))
        .or_else(|| {
            digits
                .strip_prefix('0')
                .filter(|rest| !rest.starts_with('0'))
        })?;
    Some(national.to_string())
}

fn same_email(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b)
}

/// Whether Notify never sends to this recipient, whatever the key type.
pub fn is_simulated_recipient(recipient: Recipient) -> bool {
    match recipient {
        Recipient::Email(email) => SIMULATED_EMAILS.iter().any(|s| same_email(email, s)),
        Recipient::Phone(phone) => {
            uk_national_number(phone).is_some_and(|n| SIMULATED_NUMBERS.contains(&n.as_str()))
        }
    }
}

/// The final status of a test key's message: `temporary-failure` and
/// `permanent-failure` for the simulator's failure addresses and numbers,
/// `delivered` for everyone else.
pub fn test_key_outcome(recipient: Recipient) -> NotificationStatus {
    let (temporary, permanent) = match recipient {
        Recipient::Email(email) => (
            same_email(email, TEMPORARY_FAILURE_EMAIL),
            same_email(email, PERMANENT_FAILURE_EMAIL),
        ),
        Recipient::Phone(phone) => {
            let national = uk_national_number(phone);
            (
                national.as_deref() == Some(TEMPORARY_FAILURE_NUMBER),
                national.as_deref() == Some(PERMANENT_FAILURE_NUMBER),
            )
        }
    };
    match (temporary, permanent) {
        (true, _) => NotificationStatus::TemporaryFailure,
        (_, true) => NotificationStatus::PermanentFailure,
        _ => NotificationStatus::Delivered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotificationStatus::*;

    #[test]
    fn failure_emails() {
        assert_eq!(
            test_key_outcome(Recipient::Email("temp-fail@simulator.notify")),
            TemporaryFailure
        );
        assert_eq!(
            test_key_outcome(Recipient::Email(" PERM-FAIL@simulator.notify ")),
            PermanentFailure
        );
        assert_eq!(
            test_key_outcome(Recipient::Email("ann@example.gov.au")),
            Delivered
        );
        assert_eq!(
            test_key_outcome(Recipient::Email("x.temp-fail@simulator.notify")),
            Delivered
        );
    }

    #[test]
    fn failure_numbers_in_any_uk_format() {
        for number in [
            "07700900003",
            "07700 900003",
            "+447700900003",
            "+44 7700 900 003",
            "0044 7700 900003",
            "447700900003",
            "+44 (0)7700-900003",
        ] {
            assert_eq!(
                test_key_outcome(Recipient::Phone(number)),
                TemporaryFailure,
                "{number}"
            );
        }
        for number in ["07700900002", "+447700900002"] {
            assert_eq!(
                test_key_outcome(Recipient::Phone(number)),
                PermanentFailure,
                "{number}"
            );
        }
    }

    #[test]
    fn other_numbers_are_delivered() {
        for number in [
            "07700900001",
            "+61 7700 900003",
            "+6107700900003",
            "7700900003x",
            "007700900003",
            "",
        ] {
            assert_eq!(
                test_key_outcome(Recipient::Phone(number)),
                Delivered,
                "{number}"
            );
        }
    }

    #[test]
    fn smoke_test_recipients() {
        assert!(is_simulated_recipient(Recipient::Email(
            "simulate-delivered-2@notifications.service.gov.uk"
        )));
        assert!(is_simulated_recipient(Recipient::Phone("07700 900111")));
        assert!(is_simulated_recipient(Recipient::Phone("+447700900222")));
        assert!(!is_simulated_recipient(Recipient::Phone("07700900003")));
        assert!(!is_simulated_recipient(Recipient::Email(
            "temp-fail@simulator.notify"
        )));
        // Simulated recipients are delivered when a test key sends to them.
        assert_eq!(test_key_outcome(Recipient::Phone("07700900000")), Delivered);
    }
}
