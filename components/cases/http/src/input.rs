//! Reading requests: bounded texts, times, page sizes and `If-Match`, each
//! refusal naming its field.

use cases_store::CaseRecord;
use crm_component_support::query_param;
use crm_domain::{FieldErrors, Lines, ShortText, check_text, parse_rfc3339_ms};
use crm_http::{FieldError, Problem};
use spin_sdk::http::Request;

/// Subjects and titles.
pub const SUBJECT_MAX: usize = 200;
/// Details, notes and message bodies.
pub const BODY_MAX: usize = 10_000;
/// Resolution summaries.
pub const SUMMARY_MAX: usize = 2_000;

/// A required one-line text of at most `max` characters, trimmed.
pub fn one_line(errors: &mut FieldErrors, field: &str, raw: &str, max: usize) -> Option<String> {
    errors.check(
        field,
        ShortText::parse(raw, max).map(ShortText::into_string),
    )
}

/// A text of several lines of at most `max` characters, kept as sent.
pub fn many_lines(errors: &mut FieldErrors, field: &str, raw: &str, max: usize) -> Option<String> {
    errors.check(
        field,
        check_text(raw, max, Lines::Many).map(|()| raw.to_string()),
    )
}

/// An RFC 3339 time as ms since the epoch.
pub fn time(errors: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<Option<i64>> {
    errors.check_optional(field, raw, parse_rfc3339_ms)
}

/// Refuses a list of more than `max` items.
pub fn at_most(errors: &mut FieldErrors, field: &str, len: usize, max: usize) {
    if len > max {
        errors
            .0
            .push(FieldError::new(field, format!("must list at most {max}")));
    }
}

/// The refusal listing every failed field, if any failed.
pub fn finish(errors: FieldErrors) -> Result<(), Problem> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors.0))
    }
}

/// The `limit` query parameter: 1 to `max`, `default` when absent.
pub fn limit(req: &Request, default: u32, max: u32) -> Result<u32, Problem> {
    match query_param(req, "limit") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {max}"),
                )])
            }),
    }
}

/// `If-Match` against the case's current version: 428 when `required`
/// and absent, 412 when stale.
pub fn if_match(req: &Request, case: &CaseRecord, required: bool) -> Result<(), Problem> {
    crm_component_support::check_if_match(req, &format!("case/{}", case.id), case.version, required)
}

/// `current` read again inside the write's transaction: a 412 if someone
/// changed it since (only possible between the read and `BEGIN
/// IMMEDIATE`).
pub fn reread(db: &impl crm_sql::Sql, current: &CaseRecord) -> Result<CaseRecord, Problem> {
    let case =
        cases_store::case_by_id(db, &current.id)?.ok_or_else(|| changed_meanwhile(current))?;
    if case.version != current.version {
        return Err(changed_meanwhile(current));
    }
    Ok(case)
}

/// The 412 for a case someone else changed between our read and write
/// (only possible without `BEGIN IMMEDIATE`, which every write holds).
pub fn changed_meanwhile(case: &CaseRecord) -> Problem {
    Problem::precondition_failed(format!(
        "case/{} changed while this request was applied; read it again",
        case.id
    ))
}
