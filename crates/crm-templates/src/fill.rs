//! Filling a parsed field with personalisation, keeping apart what the
//! template author wrote (trusted formatting) from what the caller supplied
//! (untrusted values, never read as formatting).

use crate::field::{Field, Segment};
use crate::personalisation::{Personalisation, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Text from the template, including shown conditional text.
    Template(&'a str),
    /// A text value from the caller.
    Value(&'a str),
    /// A list value from the caller (never empty).
    List(&'a [String]),
}

/// Names of the placeholders of `fields` with no value (absent or null),
/// each once and as first written, in order of appearance.
pub(crate) fn missing<'a>(
    fields: impl IntoIterator<Item = &'a Field>,
    personalisation: &Personalisation,
) -> Vec<String> {
    let mut seen = Vec::<&str>::new();
    let mut names = Vec::new();
    for placeholder in fields.into_iter().flat_map(Field::placeholders) {
        if personalisation.get_key(&placeholder.key).is_none()
            && !seen.contains(&placeholder.key.as_str())
        {
            seen.push(&placeholder.key);
            names.push(placeholder.name.clone());
        }
    }
    names
}

/// The pieces of `field` filled in; placeholders without a value are
/// skipped (callers check [`missing`] first).
pub(crate) fn fill<'a>(field: &'a Field, personalisation: &'a Personalisation) -> Vec<Piece<'a>> {
    field
        .segments
        .iter()
        .filter_map(|segment| match segment {
            Segment::Text(text) => Some(Piece::Template(text)),
            Segment::Value(placeholder) => match personalisation.get_key(&placeholder.key)? {
                Value::Text(text) => Some(Piece::Value(text)),
                Value::List(items) if items.is_empty() => None,
                Value::List(items) => Some(Piece::List(items)),
            },
            Segment::Conditional { flag, text } => personalisation
                .get_key(&flag.key)
                .filter(|value| value.is_truthy())
                .map(|_| Piece::Template(text)),
        })
        .collect()
}

/// Pieces as unformatted text, a list as "a, b and c" as Notify writes
/// lists where there is no room for bullets (text messages, subjects).
pub(crate) fn plain(pieces: &[Piece]) -> String {
    joined(pieces, |items| {
        let (last, rest) = items.split_last().expect("lists are never empty");
        if rest.is_empty() {
            last.clone()
        } else {
            format!("{} and {last}", rest.join(", "))
        }
    })
}

/// Pieces as Notify's API shows a filled-in body (notifications-utils'
/// `content_with_placeholders_filled_in`): the template's text as written,
/// line ends and Markdown included, values as given, and a list as Markdown
/// bullets after a blank line.
pub(crate) fn filled(pieces: &[Piece]) -> String {
    joined(pieces, |items| {
        let bullets: Vec<String> = items.iter().map(|item| format!("* {item}")).collect();
        format!("\n\n{}", bullets.join("\n"))
    })
}

/// Pieces one after another, each list written by `list`.
fn joined(pieces: &[Piece], list: impl Fn(&[String]) -> String) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Template(text) | Piece::Value(text) => out.push_str(text),
            Piece::List(items) => out.push_str(&list(items)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &str) -> Field {
        Field::parse(text).unwrap()
    }

    #[test]
    fn missing_names_are_unique_and_in_order() {
        let subject = field("((Ref)) ((name))");
        let body = field("((b??x)) ((REF)) ((a))");
        let p = Personalisation::new().with("name", "Ann");
        assert_eq!(missing([&subject, &body], &p), ["Ref", "b", "a"]);
    }

    #[test]
    fn fills_values_and_conditionals() {
        let body = field("Hi ((name))((vip?? and welcome back))!");
        let p = Personalisation::new()
            .with("name", "Ann")
            .with("vip", "yes");
        assert_eq!(plain(&fill(&body, &p)), "Hi Ann and welcome back!");
        let p = p.with("VIP", "no");
        assert_eq!(plain(&fill(&body, &p)), "Hi Ann!");
    }

    #[test]
    fn lists_read_as_a_sentence_in_plain_text() {
        let body = field("Bring ((items)).");
        let list = |items: &[&str]| {
            Personalisation::new().with(
                "items",
                Value::List(items.iter().map(|s| s.to_string()).collect()),
            )
        };
        assert_eq!(plain(&fill(&body, &list(&["a"]))), "Bring a.");
        assert_eq!(
            plain(&fill(&body, &list(&["a", "b", "c"]))),
            "Bring a, b and c."
        );
        assert_eq!(plain(&fill(&body, &list(&[]))), "Bring .");
    }

    #[test]
    fn filled_keeps_line_ends_and_markdown_and_bullets_lists() {
        let body = field("# Hi ((name))\r\n\r\nBring:((items))\r\n((vip??Welcome back))");
        let p = Personalisation::new()
            .with("name", "[Ann](x)")
            .with("items", Value::List(vec!["a".into(), "b".into()]))
            .with("vip", "no");
        assert_eq!(
            filled(&fill(&body, &p)),
            "# Hi [Ann](x)\r\n\r\nBring:\n\n* a\n* b\r\n"
        );
    }
}
