//! `sanitise_content_for` (Notify's `sanitise_personalisation_item`): a
//! personalisation value the sender does not trust is made unable to add
//! links or formatting. Links are removed, except a bare domain that may be
//! an accident (`www.gov.uk`), whose dots are broken up (`www. gov. uk`);
//! then every Markdown character is escaped with a backslash. The same
//! patterns as Notify's, so a client sees the same `sanitised` value.

use std::sync::LazyLock;

use fancy_regex::{Captures, Regex};

/// Notify's `notifications_utils.formatters.url`.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?<![\@\.])(https?:\/\/)?([\w\-]+\.{1})+([a-z]{2,63})(?!\@)\b([/\?#][^<\s]*)?",
    )
    .expect("a valid pattern")
});

/// The characters Notify escapes.
const MARKDOWN: &str = "`*_()\\{}[]<>#+-.!|";

/// A value as Notify sends it when its key is in `sanitise_content_for`.
pub fn sanitise_personalisation_item(value: &str) -> String {
    let without_links = URL.replace_all(value, |found: &Captures<str>| {
        let link = &found[0];
        let accidental = link
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if accidental {
            link.replace('.', ". ")
        } else {
            String::new()
        }
    });
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
        ] {
            assert_eq!(sanitise(value), expected, "{value}");
        }
    }
}
