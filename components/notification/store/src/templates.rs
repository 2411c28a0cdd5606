//! Templates (`notification_templates`): a series of versions per id, each
//! immutable once written (the table's triggers refuse changes).

use crm_sql::{Row, Sql, Value};
use crm_templates::TemplateType;

use crate::StoreError;
use crm_sql::{integer, text};

/// One version of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTemplate {
    pub id: String,
    pub version: u32,
    pub kind: TemplateType,
    pub name: String,
    pub subject: Option<String>,
    pub body: String,
    pub purpose: String,
    pub letter_contact_block: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    /// The author's email address (their token's `email` claim), if known.
    pub created_by_email: Option<String>,
    /// When the first version was made (the template's `created_at`).
    pub first_created_at: i64,
    /// A letter's class of post (`first`, `second`, `economy`).
    pub postage: Option<String>,
}

const COLUMNS: &str = "t.id, t.version, t.type, t.name, t.subject, t.body, t.purpose, t.letter_contact_block, t.created_at, t.created_by, (SELECT MIN(created_at) FROM notification_templates f WHERE f.id = t.id), t.postage, t.created_by_email";

impl StoredTemplate {
    fn from_row(v: &Row) -> Result<Self, StoreError> {
        Ok(Self {
            id: text(&v[0]).unwrap_or_default(),
            version: integer(&v[1]).unwrap_or(1) as u32,
            kind: text(&v[2])
                .as_deref()
                .and_then(TemplateType::parse)
                .ok_or_else(|| StoreError::Corrupt("template has a bad type".into()))?,
            name: text(&v[3]).unwrap_or_default(),
            subject: text(&v[4]),
            body: text(&v[5]).unwrap_or_default(),
            purpose: text(&v[6]).unwrap_or_default(),
            letter_contact_block: text(&v[7]),
            created_at: integer(&v[8]).unwrap_or_default(),
            created_by: text(&v[9]).unwrap_or_default(),
            first_created_at: integer(&v[10]).unwrap_or_default(),
            postage: text(&v[11]),
            created_by_email: text(&v[12]),
        })
    }
}

/// Whose templates a read sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every template: the CRM's own routes.
    All,
    /// The templates linked to a Notify service (`notification_template_services`).
    Service(&'a str),
}

impl Scope<'_> {
    /// The condition on `t` and its two parameters.
    const CONDITION: &'static str = "(? IS NULL OR EXISTS (SELECT 1 FROM notification_template_services l WHERE l.template_id = t.id AND l.service_id = ?))";

    fn params(self) -> [Value; 2] {
        let service: Value = match self {
            Self::All => Value::Null,
            Self::Service(id) => id.into(),
        };
        [service.clone(), service]
    }
}

/// A template's newest version, or the one asked for, if `scope` sees it.
pub fn load(
    db: &impl Sql,
    scope: Scope<'_>,
    id: &str,
    version: Option<u32>,
) -> Result<Option<StoredTemplate>, StoreError> {
    let [a, b] = scope.params();
    let condition = Scope::CONDITION;
    let rows = match version {
        Some(v) => db.run(
            &format!(
                "SELECT {COLUMNS} FROM notification_templates t WHERE t.id = ? AND t.version = ? AND {condition}"
            ),
            &[id.into(), i64::from(v).into(), a, b],
        )?,
        None => db.run(
            &format!(
                "SELECT {COLUMNS} FROM notification_templates t WHERE t.id = ? AND {condition} ORDER BY t.version DESC LIMIT 1"
            ),
            &[id.into(), a, b],
        )?,
    };
    rows.first().map(StoredTemplate::from_row).transpose()
}

/// The newest version of every template `scope` sees (of one type), by
/// name.
pub fn list(
    db: &impl Sql,
    scope: Scope<'_>,
    kind: Option<TemplateType>,
) -> Result<Vec<StoredTemplate>, StoreError> {
    let kind: Value = kind.map(|k| k.as_str()).into();
    let [a, b] = scope.params();
    db.run(
        &format!(
            "SELECT {COLUMNS} FROM notification_templates t
             WHERE t.version = (SELECT MAX(version) FROM notification_templates n WHERE n.id = t.id)
               AND (? IS NULL OR t.type = ?)
               AND {}
             ORDER BY t.name, t.id",
            Scope::CONDITION
        ),
        &[kind.clone(), kind, a, b],
    )?
    .iter()
    .map(StoredTemplate::from_row)
    .collect()
}

/// The Notify services a template belongs to, in id order.
pub fn services(db: &impl Sql, id: &str) -> Result<Vec<String>, StoreError> {
    Ok(db
        .run(
            "SELECT service_id FROM notification_template_services WHERE template_id = ? ORDER BY service_id",
            &[id.into()],
        )?
        .iter()
        .filter_map(|r| text(&r[0]))
        .collect())
}

/// Makes `services` the ones a template belongs to (in the caller's
/// transaction; each must be a service, which the link's foreign key does
/// not check unless enforced, so the caller checks).
pub fn set_services(db: &impl Sql, id: &str, services: &[String]) -> Result<(), StoreError> {
    db.run(
        "DELETE FROM notification_template_services WHERE template_id = ?",
        &[id.into()],
    )?;
    for service in services {
        db.run(
            "INSERT OR IGNORE INTO notification_template_services (template_id, service_id) VALUES (?, ?)",
            &[id.into(), service.as_str().into()],
        )?;
    }
    Ok(())
}

/// Writes a version. Fails if that version of the template exists.
pub fn insert(db: &impl Sql, t: &StoredTemplate) -> Result<(), StoreError> {
    db.run(
        "INSERT INTO notification_templates (id, version, type, name, subject, body, purpose, letter_contact_block, created_at, created_by, postage, created_by_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            t.id.as_str().into(),
            i64::from(t.version).into(),
            t.kind.as_str().into(),
            t.name.as_str().into(),
            t.subject.clone().into(),
            t.body.as_str().into(),
            t.purpose.as_str().into(),
            t.letter_contact_block.clone().into(),
            t.created_at.into(),
            t.created_by.as_str().into(),
            t.postage.clone().into(),
            t.created_by_email.clone().into(),
        ],
    )?;
    Ok(())
}

/// Whether `purpose` is in the consent purpose catalogue
/// (`consent_purposes`, in the same database; purposes are revised, never
/// removed).
pub fn purpose_known(db: &impl Sql, purpose: &str) -> Result<bool, StoreError> {
    let found = db.run(
        "SELECT 1 FROM consent_purposes WHERE id = ? LIMIT 1",
        &[purpose.into()],
    )?;
    Ok(!found.is_empty())
}
