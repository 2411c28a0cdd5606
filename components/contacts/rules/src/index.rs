//! What a contact is filed under, beside its record: its match keys
//! (`contacts-matching`), its name-search row (normalised name words and their
//! phonetic codes, for SQLite FTS5) and its tag and category labels.

use contacts_matching::{double_metaphone, match_keys, normalise_name};

use crate::contact::Contact;

/// The length of the phonetic codes in the search index.
const SOUND_CODE_LEN: usize = 4;
/// Words shorter than this are matched by prefix only: the phonetic code of
/// a short prefix matches too much.
const PHONETIC_MIN_CHARS: usize = 4;

/// The index entries of one contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntries {
    /// Match keys (`em:...`, `nd:...`), sorted, without repeats.
    pub keys: Vec<String>,
    /// Normalised name words, space-separated.
    pub names: String,
    /// Double Metaphone codes of the name words, space-separated.
    pub sounds: String,
    /// `t:<tag>` and `c:<category>`.
    pub labels: Vec<String>,
}

pub fn index_entries(contact: &Contact) -> IndexEntries {
    let keys = match_keys(&contact.match_profile())
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let person = contact.person.as_ref();
    let parts = [
        Some(contact.display_name.as_str()),
        person.and_then(|p| p.given()).map(|n| n.as_str()),
        person.map(|p| p.family().as_str()),
        person.and_then(|p| p.preferred()).map(|n| n.as_str()),
        contact.organisation.as_ref().map(|o| o.as_str()),
    ];
    let mut words: Vec<String> = Vec::new();
    for part in parts.into_iter().flatten() {
        for word in normalise_name(part).split(' ').filter(|w| !w.is_empty()) {
            if !words.iter().any(|w| w == word) {
                words.push(word.to_string());
            }
        }
    }
    let mut sounds: Vec<String> = Vec::new();
    for word in &words {
        for code in word_codes(word) {
            if !sounds.contains(&code) {
                sounds.push(code);
            }
        }
    }
    let labels = contact
        .tags
        .iter()
        .map(|t| format!("t:{}", t.as_str()))
        .chain(
            contact
                .categories
                .iter()
                .map(|c| format!("c:{}", c.as_str())),
        )
        .collect();
    IndexEntries {
        keys,
        names: words.join(" "),
        sounds: sounds.join(" "),
        labels,
    }
}

fn word_codes(word: &str) -> Vec<String> {
    let codes = double_metaphone(word, SOUND_CODE_LEN);
    let mut out = Vec::new();
    if !codes.primary.is_empty() {
        out.push(codes.primary.clone());
    }
    if !codes.alternate.is_empty() && codes.alternate != codes.primary {
        out.push(codes.alternate);
    }
    out
}

/// An FTS5 query for names starting with each word of `text` (every word
/// must match), where a word of four or more letters also matches names
/// that sound like it. `None` when `text` has no word.
pub fn name_query(text: &str) -> Option<String> {
    let normalised = normalise_name(text);
    let terms: Vec<String> = normalised
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|word| {
            // Normalised words hold letters and digits only; quoting keeps
            // FTS5 from reading one as an operator (`and`, `or`, `not`).
            let prefix = format!("names:\"{word}\"*");
            let codes = if word.chars().count() >= PHONETIC_MIN_CHARS {
                word_codes(word)
            } else {
                Vec::new()
            };
            if codes.is_empty() {
                prefix
            } else {
                let sounds: Vec<String> = codes.iter().map(|c| format!("sounds:\"{c}\"")).collect();
                format!("({prefix} OR {})", sounds.join(" OR "))
            }
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::validate;
    use crm_domain::CalendarDate;
    use serde_json::json;

    fn contact(value: serde_json::Value) -> Contact {
        validate(
            &serde_json::from_value(value).unwrap(),
            CalendarDate::parse("2026-11-24").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn entries_of_a_person() {
        let entries = index_entries(&contact(json!({
            "archetype": "individual", "given_name": "Zoë", "family_name": "O'Brien",
            "date_of_birth": "1990-01-02", "emails": ["Zoe@X.au"], "tags": ["vip"], "categories": ["priority"]
        })));
        assert_eq!(entries.names, "zoe obrien");
        assert_eq!(entries.sounds, "S APRN");
        assert!(entries.keys.contains(&"em:zoe@x.au".to_string()));
        assert!(entries.keys.iter().any(|k| k.starts_with("nd:")));
        assert_eq!(entries.labels, ["t:vip", "c:priority"]);
    }

    #[test]
    fn name_queries() {
        assert_eq!(name_query("  "), None);
        assert_eq!(name_query("Zo"), Some("names:\"zo\"*".into()));
        assert_eq!(
            name_query("Jon Smith"),
            Some(
                "names:\"jon\"* AND (names:\"smith\"* OR sounds:\"SM0\" OR sounds:\"XMT\")".into()
            )
        );
        assert_eq!(
            name_query("O'Brien"),
            Some("(names:\"obrien\"* OR sounds:\"APRN\")".into())
        );
        assert_eq!(name_query("李"), Some("names:\"李\"*".into()));
    }
}
