//! Notify's small formatting language for email, portal and letter bodies,
//! rendered to plain text and to safe HTML.
//!
//! Supported, as in Notify: `# ` and `## ` headings, `* `/`- `/`• ` and
//! `1. ` lists, `^ ` inset text, `---` rules, `[text](url)` links and bare
//! `http(s)://` links. Blank lines separate paragraphs; single newlines are
//! line breaks.
//!
//! The difference from Notify is where formatting may come from: only from
//! the template. Every character remembers whether the template author or
//! the caller wrote it, and only template characters are read as
//! formatting, so a value such as `[click](http://evil)`, `<a href=…>` or
//! `https://evil.example` stays text. A value may still fill the path of a
//! link whose scheme and host the template fixes
//! (`[Your case](https://example.gov.au/cases/((case_id))`); it is then
//! percent-encoded.

use crate::fill::Piece;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Template,
    Value,
}

type Ch = (char, Origin);

#[derive(Debug)]
enum Block {
    Paragraph(Vec<Vec<Ch>>),
    Heading {
        level: u8,
        line: Vec<Ch>,
    },
    List {
        ordered: bool,
        items: Vec<Vec<Vec<Ch>>>,
    },
    Inset(Vec<Vec<Ch>>),
    Rule,
}

/// What a line is, by its leading template characters, and where its
/// content starts.
enum LineKind {
    Blank,
    Rule,
    Heading(u8),
    Item { ordered: bool },
    Inset,
    Text,
}

/// A filled body split into blocks.
#[derive(Debug)]
pub(crate) struct Document {
    blocks: Vec<Block>,
}

/// The plain-text form of a horizontal rule (Notify's).
const RULE_TEXT: &str = "=================================================================";

impl Document {
    pub fn from_pieces(pieces: &[Piece]) -> Self {
        let mut blocks = Vec::new();
        // Whether the last block takes continuation lines (lazy lines of a
        // paragraph, list item or inset).
        let mut open = false;
        let mut line: Vec<Ch> = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Template(text) => {
                    for c in text.chars() {
                        match c {
                            '\n' => add_line(&mut blocks, &mut open, std::mem::take(&mut line)),
                            '\r' => {}
                            c => line.push((c, Origin::Template)),
                        }
                    }
                }
                // A value's newlines are line breaks within its block.
                Piece::Value(text) => {
                    line.extend(
                        text.chars()
                            .filter(|c| *c != '\r')
                            .map(|c| (c, Origin::Value)),
                    );
                }
                Piece::List(items) => {
                    add_line(&mut blocks, &mut open, std::mem::take(&mut line));
                    let items = items
                        .iter()
                        .map(|item| vec![item.chars().map(|c| (c, Origin::Value)).collect()]);
                    match blocks.last_mut() {
                        Some(Block::List {
                            ordered: false,
                            items: existing,
                        }) => existing.extend(items),
                        _ => blocks.push(Block::List {
                            ordered: false,
                            items: items.collect(),
                        }),
                    }
                    // Nothing continues a caller's list item.
                    open = false;
                }
            }
        }
        add_line(&mut blocks, &mut open, line);
        Self { blocks }
    }

    pub fn to_html(&self) -> String {
        let lines_html = |lines: &[Vec<Ch>]| {
            lines
                .iter()
                .map(|line| inline_html(line))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|block| match block {
                Block::Paragraph(lines) => format!("<p>{}</p>", lines_html(lines)),
                Block::Heading { level, line } => {
                    // Notify's `#` is the message's main heading, under the
                    // page's own h1.
                    let tag = if *level == 1 { "h2" } else { "h3" };
                    format!("<{tag}>{}</{tag}>", inline_html(line))
                }
                Block::List { ordered, items } => {
                    let tag = if *ordered { "ol" } else { "ul" };
                    let items: String = items
                        .iter()
                        .map(|item| format!("<li>{}</li>", lines_html(item)))
                        .collect();
                    format!("<{tag}>{items}</{tag}>")
                }
                Block::Inset(lines) => format!("<blockquote>{}</blockquote>", lines_html(lines)),
                Block::Rule => "<hr>".to_string(),
            })
            .collect();
        blocks.join("\n")
    }

    pub fn to_text(&self) -> String {
        let lines_text = |lines: &[Vec<Ch>], separator: &str| {
            lines
                .iter()
                .map(|line| inline_text(line))
                .collect::<Vec<_>>()
                .join(separator)
        };
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|block| match block {
                Block::Paragraph(lines) | Block::Inset(lines) => lines_text(lines, "\n"),
                Block::Heading { line, .. } => inline_text(line),
                Block::List { ordered, items } => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let marker = if *ordered {
                            format!("{}.", i + 1)
                        } else {
                            "•".to_string()
                        };
                        format!("{marker} {}", lines_text(item, "\n  "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                Block::Rule => RULE_TEXT.to_string(),
            })
            .collect();
        blocks.join("\n\n")
    }
}

fn add_line(blocks: &mut Vec<Block>, open: &mut bool, line: Vec<Ch>) {
    let (kind, start) = classify(&line);
    let content = line[start..].to_vec();
    let continues = *open;
    *open = true;
    match kind {
        LineKind::Blank => *open = false,
        LineKind::Rule => {
            blocks.push(Block::Rule);
            *open = false;
        }
        LineKind::Heading(level) => {
            blocks.push(Block::Heading {
                level,
                line: content,
            });
            *open = false;
        }
        // Items separated by blank lines still make one list.
        LineKind::Item { ordered } => match blocks.last_mut() {
            Some(Block::List {
                ordered: same,
                items,
            }) if *same == ordered => items.push(vec![content]),
            _ => blocks.push(Block::List {
                ordered,
                items: vec![vec![content]],
            }),
        },
        LineKind::Inset => match blocks.last_mut() {
            Some(Block::Inset(lines)) if continues => lines.push(content),
            _ => blocks.push(Block::Inset(vec![content])),
        },
        LineKind::Text => match blocks.last_mut() {
            Some(Block::Paragraph(lines) | Block::Inset(lines)) if continues => lines.push(content),
            Some(Block::List { items, .. }) if continues => {
                items.last_mut().expect("a list has an item").push(content)
            }
            _ => blocks.push(Block::Paragraph(vec![content])),
        },
    }
}

fn classify(line: &[Ch]) -> (LineKind, usize) {
    if line.iter().all(|(c, _)| c.is_whitespace()) {
        return (LineKind::Blank, 0);
    }
    let indent = line
        .iter()
        .take_while(|(c, origin)| *origin == Origin::Template && (*c == ' ' || *c == '\t'))
        .count();
    let rest = &line[indent..];
    // Only what the template wrote can be formatting.
    let marker: String = rest
        .iter()
        .take_while(|(_, origin)| *origin == Origin::Template)
        .map(|(c, _)| *c)
        .collect();
    let all_template = rest.iter().all(|(_, origin)| *origin == Origin::Template);
    if all_template && is_rule(&marker) {
        return (LineKind::Rule, 0);
    }
    let hashes = marker.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && marker[hashes..].starts_with(' ') {
        let start = indent + hashes + 1;
        return match hashes {
            1 | 2 => (LineKind::Heading(hashes as u8), start),
            // Notify shows smaller headings as plain paragraphs.
            _ => (LineKind::Text, start),
        };
    }
    if marker.starts_with("* ") || marker.starts_with("- ") {
        return (LineKind::Item { ordered: false }, indent + 2);
    }
    if let Some(after) = marker.strip_prefix('•') {
        let space = usize::from(after.starts_with(' '));
        return (LineKind::Item { ordered: false }, indent + 1 + space);
    }
    let digits = marker.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && marker[digits..].starts_with(". ") {
        return (LineKind::Item { ordered: true }, indent + digits + 2);
    }
    if let Some(after) = marker.strip_prefix('^') {
        let space = usize::from(after.starts_with(' '));
        return (LineKind::Inset, indent + 1 + space);
    }
    (LineKind::Text, indent)
}

/// Three or more of `-`, `*` or `_`, with optional spaces, and nothing else.
fn is_rule(text: &str) -> bool {
    text.chars().all(|c| matches!(c, '-' | '*' | '_' | ' '))
        && text.chars().filter(|c| *c != ' ').count() >= 3
}

#[derive(Debug, PartialEq)]
enum Inline<'a> {
    Text(&'a [Ch]),
    Link { label: &'a [Ch], target: &'a [Ch] },
    Url(&'a [Ch]),
}

fn trim(line: &[Ch]) -> &[Ch] {
    let start = line.iter().position(|(c, _)| !c.is_whitespace());
    let end = line.iter().rposition(|(c, _)| !c.is_whitespace());
    match (start, end) {
        (Some(start), Some(end)) => &line[start..=end],
        _ => &[],
    }
}

fn inlines(line: &[Ch]) -> Vec<Inline<'_>> {
    let line = trim(line);
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < line.len() {
        match link_at(line, i).or_else(|| url_at(line, i)) {
            Some((inline, end)) => {
                if text_start < i {
                    out.push(Inline::Text(&line[text_start..i]));
                }
                out.push(inline);
                i = end;
                text_start = end;
            }
            None => i += 1,
        }
    }
    if text_start < line.len() {
        out.push(Inline::Text(&line[text_start..]));
    }
    out
}

fn is_template(ch: Option<&Ch>, c: char) -> bool {
    ch == Some(&(c, Origin::Template))
}

/// `[label](target)` starting at `i`, with the brackets and parentheses
/// written by the template.
///
/// Every scan here stops at the next template `[`, so a line is read in
/// linear time however its brackets are arranged.
fn link_at(line: &[Ch], i: usize) -> Option<(Inline<'_>, usize)> {
    if !is_template(line.get(i), '[') {
        return None;
    }
    let mut close = i + 1;
    loop {
        match line.get(close)? {
            ('[', Origin::Template) => return None,
            (']', Origin::Template) => break,
            _ => close += 1,
        }
    }
    let label = &line[i + 1..close];
    if !is_template(line.get(close + 1), '(') || trim(label).is_empty() {
        return None;
    }
    let start = close + 2;
    let mut end = start;
    let mut depth = 0;
    loop {
        match line.get(end)? {
            (c, Origin::Template) if c.is_whitespace() || *c == '[' => return None,
            ('(', Origin::Template) => depth += 1,
            (')', Origin::Template) if depth == 0 => break,
            (')', Origin::Template) => depth -= 1,
            _ => {}
        }
        end += 1;
    }
    let target = &line[start..end];
    let safe = match scheme_len(target) {
        Some(scheme) => template_host_len(&target[scheme..]).is_some(),
        None => template_prefix(target, "mailto:") && target.len() > "mailto:".len(),
    };
    safe.then_some((
        Inline::Link {
            label: trim(label),
            target,
        },
        end + 1,
    ))
}

/// A bare `http(s)://` link starting at `i`, which the template starts.
fn url_at(line: &[Ch], i: usize) -> Option<(Inline<'_>, usize)> {
    // A link starts a word, and a value never decides whether it does.
    if i > 0 && (line[i - 1].1 == Origin::Value || line[i - 1].0.is_alphanumeric()) {
        return None;
    }
    let scheme = scheme_len(&line[i..])?;
    template_host_len(&line[i + scheme..])?;
    // Only the template ends a link: a value inside one is part of it
    // (percent-encoded), spaces and all.
    let len = line[i..]
        .iter()
        .position(|&(c, origin)| {
            origin == Origin::Template && (c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        })
        .unwrap_or(line.len() - i);
    let mut url = &line[i..i + len];
    // Trailing punctuation belongs to the sentence, unless it closes an
    // opening bracket of the link, as in `…/Foo_(bar)`.
    let count = |c: char| {
        url.iter()
            .filter(|ch| **ch == (c, Origin::Template))
            .count()
    };
    let mut unmatched_parens = count(')') as isize - count('(') as isize;
    let mut unmatched_brackets = count(']') as isize - count('[') as isize;
    while url.len() > scheme {
        match url.last() {
            Some(('.' | ',' | ':' | ';' | '!' | '?' | '\'', Origin::Template)) => {}
            Some((')', Origin::Template)) if unmatched_parens > 0 => unmatched_parens -= 1,
            Some((']', Origin::Template)) if unmatched_brackets > 0 => unmatched_brackets -= 1,
            _ => break,
        }
        url = &url[..url.len() - 1];
    }
    (url.len() > scheme).then_some((Inline::Url(url), i + url.len()))
}

fn template_prefix(chars: &[Ch], prefix: &str) -> bool {
    chars.len() >= prefix.len()
        && chars
            .iter()
            .zip(prefix.chars())
            .all(|((c, origin), p)| *origin == Origin::Template && c.eq_ignore_ascii_case(&p))
}

/// Length of a template-written `http://` or `https://`.
fn scheme_len(chars: &[Ch]) -> Option<usize> {
    ["https://", "http://"]
        .into_iter()
        .find(|scheme| template_prefix(chars, scheme))
        .map(str::len)
}

/// The length of the host that starts `after_scheme` (up to `/`, `?`, `#`
/// or the end of the link), if it is not empty and the template wrote all
/// of it: a value never chooses where a link goes.
fn template_host_len(after_scheme: &[Ch]) -> Option<usize> {
    let mut len = 0;
    for &(c, origin) in after_scheme {
        if origin == Origin::Value {
            return None;
        }
        if c.is_whitespace() || "/?#<>\"".contains(c) {
            break;
        }
        len += 1;
    }
    (len > 0).then_some(len)
}

fn push_percent_encoded(out: &mut String, c: char) {
    let mut buf = [0; 4];
    for byte in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("%{byte:02X}"));
    }
}

/// An `href` value: template characters kept where URLs allow them, value
/// characters percent-encoded unless unreserved.
fn href(target: &[Ch]) -> String {
    let mut out = String::new();
    for &(c, origin) in target {
        let unreserved = c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
        match origin {
            _ if unreserved => out.push(c),
            Origin::Template if c == '&' => out.push_str("&amp;"),
            Origin::Template if "%:/?#[]@!$*+,;=()".contains(c) => out.push(c),
            _ => push_percent_encoded(&mut out, c),
        }
    }
    out
}

fn push_html_text(out: &mut String, chars: &[Ch]) {
    for &(c, origin) in chars {
        match (c, origin) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            ('"', _) => out.push_str("&quot;"),
            ('\'', _) => out.push_str("&#39;"),
            // A value's characters that could read as link or markup syntax
            // to anything that looks at the source (`](`, `href=`,
            // `https:`) are written as references; they look the same.
            ('\n', Origin::Value) => out.push_str("<br>"),
            ('[' | ']' | '(' | ')' | '=' | ':', Origin::Value) => {
                out.push_str(&format!("&#{};", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
}

fn inline_html(line: &[Ch]) -> String {
    let mut out = String::new();
    for inline in inlines(line) {
        match inline {
            Inline::Text(chars) => push_html_text(&mut out, chars),
            Inline::Link { label, target } => {
                out.push_str(&format!(
                    "<a href=\"{}\" rel=\"noopener noreferrer\">",
                    href(target)
                ));
                push_html_text(&mut out, label);
                out.push_str("</a>");
            }
            Inline::Url(url) => {
                out.push_str(&format!(
                    "<a href=\"{}\" rel=\"noopener noreferrer\">",
                    href(url)
                ));
                push_html_text(&mut out, url);
                out.push_str("</a>");
            }
        }
    }
    out
}

fn inline_text(line: &[Ch]) -> String {
    let text = |chars: &[Ch]| chars.iter().map(|(c, _)| *c).collect::<String>();
    inlines(line)
        .into_iter()
        .map(|inline| match inline {
            Inline::Text(chars) | Inline::Url(chars) => text(chars),
            // Notify's plain-text form of a link.
            Inline::Link { label, target } => format!("{}: {}", text(label), text(target)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::Field;
    use crate::fill::fill;
    use crate::personalisation::{Personalisation, Value};

    fn render(template: &str, p: &Personalisation) -> (String, String) {
        let field = Field::parse(template).unwrap();
        let doc = Document::from_pieces(&fill(&field, p));
        (doc.to_text(), doc.to_html())
    }

    fn html(template: &str) -> String {
        render(template, &Personalisation::new()).1
    }

    fn value_html(template: &str, value: &str) -> String {
        render(template, &Personalisation::new().with("v", value)).1
    }

    #[test]
    fn paragraphs_and_line_breaks() {
        let (text, html) = render("One\ntwo\n\n\nThree", &Personalisation::new());
        assert_eq!(html, "<p>One<br>two</p>\n<p>Three</p>");
        assert_eq!(text, "One\ntwo\n\nThree");
    }

    #[test]
    fn headings_lists_insets_and_rules() {
        let template = "# Title\n## Sub\n### Small\n* a\n- b\ncontinued\n\n1. one\n2. two\n^ inset\nmore\n\n---\nend";
        let (text, html) = render(template, &Personalisation::new());
        assert_eq!(
            html,
            "<h2>Title</h2>\n<h3>Sub</h3>\n<p>Small</p>\n<ul><li>a</li><li>b<br>continued</li></ul>\n\
             <ol><li>one</li><li>two</li></ol>\n<blockquote>inset<br>more</blockquote>\n<hr>\n<p>end</p>"
        );
        assert_eq!(
            text,
            format!(
                "Title\n\nSub\n\nSmall\n\n• a\n• b\n  continued\n\n1. one\n2. two\n\ninset\nmore\n\n{RULE_TEXT}\n\nend"
            )
        );
    }

    #[test]
    fn a_list_may_interrupt_a_paragraph() {
        assert_eq!(
            html("You need:\n• passport\n•licence"),
            "<p>You need:</p>\n<ul><li>passport</li><li>licence</li></ul>"
        );
    }

    #[test]
    fn markers_need_their_space() {
        assert_eq!(
            html("#hashtag\n*bold*\n1.5 litres"),
            "<p>#hashtag<br>*bold*<br>1.5 litres</p>"
        );
    }

    #[test]
    fn template_html_is_escaped() {
        assert_eq!(
            html("<b>hi</b> & \"x\" 'y'"),
            "<p>&lt;b&gt;hi&lt;/b&gt; &amp; &quot;x&quot; &#39;y&#39;</p>"
        );
    }

    #[test]
    fn template_links_and_urls() {
        let (text, html) = render(
            "[Apply now](https://example.gov.au/apply?a=1&b=2) or see https://example.gov.au/help.",
            &Personalisation::new(),
        );
        assert_eq!(
            html,
            "<p><a href=\"https://example.gov.au/apply?a=1&amp;b=2\" rel=\"noopener noreferrer\">Apply now</a> or see \
             <a href=\"https://example.gov.au/help\" rel=\"noopener noreferrer\">https://example.gov.au/help</a>.</p>"
        );
        assert_eq!(
            text,
            "Apply now: https://example.gov.au/apply?a=1&b=2 or see https://example.gov.au/help."
        );
    }

    #[test]
    fn url_keeps_balanced_brackets_and_drops_trailing_punctuation() {
        assert!(html("(see https://en.example.org/Foo_(bar)).").contains(
            "<a href=\"https://en.example.org/Foo_(bar)\" rel=\"noopener noreferrer\">https://en.example.org/Foo_(bar)</a>)."
        ));
    }

    #[test]
    fn only_http_https_and_mailto_links() {
        assert_eq!(
            html("[x](javascript:alert(1))"),
            "<p>[x](javascript:alert(1))</p>"
        );
        assert_eq!(html("[x](ftp://a.b)"), "<p>[x](ftp://a.b)</p>");
        assert!(
            html("[Write to us](mailto:help@example.gov.au)")
                .contains("<a href=\"mailto:help@example.gov.au\"")
        );
        assert_eq!(html("[x](mailto:)"), "<p>[x](mailto:)</p>");
    }

    #[test]
    fn values_never_become_markup_or_links() {
        for value in [
            "[click](http://evil)",
            "<a href=\"http://evil\">x</a>",
            "https://evil.example",
            "# heading\n* item\n---",
            "javascript:alert(1)",
        ] {
            let out = value_html("Hello ((v))", value);
            assert!(!out.contains("<a"), "{out}");
            assert!(!out.contains("href="), "{out}");
            assert!(!out.contains("]("), "{out}");
            assert!(!out.contains("https:"), "{out}");
            assert!(!out.contains("<h"), "{out}");
            assert!(!out.contains("<li"), "{out}");
            assert_eq!(
                out.matches('<').count(),
                2 + out.matches("<br>").count(),
                "{out}"
            );
        }
        assert_eq!(
            value_html("((v))", "[click](http://evil)"),
            "<p>&#91;click&#93;&#40;http&#58;//evil&#41;</p>"
        );
    }

    #[test]
    fn values_are_text_even_at_the_start_of_a_line() {
        let (text, html) = render(
            "((v))",
            &Personalisation::new().with("v", "# not a heading\n* nor an item"),
        );
        assert_eq!(html, "<p># not a heading<br>* nor an item</p>");
        assert_eq!(text, "# not a heading\n* nor an item");
    }

    #[test]
    fn a_value_may_fill_the_path_of_a_template_link() {
        let out = value_html(
            "[Your case](https://example.gov.au/cases/((v)))",
            "A 1/../x?y=\"z\"",
        );
        assert_eq!(
            out,
            "<p><a href=\"https://example.gov.au/cases/A%201%2F..%2Fx%3Fy%3D%22z%22\" rel=\"noopener noreferrer\">Your case</a></p>"
        );
        let out = value_html("See https://example.gov.au/cases/((v)) today", "A1");
        assert_eq!(
            out,
            "<p>See <a href=\"https://example.gov.au/cases/A1\" rel=\"noopener noreferrer\">https://example.gov.au/cases/A1</a> today</p>"
        );
    }

    #[test]
    fn only_the_template_ends_a_link() {
        assert_eq!(
            value_html("https://example.gov.au/q?name=((v)). Thanks", "Ann Lee"),
            "<p><a href=\"https://example.gov.au/q?name=Ann%20Lee\" rel=\"noopener noreferrer\">\
             https://example.gov.au/q?name=Ann Lee</a>. Thanks</p>"
        );
        // Nor does a value start one.
        assert_eq!(
            value_html("((v))https://example.gov.au", "-"),
            "<p>-https://example.gov.au</p>"
        );
    }

    #[test]
    fn pathological_lines_render_in_linear_time() {
        // Quadratic scanning would take minutes on these; linear, moments.
        let value = Personalisation::new().with("v", "x");
        for template in [
            "[x](".repeat(50_000),
            "[".repeat(200_000),
            "https://a((v))".repeat(20_000),
            format!("https://a.b/{}", ")".repeat(200_000)),
        ] {
            let started = std::time::Instant::now();
            render(&template, &value);
            assert!(started.elapsed().as_secs() < 5, "{}", &template[..20]);
        }
    }

    #[test]
    fn a_value_never_chooses_the_scheme_or_host() {
        for template in [
            "[Open](((v)))",
            "[Open](https://((v)))",
            "[Open](https://((v)).gov.au/x)",
            "https://((v))/path",
            "[Open](mailto((v)))",
        ] {
            let out = value_html(template, "evil.example");
            assert!(!out.contains("<a"), "{template}: {out}");
        }
    }

    #[test]
    fn list_values_become_bullets() {
        let items = Value::List(vec!["a <b>".into(), "c".into()]);
        let (text, html) = render(
            "You need:((items))\nThanks",
            &Personalisation::new().with("items", items.clone()),
        );
        assert_eq!(
            html,
            "<p>You need:</p>\n<ul><li>a &lt;b&gt;</li><li>c</li></ul>\n<p>Thanks</p>"
        );
        assert_eq!(text, "You need:\n\n• a <b>\n• c\n\nThanks");
        let (_, html) = render(
            "* first\n((items))",
            &Personalisation::new().with("items", items),
        );
        assert_eq!(
            html,
            "<ul><li>first</li><li>a &lt;b&gt;</li><li>c</li></ul>"
        );
    }

    #[test]
    fn hidden_conditional_lines_leave_a_paragraph_break() {
        let template = "Dear Ann,\n((fine??You owe a fine.))\nThanks";
        let (_, shown) = render(template, &Personalisation::new().with("fine", "yes"));
        assert_eq!(shown, "<p>Dear Ann,<br>You owe a fine.<br>Thanks</p>");
        let (_, hidden) = render(template, &Personalisation::new().with("fine", "no"));
        assert_eq!(hidden, "<p>Dear Ann,</p>\n<p>Thanks</p>");
    }

    #[test]
    fn conditional_text_is_template_text() {
        // Conditional text cannot hold parentheses (as in Notify), so no
        // `[text](url)`, but a bare link is formatting.
        let (_, html) = render(
            "((x??Pay at https://example.gov.au/pay))",
            &Personalisation::new().with("x", "1"),
        );
        assert!(
            html.contains("<a href=\"https://example.gov.au/pay\""),
            "{html}"
        );
    }
}
