//! What a statement is, from its text: whether it can only read, whether it
//! may end a transaction, and a guest's `PRAGMA synchronous`, which the host
//! answers itself.

/// Whether a statement can only read (so it needs no write turn and makes
/// no commit): its first keyword is `SELECT`, `VALUES` or `EXPLAIN`, or it
/// is a `WITH` that SQLite says only reads (a recursive query, say; `WITH`
/// may also lead a write). Transaction statements are not: `BEGIN` takes
/// the turn for the transaction, and `COMMIT` commits.
pub(super) fn is_read_only(connection: &rusqlite::Connection, statement: &str) -> bool {
    match first_keyword(statement).as_str() {
        "SELECT" | "VALUES" | "EXPLAIN" => true,
        // Prepared into the cache the statement then runs from; one that
        // does not prepare fails there, with SQLite's own words.
        "WITH" => connection
            .prepare_cached(statement)
            .is_ok_and(|prepared| prepared.readonly()),
        _ => false,
    }
}

/// Whether a statement inside a transaction may commit it.
pub(super) fn may_end_transaction(statement: &str) -> bool {
    matches!(
        first_keyword(statement).as_str(),
        "COMMIT" | "END" | "RELEASE"
    )
}

/// A statement's first keyword after comments, upper-cased.
fn first_keyword(statement: &str) -> String {
    after_comments(statement)
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A statement from its first token on, past leading space and comments.
fn after_comments(statement: &str) -> &str {
    let mut s = statement.trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return s;
        }
    }
}

/// A guest's `PRAGMA [main.]synchronous`, which the host answers itself.
#[derive(Debug, PartialEq)]
pub(super) enum SynchronousPragma {
    Read,
    Set(u8),
}

/// The `synchronous` pragma in `statement`, if that is what it is; `Err`
/// for a value SQLite's documentation does not name.
pub(super) fn synchronous_pragma(statement: &str) -> Option<Result<SynchronousPragma, String>> {
    let rest = after_comments(statement);
    let rest = strip_keyword(rest, "PRAGMA")?.trim_start();
    let rest = strip_keyword(rest, "main")
        .and_then(|r| r.trim_start().strip_prefix('.'))
        .map_or(rest, str::trim_start);
    let rest = strip_keyword(rest, "synchronous")?.trim();
    let rest = rest.strip_suffix(';').unwrap_or(rest).trim_end();
    if rest.is_empty() {
        return Some(Ok(SynchronousPragma::Read));
    }
    let value = match rest.strip_prefix('=') {
        Some(value) => value.trim(),
        None => rest.strip_prefix('(')?.strip_suffix(')')?.trim(),
    };
    let value = value.trim_matches(|c| c == '\'' || c == '"');
    let level = match value.to_ascii_lowercase().as_str() {
        "0" | "off" | "no" | "false" => 0,
        "1" | "normal" | "on" | "yes" | "true" => 1,
        "2" | "full" => 2,
        "3" | "extra" => 3,
        _ => {
            return Some(Err(format!(
                "PRAGMA synchronous: {value:?} is not one of OFF, NORMAL, FULL, EXTRA or 0 to 3"
            )));
        }
    };
    Some(Ok(SynchronousPragma::Set(level)))
}

/// `text` without `keyword` (any case) at its start, if it starts with that word.
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    let rest = &text[keyword.len()..];
    let word_ends = !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    (head.eq_ignore_ascii_case(keyword) && word_ends).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_statements_are_recognised() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (x)").unwrap();
        let read_only = |sql| is_read_only(&c, sql);
        assert!(read_only("SELECT 1"));
        assert!(read_only("  -- note\n select * from t"));
        assert!(read_only("/* c */ VALUES (1)"));
        assert!(read_only(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n"
        ));
        assert!(!read_only("INSERT INTO t VALUES (1)"));
        assert!(!read_only("BEGIN"));
        assert!(!read_only("COMMIT"));
        assert!(!read_only("WITH x AS (SELECT 1) DELETE FROM t"));
        assert!(!read_only(
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"
        ));
        assert!(!read_only("WITH broken AS (SELEKT 1) SELECT 1"));
    }

    #[test]
    fn the_synchronous_pragma_is_recognised_in_the_forms_sqlite_takes() {
        use SynchronousPragma::{Read, Set};
        let parse = |sql| synchronous_pragma(sql).map(|p| p.map_err(drop));
        assert_eq!(parse("PRAGMA synchronous"), Some(Ok(Read)));
        assert_eq!(parse(" -- c\n pragma main.Synchronous;"), Some(Ok(Read)));
        assert_eq!(parse("PRAGMA synchronous = NORMAL"), Some(Ok(Set(1))));
        assert_eq!(parse("PRAGMA main . synchronous=off;"), Some(Ok(Set(0))));
        assert_eq!(parse("PRAGMA synchronous('full')"), Some(Ok(Set(2))));
        assert_eq!(parse("PRAGMA synchronous = 3"), Some(Ok(Set(3))));
        assert_eq!(parse("PRAGMA synchronous = sometimes"), Some(Err(())));
        // Other pragmas, other schemas and other statements go to SQLite.
        assert_eq!(parse("PRAGMA synchronous_extra"), None);
        assert_eq!(parse("PRAGMA temp.synchronous = 1"), None);
        assert_eq!(parse("PRAGMA journal_mode"), None);
        assert_eq!(parse("SELECT 'PRAGMA synchronous'"), None);
    }
}
