//! Matching forms of names: what two spellings of one name have in common.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Titles dropped from the start of a name.
const HONORIFICS: [&str; 14] = [
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "fr", "hon", "lady",
    "lord",
];

/// Legal-form and filler words that say nothing about which organisation it is.
const ORGANISATION_FILLER: [&str; 15] = [
    "pty",
    "ltd",
    "proprietary",
    "limited",
    "inc",
    "incorporated",
    "co",
    "company",
    "corp",
    "corporation",
    "plc",
    "llc",
    "nl",
    "the",
    "and",
];

/// A name's matching form: lower case, diacritics stripped (`Nguyễn` →
/// `nguyen`, `Zoë` → `zoe`, `Łukasz` → `lukasz`), apostrophes dropped
/// (`O'Brien` → `obrien`), other punctuation a word break, leading titles
/// (`Mr`, `Dr`, ...) dropped, single spaces between words.
pub fn normalise_name(raw: &str) -> String {
    let words = words(raw);
    let titles = words
        .iter()
        .take_while(|w| HONORIFICS.contains(&w.as_str()))
        .count()
        .min(words.len().saturating_sub(1));
    words[titles..].join(" ")
}

/// An organisation name's matching form: as [`normalise_name`], without
/// legal forms and filler (`ACME Pty Ltd` and `Acme Proprietary Limited` are
/// both `acme`), unless nothing else is left.
pub fn normalise_organisation_name(raw: &str) -> String {
    let words = words(raw);
    let mut kept = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        // "P/L" is a common abbreviation of "Pty Ltd".
        if words[i] == "p" && words.get(i + 1).is_some_and(|w| w == "l") {
            i += 2;
            continue;
        }
        if !ORGANISATION_FILLER.contains(&words[i].as_str()) {
            kept.push(words[i].as_str());
        }
        i += 1;
    }
    if kept.is_empty() {
        words.join(" ")
    } else {
        kept.join(" ")
    }
}

/// The folded words of `raw`.
fn words(raw: &str) -> Vec<String> {
    let mut folded = String::with_capacity(raw.len());
    for c in raw
        .nfd()
        .flat_map(char::to_lowercase)
        .filter(|c| !is_combining_mark(*c))
    {
        match c {
            '\'' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`' | '\u{B4}' => {}
            'ß' => folded.push_str("ss"),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'þ' => folded.push_str("th"),
            'ø' => folded.push('o'),
            'đ' | 'ð' => folded.push('d'),
            'ł' => folded.push('l'),
            'ı' => folded.push('i'),
            'ħ' => folded.push('h'),
            c if c.is_alphanumeric() => folded.push(c),
            _ => folded.push(' '),
        }
    }
    folded.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_to_a_matching_form() {
        let cases = [
            ("Zoë", "zoe"),
            ("Zoe\u{308}", "zoe"),
            ("Nguyễn", "nguyen"),
            ("NGUYEN", "nguyen"),
            ("O'Brien", "obrien"),
            ("O\u{2019}Brien", "obrien"),
            ("Smith-Jones", "smith jones"),
            ("  Mr   John  SMITH ", "john smith"),
            ("Dr. Mrs. Ann Lee", "ann lee"),
            ("Mr", "mr"),
            ("Łukasz Żółć", "lukasz zolc"),
            ("Strauß", "strauss"),
            ("Søren Ødegård", "soren odegard"),
            ("Đặng Thị Mỹ", "dang thi my"),
            ("José María", "jose maria"),
            ("St. John", "st john"),
            ("Ngũgĩ wa Thiong'o", "ngugi wa thiongo"),
            ("李小龙", "李小龙"),
            ("", ""),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise_name(raw), expected, "{raw}");
        }
    }

    #[test]
    fn organisation_names_drop_legal_forms() {
        let cases = [
            ("ACME Pty Ltd", "acme"),
            ("Acme Proprietary Limited", "acme"),
            ("The Acme Company P/L", "acme"),
            ("Smith & Sons Pty. Ltd.", "smith sons"),
            (
                "Department of Health and Aged Care",
                "department of health aged care",
            ),
            ("The Company Pty Ltd", "the company pty ltd"),
            ("Café Ñandú Inc.", "cafe nandu"),
            ("İstanbul Kebab", "istanbul kebab"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise_organisation_name(raw), expected, "{raw}");
        }
    }
}
