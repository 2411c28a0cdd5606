//! One template field (a subject or a body) parsed once into text,
//! placeholders and conditionals, as GOV.UK Notify reads them.

use std::fmt;

use thiserror::Error;

/// Where in a field something was found: byte offset, and 1-based line and
/// column (in characters) for people editing the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The positions of `offsets` (ascending) in `text`, in one pass.
    fn all(text: &str, offsets: &[usize]) -> Vec<Self> {
        let mut positions = Vec::with_capacity(offsets.len());
        let (mut line, mut column) = (1, 1);
        let mut chars = text.char_indices().peekable();
        for &offset in offsets {
            while let Some((_, c)) = chars.next_if(|(i, _)| *i < offset) {
                if c == '\n' {
                    line += 1;
                    column = 1;
                } else {
                    column += 1;
                }
            }
            positions.push(Self {
                offset,
                line,
                column,
            });
        }
        positions
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// What is wrong with a `((…))` in a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SyntaxProblem {
    #[error("`((` is never closed with `))`")]
    Unclosed,
    #[error("`((` inside another placeholder")]
    Nested,
    #[error("placeholder has no name")]
    EmptyName,
    #[error("placeholder contains a single `(` or `)`")]
    StrayParenthesis,
}

/// A syntax problem at a position of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{problem} at {at}")]
pub struct SyntaxError {
    pub problem: SyntaxProblem,
    pub at: Position,
}

/// The lookup form of a placeholder name: as Notify does, letters are
/// compared case-insensitively and whitespace, `_` and `-` are ignored, so
/// `((First name))` is filled by `first_name`.
pub(crate) fn lookup_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A placeholder name as written (trimmed) and its lookup key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    /// `((name))`
    Value(Placeholder),
    /// `((flag??text))`: `text` shown when the value of `flag` is truthy.
    Conditional {
        flag: Placeholder,
        text: String,
    },
}

/// A parsed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub segments: Vec<Segment>,
}

impl Field {
    /// Parses `text`, reporting every syntax problem rather than the first.
    ///
    /// Stricter than Notify, which leaves malformed `((` as literal text:
    /// a template author would rather hear about a typo than send it.
    /// Extra parentheses around a placeholder, as in `(((ref)))`, stay
    /// literal text like in Notify.
    pub fn parse(text: &str) -> Result<Self, Vec<SyntaxError>> {
        let mut segments = Vec::new();
        // (problem, byte offset)
        let mut errors: Vec<(SyntaxProblem, usize)> = Vec::new();
        let bytes = text.as_bytes();
        let mut literal_start = 0;
        let mut i = 0;
        while let Some(found) = text[i..].find("((") {
            let mut open = i + found;
            // In `(((ref)))` the first `(` is literal text.
            while bytes.get(open + 2) == Some(&b'(') {
                open += 1;
            }
            let body_start = open + 2;
            let mut j = body_start;
            let mut stray = None;
            let close = loop {
                match bytes.get(j..j + 2) {
                    Some(b"))") => break Some(j),
                    Some(b"((") => {
                        errors.push((SyntaxProblem::Nested, j));
                        break None;
                    }
                    _ => {}
                }
                match bytes.get(j) {
                    None => {
                        errors.push((SyntaxProblem::Unclosed, open));
                        break None;
                    }
                    Some(b'(' | b')') if stray.is_none() => stray = Some(j),
                    _ => {}
                }
                j += 1;
            };
            let Some(close) = close else {
                // Resume at the nested `((` (or the end) so later
                // placeholders are still checked.
                i = j;
                continue;
            };
            i = close + 2;
            if let Some(at) = stray {
                errors.push((SyntaxProblem::StrayParenthesis, at));
                continue;
            }
            let body = &text[body_start..close];
            let (name, conditional) = match body.split_once("??") {
                Some((name, shown)) => (name, Some(shown)),
                None => (body, None),
            };
            let key = lookup_key(name);
            if key.is_empty() {
                errors.push((SyntaxProblem::EmptyName, open));
                continue;
            }
            if literal_start < open {
                segments.push(Segment::Text(text[literal_start..open].to_string()));
            }
            literal_start = i;
            let placeholder = Placeholder {
                name: name.trim().to_string(),
                key,
            };
            segments.push(match conditional {
                Some(shown) => Segment::Conditional {
                    flag: placeholder,
                    text: shown.to_string(),
                },
                None => Segment::Value(placeholder),
            });
        }
        if literal_start < text.len() {
            segments.push(Segment::Text(text[literal_start..].to_string()));
        }
        if errors.is_empty() {
            return Ok(Self { segments });
        }
        errors.sort_by_key(|(_, offset)| *offset);
        let offsets: Vec<usize> = errors.iter().map(|(_, offset)| *offset).collect();
        Err(errors
            .iter()
            .zip(Position::all(text, &offsets))
            .map(|(&(problem, _), at)| SyntaxError { problem, at })
            .collect())
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Text(_) => None,
            Segment::Value(p) | Segment::Conditional { flag: p, .. } => Some(p),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(name: &str) -> Segment {
        Segment::Value(Placeholder {
            name: name.to_string(),
            key: lookup_key(name),
        })
    }

    fn problems(text: &str) -> Vec<(SyntaxProblem, usize, usize)> {
        Field::parse(text)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.problem, e.at.line, e.at.column))
            .collect()
    }

    #[test]
    fn splits_text_placeholders_and_conditionals() {
        let field = Field::parse("Dear ((First name)),\n((late??Please pay now.)) Bye").unwrap();
        assert_eq!(
            field.segments,
            vec![
                Segment::Text("Dear ".into()),
                value("First name"),
                Segment::Text(",\n".into()),
                Segment::Conditional {
                    flag: Placeholder {
                        name: "late".into(),
                        key: "late".into()
                    },
                    text: "Please pay now.".into()
                },
                Segment::Text(" Bye".into()),
            ]
        );
    }

    #[test]
    fn conditional_text_keeps_later_question_marks() {
        let field = Field::parse("((a??really?? yes))").unwrap();
        assert!(matches!(
            &field.segments[0],
            Segment::Conditional { text, .. } if text == "really?? yes"
        ));
    }

    #[test]
    fn lookup_keys_ignore_case_whitespace_underscores_and_hyphens() {
        assert_eq!(lookup_key("First Name"), "firstname");
        assert_eq!(lookup_key(" first_name "), "firstname");
        assert_eq!(lookup_key("FIRST-NAME"), "firstname");
        assert_eq!(lookup_key("Straße"), "straße");
    }

    #[test]
    fn extra_parentheses_around_a_placeholder_stay_literal() {
        let field = Field::parse("Ref (((ref)))").unwrap();
        assert_eq!(
            field.segments,
            vec![
                Segment::Text("Ref (".into()),
                value("ref"),
                Segment::Text(")".into())
            ]
        );
    }

    #[test]
    fn plain_text_and_lone_parentheses_are_fine() {
        let field = Field::parse("Call us (free) today :) or ))").unwrap();
        assert_eq!(field.segments.len(), 1);
        assert_eq!(Field::parse("").unwrap().segments, vec![]);
    }

    #[test]
    fn reports_unclosed_with_its_position() {
        assert_eq!(
            problems("Hello\n  ((name"),
            vec![(SyntaxProblem::Unclosed, 2, 3)]
        );
        assert_eq!(problems("((a) b"), vec![(SyntaxProblem::Unclosed, 1, 1)]);
    }

    #[test]
    fn reports_nested_and_keeps_checking() {
        assert_eq!(
            problems("((a ((b)) c)) and (())"),
            vec![
                (SyntaxProblem::Nested, 1, 5),
                (SyntaxProblem::EmptyName, 1, 19)
            ]
        );
    }

    #[test]
    fn reports_empty_names() {
        for text in ["(())", "((  ))", "((??shown))", "((_-))"] {
            assert_eq!(
                problems(text),
                vec![(SyntaxProblem::EmptyName, 1, 1)],
                "{text}"
            );
        }
    }

    #[test]
    fn reports_stray_parenthesis_inside_a_placeholder() {
        assert_eq!(
            problems("x ((a)b))"),
            vec![(SyntaxProblem::StrayParenthesis, 1, 6)]
        );
    }

    #[test]
    fn many_errors_are_positioned_in_one_pass() {
        let text = "(())\n".repeat(100_000);
        let errors = Field::parse(&text).unwrap_err();
        assert_eq!(errors.len(), 100_000);
        assert_eq!(errors[99_999].at.line, 100_000);
        assert_eq!(errors[99_999].at.column, 1);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(problems("€€ ((x"), vec![(SyntaxProblem::Unclosed, 1, 4)]);
    }

    #[test]
    fn placeholders_in_order_including_conditional_flags() {
        let field = Field::parse("((a)) ((b??x)) ((a))").unwrap();
        let names: Vec<_> = field.placeholders().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "a"]);
    }
}
