//! Searching and listing current contacts: by name (prefix and phonetic,
//! FTS5), email, phone, identifier, archetype, tag, category and last
//! change, with cursor paging in a stable order.
//!
//! Order: newest contact first (`search_rowid`, which never changes), so a
//! cursor is the last row id seen. With `updated_since` the order is the
//! order of changes instead, oldest first, so a client can follow changes;
//! its cursor is the last (change time, row id) seen.
//!
//! Each query is driven by its most selective filter (an exact key, then
//! the name, then a label, then the contacts table's own indexes), so no
//! query scans the table to find a few rows.

use crm_domain::{
    Abn, Acn, AgencyIdentifier, Archetype, Email, FieldErrors, Invalid, PhoneE164, Tag,
};

use crate::index::name_query;
use crate::store::{CONTACT_COLUMNS, Param, Statement};

/// How many rows a page holds by default and at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub default: usize,
    pub max: usize,
}

/// Search and list pages.
pub const SEARCH_LIMITS: Limits = Limits {
    default: 20,
    max: 100,
};

/// Rows per page of an export: a few hundred, so that an export of any size
/// holds one page in memory at a time.
pub const EXPORT_PAGE: usize = 500;

/// The filters as given in the query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `scheme:value`, e.g. `abn:51824753556` or `medicare:2123456701-1`.
    pub identifier: Option<String>,
    pub archetype: Option<String>,
    pub tag: Option<String>,
    pub category: Option<String>,
    /// `YYYY-MM-DD` or an RFC 3339 UTC time.
    pub updated_since: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

impl SearchParams {
    /// The parameter names, for reading a query string.
    pub const NAMES: [&'static str; 10] = [
        "name",
        "email",
        "phone",
        "identifier",
        "archetype",
        "tag",
        "category",
        "updated_since",
        "cursor",
        "limit",
    ];

    pub fn set(&mut self, name: &str, value: String) -> bool {
        let slot = match name {
            "name" => &mut self.name,
            "email" => &mut self.email,
            "phone" => &mut self.phone,
            "identifier" => &mut self.identifier,
            "archetype" => &mut self.archetype,
            "tag" => &mut self.tag,
            "category" => &mut self.category,
            "updated_since" => &mut self.updated_since,
            "cursor" => &mut self.cursor,
            "limit" => &mut self.limit,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// A checked search, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    /// Selects [`CONTACT_COLUMNS`] and, last, the sort key of the row.
    pub statement: Statement,
    pub limit: usize,
    /// Whether it filters by an identifier, which needs the right to see
    /// identifiers.
    pub uses_identifier: bool,
    by_change: bool,
}

impl SearchPlan {
    /// The cursor after a row with this row id and change time.
    pub fn cursor_after(&self, search_rowid: i64, updated_at: &str) -> String {
        let raw = if self.by_change {
            format!("u{updated_at}|{search_rowid}")
        } else {
            format!("r{search_rowid}")
        };
        raw.bytes().map(|b| format!("{b:02x}")).collect()
    }
}

enum Cursor {
    Row(i64),
    Change(String, i64),
}

fn reason(text: &str) -> Invalid {
    Invalid(text.to_string())
}

fn parse_cursor(raw: &str) -> Result<Cursor, Invalid> {
    let bad = || reason("is not a cursor from a previous page");
    if !raw.len().is_multiple_of(2) || raw.len() > 200 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..raw.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(raw.get(i..i + 2)?, 16).ok())
        .collect();
    let text = bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    if let Some(row) = text.strip_prefix('r') {
        return row.parse().map(Cursor::Row).map_err(|_| bad());
    }
    let (at, row) = text
        .strip_prefix('u')
        .and_then(|t| t.split_once('|'))
        .ok_or_else(bad)?;
    Ok(Cursor::Change(
        at.to_string(),
        row.parse().map_err(|_| bad())?,
    ))
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.fff]Z` as the stored form
/// `YYYY-MM-DDTHH:MM:SS.fffZ` (which sorts as text).
pub fn parse_time(raw: &str) -> Result<String, Invalid> {
    let bad = || reason("must be a date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    let raw = raw.trim();
    let (date, time) = raw.split_once('T').unwrap_or((raw, "00:00:00Z"));
    crm_domain::CalendarDate::parse(date).map_err(|_| bad())?;
    let time = time.strip_suffix('Z').ok_or_else(bad)?;
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "000"));
    let parts: Vec<&str> = hms.split(':').collect();
    let valid = parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0] < "24"
        && parts[1] < "60"
        && parts[2] < "60"
        && !fraction.is_empty()
        && fraction.len() <= 9
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(bad());
    }
    let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
    Ok(format!("{date}T{hms}.{millis}Z"))
}

/// The match key an identifier filter looks up.
fn identifier_key(raw: &str) -> Result<String, Invalid> {
    let (scheme, value) = raw
        .split_once(':')
        .ok_or_else(|| reason("must be scheme:value, e.g. abn:51824753556"))?;
    match scheme.trim().to_ascii_lowercase().as_str() {
        "abn" => Abn::parse(value).map(|abn| format!("abn:{}", abn.as_str())),
        "acn" => Acn::parse(value).map(|acn| format!("acn:{}", acn.as_str())),
        _ => AgencyIdentifier::parse(scheme, value)
            .map(|id| format!("id:{}:{}", id.scheme(), id.value()))
            .map_err(|e| reason(&e.to_string())),
    }
}

/// Checks the filters and builds the query.
pub fn plan(params: &SearchParams, limits: Limits) -> Result<SearchPlan, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = match params.name.as_deref() {
        Some(text) => errors.check(
            "name",
            name_query(text).ok_or_else(|| reason("must contain a letter or digit")),
        ),
        None => None,
    };
    let mut keys: Vec<String> = Vec::new();
    if let Some(email) = params.email.as_deref() {
        keys.extend(errors.check(
            "email",
            Email::parse(email).map(|e| format!("em:{}", e.as_str().to_lowercase())),
        ));
    }
    if let Some(phone) = params.phone.as_deref() {
        keys.extend(errors.check(
            "phone",
            PhoneE164::parse(phone).map(|p| format!("ph:{}", p.as_str())),
        ));
    }
    if let Some(identifier) = params.identifier.as_deref() {
        keys.extend(errors.check("identifier", identifier_key(identifier)));
    }
    let archetype = params
        .archetype
        .as_deref()
        .and_then(|a| errors.check("archetype", Archetype::parse(a)));
    let mut labels: Vec<String> = Vec::new();
    if let Some(tag) = params.tag.as_deref() {
        labels.extend(errors.check("tag", Tag::parse(tag).map(|t| format!("t:{}", t.as_str()))));
    }
    if let Some(category) = params.category.as_deref() {
        labels.extend(errors.check(
            "category",
            Tag::parse(category).map(|t| format!("c:{}", t.as_str())),
        ));
    }
    let updated_since = params
        .updated_since
        .as_deref()
        .and_then(|t| errors.check("updated_since", parse_time(t)));
    let limit = match params.limit.as_deref() {
        None => Some(limits.default),
        Some(raw) => errors.check(
            "limit",
            raw.parse::<usize>()
                .ok()
                .filter(|l| (1..=limits.max).contains(l))
                .ok_or_else(|| Invalid(format!("must be a number from 1 to {}", limits.max))),
        ),
    };
    let cursor = params
        .cursor
        .as_deref()
        .and_then(|c| errors.check("cursor", parse_cursor(c)));
    let by_change = updated_since.is_some();
    if let Some(cursor) = &cursor
        && matches!(cursor, Cursor::Change(..)) != by_change
    {
        errors.check::<()>("cursor", Err(reason("belongs to a different search")));
    }
    let Some(limit) = limit else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut from = String::from("contacts c");
    // The driver's own copy of the row id: ordering by it lets the driver
    // (FTS5, a label's index) produce rows in order and stop at the limit,
    // where ordering by the contact's column sorts every match first.
    let mut row_column = "c.search_rowid";
    let mut wheres: Vec<String> = vec!["c.merged_into IS NULL".into()];
    let mut args: Vec<Param> = Vec::new();
    // The driver: the first exact key, else the name, else the first label.
    let mut keys = keys.into_iter();
    let mut labels = labels.into_iter();
    let mut name = name;
    if let Some(key) = keys.next() {
        from = "contact_match_keys k JOIN contacts c ON c.id = k.contact_id".into();
        wheres.push("k.key = ?".into());
        args.push(Param::Text(key));
    } else if let Some(query) = name.take() {
        from = "contact_search s JOIN contacts c ON c.search_rowid = s.rowid".into();
        row_column = "s.rowid";
        wheres.push("contact_search MATCH ?".into());
        args.push(Param::Text(query));
    } else if let Some(label) = labels.next() {
        from = "contact_labels l JOIN contacts c ON c.search_rowid = l.search_rowid".into();
        row_column = "l.search_rowid";
        wheres.push("l.label = ?".into());
        args.push(Param::Text(label));
    }
    for key in keys {
        wheres.push(
            "EXISTS (SELECT 1 FROM contact_match_keys k2 WHERE k2.key = ? AND k2.contact_id = c.id)".into(),
        );
        args.push(Param::Text(key));
    }
    if let Some(query) = name {
        wheres.push(
            "c.search_rowid IN (SELECT rowid FROM contact_search WHERE contact_search MATCH ?)"
                .into(),
        );
        args.push(Param::Text(query));
    }
    for label in labels {
        wheres.push(
            "EXISTS (SELECT 1 FROM contact_labels l2 WHERE l2.label = ? AND l2.search_rowid = c.search_rowid)".into(),
        );
        args.push(Param::Text(label));
    }
    if let Some(archetype) = archetype {
        wheres.push("c.archetype = ?".into());
        args.push(Param::Text(archetype.as_str().into()));
    }
    let order = match (&updated_since, &cursor) {
        (Some(since), cursor) => {
            wheres.push("c.updated_at >= ?".into());
            args.push(Param::Text(since.clone()));
            if let Some(Cursor::Change(at, row)) = cursor {
                wheres.push("(c.updated_at, c.search_rowid) > (?, ?)".into());
                args.push(Param::Text(at.clone()));
                args.push(Param::Int(*row));
            }
            "c.updated_at, c.search_rowid".to_string()
        }
        (None, cursor) => {
            if let Some(Cursor::Row(row)) = cursor {
                wheres.push(format!("{row_column} < ?"));
                args.push(Param::Int(*row));
            }
            format!("{row_column} DESC")
        }
    };
    args.push(Param::Int(limit as i64 + 1));
    let sql = format!(
        "SELECT {CONTACT_COLUMNS} FROM {from} WHERE {} ORDER BY {order} LIMIT ?",
        wheres.join(" AND ")
    );
    Ok(SearchPlan {
        statement: Statement { sql, params: args },
        limit,
        uses_identifier: params.identifier.is_some(),
        by_change,
    })
}

/// An export: every contact the filters match (after `cursor`, when one
/// is given), read in keyset pages in the search's stable order, so that
/// one request reads any number of contacts one page at a time. `limit`,
/// when given, bounds the whole export rather than a page.
#[derive(Debug, Clone)]
pub struct Export {
    params: SearchParams,
    page: usize,
    remaining: Option<usize>,
    done: bool,
    /// Whether it filters by an identifier, which needs the right to see
    /// identifiers.
    pub uses_identifier: bool,
}

impl Export {
    /// Checks the filters (every error at once, as [`plan`] does) and the
    /// total `limit`; `page` is the number of rows per page.
    pub fn new(params: &SearchParams, page: usize) -> Result<Self, FieldErrors> {
        let page = page.max(1);
        let mut params = params.clone();
        let limit = params.limit.take();
        let mut errors = match plan(
            &params,
            Limits {
                default: page,
                max: page,
            },
        ) {
            Ok(_) => FieldErrors::default(),
            Err(errors) => errors,
        };
        let remaining = limit.as_deref().and_then(|raw| {
            errors.check(
                "limit",
                raw.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| reason("must be a whole number of at least 1")),
            )
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            uses_identifier: params.identifier.is_some(),
            params,
            page,
            remaining,
            done: false,
        })
    }

    /// The query for the next page (one row more than it keeps, to tell
    /// whether another follows), or `None` once the export is complete.
    pub fn next_page(&self) -> Option<SearchPlan> {
        if self.done {
            return None;
        }
        let size = self.remaining.map_or(self.page, |r| r.min(self.page));
        let limits = Limits {
            default: size,
            max: size,
        };
        Some(plan(&self.params, limits).expect("checked by Export::new"))
    }

    /// The rows to keep of what `page` (from [`next_page`](Self::next_page))
    /// returned, moving the export on past the last of them; `key` gives a
    /// row's `search_rowid` and `updated_at`.
    pub fn keep<T>(
        &mut self,
        page: &SearchPlan,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> (i64, &str),
    ) -> Vec<T> {
        let more = rows.len() > page.limit;
        rows.truncate(page.limit);
        if let Some(remaining) = &mut self.remaining {
            *remaining -= rows.len().min(*remaining);
        }
        match rows.last() {
            Some(last) if more && self.remaining != Some(0) => {
                let (rowid, updated_at) = key(last);
                self.params.cursor = Some(page.cursor_after(rowid, updated_at));
            }
            _ => self.done = true,
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{contact, database, insert, run};
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> SearchParams {
        let mut p = SearchParams::default();
        for (k, v) in pairs {
            assert!(p.set(k, v.to_string()));
        }
        p
    }

    fn ids(db: &rusqlite::Connection, pairs: &[(&str, &str)]) -> Vec<String> {
        let plan = plan(&params(pairs), SEARCH_LIMITS).unwrap();
        run(db, &[plan.statement])
            .into_iter()
            .map(|row| match &row[0] {
                rusqlite::types::Value::Text(id) => id.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn fixture() -> rusqlite::Connection {
        let db = database();
        insert(
            &db,
            "con_1",
            &contact(
                json!({"archetype": "individual", "given_name": "John", "family_name": "Smith",
            "emails": ["john@x.au"], "phones": ["0412 345 678"], "tags": ["vip"]}),
            ),
        );
        insert(
            &db,
            "con_2",
            &contact(
                json!({"archetype": "individual", "given_name": "Jane", "family_name": "Smyth",
            "identifiers": [{"scheme": "crn", "value": "123456789A"}], "categories": ["priority"]}),
            ),
        );
        insert(
            &db,
            "con_3",
            &contact(
                json!({"archetype": "business", "organisation_name": "Smithson Pty Ltd",
            "identifiers": [{"scheme": "abn", "value": "51 824 753 556"}], "tags": ["vip"]}),
            ),
        );
        db
    }

    #[test]
    fn filters_find_the_right_contacts_newest_first() {
        let db = fixture();
        assert_eq!(ids(&db, &[]), ["con_3", "con_2", "con_1"]);
        assert_eq!(ids(&db, &[("name", "smi")]), ["con_3", "con_1"]);
        // Phonetic: Smith sounds like Smyth.
        assert_eq!(ids(&db, &[("name", "Smith")]), ["con_3", "con_2", "con_1"]);
        assert_eq!(ids(&db, &[("name", "jo smith")]), ["con_1"]);
        assert_eq!(ids(&db, &[("email", "JOHN@X.AU")]), ["con_1"]);
        assert_eq!(ids(&db, &[("phone", "+61 412 345 678")]), ["con_1"]);
        assert_eq!(ids(&db, &[("identifier", "abn:51824753556")]), ["con_3"]);
        assert_eq!(ids(&db, &[("identifier", "crn:123 456 789a")]), ["con_2"]);
        assert_eq!(ids(&db, &[("archetype", "business")]), ["con_3"]);
        assert_eq!(ids(&db, &[("tag", "vip")]), ["con_3", "con_1"]);
        assert_eq!(
            ids(&db, &[("tag", "vip"), ("archetype", "individual")]),
            ["con_1"]
        );
        assert_eq!(ids(&db, &[("category", "priority")]), ["con_2"]);
        assert_eq!(
            ids(&db, &[("email", "john@x.au"), ("name", "jane")]),
            ["con_1"],
            "Jane sounds like John"
        );
        assert_eq!(
            ids(&db, &[("email", "john@x.au"), ("name", "lee")]),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(&db, &[("name", "smith"), ("tag", "vip")]),
            ["con_3", "con_1"]
        );
        assert_eq!(
            ids(&db, &[("updated_since", "2026-11-24")]),
            ["con_1", "con_2", "con_3"]
        );
        assert!(ids(&db, &[("updated_since", "2026-11-25T00:00:00Z")]).is_empty());
    }

    /// Name and label searches come out of their driver in order, so
    /// SQLite stops at the limit instead of sorting every match.
    #[test]
    fn drivers_produce_rows_in_order() {
        let db = fixture();
        for pairs in [
            &[("name", "smith")][..],
            &[("tag", "vip")],
            &[("archetype", "individual")],
            &[],
            &[("name", "smith"), ("cursor", "7234")],
        ] {
            let plan = plan(&params(pairs), SEARCH_LIMITS).unwrap();
            let explain = format!("EXPLAIN QUERY PLAN {}", plan.statement.sql);
            let steps: Vec<String> = run(
                &db,
                &[Statement {
                    sql: explain,
                    params: plan.statement.params,
                }],
            )
            .into_iter()
            .map(|row| format!("{:?}", row[3]))
            .collect();
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "{pairs:?}: {steps:?}"
            );
        }
    }

    #[test]
    fn cursors_page_in_a_stable_order() {
        let db = fixture();
        let first = plan(&params(&[("limit", "2")]), SEARCH_LIMITS).unwrap();
        let rows = run(&db, std::slice::from_ref(&first.statement));
        assert_eq!(
            rows.len(),
            3,
            "one more than the limit says there is a next page"
        );
        let rowid = match rows[1][7] {
            rusqlite::types::Value::Integer(i) => i,
            _ => panic!(),
        };
        let cursor = first.cursor_after(rowid, "");
        assert_eq!(ids(&db, &[("limit", "2"), ("cursor", &cursor)]), ["con_1"]);
        let by_change = plan(&params(&[("updated_since", "2026-01-01")]), SEARCH_LIMITS).unwrap();
        let cursor = by_change.cursor_after(1, "2026-11-24T00:00:00.000Z");
        assert_eq!(
            ids(&db, &[("updated_since", "2026-01-01"), ("cursor", &cursor)]),
            ["con_2", "con_3"]
        );
        // A cursor from another kind of search is refused.
        assert!(plan(&params(&[("cursor", &cursor)]), SEARCH_LIMITS).is_err());
    }

    /// Every row of the export, page by page: (ids of each page).
    fn export_pages(
        db: &rusqlite::Connection,
        pairs: &[(&str, &str)],
        page: usize,
    ) -> Vec<Vec<String>> {
        let mut export = Export::new(&params(pairs), page).unwrap();
        let mut pages = Vec::new();
        while let Some(plan) = export.next_page() {
            let rows = run(db, std::slice::from_ref(&plan.statement));
            assert!(rows.len() <= plan.limit + 1);
            let text = |v: &rusqlite::types::Value| match v {
                rusqlite::types::Value::Text(t) => t.clone(),
                other => panic!("{other:?}"),
            };
            let rows: Vec<(String, i64, String)> = rows
                .iter()
                .map(|row| {
                    let rowid = match row[7] {
                        rusqlite::types::Value::Integer(i) => i,
                        _ => panic!(),
                    };
                    (text(&row[0]), rowid, text(&row[5]))
                })
                .collect();
            let kept = export.keep(&plan, rows, |(_, rowid, at)| (*rowid, at.as_str()));
            pages.push(kept.into_iter().map(|(id, _, _)| id).collect());
            assert!(pages.len() <= 10, "the export never ends: {pages:?}");
        }
        pages
    }

    #[test]
    fn an_export_reads_every_match_in_keyset_pages() {
        let db = fixture();
        assert_eq!(
            export_pages(&db, &[], 1),
            [vec!["con_3"], vec!["con_2"], vec!["con_1"]]
        );
        // A full last page needs one more query to find nothing after it.
        assert_eq!(
            export_pages(&db, &[], 2),
            [vec!["con_3", "con_2"], vec!["con_1"]]
        );
        assert_eq!(export_pages(&db, &[], 3), [vec!["con_3", "con_2", "con_1"]]);
        assert_eq!(
            export_pages(&db, &[("tag", "vip")], 1),
            [vec!["con_3"], vec!["con_1"]]
        );
        assert_eq!(
            export_pages(&db, &[("updated_since", "2026-01-01")], 2),
            [vec!["con_1", "con_2"], vec!["con_3"]]
        );
        assert_eq!(
            export_pages(&db, &[("name", "nobody")], 2),
            [Vec::<String>::new()]
        );
        // `limit` bounds the whole export, across pages.
        assert_eq!(
            export_pages(&db, &[("limit", "2")], 1),
            [vec!["con_3"], vec!["con_2"]]
        );
        assert_eq!(export_pages(&db, &[("limit", "1")], 5), [vec!["con_3"]]);
        assert_eq!(
            export_pages(&db, &[("limit", "5000")], 2),
            [vec!["con_3", "con_2"], vec!["con_1"]]
        );
        // A cursor from a search page starts the export after it.
        let first = plan(&params(&[("limit", "1")]), SEARCH_LIMITS).unwrap();
        let rows = run(&db, std::slice::from_ref(&first.statement));
        let rowid = match rows[0][7] {
            rusqlite::types::Value::Integer(i) => i,
            _ => panic!(),
        };
        let cursor = first.cursor_after(rowid, "");
        assert_eq!(
            export_pages(&db, &[("cursor", &cursor)], 5),
            [vec!["con_2", "con_1"]]
        );
        assert!(
            Export::new(&params(&[("identifier", "crn:123456789A")]), 5)
                .unwrap()
                .uses_identifier
        );

        let errors = Export::new(&params(&[("name", "!!"), ("limit", "0")]), 5).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "limit"]);
        assert!(Export::new(&params(&[("limit", "many")]), 5).is_err());
    }

    #[test]
    fn bad_filters_are_refused_per_field() {
        let errors = plan(
            &params(&[
                ("name", "!!"),
                ("email", "nope"),
                ("phone", "12"),
                ("identifier", "abn:51824753557"),
                ("archetype", "person"),
                ("tag", "a b"),
                ("updated_since", "yesterday"),
                ("limit", "1000"),
                ("cursor", "zz"),
            ]),
            SEARCH_LIMITS,
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "email",
                "phone",
                "identifier",
                "archetype",
                "tag",
                "updated_since",
                "limit",
                "cursor"
            ]
        );
        assert_eq!(
            parse_time("2026-11-24T01:02:03Z").unwrap(),
            "2026-11-24T01:02:03.000Z"
        );
        assert_eq!(
            parse_time("2026-11-24T01:02:03.5Z").unwrap(),
            "2026-11-24T01:02:03.500Z"
        );
        assert!(parse_time("2026-11-24T25:00:00Z").is_err());
    }
}
