//! Splitting a migration file into statements and compacting each one.
//! Used by `build.rs` (which includes this file) at build time; the
//! library's tests run its tests.

/// Splits SQL on `;` that are outside quotes and comments; drops empty pieces.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' if !inside_trigger_body(&sql[start..i]) => {
                statements.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    statements.push(&sql[start.min(sql.len())..]);
    statements
        .into_iter()
        .filter(|s| !strip_comments(s).trim().is_empty())
        .map(str::trim)
        .collect()
}

/// Whether `so_far` is a `CREATE TRIGGER` whose body has not reached `END`.
fn inside_trigger_body(so_far: &str) -> bool {
    let text = strip_comments(so_far).to_ascii_uppercase();
    let words: Vec<&str> = text.split_whitespace().collect();
    let is_trigger = matches!(
        words.as_slice(),
        ["CREATE", "TRIGGER", ..] | ["CREATE", "TEMP" | "TEMPORARY", "TRIGGER", ..]
    );
    is_trigger && words.last() != Some(&"END")
}

fn strip_comments(statement: &str) -> String {
    statement
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Appends `piece`, after one space if whitespace or a comment came before it.
fn push(out: &mut String, piece: &str, pending_space: &mut bool) {
    if *pending_space && !out.is_empty() {
        out.push(' ');
    }
    *pending_space = false;
    out.push_str(piece);
}

/// `statement` without its comments, with each run of whitespace outside
/// quotes made one space: what SQLite needs, nothing a reader does.
pub fn compact(statement: &str) -> String {
    let bytes = statement.as_bytes();
    let mut out = String::with_capacity(statement.len());
    let mut i = 0;
    let mut pending_space = false;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                push(&mut out, &statement[start..i], &mut pending_space);
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                pending_space = true;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
                pending_space = true;
                continue;
            }
            c if c.is_ascii_whitespace() => {
                pending_space = true;
                i += 1;
                continue;
            }
            _ => {}
        }
        // One character (UTF-8 continuation bytes included) of plain SQL.
        let width = statement[i..].chars().next().map_or(1, char::len_utf8);
        push(&mut out, &statement[i..i + width], &mut pending_space);
        i += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_respects_quotes_and_comments() {
        let sql = "CREATE TABLE a (x TEXT DEFAULT ';'); -- a comment; here\nINSERT INTO a VALUES ('b;c');\n/* ; */ SELECT 1;\n-- only a comment\n";
        assert_eq!(
            split_statements(sql),
            vec![
                "CREATE TABLE a (x TEXT DEFAULT ';')",
                "-- a comment; here\nINSERT INTO a VALUES ('b;c')",
                "/* ; */ SELECT 1"
            ]
        );
        let trigger = "CREATE TRIGGER t BEFORE UPDATE ON a BEGIN SELECT RAISE(ABORT, 'no; never'); SELECT 2; END;\nSELECT 3;";
        assert_eq!(
            split_statements(trigger),
            vec![
                "CREATE TRIGGER t BEFORE UPDATE ON a BEGIN SELECT RAISE(ABORT, 'no; never'); SELECT 2; END",
                "SELECT 3"
            ]
        );
    }

    #[test]
    fn compacting_drops_comments_and_spaces_but_not_quoted_text() {
        assert_eq!(
            compact(
                "-- why\nCREATE TABLE a (\n    x  TEXT DEFAULT '  -- kept ',  /* gone */\n    y \"two  words\" -- gone\n)"
            ),
            "CREATE TABLE a ( x TEXT DEFAULT '  -- kept ', y \"two  words\" )"
        );
        assert_eq!(
            compact("SELECT 'it''s  ok', 'é  ü'"),
            "SELECT 'it''s  ok', 'é  ü'"
        );
    }
}
