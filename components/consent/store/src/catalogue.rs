//! The purpose catalogue (by revision) and privacy notice versions.

use consent_rules::{NoticeContent, PrivacyNotice, Purpose, StoredNotice, stored_purpose};
use crm_sql::{Sql, Value};

use crate::{StoreError, integer, run, text};

/// A purpose's current entry and its revision number.
#[derive(Debug, Clone)]
pub struct PurposeEntry {
    pub purpose: Purpose,
    pub revision: i64,
    pub revised_at_ms: i64,
    pub revised_by: String,
}

const PURPOSE_COLUMNS: &str =
    "id, revision, category, lawful_basis, description, revised_at, revised_by";

fn purpose_entries(
    db: &impl Sql,
    sql: &str,
    params: &[Value],
) -> Result<Vec<PurposeEntry>, StoreError> {
    run(db, sql, params)?
        .iter()
        .map(|v| {
            Ok(PurposeEntry {
                purpose: stored_purpose(
                    &text(&v[0]).unwrap_or_default(),
                    &text(&v[2]).unwrap_or_default(),
                    &text(&v[3]).unwrap_or_default(),
                    &text(&v[4]).unwrap_or_default(),
                )?,
                revision: integer(&v[1]).unwrap_or_default(),
                revised_at_ms: integer(&v[5]).unwrap_or_default(),
                revised_by: text(&v[6]).unwrap_or_default(),
            })
        })
        .collect()
}

/// The current revision of every purpose, by id.
pub fn purposes(db: &impl Sql) -> Result<Vec<PurposeEntry>, StoreError> {
    purpose_entries(
        db,
        &format!(
            "SELECT {PURPOSE_COLUMNS} FROM consent_purposes p
             WHERE revision = (SELECT MAX(revision) FROM consent_purposes q WHERE q.id = p.id)
             ORDER BY id"
        ),
        &[],
    )
}

/// The revision of purpose `id` in force at `at_ms` (the first one, for a
/// time before it existed); `None` for an unknown purpose.
pub fn purpose_at(db: &impl Sql, id: &str, at_ms: i64) -> Result<Option<PurposeEntry>, StoreError> {
    Ok(purpose_entries(
        db,
        &format!(
            "SELECT {PURPOSE_COLUMNS} FROM consent_purposes WHERE id = ?1
             ORDER BY revised_at <= ?2 DESC,
                      CASE WHEN revised_at <= ?2 THEN revision ELSE -revision END DESC
             LIMIT 1"
        ),
        &[id.into(), at_ms.into()],
    )?
    .pop())
}

/// The current revision of purpose `id`.
pub fn current_purpose(db: &impl Sql, id: &str) -> Result<Option<PurposeEntry>, StoreError> {
    purpose_at(db, id, i64::MAX)
}

/// The highest revision of a purpose, and the latest time any revision of
/// it came into force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestRevision {
    pub revision: i64,
    pub revised_at_ms: i64,
}

/// Purpose `id`'s latest revision; `None` when there is no such purpose.
/// Read it in the transaction that writes the next one.
pub fn latest_revision(db: &impl Sql, id: &str) -> Result<Option<LatestRevision>, StoreError> {
    let rows = run(
        db,
        "SELECT MAX(revision), MAX(revised_at) FROM consent_purposes WHERE id = ?",
        &[id.into()],
    )?;
    Ok(rows.first().and_then(|v| {
        Some(LatestRevision {
            revision: integer(&v[0])?,
            revised_at_ms: integer(&v[1])?,
        })
    }))
}

/// Appends a purpose revision (revisions are never changed).
pub fn insert_purpose(db: &impl Sql, entry: &PurposeEntry) -> Result<(), StoreError> {
    let purpose = &entry.purpose;
    run(
        db,
        "INSERT INTO consent_purposes (id, revision, category, lawful_basis, description, revised_at, revised_by)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            purpose.id().to_string().into(),
            entry.revision.into(),
            purpose.category().to_string().into(),
            purpose.lawful_basis().to_string().into(),
            purpose.description().into(),
            entry.revised_at_ms.into(),
            entry.revised_by.as_str().into(),
        ],
    )
    .map(drop)
}

/// One version of a privacy notice.
pub fn notice(db: &impl Sql, id: &str, version: i64) -> Result<Option<PrivacyNotice>, StoreError> {
    Ok(notices(db, Some((id, Some(version))))?.pop())
}

/// Every privacy notice version (or those of one id, or one version), by
/// id and version.
pub fn notices(
    db: &impl Sql,
    which: Option<(&str, Option<i64>)>,
) -> Result<Vec<PrivacyNotice>, StoreError> {
    let (filter, params) = match which {
        None => ("1", vec![]),
        Some((id, None)) => ("id = ?", vec![id.into()]),
        Some((id, Some(version))) => ("id = ? AND version = ?", vec![id.into(), version.into()]),
    };
    run(
        db,
        &format!(
            "SELECT id, version, language, title, text, url, published_at FROM privacy_notices
             WHERE {filter} ORDER BY id, version"
        ),
        &params,
    )?
    .iter()
    .map(|v| {
        Ok(StoredNotice {
            id: text(&v[0]).unwrap_or_default(),
            version: integer(&v[1]).unwrap_or_default(),
            language: text(&v[2]).unwrap_or_default(),
            title: text(&v[3]).unwrap_or_default(),
            text: text(&v[4]),
            url: text(&v[5]),
            published_at_ms: integer(&v[6]).unwrap_or_default(),
        }
        .into_notice()?)
    })
    .collect()
}

/// Publishes a notice version (versions are never changed), by `by`.
pub fn insert_notice(db: &impl Sql, notice: &PrivacyNotice, by: &str) -> Result<(), StoreError> {
    let (text, url) = match &notice.content {
        NoticeContent::Text(text) => (Value::from(text.as_str()), Value::Null),
        NoticeContent::Url(url) => (Value::Null, Value::from(url.as_str())),
    };
    run(
        db,
        "INSERT INTO privacy_notices (id, version, language, title, text, url, published_at, published_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            notice.id.to_string().into(),
            i64::from(notice.version.get()).into(),
            notice.language.as_str().into(),
            notice.title.as_str().into(),
            text,
            url,
            notice.published_at_ms.into(),
            by.into(),
        ],
    )
    .map(drop)
}
