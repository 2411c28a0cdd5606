//! Correcting a contact: the record's details in the form, sent with the
//! version they were read at (`If-Match`). When someone else changed the
//! record meanwhile, the same page comes back as a conflict: what they
//! changed, and the officer's own input kept, to send again on top of the
//! record as it is now.

use askama::Template;

use crate::patterns::{Chrome, Errors, Field};
use crate::staff::details::{ContactDetails, ContactForm, Identifying};

#[derive(Template)]
#[template(path = "staff_correct.html")]
pub struct CorrectPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub name: String,
    pub record_href: String,
    /// The version the form's values are corrections of, and its `ETag`.
    pub version: i64,
    pub etag: String,
    pub form: ContactForm,
    pub reason: Field,
    pub conflict: Option<Conflict>,
}

/// What changed between the version the officer read and the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub seen_version: i64,
    pub changes: Vec<ChangedDetail>,
    /// Who made each version since, and why.
    pub by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedDetail {
    pub detail: String,
    pub was: Vec<String>,
    pub now: Vec<String>,
}

/// The details that differ between `seen` and `current`, as the check
/// answers list names them.
pub fn changed_details(
    seen: &ContactDetails,
    current: &ContactDetails,
    identifying: Identifying,
) -> Vec<ChangedDetail> {
    seen.rows(identifying)
        .into_iter()
        .zip(current.rows(identifying))
        .filter(|(was, now)| was.lines != now.lines)
        .map(|(was, now)| ChangedDetail {
            detail: now.key,
            was: was.lines,
            now: now.lines,
        })
        .collect()
}
