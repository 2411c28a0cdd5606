//! Index keys: where a stored contact is filed, and where a new one looks.
//!
//! A contact is filed under every key [`match_keys`] gives it, in an indexed
//! table of (key, contact id). At intake, the new contact's keys are looked up
//! by equality and only the contacts found are scored, so the cost of
//! matching grows with the size of the blocks found, not with the number of
//! contacts stored.
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
