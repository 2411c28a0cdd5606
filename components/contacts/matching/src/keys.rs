//! Index keys: where a stored contact is filed, and where a new one looks.
//!
//! A contact is filed under every key [`match_keys`] gives it, in an indexed
//! table of (key, contact id). At intake, the new contact's keys are looked up
//! by equality and only the contacts found are scored, so the cost of
//! matching grows with the size of the blocks found, not with the number of
//! contacts stored. Read a bounded number of contacts per blocking key: a
//! common name in a populous postcode makes a large block, and scoring costs
//! about 8 µs a pair (native, release build).
//!
//! Keys, version [`MATCH_KEY_VERSION`]:
//!
//! | key | kind | from |
//! |---|---|---|
//! | `em:<email, lower case>` | deterministic | each email |
//! | `ph:<E.164>` | deterministic | each phone |
//! | `abn:<11 digits>` | deterministic | the ABN |
//! | `acn:<9 digits>` | deterministic | the ACN |
//! | `id:<scheme>:<value>` | deterministic | each agency identifier |
//! | `nd:<code>:<code>:<YYYYMMDD>` | blocking | phonetic codes of the family name and first given name (in sorted order, so swapped names meet), date of birth, and the date with day and month swapped |
//! | `np:<code>:<code>:<postcode>` | blocking | the same codes, each postcode |
//! | `on:<code>` | blocking | phonetic code of the organisation name without its legal form |
//!
//! A code is a Double Metaphone code (primary and, if different, alternate),
//! `_` for a missing given name, or `~` and the name's first 12 characters for
//! a name with no Latin letters. Changing any of this (formats, normalising,
//! code lengths) changes which keys a contact has, so stored keys must be
//! rebuilt: bump [`MATCH_KEY_VERSION`] and re-index every contact.

use crate::profile::{MatchProfile, NameForm, Prepared};
use crm_domain::CalendarDate;

/// The version of the key scheme above; store it with the keys.
pub const MATCH_KEY_VERSION: u32 = 1;

/// Whether equal keys mean the same contact or only a possible one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// A shared identifier: equal keys are a match in themselves.
    Deterministic,
    /// A block of similar contacts: equal keys make a candidate to score.
    Blocking,
}

/// One index key of a contact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MatchKey {
    kind: KeyKind,
    text: String,
}

impl MatchKey {
    fn deterministic(text: String) -> Self {
        Self {
            kind: KeyKind::Deterministic,
            text,
        }
    }

    fn blocking(text: String) -> Self {
        Self {
            kind: KeyKind::Blocking,
            text,
        }
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn is_deterministic(&self) -> bool {
        self.kind == KeyKind::Deterministic
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The keys `profile` is filed under and looked up by, sorted, without repeats.
pub fn match_keys(profile: &MatchProfile) -> Vec<MatchKey> {
    let prepared = Prepared::new(profile);
    let mut keys = Vec::new();
    keys.extend(
        prepared
            .emails
            .iter()
            .map(|e| MatchKey::deterministic(format!("em:{e}"))),
    );
    keys.extend(
        profile
            .phones
            .iter()
            .map(|p| MatchKey::deterministic(format!("ph:{}", p.as_str()))),
    );
    keys.extend(
        profile
            .abn
            .iter()
            .map(|abn| MatchKey::deterministic(format!("abn:{}", abn.as_str()))),
    );
    keys.extend(
        profile
            .acn
            .iter()
            .map(|acn| MatchKey::deterministic(format!("acn:{}", acn.as_str()))),
    );
    keys.extend(
        profile
            .identifiers
            .iter()
            .map(|id| MatchKey::deterministic(format!("id:{}:{}", id.scheme(), id.value()))),
    );
    if let Some(person) = &prepared.person {
        let pairs = code_pairs(&person.family, person.first_given.as_ref());
        if let Some(dob) = prepared.date_of_birth {
            for date in date_variants(dob) {
                keys.extend(
                    pairs
                        .iter()
                        .map(|(a, b)| MatchKey::blocking(format!("nd:{a}:{b}:{date}"))),
                );
            }
        }
        for postcode in &profile.postcodes {
            keys.extend(
                pairs
                    .iter()
                    .map(|(a, b)| MatchKey::blocking(format!("np:{a}:{b}:{postcode}"))),
            );
        }
    }
    if let Some(organisation) = &prepared.organisation {
        keys.extend(
            organisation
                .key_codes()
                .into_iter()
                .map(|code| MatchKey::blocking(format!("on:{code}"))),
        );
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Each family-name code with the first given name's primary code, each pair
/// in sorted order so that a contact with given and family names swapped
/// shares the pair of primary codes.
fn code_pairs(family: &NameForm, first_given: Option<&NameForm>) -> Vec<(String, String)> {
    let given = first_given.map_or_else(|| "_".to_string(), |g| g.key_codes().swap_remove(0));
    family
        .key_codes()
        .into_iter()
        .map(|code| {
            if code <= given {
                (code, given.clone())
            } else {
                (given.clone(), code)
            }
        })
        .collect()
}

/// `YYYYMMDD` of the date, and of the date with day and month swapped when
/// that is another real date (a common slip between day-first and
/// month-first forms).
fn date_variants(date: CalendarDate) -> Vec<String> {
    let mut dates = vec![compact_date(date)];
    if date.day() != date.month()
        && let Ok(swapped) = CalendarDate::new(date.year(), date.day(), date.month())
    {
        dates.push(compact_date(swapped));
    }
    dates
}

fn compact_date(date: CalendarDate) -> String {
    format!("{:04}{:02}{:02}", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score;
    use crate::test_support::{With, organisation, person};

    fn texts(profile: &MatchProfile) -> Vec<String> {
        match_keys(profile)
            .iter()
            .map(|k| k.as_str().to_string())
            .collect()
    }

    fn share_a_key(a: &MatchProfile, b: &MatchProfile) -> bool {
        let b_keys = match_keys(b);
        match_keys(a).iter().any(|k| b_keys.contains(k))
    }

    #[test]
    fn a_person_is_filed_under_identifiers_and_blocks() {
        let profile = person("John", "Smith")
            .born("1980-05-17")
            .postcode("2600")
            .email("John.Smith@Example.com")
            .phone("0412 345 678")
            .identifier("crn", "123 456 789A");
        let keys = match_keys(&profile);
        assert_eq!(
            keys.iter().map(MatchKey::as_str).collect::<Vec<_>>(),
            [
                "em:john.smith@example.com",
                "id:crn:123456789A",
                "ph:+61412345678",
                "nd:JN:SM0:19800517",
                "nd:JN:XMT:19800517",
                "np:JN:SM0:2600",
                "np:JN:XMT:2600",
            ]
        );
        let deterministic: Vec<bool> = keys.iter().map(MatchKey::is_deterministic).collect();
        assert_eq!(
            deterministic,
            [true, true, true, false, false, false, false]
        );
        assert_eq!(keys[3].kind(), KeyKind::Blocking);
    }

    #[test]
    fn businesses_are_filed_under_abn_acn_and_name() {
        let mut profile = organisation("ACME Pty Ltd").abn("51 824 753 556");
        profile.acn = Some(crm_domain::Acn::parse("000 000 019").unwrap());
        assert_eq!(
            texts(&profile),
            ["abn:51824753556", "acn:000000019", "on:AKM"]
        );
        assert_eq!(texts(&organisation("Acme Proprietary Limited")), ["on:AKM"]);
    }

    #[test]
    fn day_month_swaps_are_filed_both_ways() {
        let keys = texts(&person("Mary", "Jones").born("1985-03-04"));
        assert!(keys.contains(&"nd:JNS:MR:19850304".to_string()), "{keys:?}");
        assert!(keys.contains(&"nd:JNS:MR:19850403".to_string()), "{keys:?}");
        // No swap when the day cannot be a month, or swapping changes nothing.
        assert_eq!(texts(&person("Mary", "Jones").born("1985-03-24")).len(), 2);
        assert_eq!(texts(&person("Mary", "Jones").born("1985-03-03")).len(), 2);
    }

    #[test]
    fn names_without_latin_letters_and_one_name_people_are_filed() {
        assert_eq!(
            texts(&person("小龙", "李").born("1990-01-02")),
            ["nd:~小龙:~李:19900102", "nd:~小龙:~李:19900201"]
        );
        assert_eq!(
            texts(&person("", "Sukarno").postcode("2600")),
            ["np:SKRN:_:2600"]
        );
    }

    #[test]
    fn the_same_contact_spelled_differently_meets_through_a_key() {
        let pairs = [
            (
                person("Zoë", "Nguyễn").born("1990-01-02"),
                person("Zoe", "NGUYEN").born("1990-01-02"),
            ),
            (
                person("John", "Smith").born("1980-05-17"),
                person("Smith", "John").born("1980-05-17"),
            ),
            (
                person("John", "Smith").born("1980-05-17"),
                person("John", "Smyth").born("1980-05-17"),
            ),
            (
                person("John", "Smith").born("1980-05-17"),
                person("John", "Schmidt").born("1980-05-17"),
            ),
            (
                person("Jonathan", "O'Brien").postcode("2612"),
                person("Jonathon", "OBrien").postcode("2612"),
            ),
            (
                person("Mary", "Jones").born("1985-03-04"),
                person("Mary", "Jones").born("1985-04-03"),
            ),
            (
                person("Mary", "Jones").born("1985-03-04").postcode("2600"),
                person("Mary", "Jones").born("1986-03-04").postcode("2600"),
            ),
            (
                organisation("ACME Pty Ltd"),
                organisation("Acme Proprietary Limited"),
            ),
        ];
        for (a, b) in &pairs {
            assert!(share_a_key(a, b), "{a:?}\n{b:?}");
            assert!(score(a, b).is_some(), "{a:?}\n{b:?}");
        }
    }

    #[test]
    fn different_people_do_not_meet() {
        let a = person("John", "Smith").born("1980-05-17").postcode("2600");
        let b = person("John", "Smith").born("1962-11-30").postcode("3000");
        assert!(!share_a_key(&a, &b));
        let c = person("Ann", "Lee").born("1980-05-17").postcode("2600");
        assert!(!share_a_key(&a, &c));
    }
}
