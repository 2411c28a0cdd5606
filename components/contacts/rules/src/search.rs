//! Searching and listing current contacts: by name (prefix and phonetic,
//! FTS5), email, phone, identifier, archetype, tag, category and last
//! change, with cursor paging in a stable order.
//!
//! Order: newest contact first (`search_rowid`, which never changes), so a
//! cursor is the last row id seen. With `updated_since` the order is the
//! order of changes instead, oldest first, so a client can follow changes;
//! its cursor is the last (change time, row id) seen.
//!
//! This module checks a search into a [`SearchPlan`] and pages an
//! [`Export`]; `contacts-store` runs a plan.

use crm_domain::{
    Abn, Acn, AgencyIdentifier, Archetype, Email, FieldErrors, Invalid, PhoneE164, Tag,
};

use crate::index::name_query;

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

/// A checked search, ready to run: current contacts with every filter.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    /// Match keys (email, phone, identifier), in the order given.
    pub keys: Vec<String>,
    /// The FTS5 query of the name filter.
    pub name: Option<String>,
    /// `t:<tag>` and `c:<category>` labels.
    pub labels: Vec<String>,
    pub archetype: Option<Archetype>,
    /// Changed at or after this time (stored form); when set, the order is
    /// the order of changes.
    pub updated_since: Option<String>,
    /// Where the previous page ended.
    pub after: Option<Cursor>,
    /// Rows a page keeps (a query reads one more, to tell whether another
    /// page follows).
    pub limit: usize,
    /// Whether it filters by an identifier, which needs the right to see
    /// identifiers.
    pub uses_identifier: bool,
}

impl SearchPlan {
    /// Whether rows come in the order of changes (else newest first).
    pub fn by_change(&self) -> bool {
        self.updated_since.is_some()
    }

    /// The cursor after a row with this row id and change time.
    pub fn cursor_after(&self, search_rowid: i64, updated_at: &str) -> String {
        let raw = if self.by_change() {
            format!("u{updated_at}|{search_rowid}")
        } else {
            format!("r{search_rowid}")
        };
        raw.bytes().map(|b| format!("{b:02x}")).collect()
    }
}

/// The last row a page showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Its `search_rowid` (newest-first order).
    Row(i64),
    /// Its change time and `search_rowid` (order of changes).
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

    Ok(SearchPlan {
        keys,
        name,
        labels,
        archetype,
        updated_since,
        after: cursor,
        limit,
        uses_identifier: params.identifier.is_some(),
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

    fn params(pairs: &[(&str, &str)]) -> SearchParams {
        let mut p = SearchParams::default();
        for (k, v) in pairs {
            assert!(p.set(k, v.to_string()));
        }
        p
    }

    #[test]
    fn an_export_checks_its_filters_and_total() {
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
