//! CSV as RFC 4180 writes it, read strictly: a quote may only open a field
//! or, doubled, stand for itself inside a quoted field; anything else is
//! refused with the line and column, rather than guessed at. Records end
//! with CRLF or LF; a byte-order mark is skipped.
//!
//! Text that people typed is written [`formula_safe`], so that a
//! spreadsheet opening an export shows it rather than running it.

use std::borrow::Cow;

use thiserror::Error;

/// Where and why a CSV text is malformed (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {reason}")]
pub struct CsvError {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// One record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

enum State {
    /// At the start of a field.
    FieldStart,
    Unquoted,
    Quoted,
    /// Just after a quote inside a quoted field: the field's end, or the
    /// first of a doubled quote.
    QuoteInQuoted,
}

/// Parses `text` into records; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::FieldStart;
    let (mut line, mut column) = (1, 0);
    let mut record_line = 1;
    let mut quote_opened = (1, 1);
    let mut chars = text.chars().peekable();
    let error = |line, column, reason: &str| CsvError {
        line,
        column,
        reason: reason.to_string(),
    };
    let end_record =
        |fields: &mut Vec<String>, field: &mut String, records: &mut Vec<Record>, at: usize| {
            fields.push(std::mem::take(field));
            let done = std::mem::take(fields);
            if !(done.len() == 1 && done[0].is_empty()) {
                records.push(Record {
                    line: at,
                    fields: done,
                });
            }
        };
    while let Some(c) = chars.next() {
        column += 1;
        // CRLF is one line break.
        let newline = c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'));
        if c == '\r' && newline {
            chars.next();
        }
        match state {
            State::FieldStart | State::Unquoted if newline => {
                end_record(&mut fields, &mut field, &mut records, record_line);
                state = State::FieldStart;
            }
            State::FieldStart | State::Unquoted if c == ',' => {
                fields.push(std::mem::take(&mut field));
                state = State::FieldStart;
            }
            State::FieldStart if c == '"' => {
                quote_opened = (line, column);
                state = State::Quoted;
            }
            State::FieldStart | State::Unquoted if c == '"' => {
                return Err(error(
                    line,
                    column,
                    "a quote inside an unquoted field; quote the whole field and double the quotes in it",
                ));
            }
            State::FieldStart | State::Unquoted if c == '\r' => {
                return Err(error(
                    line,
                    column,
                    "a carriage return outside quotes must be followed by a line feed",
                ));
            }
            State::FieldStart | State::Unquoted => {
                field.push(c);
                state = State::Unquoted;
            }
            State::Quoted if c == '"' => state = State::QuoteInQuoted,
            State::Quoted => {
                field.push(c);
                if newline {
                    // Keep a CRLF inside quotes as it was written.
                    if c == '\r' {
                        field.push('\n');
                    }
                }
            }
            State::QuoteInQuoted if c == '"' => {
                field.push('"');
                state = State::Quoted;
            }
            State::QuoteInQuoted if c == ',' => {
                fields.push(std::mem::take(&mut field));
                state = State::FieldStart;
            }
            State::QuoteInQuoted if newline => {
                end_record(&mut fields, &mut field, &mut records, record_line);
                state = State::FieldStart;
            }
            State::QuoteInQuoted => {
                return Err(error(
                    line,
                    column,
                    "text after a closing quote; a quoted field ends at its closing quote (double a quote to include it)",
                ));
            }
        }
        if newline {
            line += 1;
            column = 0;
            if matches!(state, State::FieldStart) && fields.is_empty() {
                record_line = line;
            }
        }
    }
    match state {
        State::Quoted => Err(error(
            quote_opened.0,
            quote_opened.1,
            "this quoted field is never closed",
        )),
        _ => {
            if !(fields.is_empty() && field.is_empty() && matches!(state, State::FieldStart)) {
                end_record(&mut fields, &mut field, &mut records, record_line);
            }
            Ok(records)
        }
    }
}

/// One field, quoted when it needs to be.
pub fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The first characters that make a spreadsheet read a cell as a formula
/// (or, for tab and carriage return, hide one behind them).
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as a spreadsheet will show it as text: a value starting with one
/// of [`FORMULA_TRIGGERS`] gets a leading `'`, as OWASP recommends against
/// CSV (formula) injection. For text people typed (names, addresses, tags),
/// never for values whose shape is checked (E.164 phones, dates, ids).
pub fn formula_safe(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// Undoes [`formula_safe`] on a cell read back: a `'` before a formula
/// trigger is dropped; anything else is left as it is.
pub fn formula_unguarded(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) => rest,
        _ => value,
    }
}

/// One record with a CRLF.
pub fn record(values: &[String]) -> String {
    let mut line = values
        .iter()
        .map(|v| field(v))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap().into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn well_formed_csv() {
        assert_eq!(
            fields("a,b,c\r\n1,\"two, with comma\",3\n\"say \"\"hi\"\"\",,\"multi\nline\"\n\n"),
            [
                vec!["a", "b", "c"],
                vec!["1", "two, with comma", "3"],
                vec!["say \"hi\"", "", "multi\nline"],
            ]
        );
        assert_eq!(fields("\u{feff}x\ny"), [vec!["x"], vec!["y"]]);
        assert_eq!(fields(""), Vec::<Vec<String>>::new());
        let records = parse("h\n\"a\nb\"\nc\n").unwrap();
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            [1, 2, 4]
        );
    }

    #[test]
    fn broken_quoting_says_where() {
        let e = parse("a,b\n1,\"unterminated\n2,3\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.reason.contains("never closed"), "{e}");
        let e = parse("a,b\n1,say \"hi\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 7));
        assert!(e.reason.contains("inside an unquoted field"), "{e}");
        let e = parse("a,b\n\"x\"y,2\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 4));
        assert!(e.reason.contains("after a closing quote"), "{e}");
    }

    #[test]
    fn written_fields_read_back() {
        let values: Vec<String> = ["plain", "a,b", "say \"hi\"", "two\nlines", " padded", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let text = record(&values);
        assert_eq!(fields(&text), [values]);
    }

    #[test]
    fn formulas_are_written_as_text_and_read_back() {
        for (value, safe) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("+61 2 6000 0000", "'+61 2 6000 0000"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Smith", "Smith"),
            ("O'Brien", "O'Brien"),
            ("'quoted", "'quoted"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(formula_safe(value), safe, "{value:?}");
            assert_eq!(formula_unguarded(&formula_safe(value)), value, "{value:?}");
        }
        // Quoting for CSV comes after: the cell still starts with the guard.
        let line = record(&[formula_safe("=1+2,3").into_owned()]);
        assert_eq!(line, "\"'=1+2,3\"\r\n");
        assert_eq!(fields(&line), [vec!["'=1+2,3"]]);
    }
}
