//! `sanitise_content_for` (Notify's `sanitise_personalisation_item`): a
//! personalisation value the sender does not trust is made unable to add
//! links or formatting. Links are removed, except a bare domain that may be
//! an accident (`www.gov.uk`), whose dots are broken up (`www. gov. uk`);
//! then every Markdown character is escaped with a backslash. Links are
//! found as Notify's URL pattern finds them
//! (`\b(?<![@.])(https?://)?([\w-]+\.)+([a-z]{2,63})(?!@)\b([/?#][^<\s]*)?`,
//! case-insensitive), by hand: a regex engine with look-arounds would make
//! the component larger by more than a megabyte.

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The end (a char index) of the link starting at `start`, if one does:
/// an optional scheme, dotted labels, a top-level domain of 2 to 63
/// letters ending a word and not followed by `@`, and a path.
fn link_at(chars: &[char], start: usize) -> Option<usize> {
    let before = start.checked_sub(1).map(|i| chars[i]);
    let boundary = before.is_some_and(is_word) != chars.get(start).copied().is_some_and(is_word);
    if !boundary || matches!(before, Some('@' | '.')) {
        return None;
    }
    let lower = |i: usize| chars.get(i).map(|c| c.to_ascii_lowercase());
    let scheme = ["https://", "http://"].iter().find_map(|scheme| {
        scheme
            .chars()
            .enumerate()
            .all(|(k, c)| lower(start + k) == Some(c))
            .then_some(scheme.len())
    });
    // With the scheme first, then without (the pattern's backtracking).
    scheme
        .into_iter()
        .chain([0])
        .find_map(|skip| domain_end(chars, start + skip))
        .map(|end| path_end(chars, end))
}

/// The end of `labels. … tld` from `from`: as many `[\w-]+.` labels as
/// there are, then fewer, until what follows them is a top-level domain.
fn domain_end(chars: &[char], from: usize) -> Option<usize> {
    let mut label_ends = Vec::new();
    let mut at = from;
    loop {
        let run = chars[at..]
            .iter()
            .take_while(|c| is_word(**c) || **c == '-')
            .count();
        if run == 0 || chars.get(at + run) != Some(&'.') {
            break;
        }
        at += run + 1;
        label_ends.push(at);
    }
    label_ends.iter().rev().find_map(|&tld| {
        let letters = chars[tld..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let next = chars.get(tld + letters).copied();
        ((2..=63).contains(&letters) && !next.is_some_and(|c| is_word(c) || c == '@'))
            .then_some(tld + letters)
    })
}

/// The end of a path, query or fragment at `from`, if one starts there.
fn path_end(chars: &[char], from: usize) -> usize {
    if !matches!(chars.get(from), Some('/' | '?' | '#')) {
        return from;
    }
    from + 1
        + chars[from + 1..]
            .iter()
            .take_while(|c| **c != '<' && !c.is_whitespace())
            .count()
}

/// `value` with each link replaced as Notify replaces it.
fn without_links(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < chars.len() {
        match link_at(&chars, i) {
            Some(end) => {
                let link: String = chars[i..end].iter().collect();
                let accidental = link
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
                if accidental {
                    out.push_str(&link.replace('.', ". "));
                }
                i = end;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// The characters Notify escapes.
const MARKDOWN: &str = "`*_()\\{}[]<>#+-.!|";

/// A value as Notify sends it when its key is in `sanitise_content_for`.
pub fn sanitise_personalisation_item(value: &str) -> String {
    let without_links = without_links(value);
    let mut escaped = String::with_capacity(without_links.len());
    for c in without_links.chars() {
        if MARKDOWN.contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::sanitise_personalisation_item as sanitise;

    #[test]
    fn links_are_removed_and_markdown_escaped_as_notify_does() {
        for (value, expected) in [
            ("Ann", "Ann"),
            // The python client's integration test sends a UUID.
            (
                "0d6f9c2e-8a1b-4c3d-9e7f-123456789abc",
                "0d6f9c2e\\-8a1b\\-4c3d\\-9e7f\\-123456789abc",
            ),
            // Notify's own example (notifications-node-client#231).
            (
                "Amala, please [click this evil link](https://evil.link)",
                "Amala, please \\[click this evil link\\]\\(\\)",
            ),
            ("see www.gov.uk today", "see www\\. gov\\. uk today"),
            ("mail ann@example.com", "mail ann@example\\.com"),
            ("http://x.example/a?b=1 ok", " ok"),
            (
                "**bold** #1 `code` <b>",
                "\\*\\*bold\\*\\* \\#1 \\`code\\` \\<b\\>",
            ),
            (
                "a\\b {c} !d|e +f _g_",
                "a\\\\b \\{c\\} \\!d\\|e \\+f \\_g\\_",
            ),
            // What Notify's pattern does and does not take for a link.
            ("HTTPS://Evil.Example/x<y", "\\<y"),
            ("www.gov.uk1 a", "www\\. gov\\.uk1 a"),
            ("a-b.example.com/x?y z", " z"),
            (".gov.uk", "\\.gov\\.uk"),
            ("x.y", "x\\.y"),
            ("see example.com.", "see example\\. com\\."),
            ("café.example.com", ""),
            ("-x.example.com", "\\-x\\. example\\. com"),
            ("a_b.example.org", ""),
            ("1.2.3.4", "1\\.2\\.3\\.4"),
            ("http://localhost", "http://localhost"),
            ("foo.co.uk/path#frag done", " done"),
            ("x.abc1.uk", "x\\. abc1\\. uk"),
            ("ann.smith@gov.uk", "ann\\.smith@gov\\.uk"),
        ] {
            assert_eq!(sanitise(value), expected, "{value}");
        }
    }
}
